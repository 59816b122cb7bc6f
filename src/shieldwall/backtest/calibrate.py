"""``shieldwall calibrate theatre``: fit a theatre's uncertain physical parameters to the attack
record (docs/validation.md#calibration).

**Free parameters** are read from the ``ranges`` the inputs declare, never listed here: every
catalog entry the window's scenario uses (its threats, the interceptors its units hold, its
area-defence types) that gives a field a plausible range (``ranges: {reliability: [0.8, 0.98]}``,
``pk.drone`` for one key of a map), and the theatre's own ``ranges`` for its zones
(``ew_zones.loss_per_km``: one value for every zone). A new mechanism's ranged parameter is picked
up without a change here.

**Objective**: the record's outcome counts per record model and attack-size bin (each model's bins
partition its rows, so nothing counts twice): the multinomial deviance of (destroyed, not reaching
the goal, getting through) between the record and the simulated mean shares,
``D = 2 sum_g n_g sum_k p_gk log(p_gk / q_gk)``, over every group whose launched are all mapped to
catalog threats. A group's rows in months where the record does not split losses from kills
(``Attack.losses_split``: none before July 2024, when losses to jamming were counted with the shot
down, and the record's 2026 rows) count (neutralised, through) only: there ``destroyed`` includes
the losses. Its rows in months that do split count all three, even where a model has no loss at
all (the record then says none was lost: cruise missiles in late 2024). Simulated through
``RatesRun`` on common random numbers: one plan (the record laid out on the theatre) and one seed
for every evaluation, so two parameter vectors differ only by what the parameters change. The engine compiles parameters into its arrays (Pk into engagement
windows, loss rates into hazard segments), so each evaluation compiles the plan's scenario again;
the plan, its geometry seed and the kernel's random numbers are the same every time.

**Optimiser**: SciPy's COBYQA (a bounded derivative-free trust-region method) on the parameters
scaled to [0, 1] inside their ranges, from the inputs' values, with an evaluation budget.

**Uncertainty**: Laplace on the deviance's diagonal curvature at the optimum (a central second
difference per parameter), inflated by the quasi-likelihood dispersion ``D_min / (groups x 2 -
parameters)`` since nights are over-dispersed against a multinomial; a parameter whose curvature is
not positive is reported as not identified by the record (its range stands).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from shieldwall.backtest.rates import RatesPlan, RatesRun, plan_rates, summarise
from shieldwall.catalog.builtin import builtin_catalog
from shieldwall.catalog.model import CATALOG_SECTIONS, complete_overrides
from shieldwall.errors import UsageError
from shieldwall.scenario.model import MECHANISM_FIELDS
from shieldwall.scenario.record import Record, read_record
from shieldwall.scenario.theatre import Theatre, TheatreFile, load_theatre

MAX_REPLICATIONS = 1000
MAX_EVALUATIONS = 2000
CURVATURE_STEP = 0.05  # of a parameter's range, for the second difference


@dataclass(frozen=True)
class Parameter:
    """One free parameter: where it lives, its range, where its prior comes from."""

    name: str  # "catalog.threats.shahed-136.reliability", "theatre.ew_zones.loss_per_km"
    where: tuple[str, ...]  # ("catalog", section, entry, field[, key]) or ("theatre", section, field)
    low: float
    high: float
    start: float
    source: str
    integer: bool = False  # a count (penetration aids): fitted on the integers of its range

    def scaled(self, value: float) -> float:
        return (value - self.low) / (self.high - self.low) if self.high > self.low else 0.5

    def value(self, unit: float) -> float:
        x = self.low + float(np.clip(unit, 0.0, 1.0)) * (self.high - self.low)
        return float(round(x)) if self.integer else x


def _field_value(entry: Any, path: list[str]) -> float | None:
    value: Any = getattr(entry, path[0], None)
    for key in path[1:]:
        value = value.get(key) if isinstance(value, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _used(run: RatesRun) -> dict[str, set[str]]:
    """The catalog entries the window's scenario uses, per section."""
    scenario = run.scenario
    return {"threats": set(run.compiled.threat_type_ids), "interceptors": set(run.compiled.interceptor_ids),
            "systems": {b.system for b in scenario.batteries}, "radars": {r.type for r in scenario.radars},
            "area_defences": {a.type for a in scenario.area_defences},
            "acoustic_sensors": {a.type for a in scenario.acoustic_sensors}}


