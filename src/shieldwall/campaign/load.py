"""Campaign files in, a checked ``LoadedCampaign`` out, or one ScenarioError listing every
problem with file, line, column and field path. The scenario loader's machinery does the work:
``yaml_source`` for positions, ``pydantic_problems`` for shapes, ``scenario_problems`` for the
theatre and every raid; only the campaign's own cross-references are checked here."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from shieldwall.campaign.generator import Generator
from shieldwall.campaign.model import GENERATOR_VERSION, Campaign, GeneratorModel
from shieldwall.catalog.builtin import builtin_catalog
from shieldwall.catalog.model import Catalog
from shieldwall.errors import Problem, ScenarioError
from shieldwall.scenario.checks import scenario_problems
from shieldwall.scenario.load import load_scenario, pydantic_problems, with_catalog_overrides
from shieldwall.scenario.model import Battery, Doctrine, Raid, Scenario, TargetBattery, TargetRadar
from shieldwall.scenario.yaml_source import (
    FieldPath,
    SourceMap,
    YamlSource,
    format_path,
    read_yaml_file,
    sort_problems,
)

DATA_DIR = Path(__file__).with_name("data")

# the scenario's sections a campaign's theatre carries: all but what names one raid night (read
# from the scenario model, so a new section reaches campaigns; tests/test_campaign.py checks the
# campaign file's `theatre:` offers every one)
THEATRE_SECTIONS: tuple[str, ...] = tuple(k for k in Scenario.model_fields if k not in ("name", "description", "seed",
                                                                                      "raids"))


def builtin_generators() -> list[str]:
    return sorted(p.stem for p in DATA_DIR.glob("*.yaml"))


@dataclass
class LoadedCampaign:
    """A checked campaign: the file's model plus everything resolved from it."""

    campaign: Campaign
    file: str | None
    theatre: Scenario  # assets, radars, batteries, catalog, doctrine; raids = route templates
    catalog: Catalog  # merged over the built-in one
    generator: Generator | None
    generator_file: str | None
    templates: list[Raid]  # routes for generated threats
    explicit: dict[int, list[Raid]] = field(default_factory=dict)  # night index (0-based) -> raids

    @property
    def nights(self) -> int:
        return self.campaign.nights

    def night_of(self, date: dt.date) -> int:
        return (date - self.campaign.start_date).days

    def date_of(self, night: int) -> dt.date:
        return self.campaign.start_date + dt.timedelta(days=night)

    @property
    def batteries(self) -> list[Battery]:
        """Every battery the campaign ever has: the theatre's, then delivered ones in order."""
        return [*self.theatre.batteries, *(d.battery for d in self.campaign.deliveries if d.system and d.battery)]

    @property
    def seed(self) -> int:
        return self.campaign.seed if self.campaign.seed is not None else 0

    def theatre_data(self, path: FieldPath) -> Any:
        """Plain data of ``("theatre", key)`` as the theatre has it (from its scenario file where
        the campaign file gives no such key); None for any other path."""
        if len(path) != 2 or path[0] != "theatre" or path[1] not in THEATRE_SECTIONS:
            return None
        value = getattr(self.theatre, str(path[1]))
        if isinstance(value, list):
            return [item.model_dump(by_alias=True) for item in value]
        return None if value is None else value.model_dump(by_alias=True)

    def check(self) -> None:
        """Validate the campaign's own values again, as a file's are: ``run_campaign``'s boundary
        check. A part replaced with ``model_copy(update=...)``, ``model_construct`` or
        ``dataclasses.replace`` was never validated; this raises the located ScenarioError a
        file would give. (The theatre and each night's raids are checked where they are
        compiled: ``engine.compile.compile_scenario``.)"""
        from shieldwall.scenario.vary import renamed

        label = f"campaign {self.campaign.name}"
        problems: list[Problem] = []
        for model, value in ((Campaign, self.campaign), (Catalog, self.catalog)):
            data = value.model_dump(by_alias=True, exclude_none=True)
            try:
                model.model_validate(data)
            except ValidationError as exc:
                error = ScenarioError(None, pydantic_problems(model, exc, data, SourceMap()))
                problems += renamed(error, data, label).problems
        if not problems:  # references between its parts: stocks, deliveries, production
            checker = _Checker(self.campaign, YamlSource(None, SourceMap(), None), Path("."))
            checker._stocks(self.theatre, self.catalog)
            problems = checker.problems
        if problems:
            raise ScenarioError(label, problems)

    def with_(self, changes: Mapping[str, Any] | None = None, /, *, label: str | None = None,
              **fields: Any) -> "LoadedCampaign":
        """A copy with values set by path (campaign keys: ``deliveries[0].quantity``,
        ``theatre.batteries[patriot-1].interceptors.pac3-mse``), loaded and checked again as a
        file is, with the same located errors. A path into a theatre key that the file takes
        from its scenario (``theatre.batteries``...) writes the scenario's value into the
        theatre first, where keys given replace the scenario's."""
        from shieldwall.scenario.vary import apply_changes, renamed

        label = label or f"variation of {self.campaign.name}"
        data = self.campaign.model_dump(by_alias=True, exclude_none=True)

        changed = data
        try:
            changed = apply_changes(data, {**(changes or {}), **fields}, self.theatre_data)
            base = Path(self.file).parent if self.file else Path.cwd()
            varied = build_campaign(YamlSource(changed, SourceMap(), None), base)
        except ScenarioError as exc:
            if exc.file not in (None, "variation"):
                raise  # the theatre's scenario file or the generator file: their own errors
            raise renamed(exc, changed, label) from None
        varied.file = self.file  # paths in it stay relative to the file's folder
        return varied


