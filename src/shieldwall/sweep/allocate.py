"""``shieldwall allocate``: split a delivery over a campaign so as to minimise the expected
value lost (or leakers), then check the answer against simple splits on fresh random numbers.

Two kinds of delivery (docs/sweep.md):
- **units** of one interceptor type (``interceptor:``) over recipients (batteries or depots),
  optionally grouped into regions (``regions:``): the search then decides how many units each
  region gets and a stated rule (``within_region``) splits them within it;
- **batteries** of one system (``batteries:``, a battery without id and position) over
  candidate sites (``sites:``, NOTIONAL positions).
Either way the decision is ``x[tranche, arm]``: how many of each delivery date's units (or
batteries) go to each arm (region, recipient or site); each tranche's total is fixed, moves are
in blocks, and a site holds at most ``max_per_site`` batteries.

Method: sample-average approximation (SAA; Kleywegt, Shapiro and Homem-de-Mello, SIAM J.
Optim. 2002): with the seed fixed, every candidate allocation is run on the same random
numbers, so the mean over the replications is a deterministic function of the allocation and
differences between allocations carry little noise. Where every feasible allocation fits in
``max_evaluations`` they are all evaluated (the SAA problem solved exactly); otherwise it is
minimised by steepest-descent exchange, started from the better baseline, with the step halved
down to one block: the neighbourhood search of COMPASS-type methods (Hong and Nelson, Oper. Res.
2006), which for sites is Teitz and Bart's vertex substitution (Oper. Res. 1968), the classic
local search for placing p facilities. Each neighbourhood is one batch of campaign runs on the
sweep backends (local processes or Dask). What counts is the verification: the chosen
allocation and the baselines run again on random numbers the search never saw (another seed),
with paired 95% intervals of the differences, per region too."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from shieldwall import limits as L
from shieldwall.catalog.model import Id, NonNegativeInt, Strict, count_upto
from shieldwall.errors import Problem, ScenarioError, UsageError
from shieldwall.scenario.yaml_source import SourceMap, sort_problems
from shieldwall.sweep.regions import OUTSIDE, Region, Regions, resolve_regions, within_reach
from shieldwall.sweep.sites import BatteryTemplate, Site, battery_ids, nearest_value, new_battery, reach_km, spread
from shieldwall.sweep.tasks import Job, Task, TaskResult

VERIFY_STREAM = 11  # the verification's seed: SeedSequence([seed, VERIFY_STREAM])
DEFAULT_BLOCK = 50  # units; batteries move one at a time
MAX_ARMS = 200


class Tranche(Strict):
    """One delivery date and how many units (or batteries) arrive on it: they are in stock
    for the raid of that date's night."""

    date: dt.date
    quantity: count_upto(L.MAX_QUANTITY, low=1)  # type: ignore[valid-type]


class AllocationFile(Strict):
    base: str = Field(description="A campaign file, relative to this file.")
    interceptor: Id | None = Field(None, description="Units of this interceptor type (or `batteries:`).")
    batteries: BatteryTemplate | None = Field(  # type: ignore[valid-type]
        None, description="New batteries (a battery without id and position) over `sites` (or `interceptor:`).")
    recipients: list[Id] | None = Field(None, min_length=1, max_length=MAX_ARMS,
                                        description="Battery or depot ids (units).")
    regions: list[Region] | None = Field(None, min_length=1, max_length=MAX_ARMS,
                                         description="Named groups of recipients, or of assets.")
    within_region: Literal["value", "even", "stock", "optimise"] = Field(
        "value", description="How a region's units are split among its recipients; `optimise`: the search "
                             "decides per recipient and regions only group the results.")
    sites: list[Site] | None = Field(None, min_length=2, max_length=MAX_ARMS,
                                     description="Candidate positions of new batteries (NOTIONAL).")
    max_per_site: count_upto(100, low=1) = Field(1, description="Batteries a site may hold.")  # type: ignore[valid-type]
    tranches: list[Tranche] = Field(min_length=1, max_length=24, description="Delivery dates and units on each.")
    block: count_upto(L.MAX_QUANTITY, low=1) | None = Field(  # type: ignore[valid-type]
        None, description=f"Units move in multiples of this (default {DEFAULT_BLOCK}; batteries: 1).")
    objective: Literal["value_lost", "leaked"] = "value_lost"
    replications: Annotated[int, Field(ge=2, le=10_000)] = 100
    verify_replications: Annotated[int, Field(ge=2, le=100_000)] = 400
    seed: NonNegativeInt = 0
    max_evaluations: Annotated[int, Field(ge=2, le=20_000)] = Field(
        400, description="Campaign runs the search may make (the two baselines included).")
    search: Literal["auto", "exhaustive", "exchange"] = Field(
        "auto", description="exhaustive: every feasible allocation; exchange: the local search; auto: "
                            "exhaustive where they fit in max_evaluations.")


