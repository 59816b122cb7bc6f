"""The sweep file, as validated models, and its loading: located errors as for scenarios, and
every factor path checked against the base before anything runs (docs/sweep.md)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import Field, ValidationError

from shieldwall.catalog.model import NonNegativeInt, PositiveFloat, Strict
from shieldwall.errors import Problem, ScenarioError
from shieldwall.scenario.load import pydantic_problems
from shieldwall.scenario.yaml_source import FieldPath, SourceMap, read_yaml_file, sort_problems
from shieldwall.sweep.outputs import DEFAULT_OUTPUTS, check_output

MAX_REPLICATIONS = 1_000_000  # per point
MAX_POINTS = 200_000
MAX_REPLICATIONS_TOTAL = 2_000_000_000  # points x replications: about a day of the engine on 2 cores
Scalar = Union[bool, int, float, str]


class Distribution(Strict):
    """A factor drawn from a distribution (sampling designs), or its quantiles (grid)."""

    kind: Literal["uniform", "loguniform", "triangular", "normal"]
    low: float | None = Field(None, description="uniform, loguniform, triangular; normal: truncation.")
    high: float | None = Field(None, description="uniform, loguniform, triangular; normal: truncation.")
    mode: float | None = Field(None, description="triangular.")
    mean: float | None = Field(None, description="normal.")
    sd: PositiveFloat | None = Field(None, description="normal.")


class Factor(Strict):
    """One input that varies: a path into the base file and the values it takes."""

    path: str = Field(description="e.g. batteries[patriot-1].interceptors.pac3-mse")
    name: str | None = Field(None, description="Column name in the results; default the path.")
    values: list[Scalar] | None = Field(None, min_length=1, max_length=10_000)
    range: tuple[float, float] | None = Field(None, description="[low, high], uniform.")
    distribution: Distribution | None = None
    levels: Annotated[int, Field(ge=2, le=1000)] = Field(3, description="Grid levels of a range or distribution.")
    integer: bool | None = Field(None, description="Round to whole numbers; default: when the base value is one.")

    @property
    def label(self) -> str:
        return self.name or self.path


class Design(Strict):
    kind: Literal["grid", "random", "lhs", "sobol"] = "grid"
    n: Annotated[int, Field(ge=1, le=MAX_POINTS)] | None = Field(
        None, description="Samples (random, lhs); base samples N for sobol (N x (factors + 2) points).")
    second_order: bool = Field(False, description="sobol: also second-order indices (N x (2 factors + 2) points).")


class SweepFile(Strict):
    base: str = Field(description="A scenario or campaign file, relative to the sweep file.")
    replications: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] = 500
    seed: NonNegativeInt = 0
    design: Design = Field(default_factory=Design)
    factors: list[Factor] = Field(min_length=1, max_length=64)
    outputs: list[str] = Field(default_factory=lambda: list(DEFAULT_OUTPUTS), min_length=1, max_length=64)
    task_replications: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] = Field(
        512, description="Replications per task (whole engine chunks of 128); campaigns: a point is a task.")


@dataclass
class LoadedSweep:
    """A checked sweep: the file's model, the base it varies, and where it came from."""

    spec: SweepFile
    file: str
    base_path: Path
    kind: str  # "raid" or "campaign"
    base: Any  # Scenario or LoadedCampaign
    integer: list[bool]  # per factor: values are whole numbers

    def fingerprint(self) -> str:
        """What must not change between a sweep and its --resume: the sweep file's model and the
        base files' bytes (a campaign's scenario and generator files too)."""
        digest = hashlib.sha256(self.spec.model_dump_json().encode())
        for path in self.input_files():
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def input_files(self) -> list[Path]:
        files = [self.base_path]
        if self.kind == "campaign":
            t = self.base.campaign.theatre.scenario
            files += [self.base_path.parent / t] if t else []
            files += [Path(self.base.generator_file)] if self.base.generator_file else []
        return files

    def vary(self, changes: Mapping[str, Any], label: str) -> Any:
        """The base with a point's values, validated (a ScenarioError names ``label``)."""
        if self.kind == "campaign":
            return self.base.with_(dict(changes), label=label)
        from shieldwall.scenario.vary import vary_scenario

        return vary_scenario(self.base, changes, label=label)