def self_contained(loaded: LoadedCampaign) -> dict[str, Any]:
    """The campaign as one file that needs no other: the theatre written out (not a path to its
    scenario), the generator's routes and each explicit night's raids in full, a generator file
    inlined. A run folder keeps it (``campaign-input.yaml``) so that the web app can show the
    campaign and run it again, wherever the original files went; it gives the same results."""
    c = loaded.campaign
    data = c.model_dump(mode="json", by_alias=True, exclude_none=True)
    theatre = {key: loaded.theatre_data(("theatre", key)) for key in THEATRE_SECTIONS}
    data["theatre"] = {k: v for k, v in theatre.items() if v is not None}
    if c.generator is not None and loaded.generator is not None:
        generator: dict[str, Any] = {"share": c.generator.share,
                                     "routes": [r.model_dump(mode="json", by_alias=True, exclude_none=True)
                                                for r in loaded.templates]}
        if c.generator.builtin is not None:
            generator["builtin"] = c.generator.builtin
        else:
            generator["model"] = loaded.generator.model.model_dump(mode="json", by_alias=True, exclude_none=True)
        data["generator"] = generator
    data["raids"] = [{"night": night + 1, "raids": [r.model_dump(mode="json", by_alias=True, exclude_none=True)
                                                   for r in raids]}
                     for night, raids in sorted(loaded.explicit.items())]
    return data


def load_campaign(path: str | Path) -> LoadedCampaign:
    source = read_yaml_file(path)
    return build_campaign(source, Path(path).parent)


def is_campaign_file(path: str | Path) -> bool:
    """A campaign file has a top-level `nights:` key (the issue's convention)."""
    data = read_yaml_file(path).data
    return isinstance(data, Mapping) and "nights" in data


def build_campaign(source: YamlSource, base_dir: Path) -> LoadedCampaign:
    data = source.data
    if isinstance(data, Mapping):  # the theatre's catalog may override built-in entries in part
        data = {**data, "theatre": with_catalog_overrides(data.get("theatre"))} if "theatre" in data else data
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source.file, pydantic_problems(Campaign, exc, data, source.source_map)) from None
    return _Checker(campaign, source, base_dir).run()


# --- source maps of a part of the file -------------------------------------------------------------


