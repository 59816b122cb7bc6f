"""``shieldwall allocate``: split a delivery of one interceptor type across recipients
(batteries, or depots standing for regions) and delivery tranches so as to minimise the expected
value lost (or leakers) over a campaign, then check the answer against the even split and the
split proportional to the value each recipient defends, on fresh random numbers.

Method (docs/sweep.md): sample-average approximation (SAA; Kleywegt, Shapiro and
Homem-de-Mello, SIAM J. Optim. 2002): with the seed fixed, every candidate allocation is run on
the same random numbers, so the mean over the replications is a deterministic function of the
allocation and differences between allocations carry little noise. That function is minimised
over the integer lattice of blocks by steepest-descent pairwise exchange (move one step of units
of one tranche from one recipient to another; take the best move; stop when none improves) with
the step halved down to one block: a discrete pattern search, the neighbourhood search of
COMPASS-type methods (Hong and Nelson, Oper. Res. 2006), started from the better baseline, so
the answer is never worse than either baseline on the optimisation sample. Each neighbourhood
is one batch of campaign runs on the sweep backends (local processes or Dask). What counts is
the verification: the chosen allocation and both baselines run again on random numbers the
search never saw (another seed), with paired 95% intervals of the differences."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from shieldwall.catalog.model import Id, NonNegativeInt, PositiveInt, Strict
from shieldwall.errors import ScenarioError, UsageError
from shieldwall.scenario.yaml_source import sort_problems
from shieldwall.sweep.tasks import Job, Task, TaskResult

VERIFY_STREAM = 11  # the verification's seed: SeedSequence([seed, VERIFY_STREAM])
EARTH_RADIUS_KM = 6371.0


class Tranche(Strict):
    date: dt.date
    quantity: PositiveInt


class AllocationFile(Strict):
    base: str = Field(description="A campaign file, relative to this file.")
    interceptor: Id
    recipients: list[Id] = Field(min_length=2, max_length=50, description="Battery or depot ids.")
    tranches: list[Tranche] = Field(min_length=1, max_length=24, description="Delivery dates and units on each.")
    block: PositiveInt = Field(50, description="Units move in multiples of this.")
    objective: Literal["value_lost", "leaked"] = "value_lost"
    replications: Annotated[int, Field(ge=2, le=10_000)] = 100
    verify_replications: Annotated[int, Field(ge=2, le=100_000)] = 400
    seed: NonNegativeInt = 0
    max_evaluations: Annotated[int, Field(ge=1, le=20_000)] = 400


@dataclass
class LoadedAllocation:
    spec: AllocationFile
    file: str
    base: Any  # LoadedCampaign

    @property
    def total(self) -> int:
        return sum(t.quantity for t in self.spec.tranches)


def load_allocation(path: str | Path) -> LoadedAllocation:
    from shieldwall.campaign.load import is_campaign_file, load_campaign

    from shieldwall.sweep.spec import read_model

    spec, source = read_model(path, AllocationFile)
    where = source.source_map
    base_path = Path(path).parent / spec.base
    if not base_path.is_file() or not is_campaign_file(base_path):
        why = "not found" if not base_path.is_file() else "is not a campaign (no `nights:`)"
        raise ScenarioError(source.file, [where.problem(("base",), f"base `{spec.base}` {why}",
                                                        hint="an allocation splits a delivery over a campaign")])
    base = load_campaign(base_path)
    problems = []
    if spec.interceptor not in base.catalog.interceptors:
        problems.append(where.problem(("interceptor",), f"unknown interceptor `{spec.interceptor}`",
                                      hint="known: " + ", ".join(sorted(base.catalog.interceptors))))
    batteries = {b.id: b for b in base.batteries}
    depots = {d.id for d in base.campaign.depots}
    for i, rid in enumerate(spec.recipients):
        if rid in batteries:
            system = base.catalog.systems[batteries[rid].system]
            if spec.interceptor not in system.interceptors:
                problems.append(where.problem(("recipients", i), f"battery `{rid}` ({batteries[rid].system}) cannot "
                                              f"fire `{spec.interceptor}`"))
        elif rid not in depots:
            problems.append(where.problem(("recipients", i), f"unknown battery or depot `{rid}`",
                                          hint="known: " + ", ".join([*batteries, *sorted(depots)])))
        if rid in spec.recipients[:i]:
            problems.append(where.problem(("recipients", i), f"`{rid}` is listed twice"))
    last = base.date_of(base.nights - 1)
    for i, t in enumerate(spec.tranches):
        if not base.campaign.start_date <= t.date <= last:
            problems.append(where.problem(("tranches", i, "date"), "outside the campaign",
                                          expected=f"a date from {base.campaign.start_date} to {last}", found=str(t.date)))
        if t.quantity % spec.block:
            problems.append(where.problem(("tranches", i, "quantity"), f"not a multiple of the block ({spec.block})",
                                          found=str(t.quantity), hint="units move in blocks; change `block` or the quantity"))
    if problems:
        raise ScenarioError(source.file, sort_problems(problems))
    return LoadedAllocation(spec, source.file or str(path), base)


# -- allocations ---------------------------------------------------------------------------------

def split(quantity: int, weights: np.ndarray, block: int) -> np.ndarray:
    """``quantity`` units in blocks, as near ``weights`` as whole blocks allow (largest
    remainder; ties to the first)."""
    blocks = quantity // block
    w = np.asarray(weights, float)
    w = np.ones_like(w) if w.sum() <= 0 else w
    share = blocks * w / w.sum()
    out = np.floor(share).astype(np.int64)
    order = sorted(range(len(w)), key=lambda i: (-(share[i] - out[i]), i))
    for i in order[: blocks - int(out.sum())]:
        out[i] += 1
    return out * block


def defended_value(loaded: LoadedAllocation) -> np.ndarray:
    """Per recipient: the value of the assets within the interceptor's reach of it (a depot
    serves every asset)."""
    base, spec = loaded.base, loaded.spec
    reach = base.catalog.interceptors[spec.interceptor].max_range_km
    batteries = {b.id: b for b in base.batteries}
    assets = base.theatre.assets
    out = []
    for rid in spec.recipients:
        if rid not in batteries:
            out.append(sum(a.value for a in assets))
            continue
        b = batteries[rid]
        out.append(sum(a.value for a in assets if _distance_km(b.lat, b.lon, a.lat, a.lon) <= reach))
    return np.array(out, float)


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def baselines(loaded: LoadedAllocation) -> dict[str, np.ndarray]:
    spec = loaded.spec
    n = len(spec.recipients)
    value = defended_value(loaded)
    return {
        "even": np.array([split(t.quantity, np.ones(n), spec.block) for t in spec.tranches]),
        "value-proportional": np.array([split(t.quantity, value, spec.block) for t in spec.tranches]),
    }


def variant(loaded: LoadedAllocation, allocation: np.ndarray) -> Any:
    """The campaign with the allocation's deliveries added (in date order, zeros left out)."""
    spec, base = loaded.spec, loaded.base
    existing = [d.model_dump(by_alias=True, exclude_none=True) for d in base.campaign.deliveries]
    new = [{"date": t.date, "interceptor": spec.interceptor, "quantity": int(allocation[i, r]), "to": rid,
            "source": "allocation"}
           for i, t in enumerate(spec.tranches) for r, rid in enumerate(spec.recipients) if allocation[i, r] > 0]
    deliveries = sorted([*existing, *new], key=lambda d: d["date"])
    return base.with_({"deliveries": deliveries}, label="allocation")