def free_parameters(run: RatesRun) -> list[Parameter]:
    """Every ranged number the run's scenario uses (module docstring), in a fixed order."""
    theatre = run.plan.theatre
    catalog = theatre.model.catalog.merged_over(builtin_catalog())
    used = _used(run)
    switches = run.plan.scenario().mechanisms
    out: list[Parameter] = []
    for section in CATALOG_SECTIONS:
        for entry_id in sorted(used.get(section, ())):
            entry = getattr(catalog, section).get(entry_id)
            for key, (lo, hi) in sorted((entry.ranges if entry is not None else {}).items()):
                path = key.split(".")
                if path[0] in MECHANISM_FIELDS and not getattr(switches, MECHANISM_FIELDS[path[0]]):
                    continue  # its mechanism is off in this theatre: the record cannot inform it
                start = _field_value(entry, path)
                if start is None:
                    raise UsageError(f"catalog {section}.{entry_id}: range `{key}` names no number of the entry")
                source = entry.sources.get(path[0], "no source given")
                integer = type(getattr(entry, path[0], None)) is int  # the catalog field is a count
                out.append(Parameter(f"catalog.{section}.{entry_id}.{key}", ("catalog", section, entry_id, *path),
                                     float(lo), float(hi), float(np.clip(start, lo, hi)), source, integer))
    for key, (lo, hi) in sorted(theatre.model.ranges.items()):
        section, _, name = key.partition(".")
        zones = getattr(theatre.model, section)
        if not zones:
            continue
        start = float(np.mean([getattr(z, name) for z in zones]))
        out.append(Parameter(f"theatre.{key}", ("theatre", section, name), float(lo), float(hi),
                             float(np.clip(start, lo, hi)), f"theatre ranges: {key}"))
    return out


def theatre_data(theatre: Theatre, params: list[Parameter], values: list[float],
                 sources: dict[str, str] | None = None) -> dict[str, Any]:
    """The theatre as plain data with ``values`` set: catalog parameters as partial overrides of
    the theatre's ``catalog`` (with a ``sources`` note each), zone parameters on every zone."""
    data = theatre.model.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)
    data.setdefault("version", 1)
    data["kind"] = "theatre"
    data.pop("calibration", None)
    own = {s: dict(getattr(theatre.model.catalog, s)) for s in CATALOG_SECTIONS}
    catalog: dict[str, dict[str, Any]] = {}
    for s, entries in own.items():
        if entries:
            catalog[s] = {k: v.model_dump(mode="json", by_alias=True, exclude_unset=True) for k, v in entries.items()}
    for p, v in zip(params, values):
        if p.where[0] == "catalog":
            _, section, entry_id, *path = p.where
            entry = catalog.setdefault(section, {}).setdefault(entry_id, {})
            target = entry
            for key in path[:-1]:
                target = target.setdefault(key, {})
            target[path[-1]] = int(round(v)) if p.integer else round(float(v), 6)
            if sources and p.name in sources:
                entry.setdefault("sources", {})[path[0]] = sources[p.name]
        else:
            _, section, name = p.where
            for zone in data.get(section, []):
                zone[name] = round(float(v), 6)
    if catalog:
        data["catalog"] = catalog
    return data


def theatre_with(theatre: Theatre, params: list[Parameter], values: list[float]) -> Theatre:
    """A copy of the theatre with the parameters set (validated as a file would be)."""
    data = theatre_data(theatre, params, values)
    data["catalog"] = complete_overrides(data.get("catalog", {}), builtin_catalog())
    return Theatre(TheatreFile.model_validate(data), theatre.file)


