"""``backtest rates``: replay every recorded attack of a window through the engine against a
theatre, and compare the simulated kill and neutralised shares with the record's
(docs/validation.md#rates).

Each counted attack (``scenario.record``) brings its mapped threats on its night: its count per
catalog type (decoys split off the Shahed count by the model map's share for that date), from the
launch areas its ``launch_place`` names (else the theatre's defaults for the class), on the regions
its ``target`` names (a national attack spreads by region weight), and within a region on its
assets by value; all splits by largest remainder, so a night's raid is fixed by the record.

Compile once, run many (``RatesPlan``): the theatre is compiled once for the window, with one
block of threats per (threat type, launch area, asset) holding the most any night sends that way;
each night is a set of replications that leaves out what it does not send (the engine's
``present`` mask), so a window of hundreds of nights costs one compile. Nights run in fixed batches
of ``NIGHTS_PER_BATCH`` (part of the reproducibility contract), each batch one engine run with seed
``SeedSequence([seed, batch])``. Re-running a plan with other parameters reuses everything but
the compile; the same seed gives the same random numbers per threat (common random numbers).

Outcomes: a replicated night gives, per threat type, the threats shot down (by a battery,
``killed``, or by an area defence, ``area_killed``), those lost to electronic warfare
(``suppressed``, and ``diverted``: they fall elsewhere) and those that failed in flight
(``expired``). Where one night has several rows flying the same type, its outcomes of that type
are shared between the rows by launched count. Simulated ``destroyed`` = killed + area_killed
(the record's ``destroyed``: shot down); ``suppressed`` = suppressed + diverted + failed in flight
(the record's ``not_reach_goal``: lost without being shot down, "lost from radar"); ``neutralised`` = both.
A ballistic missile that fails in flight is not in ``not_reach_goal`` (nor is any threat flying
above ``FOLLOWED_ALTITUDE_M``: ``followed_to_fall``): early-warning radars follow it to its fall,
so it is not lost from radar, and the record's ballistic rows have almost no ``not_reach_goal`` at
all (1 of 241 Iskander-M, none of 122 Kinzhal, 399 S-300/S-400 or the KN-23
rows) although about half of the North Korean missiles of Dec 2023-Feb 2024 "lost their programmed
trajectories and exploded in the air" (Ukraine's Prosecutor General's Office to Reuters, 2024-05-07,
via nv.ua / au.news.yahoo.com); it counts among the record's launched neither destroyed nor lost,
as the simulated ``leaked`` do (``FAILED_NOT_LOST``). Per record model, the shares are summed
over its rows (the record's own ``model`` string: a row naming several models is its own entry,
as the record cannot split it) and divided by the launched of its mapped part; the interval is the
2.5-97.5 % range over replications of that window share."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shieldwall.catalog.builtin import builtin_catalog
from shieldwall.errors import UsageError
from shieldwall.scenario.model import Decoys, Raid, Scenario
from shieldwall.scenario.record import Attack, ModelMap, Record, read_record
from shieldwall.scenario.theatre import Theatre, load_theatre

# engine end states summed into the record's columns (module docstring)
SHOT_DOWN = ("killed", "area_killed")
LOST = ("expired", "suppressed", "diverted")
# threats whose in-flight failures the record does not count as lost from radar (module docstring):
# ballistic ones, and any flying at least FOLLOWED_ALTITUDE_M high (ASSUMPTION, plausible 3-10 km):
# from there the radar horizon is ~290 km or more (4.12 sqrt(h_m) km) and no terrain masks it, so
# radars follow a failing missile down as they follow a ballistic one (the Kh-22 at ~20 km: 1.3 %
# of the record's 2022-2024 Kh-22 were lost without being shot, against 15 % the model's assumed
# reliability fails); a low cruise missile or drone that fails drops out of low-altitude coverage.
FAILED_NOT_LOST = ("ballistic",)
FOLLOWED_ALTITUDE_M = 5000.0


def followed_to_fall(threat: Any) -> bool:
    """Whether the record's radars follow this catalog threat to its fall (its failure in flight
    is then among the record's launched neither destroyed nor lost, as a leak is)."""
    return threat.threat_class in FAILED_NOT_LOST or (threat.altitude_m or 0.0) >= FOLLOWED_ALTITUDE_M
SIMULATED = (*SHOT_DOWN, *LOST, "launched")
SIZE_BINS = ((0, 50, "<50"), (50, 150, "50-150"), (150, 300, "150-300"), (300, None, ">=300"))
NIGHTS_PER_BATCH = 32
MAX_REPLICATIONS = 10_000
MAX_COMPILED_THREATS = 200_000