def reroot(source_map: SourceMap, prefix: FieldPath, new: FieldPath = ()) -> SourceMap:
    """The positions below ``prefix``, addressed as below ``new`` instead."""
    n = len(prefix)
    return SourceMap(keys={(*new, *p[n:]): v for p, v in source_map.keys.items() if p[:n] == prefix},
                     values={(*new, *p[n:]): v for p, v in source_map.values.items() if p[:n] == prefix})


def prefixed(problems: Iterable[Problem], prefix: FieldPath) -> list[Problem]:
    """Problems found on a part of the file, with their path written from the file's top."""
    head = format_path(prefix)
    out = []
    for p in problems:
        if head:
            p.path = head + (p.path if p.path.startswith("[") else "." + p.path if p.path else "")
        out.append(p)
    return out


def validate_part(model: type[BaseModel], data: Any, source_map: SourceMap, prefix: FieldPath) -> tuple[Any, list[Problem]]:
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, prefixed(pydantic_problems(model, exc, data, reroot(source_map, prefix)), prefix)


def load_generator_file(path: str | Path) -> GeneratorModel:
    """A generator YAML on its own (what ``calibrate raids`` writes), checked."""
    source = read_yaml_file(path)
    model, problems = _generator_model(source.data, source.source_map, ())
    if problems:
        raise ScenarioError(source.file, problems)
    return model


def _generator_model(data: Any, source_map: SourceMap, prefix: FieldPath) -> tuple[Any, list[Problem]]:
    if isinstance(data, Mapping) and "version" in data and data["version"] != GENERATOR_VERSION:
        where = reroot(source_map, prefix)
        problem = where.problem(("version",), f"unsupported generator version {data['version']!r}",
                                expected=str(GENERATOR_VERSION), found=repr(data["version"]),
                                hint="write it again with `shieldwall calibrate raids`, or convert it by hand")
        return None, prefixed([problem], prefix)
    model, problems = validate_part(GeneratorModel, data, source_map, prefix)
    if model is not None:
        for i, family in enumerate(model.families):
            size = family.size
            fpath = (*prefix, "families", i, "size")
            where = source_map
            if size.distribution == "negative-binomial" and (size.n is None or size.p is None):
                problems.append(where.problem(fpath, "a negative-binomial size needs `n` and `p`"))
            if size.distribution == "empirical" and (not size.values or not size.weights
                                                     or len(size.values) != len(size.weights)
                                                     or sum(size.weights) <= 0):
                problems.append(where.problem(fpath, "an empirical size needs `values` and as many `weights` (sum > 0)"))
            if sum(family.mix.values()) <= 0:
                problems.append(where.problem((*prefix, "families", i, "mix"), "the mix shares sum to 0"))
            if model.method == "trend":
                problems += _trend_problems(family, where, (*prefix, "families", i))
        if model.method == "trend" and model.origin is None:
            problems.append(source_map.problem((*prefix, "method"), "a trend generator needs `origin` (month 0)"))
        if problems:
            return None, problems
    return model, problems


def _trend_problems(family: Any, where: SourceMap, path: FieldPath) -> list[Problem]:
    trend = family.trend
    if trend is None:
        return [where.problem(path, "a family of a trend generator needs `trend`",
                              hint="fit it with `shieldwall calibrate raids --method trend`")]
    out = []
    for key, n in (("occurrence_covariance", 2), ("size_covariance", 3)):
        matrix = getattr(trend, key)
        if len(matrix) != n or any(len(row) != n for row in matrix):
            out.append(where.problem((*path, "trend", key), f"not a {n} x {n} matrix",
                                     expected=f"{n} rows of {n} numbers", found=f"{len(matrix)} rows"))
    for i, part in enumerate(family.mixture or []):
        if part.model == "regression":
            continue
        for key in ("occurrence", "size", "log_dispersion"):
            if getattr(part, key) is None:
                out.append(where.problem((*path, "mixture", i), f"a {part.model} component needs `{key}`"))
        for key in ("occurrence", "size"):
            matrix = getattr(getattr(part, key), "covariance", [[0.0, 0.0], [0.0, 0.0]])
            if len(matrix) != 2 or any(len(row) != 2 for row in matrix):
                out.append(where.problem((*path, "mixture", i, key, "covariance"), "not a 2 x 2 matrix",
                                         expected="2 rows of 2 numbers", found=f"{len(matrix)} rows"))
    if family.mixture is not None:
        total = sum(part.weight for part in family.mixture)
        if abs(total - 1.0) > 1e-6:
            out.append(where.problem((*path, "mixture"), "the weights do not sum to 1", expected="1",
                                     found=f"{total:g}"))
    return out