@dataclass
class Objective:
    """The record's counts on one plan, and the simulation that scores a parameter vector."""

    plan: RatesPlan
    params: list[Parameter]
    replications: int
    seed: int
    evaluations: int = 0

    def simulate(self, values: list[float]) -> dict[str, Any]:
        theatre = theatre_with(self.plan.theatre, self.params, values)
        plan = replace(self.plan, theatre=theatre, raid_ids={})
        run = RatesRun.compile(plan, self.seed)
        self.evaluations += 1
        return summarise(run, run.simulate(self.replications, self.seed))

    def deviance(self, values: list[float]) -> float:
        return deviance(self.simulate(values), self.replications)


def groups(summary: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(label, entry) of every model's size bins whose launched are all simulated."""
    return [(f"{model} {b['bin']}", b) for model, bins in summary["by_size"].items() for b in bins
            if b["launched"] and b["launched_simulated"] == b["launched"]]


def deviance(summary: dict[str, Any], replications: int) -> float:
    """Multinomial deviance over ``groups``: of (destroyed, not reaching the goal, through) on a
    group's rows whose month splits losses from kills, of (neutralised, through) on the rest
    (module docstring)."""
    total = 0.0
    for _, g in groups(summary):
        for part, split in ((g["losses_split"], True), (g["losses_lumped"], False)):
            if part is not None and part["launched"]:
                total += _part_deviance(part, split, replications)
    return total


def _part_deviance(part: dict[str, Any], split: bool, replications: int) -> float:
    n = part["launched"]
    rec, sim = part["recorded"], part["simulated"]
    if split:
        p = [rec["destroyed"], rec["suppressed"], 1.0 - rec["neutralised"]]
        q = [sim["destroyed"]["mean"], sim["suppressed"]["mean"], 1.0 - sim["neutralised"]["mean"]]
    else:
        p = [rec["neutralised"], 1.0 - rec["neutralised"]]
        q = [sim["neutralised"]["mean"], 1.0 - sim["neutralised"]["mean"]]
    floor = 0.5 / (n * replications)  # below one simulated threat in all replications
    return 2.0 * n * sum(pk * math.log(pk / max(qk, floor)) for pk, qk in zip(p, q) if pk > 0)


def fit(objective: Objective, budget: int, progress: Callable[[int, float], None] | None = None) -> dict[str, Any]:
    """COBYQA on the scaled parameters from their start values; then the Laplace uncertainty."""
    from scipy.optimize import Bounds, minimize

    params = objective.params
    if not params:
        raise UsageError("no free parameters: no catalog entry the window uses declares `ranges`, "
                         "and the theatre has none")
    x0 = np.array([p.scaled(p.start) for p in params])

    def f(x: np.ndarray) -> float:
        d = objective.deviance([p.value(u) for p, u in zip(params, x)])
        if progress:
            progress(objective.evaluations, d)
        return d

    start_d = f(x0)
    result = minimize(f, x0, method="COBYQA", bounds=Bounds(np.zeros(len(x0)), np.ones(len(x0))),
                      options={"maxfev": budget, "initial_tr_radius": 0.25, "final_tr_radius": 0.01})
    best = np.clip(result.x, 0.0, 1.0)
    best_d = float(result.fun) if float(result.fun) <= start_d else start_d
    if best_d == start_d and float(result.fun) > start_d:
        best = x0
    summary = objective.simulate([p.value(u) for p, u in zip(params, best)])
    n_groups = len(groups(summary))
    dispersion = max(best_d / max(2 * n_groups - len(params), 1), 1.0)
    rows = []
    for i, p in enumerate(params):
        h = CURVATURE_STEP
        lo_x, hi_x = best.copy(), best.copy()
        lo_x[i], hi_x[i] = best[i] - h, best[i] + h
        if lo_x[i] < 0:  # at a bound: a one-sided second difference
            lo_x[i], hi_x[i] = best[i], best[i] + 2 * h
            mid = best.copy()
            mid[i] = best[i] + h
            d0, d1, d2 = best_d, f(mid), f(hi_x)
        elif hi_x[i] > 1:
            lo_x[i], hi_x[i] = best[i] - 2 * h, best[i]
            mid = best.copy()
            mid[i] = best[i] - h
            d0, d1, d2 = f(lo_x), f(mid), best_d
        else:
            d0, d1, d2 = f(lo_x), best_d, f(hi_x)
        curvature = (d0 - 2 * d1 + d2) / h ** 2
        se = math.sqrt(2.0 * dispersion / curvature) * (p.high - p.low) if curvature > 0 else None
        rows.append({"name": p.name, "value": round(p.value(best[i]), 6), "start": round(p.start, 6),
                     "range": [p.low, p.high], "prior_source": p.source,
                     "standard_error": None if se is None else round(se, 6),
                     "identified": se is not None and se < (p.high - p.low) / 2})
    return {"parameters": rows, "deviance": {"start": round(start_d, 3), "fitted": round(best_d, 3)},
            "groups": n_groups, "dispersion": round(dispersion, 3), "evaluations": objective.evaluations,
            "optimiser": {"method": "scipy.optimize.minimize COBYQA (bounded, derivative-free)",
                          "budget": budget, "message": str(result.message)},
            "summary": summary, "best": [p.value(u) for p, u in zip(params, best)]}


def calibrate_theatre(record: str | Path, start: dt.date | None, end: dt.date, *,
                      theatre: str | Path | Theatre | None = None, replications: int = 10, seed: int = 0,
                      evaluations: int = 80, progress: Callable[[int, float], None] | None = None,
                      ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the calibrated theatre as plain data with its ``calibration`` provenance, the fit)."""
    if not 1 <= replications <= MAX_REPLICATIONS:
        raise UsageError(f"--replications must be from 1 to {MAX_REPLICATIONS}, got {replications}")
    if not 1 <= evaluations <= MAX_EVALUATIONS:
        raise UsageError(f"--evaluations must be from 1 to {MAX_EVALUATIONS}, got {evaluations}")
    if start is not None and end < start:
        raise UsageError(f"--until ({end}) is before --from ({start})")
    path = Path(record)
    rec: Record = read_record(path, start, end)
    th = theatre if isinstance(theatre, Theatre) else load_theatre(theatre)
    plan = plan_rates(rec, th, start, end)
    params = free_parameters(RatesRun.compile(plan, seed))
    objective = Objective(plan, params, replications, seed)
    result = fit(objective, evaluations, progress)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    window = {"from": str(start or plan.nights[0]), "until": str(end), "nights": len(plan.nights),
              "attacks": len(plan.rows)}
    note = f"calibrated on {path.name} {window['from']}..{window['until']} (seed {seed})"
    sources = {}
    for row in result["parameters"]:
        se = "not identified" if row["standard_error"] is None else f"+- {row['standard_error']:g}"
        sources[row["name"]] = (f"{note}: {row['value']:g} {se} within [{row['range'][0]:g}, {row['range'][1]:g}]; "
                                f"prior: {row['prior_source']}")
    data = theatre_data(th, params, result["best"], sources)
    data["calibration"] = {
        "record": {"file": path.name, "sha256": digest}, "window": window,
        "seed": seed, "replications": replications,
        "objective": "multinomial deviance of (destroyed, not reaching goal, through) per record model and "
                     "attack-size bin (docs/validation.md#calibration)",
        "optimiser": result["optimiser"], "evaluations": result["evaluations"],
        "deviance": result["deviance"], "groups": result["groups"], "dispersion": result["dispersion"],
        "parameters": result["parameters"],
    }
    return copy.deepcopy(data), result


def write_theatre_yaml(data: dict[str, Any], out: str | Path, header: str) -> Path:
    from shieldwall.scenario.yaml_source import yaml_text

    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(f"# {line}\n" for line in header.splitlines())
    text += yaml_text(data, width=110)
    path.write_text(text, encoding="utf-8")
    return path