def read_model(path: str | Path, model: type[Any]) -> tuple[Any, Any]:
    """A YAML file validated as ``model``, and its source (for locating later problems); the
    shapes' problems as one located ScenarioError."""
    source = read_yaml_file(path)
    try:
        return model.model_validate(source.data), source
    except ValidationError as exc:
        raise ScenarioError(source.file, pydantic_problems(model, exc, source.data, source.source_map)) from None


def load_sweep(path: str | Path) -> LoadedSweep:
    spec, source = read_model(path, SweepFile)
    where = source.source_map
    problems = _design_problems(spec, where)
    base_path = Path(path).parent / spec.base
    if not base_path.is_file():
        problems.append(where.problem(("base",), f"base file `{spec.base}` not found",
                                      hint=f"paths are relative to the sweep file's folder ({Path(path).parent})"))
        raise ScenarioError(source.file, sort_problems(problems))
    kind, base = _load_base(base_path)  # its own errors name its own file
    integer = []
    for i, factor in enumerate(spec.factors):
        found = _factor_problems(base, factor, i, where)
        problems += found
        integer.append(False if found else _is_integer(base, factor))
    problems += [where.problem(("outputs", i), message, hint=hint)
                 for i, name in enumerate(spec.outputs) for message, hint in [check_output(name, kind, base)]
                 if message]
    if problems:
        raise ScenarioError(source.file, sort_problems(problems))
    loaded = LoadedSweep(spec, source.file or str(path), base_path, kind, base, integer)
    _check_corners(loaded, where)
    return loaded


def _load_base(path: Path) -> tuple[str, Any]:
    from shieldwall.campaign.load import is_campaign_file, load_campaign
    from shieldwall.scenario.load import load_scenario

    if is_campaign_file(path):
        return "campaign", load_campaign(path)
    return "raid", load_scenario(path)


def base_data(kind: str, base: Any) -> Any:
    """The base as plain data, where factor paths point."""
    if kind == "campaign":
        return base.campaign.model_dump(by_alias=True, exclude_none=True)
    return base.model_dump(by_alias=True)


def _design_problems(spec: SweepFile, where: SourceMap) -> list[Problem]:
    from shieldwall.sweep.design import design_size

    d, problems = spec.design, []
    if d.kind == "grid" and d.n is not None:
        problems.append(where.problem(("design", "n"), "a grid takes no `n`",
                                      hint="its points are every combination of the factors' values"))
    if d.kind != "grid" and d.n is None:
        problems.append(where.problem(("design",), f"missing required key `n` for a {d.kind} design",
                                      expected="an integer >= 1"))
    if d.kind == "sobol" and d.n is not None and d.n & (d.n - 1):
        problems.append(where.problem(("design", "n"), "not a power of 2", expected="a power of 2 (Sobol' sequence)",
                                      found=str(d.n)))
    for i, f in enumerate(spec.factors):
        given = [k for k in ("values", "range", "distribution") if getattr(f, k) is not None]
        if len(given) != 1:
            problems.append(where.problem(("factors", i), "give exactly one of `values`, `range` or `distribution`",
                                          found=", ".join(given) or "none"))
        elif f.range is not None and not f.range[0] < f.range[1]:
            problems.append(where.problem(("factors", i, "range"), "the range's low end must be below its high end",
                                          found=str(list(f.range))))
        elif f.distribution is not None:
            problems += _distribution_problems(f.distribution, where, ("factors", i, "distribution"))
    labels = [f.label for f in spec.factors]
    for i, label in enumerate(labels):
        if label in labels[:i]:
            problems.append(where.problem(("factors", i), f"factor `{label}` is given twice",
                                          hint="give each path once, or different `name`s"))
    if not problems:
        points = design_size(spec)
        if points > MAX_POINTS or points * spec.replications > MAX_REPLICATIONS_TOTAL:
            problems.append(where.problem(("design",), f"{points:,} points x {spec.replications:,} replications is "
                                          "too many", expected=f"at most {MAX_POINTS:,} points and "
                                          f"{MAX_REPLICATIONS_TOTAL:,} replications in all", found=f"{points:,} points"))
    return problems