def size_bin(launched: int) -> str:
    for lo, hi, label in SIZE_BINS:
        if launched >= lo and (hi is None or launched < hi):
            return label
    return SIZE_BINS[-1][2]


def allocate(count: int, weights: list[float]) -> list[int]:
    """``count`` split in proportion to ``weights`` by largest remainder (ties: first first)."""
    w = np.asarray(weights, float)
    w = np.ones_like(w) if w.sum() <= 0 else w
    exact = count * w / w.sum()
    base = np.floor(exact).astype(int)
    base[np.argsort(-(exact - base), kind="stable")[: count - int(base.sum())]] += 1
    return base.tolist()


def allocate_carried(count: int, weights: list[float], carry: np.ndarray) -> list[int]:
    """``count`` split in proportion to ``weights`` with the remainder carried: ``carry`` holds
    what earlier splits of the same kind owed each part (updated in place), so that a run of small
    counts (one or two missiles a row) reaches every part in its share over the window instead of
    always the largest (``allocate`` alone sends a lone missile to the heaviest part every time)."""
    w = np.asarray(weights, float)
    w = np.ones_like(w) if w.sum() <= 0 else w
    exact = count * w / w.sum() + carry
    base = np.maximum(np.floor(exact), 0).astype(int)
    short = count - int(base.sum())
    order = np.argsort(-(exact - base), kind="stable")
    if short > 0:
        base[order[:short]] += 1
    while short < 0:  # negative carries clipped at 0: take back from the parts owed least
        i = next(i for i in order[::-1] if base[i] > 0)
        base[i] -= 1
        short += 1
    carry[:] = exact - base
    return base.tolist()


@dataclass(frozen=True)
class SlotKey:
    threat: str  # catalog type (a decoy's own type for decoys)
    looks_like: str  # the type it flies with (itself unless a decoy)
    area: str  # launch area id
    asset: str  # target asset id


@dataclass
class Row:
    """One counted attack as replayed: its night index and threats per catalog type."""

    attack: Attack
    night: int
    types: dict[str, int]  # catalog type -> threats of this row (decoys under their own type)


@dataclass
class RatesPlan:
    """A window of the record laid out on a theatre: per night, how many threats each slot sends."""

    theatre: Theatre
    record: Record
    nights: list[dt.date]
    rows: list[Row]
    slots: list[SlotKey]
    counts: np.ndarray  # [night, slot] threats
    unresolved_targets: dict[str, int] = field(default_factory=dict)  # name -> rows
    unresolved_launch: dict[str, int] = field(default_factory=dict)
    out_of_reach: dict[str, int] = field(default_factory=dict)  # catalog type -> threats no pair could reach
    raid_ids: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (looks_like, area, asset) -> raid

    @property
    def caps(self) -> np.ndarray:
        return self.counts.max(axis=0) if len(self.counts) else np.zeros(len(self.slots), np.int64)

    def scenario(self) -> Scenario:
        """The theatre with one raid per (threat, area, asset), each of the most threats any night sends."""
        caps = self.caps
        raids: dict[tuple[str, str, str], dict[str, Any]] = {}
        for key, cap in zip(self.slots, caps):
            group = (key.looks_like, key.area, key.asset)
            entry = raids.setdefault(group, {"count": 0, "decoys": None})
            if key.threat == key.looks_like:
                entry["count"] = int(cap)
            else:
                entry["decoys"] = (key.threat, int(cap))
        out = []
        catalog = self.theatre.model.catalog.merged_over(builtin_catalog())
        for i, ((threat, area, asset), entry) in enumerate(raids.items()):
            a = self.theatre.areas[area]
            timing = self.theatre.timing(catalog.threats[threat].threat_class)
            decoys = Decoys(threat=entry["decoys"][0], count=entry["decoys"][1]) if entry["decoys"] and \
                entry["decoys"][1] > 0 else None
            self.raid_ids[(threat, area, asset)] = f"r{i}"
            out.append(Raid(id=f"r{i}", threat=threat, count=max(entry["count"], 1),
                            launch={"lat": a.lat, "lon": a.lon, "spread_km": a.spread_km}, target=asset,
                            time_s=timing.time_s, window_s=timing.window_s, decoys=decoys))
        return self.theatre.scenario(out, name=f"{self.theatre.name}: {self.nights[0]} to {self.nights[-1]}")

    def blocks(self, scenario: Scenario, compiled: Any) -> list[np.ndarray]:
        """Per slot, the compiled threat indices of its block, in order (from the compiled
        scenario's public labels: each threat's raid and type)."""
        raid_of = np.asarray(compiled.threat_raid, object)
        type_of = np.asarray(compiled.threat_type)
        out = []
        for key in self.slots:
            rid = self.raid_ids[(key.looks_like, key.area, key.asset)]
            t = compiled.threat_type_ids.index(key.threat)
            out.append(np.flatnonzero((raid_of == rid) & (type_of == t)))
        return out