@dataclass
class LoadedAllocation:
    """A checked allocation file and what the search decides over."""

    spec: AllocationFile
    file: str
    base: Any  # LoadedCampaign
    kind: Literal["units", "batteries"]
    recipients: list[str]  # units: battery or depot ids; batteries: site ids
    arms: list[str]  # what the search splits over: region ids, recipients or sites
    regions: Regions | None
    block: int
    capacity: np.ndarray | None  # per arm, over all tranches (sites); None: unbounded

    @property
    def total(self) -> int:
        return sum(t.quantity for t in self.spec.tranches)

    @property
    def what(self) -> str:
        """What is delivered, in words."""
        if self.kind == "units":
            return str(self.spec.interceptor)
        return f"new {self.spec.batteries.system} " + ("battery" if self.total == 1 else "batteries")

    @property
    def by_region(self) -> bool:
        """The search decides per region (and a rule splits within each)."""
        return self.regions is not None and self.kind == "units" and self.spec.within_region != "optimise"


# -- loading ------------------------------------------------------------------------------------

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
    if (spec.interceptor is None) == (spec.batteries is None):
        raise ScenarioError(source.file, [where.problem((), "give exactly one of `interceptor` or `batteries`",
                                                        hint="`interceptor:` splits units of it over recipients; "
                                                             "`batteries:` places new batteries over `sites`")])
    check = _check_units if spec.interceptor is not None else _check_batteries
    loaded, problems = check(spec, base, where)
    problems += _tranche_problems(spec, base, where, spec.block or (DEFAULT_BLOCK if spec.interceptor else 1))
    if loaded is not None and len(loaded.arms) < 2:
        problems.append(where.problem(("regions",) if loaded.by_region else ("recipients",),
                                      "nothing to choose: one " + ("region" if loaded.by_region else "recipient"),
                                      hint="an allocation splits a delivery over two or more"))
    if not problems and loaded is not None:
        problems += _search_problems(loaded, where)
    if problems or loaded is None:
        raise ScenarioError(source.file, sort_problems(problems))
    loaded.file = source.file or str(path)
    return loaded


def _check_units(spec: AllocationFile, base: Any, where: SourceMap) -> tuple[LoadedAllocation | None, list[Problem]]:
    problems = [where.problem((key,), f"`{key}` is for new batteries (`batteries:`)")
                for key in ("sites", "max_per_site") if key in spec.model_fields_set]
    if spec.interceptor not in base.catalog.interceptors:
        problems.append(where.problem(("interceptor",), f"unknown interceptor `{spec.interceptor}`",
                                      hint="known: " + ", ".join(sorted(base.catalog.interceptors))))
        return None, problems
    batteries = {b.id: b for b in base.batteries}
    depots = {d.id for d in base.campaign.depots}
    fires = [b.id for b in base.batteries if spec.interceptor in base.catalog.systems[b.system].interceptors]
    listed = [(("recipients", i), rid) for i, rid in enumerate(spec.recipients or [])]
    listed += [(("regions", r, "recipients", j), rid) for r, g in enumerate(spec.regions or [])
               for j, rid in enumerate(g.recipients or [])]
    for at, rid in listed:
        if rid in batteries and rid not in fires:
            problems.append(where.problem(at, f"battery `{rid}` ({batteries[rid].system}) cannot fire "
                                          f"`{spec.interceptor}`", hint="batteries that can: " + ", ".join(fires)))
        elif rid not in batteries and rid not in depots:
            problems.append(where.problem(at, f"unknown battery or depot `{rid}`",
                                          hint="known: " + ", ".join([*batteries, *sorted(depots)])))
    for i, rid in enumerate(spec.recipients or []):
        if rid in spec.recipients[:i]:  # type: ignore[index]
            problems.append(where.problem(("recipients", i), f"`{rid}` is listed twice"))
    if spec.recipients is None and spec.regions is None:
        problems.append(where.problem((), "missing `recipients` (or `regions`)",
                                      expected="the batteries or depots that receive the units"))
    if problems:
        return None, problems
    recipients, regions = list(spec.recipients or []), None
    if spec.regions is not None:
        positions = {**{d: None for d in depots}, **{b.id: (b.lat, b.lon) for b in base.batteries}}
        recipients, regions, problems = resolve_regions(
            spec.regions, where, assets=base.theatre.assets, positions=positions, candidates=spec.recipients or fires,
            reach_km=base.catalog.interceptors[spec.interceptor].max_range_km, listed=spec.recipients)
        if problems:
            return None, problems
    loaded = LoadedAllocation(spec, "", base, "units", recipients, recipients, regions, spec.block or DEFAULT_BLOCK,
                              None)
    if loaded.by_region:
        loaded.arms = list(regions.ids)  # type: ignore[union-attr]
    return loaded, []


