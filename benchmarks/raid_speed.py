"""Raid engine speed, side by side in one run (ratios, because these machines are noisy).

    .venv/bin/python benchmarks/raid_speed.py [--replications 1000] [--baseline-replications 10]

Measures on examples/massive-raid.yaml: the engine against the SimPy baseline (the obvious
implementation, benchmarks/simpy_baseline.py) and against the floor (NumPy drawing the random
numbers the model consumes); scaling with replications and with threats; 1 vs 2 workers with
byte-identical results, beside what the machine gives two processes of pure arithmetic in the
same minutes; peak RSS at 10,000 replications; `shieldwall --help` start-up. Every measurement
runs in a fresh child process so that its peak RSS is its own. Prints one table and
appends it, with the command and the machine, to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MASSIVE = ROOT / "examples" / "massive-raid.yaml"
PY = sys.executable


PAIRED: list[tuple[int, float]] = []  # (replications, engine / floor) of each 1-worker massive raid run


def _child(argv: list[str]) -> dict:
    """Run one measurement in a fresh process; it prints a JSON line with its numbers."""
    out = subprocess.run([PY, __file__, "--child", *argv], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if argv[0] == "engine" and argv[4] == "1" and argv[5] == "1.0":
        # the floor is drawn right after the run in the same process: the same minute of a
        # machine whose speed drifts by a third from one minute to the next
        PAIRED.append((int(argv[2]), result["seconds"] / result["draw_s"]))
    return result


def child_engine(scenario: str, replications: int, seed: int, workers: int, scale: float, out: str) -> dict:
    import numpy as np

    from shieldwall.engine.compile import compile_scenario
    from shieldwall.engine.runner import simulate
    from shieldwall.scenario.load import load_scenario

    sc = load_scenario(scenario)
    if scale != 1.0:  # the same raid with more or fewer threats
        raids = [r.model_copy(update={"count": max(1, round(r.count * scale)),
                                      "decoys": r.decoys.model_copy(update={"count": max(1, round(r.decoys.count * scale))})
                                      if r.decoys else None}) for r in sc.raids]
        sc = sc.model_copy(update={"raids": raids})
    compiled = compile_scenario(sc, seed)
    with tempfile.TemporaryDirectory() as warm:  # load the kernel from the cache, import the writers
        simulate(compiled, sc, replications=2, seed=seed, out_dir=warm)
    t0 = time.perf_counter()
    simulate(compiled, sc, replications=replications, seed=seed, workers=workers, out_dir=out or None)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "threats": compiled.n_threats, "rss_mb": _rss_mb(),
            "draw_s": min(_draw_floor(compiled, replications, seed) for _ in range(3)) if workers == 1 else float("nan"),
            "shots": int(np.asarray(compiled.shots_per_threat))}


def _draw_floor(compiled, replications: int, seed: int) -> float:  # type: ignore[no-untyped-def]
    """Seconds NumPy needs to draw the uniforms the model consumes for these replications
    (the caller takes the best of three: a noisy neighbour should not make the floor)."""
    import numpy as np

    from shieldwall.engine.runner import CHUNK_SIZE, draw_uniforms

    n_chunks = -(-replications // CHUNK_SIZE)
    children = np.random.SeedSequence(seed).spawn(n_chunks)
    t0 = time.perf_counter()
    for i in range(n_chunks):
        draw_uniforms(compiled, min(CHUNK_SIZE, replications - i * CHUNK_SIZE), children[i])
    return time.perf_counter() - t0


def _spin(n: int) -> float:
    """Pure arithmetic, no memory traffic: what one core gives."""
    t0 = time.perf_counter()
    x = 0
    for i in range(n):
        x += i * i % 7
    return time.perf_counter() - t0


def child_capacity(n: int = 4_000_000) -> dict:
    """What this machine gives two processes right now: the same pure-arithmetic work twice,
    one after the other, then in two processes at once. A shared virtual machine's two vCPUs
    are not always two free cores; this says how much of 2x any program could have had."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_all_start_methods, get_context

    context = get_context("fork") if "fork" in get_all_start_methods() else None
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        list(pool.map(_spin, [1000, 1000]))  # workers up before the clock starts
        t0 = time.perf_counter()
        _spin(n)
        _spin(n)
        serial = time.perf_counter() - t0
        t0 = time.perf_counter()
        list(pool.map(_spin, [n, n]))
        parallel = time.perf_counter() - t0
    return {"capacity": serial / parallel}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _baseline(replications: int, seed: int) -> dict | None:
    """The SimPy baseline's own simulation time (its imports and the shared compile excluded,
    as for the engine) and its summary."""
    script = ROOT / "benchmarks" / "simpy_baseline.py"
    try:
        import simpy  # noqa: F401
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([PY, str(script), str(MASSIVE), "--replications", str(replications), "--seed", str(seed),
                        "--out", tmp], check=True, capture_output=True, text=True)
        timing = json.loads((Path(tmp) / "timing.json").read_text())
        summary = json.loads((Path(tmp) / "summary.json").read_text())
    return {"seconds": timing["simulation_s"], "summary": summary}


