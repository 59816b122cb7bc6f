"""The yardstick for the raid engine's speed: the same model, written the obvious way in SimPy.

    python benchmarks/simpy_baseline.py SCENARIO --replications N --seed S --out DIR [--compare]

The model is the engine's executable specification, tests/simpy_model.py (what a Python analyst
would write without shieldwall's engine: one process per threat, batteries as resources, a
battle manager re-examining everything at every decision epoch); the test suite checks that it
and the engine agree replication for replication (tests/test_oracle.py). Here it is timed.

Shared with the engine, and outside the timing: the scenario loader, ``compile_scenario`` (static
geometry) and the random numbers. Writes ``DIR/summary.json`` with the fields of ``shieldwall
run``'s summary, prints the wall and CPU time of the simulation (CPU time is the steadier figure
on a busy machine) and writes them to ``DIR/timing.json`` (start-up, imports and the shared
compile are not in them). ``--compare`` also runs the engine on the same scenario and seed and
prints the share of identical replications and the agreement per threat type (99 % intervals).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import simpy_model  # noqa: E402  (tests/simpy_model.py: the model itself)

from shieldwall.engine.compile import Compiled, compile_scenario  # noqa: E402
from shieldwall.scenario.load import load_scenario  # noqa: E402


def agree(x: np.ndarray, y: np.ndarray, z: float = 2.58, tol: float = 1e-9) -> tuple[bool, float, float]:
    """Do two samples' means agree within z combined standard errors? (ok, difference, bound)"""
    x, y = np.asarray(x, float), np.asarray(y, float)
    se2 = x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y) if min(len(x), len(y)) > 1 else 0.0
    diff = float(x.mean() - y.mean())
    bound = z * math.sqrt(se2) + tol
    return abs(diff) <= bound, diff, bound


def compare(compiled: Compiled, scenario: Any, res: Any, replications: int, seed: int,
            baseline_s: float, baseline_cpu: float) -> bool:
    from shieldwall.engine.runner import simulate as engine_simulate

    engine_simulate(compiled, scenario, replications=1, seed=seed)  # numba compile / cache load
    t0, c0 = time.perf_counter(), time.process_time()
    eng = engine_simulate(compiled, scenario, replications=replications, seed=seed)
    engine_s, engine_cpu = time.perf_counter() - t0, time.process_time() - c0
    ok_all = True
    print(f"{'threat type':<16}{'baseline leaked':>16}{'engine leaked':>15}{'diff':>9}{'99% bound':>11}  ok")
    for t, tid in enumerate(compiled.threat_type_ids):
        ok, diff, bound = agree(res.leaked[:, t], eng.leaked[:, t])
        ok_all &= ok
        print(f"{tid:<16}{res.leaked[:, t].mean():>16.3f}{eng.leaked[:, t].mean():>15.3f}"
              f"{diff:>9.3f}{bound:>11.3f}  {'yes' if ok else 'NO'}")
    same = simpy_model.identical(res, eng)
    print(f"identical replications: {int(same.sum())} of {replications} ({same.mean():.1%})")
    print(f"engine: {engine_s:.3f} s ({engine_s / replications * 1e3:.3f} ms per replication; "
          f"CPU {engine_cpu:.3f} s); baseline / engine = {baseline_s / engine_s:.0f}x wall, "
          f"{baseline_cpu / engine_cpu:.0f}x CPU")
    return ok_all and bool(same.all())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", type=Path)
    parser.add_argument("--replications", "-n", type=int, default=100)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--compare", action="store_true", help="also run the engine and compare")
    args = parser.parse_args(argv)
    if args.replications < 1:
        parser.error("--replications must be at least 1")

    scenario = load_scenario(args.scenario)
    seed = args.seed if args.seed is not None else (scenario.seed if scenario.seed is not None else 0)
    compiled = compile_scenario(scenario, seed)  # static geometry: shared, not timed

    t0, c0 = time.perf_counter(), time.process_time()
    outcomes = simpy_model.simulate(compiled, args.replications, seed)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    res = simpy_model.result(compiled, scenario, outcomes, seed)

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(res.summary(), indent=2) + "\n", encoding="utf-8")
    timing = {"replications": args.replications, "threats": compiled.n_threats, "simulation_s": elapsed,
              "simulation_cpu_s": cpu, "seconds_per_replication": elapsed / args.replications}
    (args.out / "timing.json").write_text(json.dumps(timing, indent=2) + "\n", encoding="utf-8")
    print(f"simpy baseline: {compiled.name}, {compiled.n_threats} threats, {args.replications} replications: "
          f"{elapsed:.3f} s simulation ({elapsed / args.replications:.4f} s per replication; "
          f"CPU {cpu:.3f} s, {cpu / args.replications:.4f} s per replication)")
    print(f"wrote {args.out / 'summary.json'}, {args.out / 'timing.json'}")
    if args.compare:
        return 0 if compare(compiled, scenario, res, args.replications, seed, elapsed, cpu) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