def _check_batteries(spec: AllocationFile, base: Any,
                     where: SourceMap) -> tuple[LoadedAllocation | None, list[Problem]]:
    template = spec.batteries
    problems = [where.problem((key,), f"`{key}` is for units of an interceptor (`interceptor:`)",
                              hint="new batteries go to `sites`")
                for key in ("recipients", "within_region") if key in spec.model_fields_set]
    if spec.block not in (None, 1):
        problems.append(where.problem(("block",), "batteries move one at a time", expected="1 (or no `block`)",
                                      found=str(spec.block)))
    if spec.sites is None:
        problems.append(where.problem((), "missing `sites` (the candidate positions of the new batteries)"))
        return None, problems
    for r, region in enumerate(spec.regions or []):
        if region.recipients is not None:
            problems.append(where.problem(("regions", r, "recipients"), "sites are grouped by the assets of a region",
                                          hint="give the region's `assets` (ids or {kind: ...})"))
    if template.system not in base.catalog.systems:
        problems.append(where.problem(("batteries", "system"), f"unknown system `{template.system}`",
                                      hint="known: " + ", ".join(sorted(base.catalog.systems))))
    taken = {b.id for b in base.batteries} | {d.id for d in base.campaign.depots}
    for i, site in enumerate(spec.sites):
        if site.id in [s.id for s in spec.sites[:i]]:
            problems.append(where.problem(("sites", i, "id"), f"site `{site.id}` is given twice"))
        clash = [bid for bid in battery_ids(site.id, spec.max_per_site) if bid in taken]
        if clash:
            problems.append(where.problem(("sites", i, "id"), f"battery id `{clash[0]}` is already used in the "
                                          "campaign", hint="rename the site"))
    if problems:
        return None, problems
    problems += _candidate_problems(spec, base, where)
    if problems:
        return None, problems
    sites = [s.id for s in spec.sites]
    regions = None
    if spec.regions is not None:
        _, regions, problems = resolve_regions(
            spec.regions, where, assets=base.theatre.assets, positions={s.id: (s.lat, s.lon) for s in spec.sites},
            candidates=sites, reach_km=reach_km(template, base.catalog), listed=sites, strict=False)
        if problems:
            return None, problems
    capacity = np.full(len(sites), spec.max_per_site, np.int64)
    return LoadedAllocation(spec, "", base, "batteries", sites, sites, regions, 1, capacity), []


def _candidate_problems(spec: AllocationFile, base: Any, where: SourceMap) -> list[Problem]:
    """Every site's battery, checked by the campaign as a delivered battery is (one variant with
    a battery at every site), each problem located at its site or the template."""
    from shieldwall.sweep.sites import site_problems

    date = base.campaign.start_date
    trial = [_battery_delivery(spec, site, battery_ids(site.id, spec.max_per_site)[0], date)
             for site in spec.sites]  # type: ignore[union-attr]
    existing = _existing_deliveries(base)
    try:
        base.with_({"deliveries": sorted([*existing, *trial], key=lambda d: d["date"])}, label="candidate sites")
    except ScenarioError as exc:
        order = sorted(range(len(existing) + len(trial)), key=lambda k: ([*existing, *trial][k]["date"], k))
        at = {pos: k - len(existing) for pos, k in enumerate(order) if k >= len(existing)}
        return site_problems(exc, where, at)
    return []