def _agreement(a: dict, b: dict) -> tuple[int, int]:
    """Threat types whose mean leakers agree within the 99% interval of their difference."""
    ok = 0
    for tid, row in a["threats_by_type"].items():
        other = b["threats_by_type"][tid]
        se = [(r["leaked_ci95"][1] - r["leaked_ci95"][0]) / (2 * 1.96) for r in (row, other)]
        tol = 2.576 * (se[0] ** 2 + se[1] ** 2) ** 0.5 + 1e-9
        ok += abs(row["leaked_mean"] - other["leaked_mean"]) <= tol
    return ok, len(a["threats_by_type"])


def _help_seconds() -> float:
    exe = Path(PY).with_name("shieldwall")
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run([str(exe), "--help"], capture_output=True, check=True)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replications", type=int, default=1000)
    ap.add_argument("--baseline-replications", type=int, default=10)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    n, seed = args.replications, args.seed
    rows: list[tuple] = []

    def row(engine: str, reps: int, seconds: float, threats: int, rss: float | str, note: str = "") -> None:
        rows.append((engine, reps, seconds, reps * threats / seconds, rss, note))

    with tempfile.TemporaryDirectory() as tmp:
        eng = _child(["engine", str(MASSIVE), str(n), str(seed), "1", "1.0", f"{tmp}/w1"])
        threats = eng["threats"]
        row("shieldwall (1 worker)", n, eng["seconds"], threats, eng["rss_mb"], "massive raid")
        row("floor: NumPy draws only", n, eng["draw_s"], threats, "", f"{2 + eng['shots']} uniforms per threat")
        base = _baseline(args.baseline_replications, seed)
        agree = None
        if base:
            scaled = base["seconds"] * n / args.baseline_replications
            agree = _agreement(json.loads(Path(f"{tmp}/w1/summary.json").read_text()), base["summary"])
            row("SimPy baseline (scaled)", n, scaled, threats, "",
                f"timed at {args.baseline_replications} replications, x{n / args.baseline_replications:g}; "
                f"leakers agree (99%) for {agree[0]}/{agree[1]} threat types")
        # best of three alternating runs each: one noisy neighbour should not decide the ratio
        eng1, eng2 = {"seconds": float("inf")}, {"seconds": float("inf")}
        eng1_draws = float("inf")
        for _ in range(3):
            r1 = _child(["engine", str(MASSIVE), str(4 * n), str(seed), "1", "1.0", f"{tmp}/w1b"])
            eng1_draws = min(eng1_draws, r1["draw_s"])
            eng1 = min(eng1, r1, key=lambda r: r["seconds"])
            eng2 = min(eng2, _child(["engine", str(MASSIVE), str(4 * n), str(seed), "2", "1.0", f"{tmp}/w2"]),
                       key=lambda r: r["seconds"])
        same = (Path(f"{tmp}/w2/summary.json").read_bytes() == Path(f"{tmp}/w1b/summary.json").read_bytes())
        row("shieldwall (1 worker)", 4 * n, eng1["seconds"], threats, eng1["rss_mb"], "")
        row("shieldwall (2 workers)", 4 * n, eng2["seconds"], threats, eng2["rss_mb"],
            f"summary.json identical to 1 worker: {same}")
        big = _child(["engine", str(MASSIVE), "10000", str(seed), "1", "1.0", f"{tmp}/big"])
        row("shieldwall (1 worker)", 10000, big["seconds"], threats, big["rss_mb"], "peak RSS, results streamed")
        # workers again on a longer run, where a run's fixed cost (pool start, the last chunk, the
        # last shard and summary) weighs less: 1 and 2 workers alternate, best of 3 each; each
        # round also measures what the machine gives two processes of pure arithmetic
        big1, big2 = big, {"seconds": float("inf")}
        capacity = [_child(["capacity"])["capacity"]]
        for i in range(3):
            if i:
                big1 = min(big1, _child(["engine", str(MASSIVE), "10000", str(seed), "1", "1.0", f"{tmp}/big"]),
                           key=lambda r: r["seconds"])
            big2 = min(big2, _child(["engine", str(MASSIVE), "10000", str(seed), "2", "1.0", f"{tmp}/big2"]),
                       key=lambda r: r["seconds"])
            capacity.append(_child(["capacity"])["capacity"])
        same_big = (Path(f"{tmp}/big2/summary.json").read_bytes() == Path(f"{tmp}/big/summary.json").read_bytes())
        row("shieldwall (2 workers)", 10000, big2["seconds"], threats, big2["rss_mb"],
            f"summary.json identical to 1 worker: {same_big}")
        for reps in (n // 4, n // 2, 2 * n):
            r = _child(["engine", str(MASSIVE), str(reps), str(seed), "1", "1.0", ""])
            row("shieldwall (1 worker)", reps, r["seconds"], threats, r["rss_mb"], "replication scaling")
        for scale in (100 / threats, 300 / threats, 1000 / threats, 3000 / threats):
            r = _child(["engine", str(MASSIVE), str(n // 4), str(seed), "1", f"{scale:.6f}", ""])
            row("shieldwall (1 worker)", n // 4, r["seconds"], r["threats"], r["rss_mb"],
                f"threat scaling: {r['threats']} threats")
    help_s = _help_seconds()

    ref = rows[0][2]
    lines = ["| engine | replications | seconds | threat-replications/s | time ratio to shieldwall (1 worker, first row) | peak RSS MB | note |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for engine, reps, seconds, rate, rss, note in rows:
        ratio = seconds / ref * (n / reps)  # per replication, relative to the first row
        rss_s = f"{rss:.0f}" if isinstance(rss, float) else rss
        lines.append(f"| {engine} | {reps} | {seconds:.2f} | {rate:,.0f} | {ratio:.3g} | {rss_s} | {note} |")
    speedup = [r for r in rows if r[0].startswith("SimPy")]
    floor = rows[1][2]
    # the floor ratio at 4n replications: engine best of 3 runs, floor best of 3 draws in each
    floor_4n = min(eng1["draw_s"], eng1_draws)
    paired = sorted(ratio for reps, ratio in PAIRED if reps >= n)  # runs long enough to weigh little start-up
    summary = [f"- SimPy baseline / shieldwall: **{speedup[0][2] / ref:.0f}x**" if speedup else "- SimPy baseline: not run (simpy missing)",
               f"- shieldwall / floor (NumPy draws), {4 * n} replications, engine best of 3, floor best of 9: "
               f"**{eng1['seconds'] / floor_4n:.0f}x** (goal <= 20x); at {n} replications, single runs: "
               f"{ref / floor:.0f}x; each run against the floor drawn in its own process right after it, over "
               f"{len(paired)} runs of {n:,}-10,000 replications: median {paired[len(paired) // 2]:.0f}x "
               f"(range {paired[0]:.0f}-{paired[-1]:.0f}x)",
               f"- 2 workers vs 1 (goal >= 1.8x): **{eng1['seconds'] / eng2['seconds']:.2f}x** at {4 * n} "
               f"replications (best of 3 each), **{big1['seconds'] / big2['seconds']:.2f}x** at 10,000 (best of 3 each); "
               f"in the same minutes two processes of pure arithmetic got {min(capacity):.2f}-{max(capacity):.2f}x "
               f"over one (what this machine's two vCPUs gave any program)",
               f"- peak RSS at 10,000 replications: **{big['rss_mb']:.0f} MB** (goal < 2048 MB)",
               f"- `shieldwall --help`: **{help_s:.2f} s** (best of 5; goal < 0.5 s)"]
    table = "\n".join(lines + [""] + summary)
    print(table)
    if not args.no_append:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        machine = f"{platform.platform()}, {platform.machine()}, os.cpu_count()={os.cpu_count()}, Python {platform.python_version()}"
        section = (f"\n## Raid engine speed\n\nCommand: `.venv/bin/python benchmarks/raid_speed.py "
                   f"--replications {n} --baseline-replications {args.baseline_replications}` ({stamp})\n\n"
                   f"Machine: {machine}\n\n{table}\n")
        with (ROOT / "benchmarks" / "RESULTS.md").open("a", encoding="utf-8") as fh:
            fh.write(section)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, *rest = sys.argv[2:]
        if kind == "capacity":
            print(json.dumps(child_capacity()))
            sys.exit(0)
        scenario, reps, seed, workers, scale, out = rest
        print(json.dumps(child_engine(scenario, int(reps), int(seed), int(workers), float(scale), out)))
    else:
        main()