# --- cross-reference checks ----------------------------------------------------------------------


def _unknown(where: SourceMap, path: FieldPath, noun: str, value: str, known: Iterable[str], **kw: Any) -> Problem:
    known = sorted(known)
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
    listing = f"known {noun}s: {', '.join(known)}" if known else f"no {noun}s are defined"
    return where.problem(path, f"unknown {noun} `{value}`", hint=(f"did you mean `{close[0]}`? " if close else "") + listing, **kw)


class _Checker:
    def __init__(self, campaign: Campaign, source: YamlSource, base_dir: Path) -> None:
        self.c = campaign
        self.source = source
        self.where = source.source_map
        self.base = base_dir
        self.problems: list[Problem] = []

    def fail_if_any(self) -> None:
        if self.problems:
            raise ScenarioError(self.source.file, sort_problems(self.problems))

    def problem(self, path: FieldPath, message: str, **kw: Any) -> None:
        self.problems.append(self.where.problem(path, message, **kw))

    def run(self) -> LoadedCampaign:
        try:
            self.c.start_date + dt.timedelta(days=self.c.nights)
        except OverflowError:
            self.problem(("nights",), "the campaign would end after the year 9999", found=str(self.c.nights),
                         hint=f"start_date is {self.c.start_date}")
            self.fail_if_any()
        theatre, scenario_raids = self._theatre()
        self.fail_if_any()
        catalog = theatre.catalog.merged_over(builtin_catalog())
        generator, gen_file, templates = self._generator(theatre, scenario_raids, catalog)
        explicit = self._explicit(theatre, scenario_raids)
        self._stocks(theatre, catalog)
        if generator is None and not self.c.raids:
            self.problem((), "no raids: give `generator:` or `raids:` (or both)")
        self.fail_if_any()
        return LoadedCampaign(self.c, self.source.file, theatre.model_copy(update={"raids": templates or theatre.raids}),
                              catalog, generator, gen_file, templates, explicit)

    # theatre ----------------------------------------------------------------------------------
    def _theatre(self) -> tuple[Scenario, list[Raid]]:
        t = self.c.theatre
        fields: dict[str, Any] = {}
        raids: list[Raid] = []
        if t.scenario is not None:
            path = self.base / t.scenario
            if not path.is_file():
                self.problem(("theatre", "scenario"), f"scenario file `{t.scenario}` not found",
                             hint=f"paths are relative to the campaign file's folder ({self.base})")
                return _placeholder(), []
            scenario = load_scenario(path)  # its own errors name its own file
            fields = {k: getattr(scenario, k) for k in THEATRE_SECTIONS}
            raids = list(scenario.raids)
        if t.calibrated is not None:
            self._calibrated(t.calibrated, fields)
        for key in THEATRE_SECTIONS:
            value = getattr(t, key)
            if value is not None:
                fields[key] = value
        if not fields.get("assets"):
            self.problem(("theatre",), "the theatre has no assets",
                         hint="give `scenario: FILE` or `assets:` (and `batteries:`) under `theatre:`")
            return _placeholder(), []
        fields.setdefault("catalog", Catalog())
        fields.setdefault("doctrine", Doctrine())
        dummy = Raid(id="campaign-check", threat=next(iter(builtin_catalog().threats)), count=1,
                     launch={"lat": 0.0, "lon": 0.0}, target=fields["assets"][0].id)
        theatre = Scenario(name=self.c.name, raids=[dummy], **fields)
        found = scenario_problems(theatre, reroot(self.where, ("theatre",)))
        self.problems += prefixed([p for p in found if not p.path.startswith("raids")], ("theatre",))
        return theatre.model_copy(update={"raids": raids or [dummy]}), raids

    def _calibrated(self, name: str, fields: dict[str, Any]) -> None:
        """The calibrated theatre's fitted catalog entries under the scenario's own, and its
        mechanism switches where the scenario sets none (``Theatre.calibrated``)."""
        from shieldwall.scenario.model import Mechanisms
        from shieldwall.scenario.theatre import DEFAULT_THEATRE, build_theatre, is_theatre

        path = DEFAULT_THEATRE if name == DEFAULT_THEATRE.stem else self.base / name
        source = read_yaml_file(path) if path.is_file() else None
        if source is None or not is_theatre(source):
            self.problem(("theatre", "calibrated"), f"`{name}` is neither `{DEFAULT_THEATRE.stem}` nor a theatre file",
                         expected=f"{DEFAULT_THEATRE.stem}, or a theatre file relative to {self.base}", found=name)
            return
        calibrated = build_theatre(source).model  # its own errors name its own file
        fields["catalog"] = fields.get("catalog", Catalog()).merged_over(calibrated.catalog)
        if fields.get("mechanisms") in (None, Mechanisms()):
            fields["mechanisms"] = calibrated.mechanisms

    def _raid_problems(self, theatre: Scenario, raids: list[Raid], prefix: FieldPath) -> None:
        """Each raid checked as the scenario loader checks raids, located in this file."""
        if not raids:
            return
        parent, key = prefix[:-2], str(prefix[-2])
        trial = theatre.model_copy(update={"raids": raids})
        found = [p for p in scenario_problems(trial, reroot(self.where, (*parent, key), ("raids",)))
                 if p.path.startswith("raids")]
        for p in found:
            p.path = key + p.path[len("raids"):]
        self.problems += prefixed(found, parent)

    # generator --------------------------------------------------------------------------------
    def _generator(self, theatre: Scenario, scenario_raids: list[Raid], catalog: Catalog) -> tuple:
        ref = self.c.generator
        if ref is None:
            return None, None, []
        given = [k for k in ("builtin", "file", "model") if getattr(ref, k) is not None]
        if len(given) != 1:
            self.problem(("generator",), "give exactly one of `builtin`, `file` or `model`",
                         found=", ".join(given) or "none", hint=f"built-in generators: {', '.join(builtin_generators())}")
            return None, None, []
        gen_file = None
        if ref.model is not None:
            model, problems = _generator_model(ref.model, self.where, ("generator", "model"))
            self.problems += problems
        else:
            if ref.builtin is not None:
                if ref.builtin not in builtin_generators():
                    self.problems.append(_unknown(self.where, ("generator", "builtin"), "built-in generator",
                                                  ref.builtin, builtin_generators()))
                    return None, None, []
                path = DATA_DIR / f"{ref.builtin}.yaml"
            else:
                path = self.base / str(ref.file)
                if not path.is_file():
                    self.problem(("generator", "file"), f"generator file `{ref.file}` not found",
                                 hint=f"paths are relative to the campaign file's folder ({self.base})")
                    return None, None, []
            gen_file = str(path)
            model = load_generator_file(path)  # its errors name the generator file
        if model is None:
            return None, None, []
        self._raid_problems(theatre, list(ref.routes), ("generator", "routes", 0))
        for i, route in enumerate(ref.routes):
            if isinstance(route.target, TargetBattery):  # a generated night's split is over assets
                self.problem(("generator", "routes", i, "target"), "a generator route cannot attack a battery",
                             expected="an asset id or {kind: ...}", found=f"{{battery: {route.target.battery}}}",
                             hint="attack batteries in the explicit raids of a night (`raids:`)")
            elif isinstance(route.target, TargetRadar):
                self.problem(("generator", "routes", i, "target"), "a generator route cannot attack a radar",
                             expected="an asset id or {kind: ...}", found=f"{{radar: {route.target.radar}}}",
                             hint="attack radars in the explicit raids of a night (`raids:`)")
        for raid in scenario_raids:
            if isinstance(raid.target, (TargetBattery, TargetRadar)):
                self.problem(("theatre", "scenario"), f"raid `{raid.id}` of the theatre's scenario attacks the defence: "
                             "a generator route cannot", hint="attack batteries in the explicit raids of a night")
        templates = [*scenario_raids, *ref.routes]
        for i, family in enumerate(model.families):
            for tid in family.mix:
                where = ("generator", "model", "families", i, "mix", tid) if ref.model is not None else ("generator",)
                if tid not in catalog.threats:
                    self.problems.append(_unknown(self.where, where, "threat", tid, catalog.threats))
                elif not any(r.threat == tid for r in templates):
                    self.problem(where, f"the generator sends `{tid}` but no raid of the theatre flies it",
                                 hint=f"add a route for `{tid}` under `generator.routes` (a raid: launch, target, "
                                      "time_s, window_s; its count is the route's weight)")
        family_ids = [f.id for f in model.families]
        for fid in ref.what_if:
            if model.method != "trend":
                self.problem(("generator", "what_if", fid), "what_if needs a trend generator",
                             hint="use a generator fitted with `calibrate raids --method trend`, e.g. builtin "
                                  "raids-2022-2024-trend")
            elif fid not in family_ids:
                self.problems.append(_unknown(self.where, ("generator", "what_if", fid), "family", fid, family_ids,
                                              at_key=True))
        return Generator(model, ref.share, ref.what_if), gen_file, templates

    # explicit raids ---------------------------------------------------------------------------
    def _explicit(self, theatre: Scenario, scenario_raids: list[Raid]) -> dict[int, list[Raid]]:
        out: dict[int, list[Raid]] = {}
        last = -1
        for i, item in enumerate(self.c.raids):
            path = ("raids", i)
            if (item.night is None) == (item.date is None):
                self.problem(path, "give exactly one of `night` or `date`")
                continue
            night = item.night - 1 if item.night is not None else (item.date - self.c.start_date).days
            key = "night" if item.night is not None else "date"
            if not 0 <= night < self.c.nights:
                last_date = self.c.start_date + dt.timedelta(days=self.c.nights - 1)
                self.problem((*path, key), "outside the campaign",
                             expected=f"night 1 to {self.c.nights}, or a date from {self.c.start_date} to {last_date}",
                             found=str(getattr(item, key)))
                continue
            if night <= last:
                self.problem((*path, key), f"out of order: night {night + 1} comes after night {last + 1}",
                             hint="list raid nights in order, each night once")
            last = max(last, night)
            if item.from_scenario and not scenario_raids:
                self.problem((*path, "from_scenario"), "the theatre has no scenario raids to reuse",
                             hint="give `theatre.scenario: FILE`, or list the raids here")
            raids = [*(scenario_raids if item.from_scenario else []), *item.raids]
            if not raids:
                self.problem(path, "no raids on this night", hint="list `raids:` or set `from_scenario: true`")
            self._raid_problems(theatre, list(item.raids), (*path, "raids", 0))
            if item.from_scenario and {r.id for r in item.raids} & {r.id for r in scenario_raids}:
                self.problem((*path, "raids"), "raid ids clash with the scenario's raids", hint="rename them")
            out[night] = raids
        return out

    # stocks, deliveries, production ------------------------------------------------------------
    def _stocks(self, theatre: Scenario, catalog: Catalog) -> None:
        interceptors = catalog.interceptors
        depots: dict[str, int] = {}
        for i, depot in enumerate(self.c.depots):
            if depot.id in depots:
                self.problem(("depots", i, "id"), f"duplicate depot id `{depot.id}`")
            depots[depot.id] = i
            for kid in depot.stock:
                if kid not in interceptors:
                    self.problems.append(_unknown(self.where, ("depots", i, "stock", kid), "interceptor", kid,
                                                  interceptors, at_key=True))
        batteries: dict[str, Battery] = {b.id: b for b in theatre.batteries}
        for d in depots:
            if d in batteries:
                self.problem(("depots", depots[d], "id"), f"depot id `{d}` is also a battery id")
        last: dt.date | None = None
        for i, d in enumerate(self.c.deliveries):
            path = ("deliveries", i)
            if d.date < self.c.start_date:
                self.problem((*path, "date"), f"before the campaign's start_date ({self.c.start_date})",
                             hint="stock that is there on the first night belongs in the batteries' or depots' stock")
            if last is not None and d.date < last:
                self.problem((*path, "date"), f"out of order: {d.date} comes after {last}",
                             hint="list deliveries by date")
            last = d.date if last is None else max(last, d.date)
            if (d.interceptor is None) == (d.system is None):
                self.problem(path, "give exactly one of `interceptor` or `system`")
                continue
            if d.system is not None:
                self._system_delivery(d, path, theatre, catalog, batteries, depots)
                continue
            if d.interceptor not in interceptors:
                self.problems.append(_unknown(self.where, (*path, "interceptor"), "interceptor", d.interceptor,
                                              interceptors))
                continue
            if d.battery is not None:
                self.problem((*path, "battery"), "`battery` is for system deliveries", hint="use `to:` for interceptors")
            if d.to is None:
                self.problem(path, "missing required key `to`", expected="a depot or battery id",
                             hint=f"depots: {', '.join(depots) or 'none'}; batteries: {', '.join(batteries)}")
            elif d.to in batteries:
                system = catalog.systems[batteries[d.to].system]
                if d.interceptor not in system.interceptors:
                    self.problem((*path, "interceptor"), f"battery `{d.to}` ({batteries[d.to].system}) cannot fire "
                                 f"`{d.interceptor}`", hint=f"it fires: {', '.join(system.interceptors)}")
            elif d.to not in depots:
                self.problems.append(_unknown(self.where, (*path, "to"), "depot or battery", d.to,
                                              [*depots, *batteries]))
        for i, p in enumerate(self.c.production):
            path = ("production", i)
            if p.interceptor not in interceptors:
                self.problems.append(_unknown(self.where, (*path, "interceptor"), "interceptor", p.interceptor,
                                              interceptors))
            if p.to not in depots:
                self.problems.append(_unknown(self.where, (*path, "to"), "depot", p.to, depots,
                                              ))
            if p.start and p.until and p.until < p.start:
                self.problem((*path, "until"), f"before `from` ({p.start})", expected=f"a date from {p.start}",
                             found=str(p.until))

    def _system_delivery(self, d: Any, path: FieldPath, theatre: Scenario, catalog: Catalog,
                         batteries: dict[str, Battery], depots: dict[str, int]) -> None:
        if d.system not in catalog.systems:
            self.problems.append(_unknown(self.where, (*path, "system"), "system", d.system, catalog.systems))
            return
        if d.quantity != 1:
            self.problem((*path, "quantity"), "one battery per system delivery", expected="1",
                         found=str(d.quantity), hint="list each new battery as its own delivery")
        if d.battery is None:
            self.problem(path, "missing required key `battery` (the new battery: id, lat, lon, interceptors)",
                         expected="a mapping {id: ..., system: ..., lat: ..., lon: ..., interceptors: ...}")
            return
        if d.battery.system != d.system:
            self.problem((*path, "battery", "system"), f"the battery's system differs from the delivery's `{d.system}`",
                         expected=d.system, found=d.battery.system)
        if d.battery.id in batteries or d.battery.id in depots:
            self.problem((*path, "battery", "id"), f"id `{d.battery.id}` is already used")
        trial = theatre.model_copy(update={"batteries": [d.battery], "radars": []})
        found = [p for p in scenario_problems(trial, reroot(self.where, (*path, "battery"), ("batteries", 0)))
                 if p.path.startswith("batteries")]
        for p in found:
            p.path = p.path.replace("batteries[0]", "battery", 1)
        self.problems += prefixed(found, path)
        batteries[d.battery.id] = d.battery


def _placeholder() -> Scenario:
    return Scenario.model_validate({"name": "-", "assets": [{"id": "x", "lat": 0, "lon": 0}],
                                    "raids": [{"id": "r", "threat": "shahed-136", "count": 1,
                                               "launch": {"lat": 0, "lon": 0}, "target": "x"}]})