def plan_rates(record: Record, theatre: Theatre, start: dt.date | None = None, end: dt.date | None = None) -> RatesPlan:
    """Lay the window's counted attacks out on the theatre (see the module docstring)."""
    catalog = theatre.model.catalog.merged_over(builtin_catalog())
    attacks = [a for a in record.counted if a.threats and (start is None or a.night >= start)
               and (end is None or a.night <= end)]
    if not attacks:
        raise UsageError("no recorded attack with a catalog threat in the window")
    nights = sorted({a.night for a in attacks})
    night_index = {n: i for i, n in enumerate(nights)}
    slot_index: dict[SlotKey, int] = {}
    cells: dict[tuple[int, int], int] = defaultdict(int)
    rows: list[Row] = []
    carries: dict[tuple[Any, ...], np.ndarray] = {}
    out_of_reach: dict[str, int] = defaultdict(int)
    dispersed = theatre.model.dispersed_targets
    dispersed_share = dispersed.share if dispersed is not None else 0.0

    def split(key: tuple[Any, ...], count: int, weights: list[float]) -> list[int]:
        carry = carries.setdefault(key, np.zeros(len(weights)))
        return allocate_carried(count, weights, carry)

    unresolved_t: dict[str, int] = defaultdict(int)
    unresolved_l: dict[str, int] = defaultdict(int)
    for a in attacks:
        i = night_index[a.night]
        targets = theatre.resolve_target(a.target)
        if targets.unresolved:
            unresolved_t[a.target or "(empty)"] += 1
        types: dict[str, int] = defaultdict(int)
        for threat, n in a.threats.items():
            decoy_type = None
            n_decoys = 0
            for part in a.parts:
                if threat in record.model_map.threats(part) and record.model_map.decoy_threat(part):
                    decoy_type = record.model_map.decoy_threat(part)
                    n_decoys = int(round(n * record.model_map.decoy_share(part, a.night)))
            cls = catalog.threats[threat].threat_class
            launch = theatre.resolve_launch(a.launch_place, cls)
            if launch.unresolved and a.launch_place:
                unresolved_l[a.launch_place] += 1
            for kind, count, looks in ((threat, n - n_decoys, threat), (decoy_type, n_decoys, threat)):
                if not count or kind is None:
                    continue
                types[kind] += count
                pairs = [(area, region, wa * wr) for area, wa in launch.parts for region, wr in targets.parts]
                reach = catalog.threats[threat].range_km
                if reach is not None:  # a region farther than the threat flies from its launch area: not there
                    near = [p for p in pairs if theatre.reach_km(p[0], p[1]) <= reach]
                    if near:
                        pairs = near
                    else:  # the record says they came: keep the named pairs, and say so
                        out_of_reach[kind] += count
                for (area, region, _), m in zip(pairs, split(("regions", kind, tuple(p[:2] for p in pairs)), count,
                                                             [w for *_, w in pairs])):
                    if not m:
                        continue
                    assets = theatre.region_assets(region)
                    points = theatre.dispersed_points(region)
                    at_points = split(("dispersed", kind, region), m, [1.0 - dispersed_share, dispersed_share])[1] \
                        if points else 0
                    aimed = list(zip(assets, split(("assets", kind, region), m - at_points, [x.value for x in assets])))
                    if at_points:
                        aimed += zip(points, split(("points", kind, region), at_points, [1.0] * len(points)))
                    for asset, k in aimed:
                        if k:
                            key = SlotKey(kind, looks, area, asset.id)
                            s = slot_index.setdefault(key, len(slot_index))
                            cells[(i, s)] += k
        rows.append(Row(a, i, dict(types)))
    counts = np.zeros((len(nights), len(slot_index)), np.int64)
    for (i, s), k in cells.items():
        counts[i, s] = k
    plan = RatesPlan(theatre, record, nights, rows, list(slot_index), counts, dict(unresolved_t), dict(unresolved_l),
                     dict(out_of_reach))
    compiled_size = int(plan.caps.sum())
    if compiled_size > MAX_COMPILED_THREATS:
        raise UsageError(f"the window needs {compiled_size:,} compiled threats (more than {MAX_COMPILED_THREATS:,}): "
                         "use a shorter window")
    return plan