def _tranche_problems(spec: AllocationFile, base: Any, where: SourceMap, block: int) -> list[Problem]:
    problems = []
    last = base.date_of(base.nights - 1)
    for i, t in enumerate(spec.tranches):
        if not base.campaign.start_date <= t.date <= last:
            problems.append(where.problem(("tranches", i, "date"), "outside the campaign",
                                          expected=f"a date from {base.campaign.start_date} to {last}", found=str(t.date)))
        elif i and t.date <= spec.tranches[i - 1].date:
            problems.append(where.problem(("tranches", i, "date"), f"not after the tranche before ({spec.tranches[i - 1].date})",
                                          hint="list tranches by date, each date once (add up what arrives together)"))
        if t.quantity % block:
            problems.append(where.problem(("tranches", i, "quantity"), f"not a multiple of the block ({block})",
                                          found=str(t.quantity), hint="units move in blocks; change `block` or the quantity"))
    if spec.sites is not None:
        room = len(spec.sites) * spec.max_per_site
        total = sum(t.quantity for t in spec.tranches)
        if total > room:
            problems.append(where.problem(("tranches",), f"{total} batteries but room for {room}",
                                          expected=f"at most {len(spec.sites)} sites x max_per_site "
                                                   f"{spec.max_per_site}", hint="add sites or raise `max_per_site`"))
    return problems


def _search_problems(loaded: LoadedAllocation, where: SourceMap) -> list[Problem]:
    spec = loaded.spec
    if spec.search != "exhaustive":
        return []
    n = count_allocations(loaded, spec.max_evaluations)
    if n > spec.max_evaluations:
        return [where.problem(("search",), f"more than {spec.max_evaluations:,} allocations to try",
                              hint="raise `max_evaluations`, make `block` larger, or use `search: exchange`")]
    return []


# -- allocations --------------------------------------------------------------------------------

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


def _positions(loaded: LoadedAllocation) -> list[tuple[float, float] | None]:
    """Per recipient: its position (a depot has none)."""
    if loaded.kind == "batteries":
        return [(s.lat, s.lon) for s in loaded.spec.sites]  # type: ignore[union-attr]
    batteries = {b.id: b for b in loaded.base.batteries}
    return [(batteries[r].lat, batteries[r].lon) if r in batteries else None for r in loaded.recipients]


def defended_value(loaded: LoadedAllocation) -> np.ndarray:
    """Per recipient: the value of the assets within the interceptor's reach of it (a depot
    serves every asset)."""
    base, spec = loaded.base, loaded.spec
    reach = (base.catalog.interceptors[spec.interceptor].max_range_km if loaded.kind == "units"
             else reach_km(spec.batteries, base.catalog))
    values = np.array([a.value for a in base.theatre.assets], float)
    positions = _positions(loaded)
    covered = within_reach(positions, base.theatre.assets, reach)
    return np.array([values.sum() if p is None else values[covered[i]].sum() for i, p in enumerate(positions)])


def within_weights(loaded: LoadedAllocation) -> np.ndarray:
    """Per recipient: its weight in its region's split (``within_region``)."""
    rule = loaded.spec.within_region
    if rule == "even":
        return np.ones(len(loaded.recipients))
    if rule == "stock":
        k = loaded.spec.interceptor
        stock = {b.id: b.interceptors.get(k, 0) for b in loaded.base.batteries}
        stock.update({d.id: d.stock.get(k, 0) for d in loaded.base.campaign.depots})
        return np.array([stock[r] for r in loaded.recipients], float)
    value = defended_value(loaded)
    regions = loaded.regions
    for i, p in enumerate(_positions(loaded)):  # a depot weighs as its region's assets
        r = regions.region_of(i) if regions is not None else None
        if p is None and r is not None:
            value[i] = regions.value[r]  # type: ignore[union-attr]
    return value


def per_recipient(loaded: LoadedAllocation, x: np.ndarray) -> np.ndarray:
    """[tranche, recipient] units from the decision [tranche, arm]: a region's units split
    among its recipients by the rule, in blocks."""
    if not loaded.by_region:
        return x
    regions = loaded.regions
    assert regions is not None
    w = within_weights(loaded)
    out = np.zeros((x.shape[0], len(loaded.recipients)), np.int64)
    for t in range(x.shape[0]):
        for r, members in enumerate(regions.members):
            out[t, members] = split(int(x[t, r]), w[members], loaded.block)
    return out


def arm_values(loaded: LoadedAllocation) -> np.ndarray:
    """Per arm, the value it defends: a region's assets, or a recipient's within reach."""
    return loaded.regions.value if loaded.by_region else defended_value(loaded)  # type: ignore[union-attr]


