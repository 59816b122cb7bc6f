"""Paired A/B of the raid engine: two versions of the code, side by side in one run.

    .venv/bin/python benchmarks/kernel_ab.py --base REV [--head REV] [--rounds 8] [--replications 512]
                                             [--scenario examples/massive-raid.yaml]

``--base`` (and ``--head``, default: the working tree) are git revisions, exported with
``git archive`` into a temporary folder. Each round runs A then B (then B then A in the next
round, so that neither always comes second) in fresh processes on the same fresh seed, and
compares their simulation times (``engine.runner.simulate`` after a warm-up run that loads the
compiled kernel), as CPU time of the process (wall time is printed too: on a machine others
use, it counts their turns): these machines drift by a third within minutes, so only paired
ratios mean anything. A replication's outcomes are hashed on both sides: a refactor that claims
identical results must show the same hash every round. Prints the per-round times and the
median B/A.

``--scenario national:UNITS`` times instead benchmarks/national_speed.py's national case (the
default theatre with notional point-defence units up to UNITS, every mechanism on, its 800-threat
night; compiled in each process, run as ``national_speed.run_once`` does: one worker, no replay
log, the night's presence mask).

``--instructions`` counts instead the instructions each side executes for the run (valgrind's
callgrind: the process with the run minus the same process without it), which does not depend
on the machine's load: one round is exact (slow: a minute or two per side).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(scenario_path: str, replications: int, seed: int) -> None:
    """In the side's own process: warm up, then time one run; print a JSON line."""
    import numpy as np

    from shieldwall.engine.compile import compile_scenario
    from shieldwall.engine.runner import simulate
    from shieldwall.scenario.load import load_scenario

    if scenario_path.startswith("national:"):
        run = _national(int(scenario_path.split(":")[1]), seed)
    else:
        scenario = load_scenario(scenario_path)
        compiled = compile_scenario(scenario, seed)

        def run(n: int, s: int) -> object:
            return simulate(compiled, scenario, replications=n, seed=s)
    run(64, seed + 1)  # compile or load the kernel, warm the caches
    if replications == 0:  # the instruction count's baseline: everything but the run
        print(json.dumps({"seconds": 0.0, "cpu_s": 0.0, "hash": ""}))
        return
    t0, c0 = time.perf_counter(), time.process_time()
    result = run(replications, seed)
    seconds, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    digest = hashlib.sha256()
    for name in ("killed", "leaked", "expired", "rounds", "hits", "remaining"):
        digest.update(np.ascontiguousarray(getattr(result, name), np.int64).tobytes())
    print(json.dumps({"seconds": seconds, "cpu_s": cpu_s, "hash": digest.hexdigest()[:16]}))


def _national(units: int, seed: int):  # type: ignore[no-untyped-def]
    """national_speed.py's national case at ``units`` point-defence units, compiled: a function
    (replications, seed) -> its run (one worker, no replay log, the night's presence mask)."""
    import tempfile

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import national_speed as ns
    from shieldwall.scenario.theatre import load_theatre

    theatre = ns.national_theatre(load_theatre(), units, mechanisms=True, zones=True)
    with tempfile.TemporaryDirectory() as folder:
        case = ns.make_case("national", theatre, ns.NATIONAL_MIX, ns.NATIONAL_NIGHT, seed, folder)
    return lambda n, s: ns.run_once(case, n, s)[1]


def export(rev: str, into: Path) -> Path:
    """The tree of ``rev`` (its src/ is what runs)."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev, "src"],
                             check=True, capture_output=True).stdout
    tar_path = into / "src.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="data")
    return into


def run_side(tree: Path, cache: Path, scenario: str, replications: int, seed: int, callgrind: bool = False) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "NUMBA_CACHE_DIR": str(cache)}
    cmd = [sys.executable, __file__, "--child", scenario, str(replications), str(seed)]
    if callgrind:
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, cwd=str(tree))
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if callgrind:
        collected = [line for line in out.stderr.splitlines() if "Collected :" in line]
        result["instructions"] = int(collected[-1].split(":")[-1])
    return result


def instructions(tree: Path, cache: Path, scenario: str, replications: int, seed: int) -> tuple[int, str]:
    """Instructions of the run alone (with minus without), and its outcomes' hash."""
    run_side(tree, cache, scenario, 1, seed)  # fill the numba cache outside valgrind
    with_run = run_side(tree, cache, scenario, replications, seed, callgrind=True)
    without = run_side(tree, cache, scenario, 0, seed, callgrind=True)
    return with_run["instructions"] - without["instructions"], with_run["hash"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="git revision A (required)")
    parser.add_argument("--head", default=None, help="git revision B (default: the working tree)")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--replications", type=int, default=512)
    parser.add_argument("--scenario", default=str(ROOT / "examples" / "massive-raid.yaml"))
    parser.add_argument("--instructions", action="store_true", help="count instructions (valgrind), one round")
    parser.add_argument("--child", nargs=3, metavar=("SCENARIO", "N", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]), int(args.child[2]))
        return 0
    if not args.base:
        parser.error("--base is required")
    with tempfile.TemporaryDirectory(prefix="kernel-ab-") as tmp:
        base = export(args.base, Path(tmp) / "a")
        head = export(args.head, Path(tmp) / "b") if args.head else ROOT
        sides = {"A": (base, Path(tmp) / "cache-a"), "B": (head, Path(tmp) / "cache-b")}
        scenario = args.scenario if args.scenario.startswith("national:") else str(Path(args.scenario).resolve())
        if args.instructions:
            (ia, ha), (ib, hb) = (instructions(*sides[s], scenario, args.replications, 1000) for s in ("A", "B"))
            print(f"A = {args.base}, B = {args.head or 'working tree'}; {args.replications} replications of "
                  f"{Path(scenario).name}: instructions A {ia:,}, B {ib:,}, B/A {ib / ia:.4f}; "
                  f"outcomes {'identical' if ha == hb else 'DIFFER'}")
            return 0
        ratios, same = [], True
        print(f"A = {args.base}, B = {args.head or 'working tree'}; {args.replications} replications of "
              f"{Path(scenario).name} a round")
        for r in range(args.rounds):
            seed = 1000 + r
            order = ("A", "B") if r % 2 == 0 else ("B", "A")
            got = {s: run_side(*sides[s], scenario, args.replications, seed) for s in order}
            ratios.append(got["B"]["cpu_s"] / got["A"]["cpu_s"])
            same &= got["A"]["hash"] == got["B"]["hash"]
            print(f"round {r}: CPU A {got['A']['cpu_s']:.3f} s, B {got['B']['cpu_s']:.3f} s, B/A {ratios[-1]:.3f} "
                  f"(wall {got['A']['seconds']:.3f} / {got['B']['seconds']:.3f} s), "
                  f"outcomes {'identical' if got['A']['hash'] == got['B']['hash'] else 'DIFFER'}")
        print(f"median B/A (CPU) {statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f}); "
              f"outcomes {'identical in every round' if same else 'DIFFER'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