@dataclass
class RatesRun:
    """A plan compiled once: run it with any number of replications and seeds.

    A dated theatre (units with ``in_service`` or ``magazines``, docs/theatre.md) is compiled
    with every unit at its largest magazine; ``night_stock`` [night, battery, interceptor] then
    gives each night's replications the rounds their units hold that night (none out of service),
    as the engine's per-replication initial ``stock``: still one compile for the window."""

    plan: RatesPlan
    scenario: Scenario
    compiled: Any
    blocks: list[np.ndarray]
    night_stock: np.ndarray | None = None  # None: every night the compiled stock (an undated theatre)

    @classmethod
    def compile(cls, plan: RatesPlan, seed: int = 0) -> "RatesRun":
        from shieldwall.engine.compile import compile_scenario

        scenario = plan.scenario()
        compiled = compile_scenario(scenario, seed)
        night_stock = plan.theatre.stock_on(plan.nights, list(compiled.interceptor_ids)) \
            if plan.theatre.dated else None
        return cls(plan, scenario, compiled, plan.blocks(scenario, compiled), night_stock)

    def present(self, nights: np.ndarray, replications: int) -> np.ndarray:
        """[night x replication, compiled threat]: each slot's first ``count`` threats."""
        mask = np.zeros((len(nights), self.compiled.n_threats), np.bool_)
        for s, block in enumerate(self.blocks):
            want = self.plan.counts[nights, s]
            mask[:, block] = np.arange(len(block))[None, :] < want[:, None]
        return np.repeat(mask, replications, axis=0)

    def simulate(self, replications: int, seed: int, workers: int = 1, progress: Any = None) -> dict[str, np.ndarray]:
        """Per night, replication and threat type: each of ``SIMULATED`` (end states and launched)."""
        from shieldwall.engine.runner import simulate

        if not 1 <= replications <= MAX_REPLICATIONS:
            raise UsageError(f"replications must be from 1 to {MAX_REPLICATIONS:,}, got {replications}")
        n_nights, n_types = len(self.plan.nights), len(self.compiled.threat_type_ids)
        out = {k: np.zeros((n_nights, replications, n_types), np.int64) for k in SIMULATED}
        for b, lo in enumerate(range(0, n_nights, NIGHTS_PER_BATCH)):
            nights = np.arange(lo, min(lo + NIGHTS_PER_BATCH, n_nights))
            present = self.present(nights, replications)
            stock = None if self.night_stock is None else np.repeat(self.night_stock[nights], replications, axis=0)
            result = simulate(self.compiled, self.scenario, replications=len(present),
                              seed=int(np.random.SeedSequence([seed, b]).generate_state(1)[0]), workers=workers,
                              present=present, stock=stock, log_events=False)
            shape = (len(nights), replications, n_types)
            for k in SIMULATED:
                out[k][nights] = getattr(result, k).reshape(shape)
            if progress:
                progress(len(nights))
        return out


def _in_service(run: RatesRun) -> dict[str, float]:
    """Units holding any round, averaged over the window's nights (all units for an undated theatre)."""
    units = len(run.scenario.batteries)
    if run.night_stock is None or not len(run.night_stock):
        return {"mean": float(units), "least": units, "most": units}
    armed = (run.night_stock.sum(axis=2) > 0).sum(axis=1)
    return {"mean": round(float(armed.mean()), 1), "least": int(armed.min()), "most": int(armed.max())}


def _share(recorded: int, launched: int) -> float | None:
    return round(recorded / launched, 4) if launched else None


def _entry(rows: list[Row], destroyed: np.ndarray, suppressed: np.ndarray) -> dict[str, Any]:
    """One model (or bin): recorded shares of its rows' launched, simulated [replication] shares of
    the mapped launched; ``destroyed``/``suppressed`` are per row [row, replication]. Its rows
    split by the record's loss reporting (``Attack.losses_split``): ``losses_split``, the rows
    whose month splits losses from kills (destroyed and lost comparable apart), and
    ``losses_lumped``, the rest (neutralised comparable only); ``calibrate theatre`` fits each
    part on what it can say."""
    entry = _shares(rows, destroyed.sum(0), suppressed.sum(0))
    for name, want in (("losses_split", True), ("losses_lumped", False)):
        idx = [i for i, r in enumerate(rows) if r.attack.losses_split == want]
        entry[name] = _shares([rows[i] for i in idx], destroyed[idx].sum(0), suppressed[idx].sum(0)) if idx \
            else None
    return entry


