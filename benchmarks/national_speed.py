"""Issue 18's speed goal: the national default theatre, every mechanism on, at several hundred
point-defence units against an 800-threat raid of the record's mix, beside today's reference
(800 drones against 84 units, mechanisms off), one core, in the same run.

    NUMBA_NUM_THREADS=1 .venv/bin/python benchmarks/national_speed.py [--units 300 600]
        [--replications 1024] [--rounds 5] [--seed 7]

The laydown: the shipped default theatre (``ukraine-notional``: its 42 units, 23 EW zones, 28 area
defences) with NOTIONAL extra point-defence units up to ``--units`` in all, placed by a fixed rule
(``national_theatre``): unit k of the extra ones is a Gepard, Skynex, NASAMS or IRIS-T SLM by a
fixed cycle (mostly guns), near the theatre's asset k mod (number of assets), at bearing k x the
golden angle and 5-60 km from it (a sunflower around each asset); it carries the interceptor load
the theatre's own first unit of that system carries. Never real positions.

The raid: one night of the record's kind (a synthetic record row per model, target ``Ukraine``,
launch places the theatre's defaults), laid out by ``backtest rates``' own planner
(``plan_rates``: national spread by region weight, assets by value, dispersed aim points):
600 Shahed-136/131 (40 % decoys by the shipped model map for late 2024: 360 Shahed, 240 Gerbera),
120 Kh-101/555, 40 Kalibr, 6 Kh-22, 20 Iskander-M/KN-23, 10 Iskander-M, 4 Kinzhal = 800 threats.
Mechanisms: every switch of ``mechanisms`` on (ballistic, c2, detection, ...), with the theatre's
EW zones and area defences.

The reference: the same theatre at 84 units (its 42 and 42 extra by the same rule), 800
Shahed-136/131 on a night before decoys (2024-01-10), every mechanism off, no EW zones and no
area defences: today's engine on an 800-drone raid.

Each case is compiled once (seconds printed: the compile a backtest window pays once), warmed
up, then timed in rounds whose order rotates, as CPU seconds of this process (``workers=1``:
the engine's single-thread path; no replay log, as a backtest runs). Prints replications per
second per case and round, the medians, each case's median time ratio to the reference within
the same rounds, and the load average before and after. Results, with the same script run against
main's ``src/`` for the before, and where a replication's time goes: benchmarks/RESULTS.md
("Issue 18: the national theatre at several hundred point-defence units").
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # before numba is imported: one core

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

GOLDEN_ANGLE_DEG = 137.50776405
# the extra units' systems, in a fixed cycle: mostly guns (the cheap numerous layer), some
# medium-range batteries
SYSTEM_CYCLE = ("gepard", "skynex", "gepard", "nasams", "gepard", "skynex", "iris-t-slm", "gepard")
HEADER = "time_start,time_end,model,launch_place,target,launched,destroyed,not_reach_goal,still_attacking,source"
# one night of the record's kind: (record model, launched); 800 threats with the decoys
NATIONAL_MIX = (("Shahed-136/131", 600), ("X-101/X-555", 120), ("Kalibr", 40), ("X-22", 6),
                ("Iskander-M/KN-23", 20), ("Iskander-M", 10), ("X-47 Kinzhal", 4))
NATIONAL_NIGHT = dt.date(2024, 12, 10)  # the model map's decoy share then: 0.4
REFERENCE_MIX = (("Shahed-136/131", 800),)
REFERENCE_NIGHT = dt.date(2024, 1, 10)  # before decoys
REFERENCE_UNITS = 84


def national_theatre(base: Any, units: int, *, mechanisms: bool, zones: bool) -> Any:
    """The theatre with NOTIONAL extra point-defence units up to ``units`` in all (the rule in the
    module docstring), every ``mechanisms`` switch on or off, its EW zones and area defences kept
    (``zones``) or dropped."""
    from shieldwall.scenario.model import Mechanisms
    from shieldwall.scenario.theatre import Theatre, Unit

    model = base.model
    own = [u for r in model.regions for u in r.units]
    load = {}
    for u in own:
        load.setdefault(u.system, dict(u.interceptors))
    sites = [(ri, a.id) for ri, r in enumerate(model.regions) for a in r.assets]
    extra: dict[int, list[Any]] = {}
    for k in range(max(0, units - len(own))):
        system = SYSTEM_CYCLE[k % len(SYSTEM_CYCLE)]
        ri, asset = sites[k % len(sites)]
        frac = ((k // len(sites)) * 0.6180339887 + 0.5) % 1.0
        extra.setdefault(ri, []).append(Unit(
            id=f"notional-{system}-{k + 1}", system=system, near=asset,
            bearing_deg=round((k * GOLDEN_ANGLE_DEG) % 360.0, 3), distance_km=round(5.0 + 55.0 * frac ** 0.5, 3),
            interceptors=dict(load[system])))
    regions = [r.model_copy(update={"units": [*r.units, *extra.get(i, [])]}) for i, r in enumerate(model.regions)]
    switches = Mechanisms(**{name: mechanisms for name in Mechanisms.model_fields})
    update: dict[str, Any] = {"regions": regions, "mechanisms": switches}
    if not zones:
        update.update(ew_zones=[], area_defences=[])
    return Theatre(model.model_copy(update=update), base.file)


def night_plan(theatre: Any, mix: tuple[tuple[str, int], ...], night: dt.date, folder: str) -> Any:
    """One night's raid laid out on the theatre by ``backtest rates``' planner (a record of one
    row per model, target the whole country, default launch areas)."""
    from shieldwall.backtest.rates import plan_rates
    from shieldwall.scenario.record import read_record

    path = Path(folder) / f"night-{night}.csv"
    rows = [f"{night},{night} 08:00,{model},,Ukraine,{n},0,,,synthetic" for model, n in mix]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return plan_rates(read_record(path), theatre)


def night_scenario(theatre: Any, mix: tuple[tuple[str, int], ...], night: dt.date, folder: str) -> Any:
    """The scenario of ``night_plan`` (each (type, launch area, asset) block at least one threat)."""
    return night_plan(theatre, mix, night, folder).scenario()


@dataclass
class Case:
    name: str
    scenario: Any
    compiled: Any
    compile_s: float
    batteries: int
    threats: int  # present: the night's own count (the compiled blocks hold at least one each)
    present: Any  # [threat]: which compiled threats fly tonight


def make_case(name: str, theatre: Any, mix: tuple[tuple[str, int], ...], night: dt.date, seed: int,
              folder: str) -> Case:
    """The night compiled as ``backtest rates`` compiles a window (``RatesRun.compile``: the
    theatre's scenario and the engine's arrays), with its presence mask."""
    import numpy as np

    from shieldwall.backtest.rates import RatesRun

    plan = night_plan(theatre, mix, night, folder)
    t0 = time.perf_counter()
    run = RatesRun.compile(plan, seed)
    compile_s = time.perf_counter() - t0
    present = run.present(np.array([0]), 1)[0]
    return Case(name, run.scenario, run.compiled, compile_s, len(run.scenario.batteries), int(present.sum()),
                present)


def run_once(case: Case, replications: int, seed: int) -> tuple[float, Any]:
    """CPU seconds of one single-worker run (no replay log, no files), and its result."""
    import numpy as np

    from shieldwall.engine.runner import simulate

    present = np.repeat(case.present[None, :], replications, axis=0)
    t0 = time.process_time()
    result = simulate(case.compiled, case.scenario, replications=replications, seed=seed, workers=1,
                      present=present, log_events=False)
    return time.process_time() - t0, result


def main() -> None:
    from shieldwall.scenario.theatre import load_theatre

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, nargs="+", default=[300, 600])
    ap.add_argument("--replications", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    load_before = os.getloadavg()
    base = load_theatre()
    cases: list[Case] = []
    with tempfile.TemporaryDirectory() as folder:
        ref = national_theatre(base, REFERENCE_UNITS, mechanisms=False, zones=False)
        cases.append(make_case(f"reference: 800 drones, {REFERENCE_UNITS} units, mechanisms off", ref,
                               REFERENCE_MIX, REFERENCE_NIGHT, args.seed, folder))
        for n in args.units:
            theatre = national_theatre(base, n, mechanisms=True, zones=True)
            cases.append(make_case(f"national: 800-threat mix, {n} units, every mechanism on", theatre,
                                   NATIONAL_MIX, NATIONAL_NIGHT, args.seed, folder))
    for c in cases:
        print(f"compile {c.name}: {c.compile_s:.2f} s ({c.batteries} batteries, {c.threats} threats, "
              f"{len(c.scenario.ew_zones)} EW zones, {len(c.scenario.area_defences)} area defences)")
        run_once(c, 64, args.seed + 1)  # load the kernel, warm the caches
    seconds: dict[str, list[float]] = {c.name: [] for c in cases}
    ratios: dict[str, list[float]] = {c.name: [] for c in cases}
    for r in range(args.rounds):
        order = cases[r % len(cases):] + cases[:r % len(cases)]  # rotate: nobody always first
        this: dict[str, float] = {}
        for c in order:
            s, res = run_once(c, args.replications, args.seed + 10 + r)
            this[c.name] = s
            seconds[c.name].append(s)
            print(f"round {r} {c.name}: {args.replications / s:,.0f} replications/s "
                  f"(killed {res.killed.sum(axis=1).mean():.1f}, leaked {res.leaked.sum(axis=1).mean():.1f})")
        for c in cases:
            ratios[c.name].append(this[c.name] / this[cases[0].name])
    load_after = os.getloadavg()
    print()
    print(f"Machine: {platform.platform()}, {platform.processor() or platform.machine()}, os.cpu_count()="
          f"{os.cpu_count()}, Python {platform.python_version()}, NUMBA_NUM_THREADS="
          f"{os.environ.get('NUMBA_NUM_THREADS')}")
    print(f"load average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}; after: "
          f"{', '.join(f'{x:.2f}' for x in load_after)}")
    print(f"{args.rounds} rounds x {args.replications} replications, CPU seconds of one process (workers=1)")
    print()
    print("| case | batteries | threats | compile s | replications/s (median) | range | time / reference (median) |")
    print("|---|---:|---:|---:|---:|---|---:|")
    for c in cases:
        rates = sorted(args.replications / s for s in seconds[c.name])
        print(f"| {c.name} | {c.batteries} | {c.threats} | {c.compile_s:.2f} | {statistics.median(rates):,.0f} | "
              f"{rates[0]:,.0f}-{rates[-1]:,.0f} | {statistics.median(ratios[c.name]):.2f} |")


if __name__ == "__main__":
    main()