# -- evaluation ----------------------------------------------------------------------------------

class Evaluator:
    """Runs batches of allocations on a sweep backend, each a campaign on ``seed``."""

    QUANTITIES = ("value_lost", "leaked", "intercepted", "interceptor_cost_usd")

    def __init__(self, loaded: LoadedAllocation, backend: Any) -> None:
        self.loaded, self.backend = loaded, backend
        self.runs = 0

    def run(self, allocations: list[np.ndarray], *, replications: int, seed: int) -> list[dict[str, np.ndarray]]:
        job = Job(f"allocate-{seed}-{replications}", "campaign", None, seed, replications, self.QUANTITIES)
        tasks = (Task(i, range(0, 1), {}, variant(self.loaded, a)) for i, a in enumerate(allocations))
        out: list[dict[str, np.ndarray]] = [{} for _ in allocations]

        def on_result(task: Task, result: TaskResult) -> None:
            if result.error is not None:
                raise UsageError(f"an allocation could not run:\n{result.error}")
            out[task.point] = result.columns

        self.backend.run(job, tasks, on_result)
        self.runs += len(allocations)
        return out


def optimise(loaded: LoadedAllocation, evaluator: Evaluator, progress: Any = None) -> dict[str, Any]:
    """Steepest-descent pairwise exchange on the SAA objective, step halved down to one block."""
    spec = loaded.spec
    objective = spec.objective
    cache: dict[bytes, float] = {}

    def evaluate(batch: list[np.ndarray]) -> list[float]:
        todo = [a for a in dict((a.tobytes(), a) for a in batch if a.tobytes() not in cache).values()]
        if todo:
            for a, cols in zip(todo, evaluator.run(todo, replications=spec.replications, seed=spec.seed)):
                cache[a.tobytes()] = float(np.mean(cols[objective]))
            if progress:
                progress(len(cache))
        return [cache[a.tobytes()] for a in batch]

    starts = baselines(loaded)
    scores = evaluate(list(starts.values()))
    best_name = min(zip(scores, starts), key=lambda x: x[0])[1]
    x, fx = starts[best_name].copy(), min(scores)
    trace = [{"step": 0, "move": f"start from the {best_name} split", "objective": fx}]
    largest = max(t.quantity for t in spec.tranches)
    step = spec.block * 2 ** max(0, int(math.log2(max(1, largest // (2 * spec.block)))))
    while step >= spec.block and len(cache) < spec.max_evaluations:
        moves = [(t, i, j) for t in range(len(spec.tranches)) for i in range(len(spec.recipients))
                 for j in range(len(spec.recipients)) if i != j and x[t, i] >= step]
        candidates = []
        for t, i, j in moves:
            y = x.copy()
            y[t, i] -= step
            y[t, j] += step
            candidates.append(y)
        values = evaluate(candidates) if candidates else []
        if values and min(values) < fx:
            k = int(np.argmin(values))  # ties: the first move in a fixed order, so reruns agree
            t, i, j = moves[k]
            x, fx = candidates[k], values[k]
            trace.append({"step": step, "move": f"{step} of {spec.tranches[t].date} from {spec.recipients[i]} to "
                          f"{spec.recipients[j]}", "objective": fx})
        else:
            step //= 2
            step -= step % spec.block if step >= spec.block else 0
    return {"allocation": x, "objective": fx, "start": best_name, "trace": trace, "evaluations": len(cache),
            "stopped": "no better exchange" if len(cache) < spec.max_evaluations else "max_evaluations reached"}


def verification_seed(seed: int) -> int:
    return int(np.random.SeedSequence([seed, VERIFY_STREAM]).generate_state(1)[0])


def allocate(loaded: LoadedAllocation, backend: Any, progress: Any = None) -> dict[str, Any]:
    """Optimise, then verify on fresh random numbers; returns what allocation.json holds."""
    from shieldwall.campaign.compare import paired

    spec = loaded.spec
    evaluator = Evaluator(loaded, backend)
    found = optimise(loaded, evaluator, progress)
    options = {"chosen": found["allocation"], **baselines(loaded)}
    seed = verification_seed(spec.seed)
    runs = evaluator.run(list(options.values()), replications=spec.verify_replications, seed=seed)
    by_name = dict(zip(options, runs))
    verification: dict[str, Any] = {"seed": seed, "replications": spec.verify_replications, "options": {}, "differences": {}}
    for name, cols in by_name.items():
        verification["options"][name] = {q: float(np.mean(cols[q])) for q in Evaluator.QUANTITIES}
    for name in ("even", "value-proportional"):
        verification["differences"][f"chosen - {name}"] = {
            q: paired(by_name[name][q], by_name["chosen"][q]) for q in Evaluator.QUANTITIES}
    diffs = {name: verification["differences"][f"chosen - {name}"][spec.objective]["difference_ci95"]
             for name in ("even", "value-proportional")}
    verification["beats"] = {name: bool(ci[1] < 0) for name, ci in diffs.items()}

    def table(a: np.ndarray) -> dict[str, dict[str, int]]:
        return {str(t.date): {r: int(a[i, k]) for k, r in enumerate(spec.recipients)} for i, t in enumerate(spec.tranches)}

    return {
        "base": spec.base, "interceptor": spec.interceptor, "total": loaded.total, "objective": spec.objective,
        "recipients": list(spec.recipients), "defended_value": dict(zip(spec.recipients, defended_value(loaded).tolist())),
        "method": "sample-average approximation on common random numbers (seed, replications), steepest-descent "
                  "pairwise exchange with the step halved to one block, from the better baseline; verified on "
                  "fresh random numbers",
        "optimisation": {"seed": spec.seed, "replications": spec.replications, "objective_mean": found["objective"],
                         "start": found["start"], "evaluations": found["evaluations"], "stopped": found["stopped"],
                         "trace": found["trace"]},
        "allocation": table(found["allocation"]),
        "totals_by_recipient": dict(zip(spec.recipients, found["allocation"].sum(axis=0).tolist())),
        "baselines": {name: table(a) for name, a in baselines(loaded).items()},
        "verification": verification,
    }