def _shares(rows: list[Row], destroyed: np.ndarray, suppressed: np.ndarray) -> dict[str, Any]:
    launched = sum(r.attack.launched for r in rows)
    mapped = sum(sum(r.types.values()) for r in rows)
    rec_d = sum(r.attack.destroyed for r in rows)
    rec_n = sum(r.attack.neutralised for r in rows)

    def band(x: np.ndarray) -> dict[str, float]:
        share = x / max(mapped, 1)
        return {"mean": round(float(share.mean()), 4), "lo": round(float(np.quantile(share, 0.025)), 4),
                "hi": round(float(np.quantile(share, 0.975)), 4)}

    return {"launched": int(launched), "launched_simulated": int(mapped), "attacks": len(rows),
            "recorded": {"destroyed": _share(rec_d, launched), "suppressed": _share(rec_n - rec_d, launched),
                         "neutralised": _share(rec_n, launched)},
            "simulated": {"destroyed": band(destroyed), "suppressed": band(suppressed),
                          "neutralised": band(destroyed + suppressed)}}


def summarise(run: RatesRun, outcome: dict[str, np.ndarray]) -> dict[str, Any]:
    """by_model and by_size from the simulated outcomes."""
    plan = run.plan
    type_ids = run.compiled.threat_type_ids
    # per night and type, the night's total of that type (rows share its outcomes by count)
    totals: dict[tuple[int, str], int] = defaultdict(int)
    for r in plan.rows:
        for t, n in r.types.items():
            totals[(r.night, t)] += n
    replications = outcome["killed"].shape[1]
    shot = sum(outcome[k] for k in SHOT_DOWN)
    catalog = plan.theatre.model.catalog.merged_over(builtin_catalog())
    failed_lost = np.array([not followed_to_fall(catalog.threats[t]) for t in type_ids], np.int64)
    lost = sum(outcome[k] for k in LOST if k != "expired") + outcome["expired"] * failed_lost
    row_d = np.zeros((len(plan.rows), replications))
    row_s = np.zeros((len(plan.rows), replications))
    for i, r in enumerate(plan.rows):
        for t, n in r.types.items():
            k = type_ids.index(t)
            share = n / totals[(r.night, t)]
            row_d[i] += share * shot[r.night, :, k]
            row_s[i] += share * lost[r.night, :, k]
    by_model_rows: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(plan.rows):
        by_model_rows[r.attack.model].append(i)
    order = sorted(by_model_rows, key=lambda m: -sum(plan.rows[i].attack.launched for i in by_model_rows[m]))
    by_model = {m: _entry([plan.rows[i] for i in by_model_rows[m]], row_d[by_model_rows[m]],
                          row_s[by_model_rows[m]]) for m in order}
    by_size: dict[str, list[dict[str, Any]]] = {}
    for m in order:
        entries = []
        for *_, label in SIZE_BINS:
            idx = [i for i in by_model_rows[m] if size_bin(plan.rows[i].attack.launched) == label]
            if idx:
                entries.append({"bin": label, **_entry([plan.rows[i] for i in idx], row_d[idx], row_s[idx])})
        by_size[m] = entries
    return {"by_model": by_model, "by_size": by_size}