def baselines(loaded: LoadedAllocation) -> dict[str, np.ndarray]:
    """The simple allocations the search must beat, as [tranche, arm]."""
    spec = loaded.spec
    n = len(loaded.arms)
    if loaded.kind == "units":
        value = arm_values(loaded)
        return {
            "even": np.array([split(t.quantity, np.ones(n), loaded.block) for t in spec.tranches]),
            "value-proportional": np.array([split(t.quantity, value, loaded.block) for t in spec.tranches]),
        }
    assets = loaded.base.theatre.assets
    out = {}
    for name, rule in (("nearest-value", nearest_value), ("spread", spread)):
        picks = iter(rule(spec.sites, assets, loaded.total, spec.max_per_site))  # type: ignore[arg-type]
        x = np.zeros((len(spec.tranches), n), np.int64)
        for t, tranche in enumerate(spec.tranches):  # the first picks arrive first
            for _ in range(tranche.quantity):
                x[t, next(picks)] += 1
        out[name] = x
    return out


def _existing_deliveries(base: Any) -> list[dict[str, Any]]:
    return [d.model_dump(by_alias=True, exclude_none=True) for d in base.campaign.deliveries]


def _battery_delivery(spec: AllocationFile, site: Site, battery_id: str, date: dt.date) -> dict[str, Any]:
    return {"date": date, "system": spec.batteries.system, "quantity": 1,  # type: ignore[union-attr]
            "battery": new_battery(spec.batteries, site, battery_id), "source": "allocation"}


def new_deliveries(loaded: LoadedAllocation, x: np.ndarray) -> list[dict[str, Any]]:
    """The campaign deliveries of a decision [tranche, arm] (zeros left out)."""
    spec = loaded.spec
    if loaded.kind == "units":
        y = per_recipient(loaded, x)
        return [{"date": t.date, "interceptor": spec.interceptor, "quantity": int(y[i, r]), "to": rid,
                 "source": "allocation"}
                for i, t in enumerate(spec.tranches) for r, rid in enumerate(loaded.recipients) if y[i, r] > 0]
    out, used = [], np.zeros(len(loaded.arms), int)
    for i, t in enumerate(spec.tranches):
        for s, site in enumerate(spec.sites):  # type: ignore[arg-type]
            for _ in range(int(x[i, s])):
                out.append(_battery_delivery(spec, site, battery_ids(site.id, spec.max_per_site)[used[s]], t.date))
                used[s] += 1
    return out


def variant(loaded: LoadedAllocation, allocation: np.ndarray) -> Any:
    """The campaign with the allocation's deliveries added (in date order), validated."""
    deliveries = sorted([*_existing_deliveries(loaded.base), *new_deliveries(loaded, allocation)],
                        key=lambda d: d["date"])
    return loaded.base.with_({"deliveries": deliveries}, label="allocation")


# -- evaluation ----------------------------------------------------------------------------------

class Evaluator:
    """Runs batches of allocations on a sweep backend, each a campaign on ``seed``."""

    QUANTITIES = ("value_lost", "leaked", "intercepted", "interceptor_cost_usd")

    def __init__(self, loaded: LoadedAllocation, backend: Any) -> None:
        self.loaded, self.backend = loaded, backend
        self.runs = 0
        per_asset = [f"value_lost/{a.id}" for a in loaded.base.theatre.assets] if loaded.regions else []
        self.quantities = (*self.QUANTITIES, *per_asset)

    def run(self, allocations: list[np.ndarray], *, replications: int, seed: int) -> list[dict[str, np.ndarray]]:
        job = Job(f"allocate-{seed}-{replications}", "campaign", None, seed, replications, self.quantities)
        tasks = (Task(i, range(0, 1), {}, variant(self.loaded, a)) for i, a in enumerate(allocations))
        out: list[dict[str, np.ndarray]] = [{} for _ in allocations]

        def on_result(task: Task, result: TaskResult) -> None:
            if result.error is not None:
                raise UsageError(f"an allocation could not run:\n{result.error}")
            out[task.point] = result.columns

        self.backend.run(job, tasks, on_result)
        self.runs += len(allocations)
        return out