def _distribution_problems(d: Distribution, where: SourceMap, path: FieldPath) -> list[Problem]:
    need = {"uniform": ("low", "high"), "loguniform": ("low", "high"), "triangular": ("low", "mode", "high"),
            "normal": ("mean", "sd")}[d.kind]
    missing = [k for k in need if getattr(d, k) is None]
    if missing:
        return [where.problem(path, f"a {d.kind} distribution needs {', '.join(f'`{k}`' for k in missing)}")]
    low, high = d.low, d.high
    if low is not None and high is not None and not low < high:
        return [where.problem((*path, "low"), "`low` must be below `high`", found=f"{low:g} >= {high:g}")]
    if d.kind == "loguniform" and low is not None and low <= 0:
        return [where.problem((*path, "low"), "out of range", expected="a number > 0 (log scale)", found=f"{low:g}")]
    if d.kind == "triangular" and not low <= d.mode <= high:  # type: ignore[operator]
        return [where.problem((*path, "mode"), "out of range", expected=f"from {low:g} to {high:g}", found=f"{d.mode:g}")]
    return []


def _factor_problems(base: Any, factor: Factor, index: int, where: SourceMap) -> list[Problem]:
    from shieldwall.scenario.vary import PathError, parse_path, resolve

    kind = "campaign" if hasattr(base, "campaign") else "raid"
    try:
        resolve(base_data(kind, base), parse_path(factor.path), factor.path, _materializer(kind, base))
    except ValueError as exc:
        return [where.problem(("factors", index, "path"), str(exc))]
    except PathError as exc:
        return [where.problem(("factors", index, "path"), exc.problem.message, hint=exc.problem.hint)]
    return []


def _materializer(kind: str, base: Any) -> Any:
    """Paths into a campaign's theatre reach its scenario's values (as ``with_`` does)."""
    return base.theatre_data if kind == "campaign" else None


def _is_integer(base: Any, factor: Factor) -> bool:
    if factor.integer is not None:
        return factor.integer
    from shieldwall.scenario.vary import parse_path, resolve

    kind = "campaign" if hasattr(base, "campaign") else "raid"
    container, key, _ = resolve(base_data(kind, base), parse_path(factor.path), factor.path,
                                _materializer(kind, base))
    value = container[key] if isinstance(container, list) else container.get(key)  # type: ignore[index]
    return isinstance(value, int) and not isinstance(value, bool)


def _check_corners(loaded: LoadedSweep, where: SourceMap) -> None:
    """Each factor at its lowest and highest value (the others at the base's), checked now: a
    value the base cannot take is reported at the factor's line, not hours later by a worker."""
    from shieldwall.sweep.design import factor_extremes

    problems: list[Problem] = []
    for i, factor in enumerate(loaded.spec.factors):
        for value in factor_extremes(factor, loaded.integer[i]):
            try:
                loaded.vary({factor.path: value}, f"factor {factor.label} = {value!r}")
            except ScenarioError as exc:
                for p in exc.problems:
                    problems.append(where.problem(("factors", i), f"at {factor.label} = {value!r}: "
                                                  f"{p.path}: {p.message}" if p.path else p.message,
                                                  expected=p.expected, found=p.found, hint=p.hint))
                break
    if problems:
        raise ScenarioError(loaded.file, sort_problems(problems))


def spec_json(loaded: LoadedSweep) -> str:
    return json.dumps(loaded.spec.model_dump(mode="json"), sort_keys=True)