def backtest_rates(record: str | Path | Record, start: dt.date, end: dt.date, *, theatre: str | Path | Theatre | None = None,
                   replications: int = 50, seed: int = 0, workers: int = 1, model_map: ModelMap | None = None,
                   progress: Any = None, within_pp: float | None = None, min_launched: int = 100,
                   min_bin_launched: int = 1000) -> dict[str, Any]:
    """The backtest's JSON (a dict): every recorded attack of [start, end] replayed against the
    theatre (the shipped default without one), compared per record model and attack size; with
    ``within_pp``, also ``verdicts`` (see ``verdicts``)."""
    import time

    if end < start:
        raise UsageError(f"--until ({end}) is before --from ({start})")
    if within_pp is not None:
        verdicts({"by_model": {}, "by_size": {}}, within_pp)  # a bad margin fails before the run
    rec = record if isinstance(record, Record) else read_record(record, start, end, model_map=model_map)
    th = theatre if isinstance(theatre, Theatre) else load_theatre(theatre)
    clock = time.perf_counter()
    plan = plan_rates(rec, th, start, end)
    run = RatesRun.compile(plan, seed)
    compiled_s = time.perf_counter() - clock
    outcome = run.simulate(replications, seed, workers, progress)
    simulated_s = time.perf_counter() - clock - compiled_s
    result = summarise(run, outcome)
    if within_pp is not None:
        rule = {"within_pp": within_pp, "min_launched": min_launched, "min_bin_launched": min_bin_launched}
        result["verdicts"] = {"rule": rule, "entries": [asdict(v) for v in verdicts(
            result, within_pp, min_launched, min_bin_launched)]}
    return {
        "kind": "backtest-rates",
        "window": {"from": str(start), "until": str(end), "nights": len(plan.nights),
                   "attacks": len(plan.rows), "threats": int(plan.counts.sum()),
                   "largest_night": int(plan.counts.sum(axis=1).max())},
        "record": rec.bookkeeping(),
        "theatre": {"name": th.name, "file": th.file, "regions": len(th.model.regions),
                    "units": len(run.scenario.batteries), "assets": len(run.scenario.assets),
                    "dated_units": sum(u.dated for u in th.units()),
                    "units_in_service": _in_service(run),
                    "unresolved_targets": plan.unresolved_targets, "unresolved_launch_places": plan.unresolved_launch,
                    "out_of_reach": plan.out_of_reach},
        "engine": {"replications": replications, "seed": seed, "compiled_threats": int(run.compiled.n_threats),
                   "compile_s": round(compiled_s, 2), "simulate_s": round(simulated_s, 2),
                   "nights_per_batch": NIGHTS_PER_BATCH},
        "definitions": {
            "recorded.destroyed": "destroyed / launched of the model's rows (where the record's month does not "
                                  "split losses from kills, destroyed includes them: see losses_split)",
            "recorded.suppressed": "not_reach_goal / launched (lost without being shot down)",
            "recorded.neutralised": "(destroyed + not_reach_goal) / launched",
            "simulated.destroyed": "(shot down by a battery + by an area defence) / launched of the rows' mapped "
                                   "threats; mean and 2.5-97.5 % over replications",
            "simulated.suppressed": "(lost to electronic warfare + diverted + failed in flight, but for ballistic "
                                    "missiles, which the record follows to their fall) / launched",
            "simulated.neutralised": "destroyed + suppressed",
            "losses_split": "the same shares over the rows whose month splits losses from kills (some row of "
                            "the month in the file has not_reach_goal > 0); null if none",
            "losses_lumped": "the same over the other rows, where only neutralised is comparable; null if none",
        },
        **result,
    }


@dataclass(frozen=True)
class Verdict:
    """Whether one entry's simulated neutralised share lies within a margin of the record's."""

    entry: str  # the record model, or "MODEL, attacks BIN" for a size bin
    launched: int
    launched_simulated: int
    recorded_pct: float
    simulated_pct: float
    lo_pct: float  # the simulated 95 % range
    hi_pct: float
    difference_pp: float  # simulated - recorded
    within: bool


def verdicts(doc: dict[str, Any], within_pp: float, min_launched: int = 100,
             min_bin_launched: int = 1000) -> list[Verdict]:
    """The out-of-sample check of a ``backtest rates`` result (docs/validation.md): every record
    model with at least ``min_launched`` launched, and every size bin of a model with at least
    ``min_bin_launched``, whose neutralised share the model simulates (some of its launched are
    mapped to catalog threats), judged by |simulated mean - recorded| <= ``within_pp`` points."""
    if not 0.0 < within_pp <= 100.0:
        raise UsageError(f"the margin must be above 0 and at most 100 percentage points, got {within_pp}")
    entries = [(m, e) for m, e in doc["by_model"].items() if e["launched"] >= min_launched]
    entries += [(f"{m}, attacks {b['bin']}", b) for m, bins in doc["by_size"].items() for b in bins
                if b["launched"] >= min_bin_launched]
    out = []
    for name, e in entries:
        rec, sim = e["recorded"]["neutralised"], e["simulated"]["neutralised"]
        if not e["launched_simulated"] or rec is None:
            continue
        diff = 100.0 * (sim["mean"] - rec)
        out.append(Verdict(name, e["launched"], e["launched_simulated"], round(100.0 * rec, 1),
                           round(100.0 * sim["mean"], 1), round(100.0 * sim["lo"], 1), round(100.0 * sim["hi"], 1),
                           round(diff, 1), abs(diff) <= within_pp))
    return out