def _compositions(blocks: int, room: np.ndarray) -> Iterator[tuple[int, ...]]:
    """Every way to put ``blocks`` blocks into len(room) arms, at most room[i] in arm i, in a
    fixed order (the first arm's share from most to least). Only feasible branches are walked
    (what is left must fit in the arms after), so the first n come in O(n x arms) steps."""
    room = [int(r) for r in room]
    after = [sum(room[k + 1:]) for k in range(len(room))]

    def rest(k: int, left: int) -> Iterator[tuple[int, ...]]:
        if k == len(room) - 1:
            if left <= room[k]:
                yield (left,)
            return
        for v in range(min(left, room[k]), max(0, left - after[k]) - 1, -1):
            for tail in rest(k + 1, left - v):
                yield (v, *tail)

    if blocks <= sum(room):
        yield from rest(0, blocks)


def all_allocations(loaded: LoadedAllocation) -> Iterator[np.ndarray]:
    """Every feasible decision [tranche, arm], in a fixed order."""
    blocks = [t.quantity // loaded.block for t in loaded.spec.tranches]
    cap = loaded.capacity if loaded.capacity is not None else np.full(len(loaded.arms), sum(blocks))

    def fill(t: int, room: np.ndarray) -> Iterator[list[np.ndarray]]:
        if t == len(blocks):
            yield []
            return
        for parts in _compositions(blocks[t], room):
            for rest in fill(t + 1, room - np.array(parts)):
                yield [np.array(parts), *rest]

    for rows in fill(0, np.asarray(cap, np.int64)):
        yield np.array(rows, np.int64) * loaded.block


def count_allocations(loaded: LoadedAllocation, limit: int) -> int:
    """How many feasible decisions there are, counted up to ``limit + 1``."""
    return sum(1 for _ in itertools.islice(all_allocations(loaded), limit + 1))


@dataclass
class Move:
    text: str
    allocation: np.ndarray


def neighbours(loaded: LoadedAllocation, x: np.ndarray, step: int) -> Iterator[Move]:
    """Every allocation one exchange away, in a fixed order, made as it is asked for: ``step``
    of one tranche from one arm to another (room permitting); with room limits also the swap of
    two arms' tranches (the one move that changes when a full site gets its battery)."""
    spec, arms, cap = loaded.spec, loaded.arms, loaded.capacity
    unit = "batteries" if loaded.kind == "batteries" else "units"
    T, A = x.shape
    for t in range(T):
        for i in range(A):
            if x[t, i] < step:
                continue
            for j in range(A):
                if i == j or (cap is not None and x[:, j].sum() + step > cap[j]):
                    continue
                y = x.copy()
                y[t, i] -= step
                y[t, j] += step
                yield Move(f"{step} {unit} of {spec.tranches[t].date} from {arms[i]} to {arms[j]}", y)
    if cap is not None:
        for t1, t2 in itertools.combinations(range(T), 2):
            for i in range(A):
                for j in range(A):
                    if i != j and x[t1, i] >= step and x[t2, j] >= step:
                        y = x.copy()
                        y[t1, i] -= step
                        y[t1, j] += step
                        y[t2, j] -= step
                        y[t2, i] += step
                        yield Move(f"{arms[i]} takes {spec.tranches[t2].date} and {arms[j]} {spec.tranches[t1].date}", y)


def _key(allocation: np.ndarray) -> bytes:
    return hashlib.blake2b(allocation.tobytes(), digest_size=16).digest()


class SampleObjective:
    """The SAA objective with a cache: each allocation runs at most once, and never more than
    ``max_evaluations`` in all."""

    def __init__(self, loaded: LoadedAllocation, evaluator: Evaluator, progress: Callable[[int], Any] | None) -> None:
        self.loaded, self.evaluator, self.progress = loaded, evaluator, progress
        self.cache: dict[bytes, float] = {}

    @property
    def left(self) -> int:
        return self.loaded.spec.max_evaluations - len(self.cache)

    def within_budget(self, candidates: Iterable[Any], allocation: Callable[[Any], np.ndarray]) -> list[Any]:
        """The first candidates, in order, up to as many new allocations as the budget has
        left (those already run come free): a neighbourhood never grows past the budget."""
        out, new = [], set()
        for c in candidates:
            key = _key(allocation(c))
            if key not in self.cache and key not in new:
                if len(new) == self.left:
                    break
                new.add(key)
            out.append(c)
        return out

    def __call__(self, batch: list[np.ndarray]) -> list[float | None]:
        """The objective of each allocation of ``batch``; None for those past the budget (the
        first ones in the batch's order are run)."""
        todo: dict[bytes, np.ndarray] = {}
        for a in batch:
            if _key(a) not in self.cache and len(todo) < self.left:
                todo.setdefault(_key(a), a)
        if todo:
            spec = self.loaded.spec
            runs = self.evaluator.run(list(todo.values()), replications=spec.replications, seed=spec.seed)
            for key, cols in zip(todo, runs):
                self.cache[key] = float(np.mean(cols[spec.objective]))
            if self.progress:
                self.progress(len(self.cache))
        return [self.cache.get(_key(a)) for a in batch]


def optimise(loaded: LoadedAllocation, evaluator: Evaluator, progress: Any = None) -> dict[str, Any]:
    """The SAA problem: solved exactly where every allocation fits in the budget, otherwise by
    steepest-descent exchange from the better baseline, the step halved down to one block."""
    spec = loaded.spec
    f = SampleObjective(loaded, evaluator, progress)
    starts = baselines(loaded)
    exhaustive = spec.search == "exhaustive" or (
        spec.search == "auto" and count_allocations(loaded, spec.max_evaluations) <= spec.max_evaluations)
    if exhaustive:
        candidates = list(all_allocations(loaded))
        values = f(candidates)
        k = min(range(len(candidates)), key=lambda i: (values[i], i))  # ties: the first, so reruns agree
        start_scores = f(list(starts.values()))
        return {"allocation": candidates[k], "objective": values[k], "search": "exhaustive",
                "start": None, "trace": [{"step": 0, "move": f"best of all {len(candidates)} allocations",
                                          "objective": values[k]}],
                "baseline_objective": dict(zip(starts, start_scores)), "evaluations": len(f.cache),
                "stopped": "every allocation evaluated"}
    scores = f(list(starts.values()))
    best_name = min(zip(scores, starts), key=lambda s: s[0])[1]  # type: ignore[arg-type,return-value]
    x, fx = starts[best_name].copy(), float(min(scores))  # type: ignore[type-var]
    trace = [{"step": 0, "move": f"start from the {best_name} allocation", "objective": fx}]
    largest = max(t.quantity for t in spec.tranches)
    step = loaded.block * 2 ** max(0, int(math.log2(max(1, largest // (2 * loaded.block)))))
    while step >= loaded.block and f.left > 0:
        moves = f.within_budget(neighbours(loaded, x, step), lambda m: m.allocation)
        values = f([m.allocation for m in moves])
        scored = [(v, k) for k, v in enumerate(values) if v is not None]
        if scored and min(scored)[0] < fx:
            v, k = min(scored)  # ties: the first move in a fixed order, so reruns agree
            x, fx = moves[k].allocation, v
            trace.append({"step": step, "move": moves[k].text, "objective": fx})
        else:
            step //= 2
            step -= step % loaded.block if step >= loaded.block else 0
    return {"allocation": x, "objective": fx, "search": "exchange", "start": best_name, "trace": trace,
            "baseline_objective": dict(zip(starts, scores)), "evaluations": len(f.cache),
            "stopped": "no better exchange" if f.left > 0 else "max_evaluations reached"}


def verification_seed(seed: int) -> int:
    return int(np.random.SeedSequence([seed, VERIFY_STREAM]).generate_state(1)[0])


def verify(loaded: LoadedAllocation, evaluator: Evaluator, options: dict[str, np.ndarray]) -> dict[str, Any]:
    """``options`` (the chosen one first) run on fresh random numbers: means with 95%
    intervals, paired differences chosen - baseline with 95% intervals, per region too."""
    from shieldwall.campaign.compare import paired
    from shieldwall.engine.results import mean_ci95

    spec = loaded.spec
    seed = verification_seed(spec.seed)
    runs = dict(zip(options, evaluator.run(list(options.values()), replications=spec.verify_replications, seed=seed)))
    names = [n for n in options if n != "chosen"]
    out: dict[str, Any] = {"seed": seed, "replications": spec.verify_replications, "options": {}, "differences": {}}
    for name, cols in runs.items():
        out["options"][name] = {q: float(np.mean(cols[q])) for q in Evaluator.QUANTITIES}
        out["options"][name]["ci95"] = {q: mean_ci95(cols[q])[1] for q in Evaluator.QUANTITIES}
    for name in names:
        out["differences"][f"chosen - {name}"] = {q: paired(runs[name][q], runs["chosen"][q])
                                                  for q in Evaluator.QUANTITIES}
    out["beats"] = {name: bool(out["differences"][f"chosen - {name}"][spec.objective]["difference_ci95"][1] < 0)
                    for name in names}
    if loaded.regions is not None:
        assets = [a.id for a in loaded.base.theatre.assets]
        lost = {name: loaded.regions.value_lost(cols, assets) for name, cols in runs.items()}
        out["regions"] = {
            region: {"value_lost": {name: dict(zip(("mean", "ci95"), mean_ci95(lost[name][region]))) for name in runs},
                     "differences": {f"chosen - {name}": paired(lost[name][region], lost["chosen"][region])
                                     for name in names}}
            for region in lost["chosen"]}
    return out


def region_totals(loaded: LoadedAllocation, x: np.ndarray) -> dict[str, int]:
    """Units (or batteries) per region, and those outside every region."""
    regions = loaded.regions
    assert regions is not None
    y = per_recipient(loaded, x) if loaded.kind == "units" else x
    totals = y.sum(axis=0)
    out = {rid: int(totals[m].sum()) for rid, m in zip(regions.ids, regions.members)}
    rest = int(totals.sum()) - sum(out.values())
    return {**out, OUTSIDE: rest} if rest else out


def allocate(loaded: LoadedAllocation, backend: Any, progress: Any = None) -> dict[str, Any]:
    """Optimise, then verify on fresh random numbers; returns what allocation.json holds."""
    spec = loaded.spec
    evaluator = Evaluator(loaded, backend)
    found = optimise(loaded, evaluator, progress)
    starts = baselines(loaded)
    verification = verify(loaded, evaluator, {"chosen": found["allocation"], **starts})

    def table(a: np.ndarray) -> dict[str, dict[str, int]]:
        y = per_recipient(loaded, a)
        return {str(t.date): {r: int(y[i, k]) for k, r in enumerate(loaded.recipients)}
                for i, t in enumerate(spec.tranches)}

    chosen = found["allocation"]
    result: dict[str, Any] = {
        "base": spec.base, "kind": loaded.kind, "delivery": loaded.what, "total": loaded.total,
        "objective": spec.objective, "recipients": list(loaded.recipients),
        "defended_value": dict(zip(loaded.recipients, defended_value(loaded).tolist())),
        "method": f"sample-average approximation on common random numbers (seed {spec.seed}, {spec.replications} "
                  "replications), " + ("every feasible allocation evaluated" if found["search"] == "exhaustive" else
                                       "steepest-descent exchange with the step halved to one block, from the better "
                                       "baseline") + "; verified on fresh random numbers",
        "optimisation": {"seed": spec.seed, "replications": spec.replications, "objective_mean": found["objective"],
                         "search": found["search"], "start": found["start"], "evaluations": found["evaluations"],
                         "stopped": found["stopped"], "baseline_objective_means": found["baseline_objective"],
                         "trace": found["trace"]},
        "allocation": table(chosen),
        "totals_by_recipient": dict(zip(loaded.recipients, per_recipient(loaded, chosen).sum(axis=0).tolist())),
        "baselines": {name: table(a) for name, a in starts.items()},
        "verification": verification,
    }
    if loaded.kind == "units":
        result["interceptor"] = spec.interceptor
    else:
        result["system"] = spec.batteries.system  # type: ignore[union-attr]
        result["sites"] = [{"site": s.id, "lat": s.lat, "lon": s.lon} for s in spec.sites]  # type: ignore[union-attr]
        result["placed"] = [{"date": str(spec.tranches[t].date), "site": loaded.arms[s], "batteries": int(chosen[t, s])}
                            for t in range(chosen.shape[0]) for s in range(chosen.shape[1]) if chosen[t, s]]
    if loaded.regions is not None:
        regions = loaded.regions
        assets = loaded.base.theatre.assets
        result["regions"] = {
            "rule": spec.within_region if loaded.kind == "units" else None,
            "members": {rid: [loaded.recipients[i] for i in m] for rid, m in zip(regions.ids, regions.members)},
            "assets": {rid: [assets[i].id for i in idx] for rid, idx in zip(regions.ids, regions.assets)},
            "value": dict(zip(regions.ids, regions.value.tolist())),
            "outside": [assets[i].id for i in regions.outside],
            "totals": {name: region_totals(loaded, a) for name, a in {"chosen": chosen, **starts}.items()},
        }
    return result
