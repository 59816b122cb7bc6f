"""Sweep speed and safety, side by side in one run (prints the RESULTS.md section):

    .venv/bin/python benchmarks/sweep_speed.py [--points 200] [--replications 500] [--rounds 2]
                                               [--kills 20] [--sobol-n 256] [--sobol-replications 128]

1. A grid sweep of examples/city-defence.yaml (pac3-mse stock x iris-t pk against drones,
   ``--points`` points, ``--replications`` each, one task a point) through 1 worker (this
   process), 2 local worker processes and a Dask LocalCluster of 2 workers, ``--rounds`` times
   in alternating order: speed-ups as ratios of paired runs, per-task overhead (wall time of the
   1-worker sweep beyond the tasks' own work: variation, compile, simulation), and whether the
   three points.parquet files are byte-identical.
2. ``--kills`` SIGKILLs of ``shieldwall sweep --workers 2`` (the process group, at random
   moments) each followed by ``--resume``; then the folder against an uninterrupted run:
   identical points.parquet, every (point, replication) exactly once, no stray shard.
3. A Sobol' study of 8 factors (N = ``--sobol-n``) on city-defence with one more asset that no
   raid targets: its value is the factor that cannot matter, and must rank last with indices
   whose intervals hold 0.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from shieldwall.sweep import load_sweep, run_sweep  # noqa: E402
from shieldwall.sweep.backends import DaskBackend, InlineBackend, ProcessBackend  # noqa: E402
from shieldwall.sweep.store import SweepStore  # noqa: E402

CITY = ROOT / "examples" / "city-defence.yaml"


def grid_file(folder: Path, points: int, replications: int, task_replications: int = 512) -> Path:
    stocks = [8, 16, 24, 32, 40, 48, 56, 64, 72, 80]
    n_pk = max(2, points // len(stocks))
    text = f"""base: {CITY}
replications: {replications}
seed: 1
task_replications: {task_replications}
design: {{kind: grid}}
factors:
  - {{path: "batteries[patriot-1].interceptors.pac3-mse", values: {stocks}}}
  - {{path: "catalog.interceptors.iris-t.pk.drone", range: [0.5, 0.95], levels: {n_pk}}}
outputs: [leaked_mean, value_lost_mean, interceptor_cost_usd_mean]
"""
    path = folder / f"grid-{points}-{replications}-{task_replications}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _burn(n: int) -> float:
    """Pure arithmetic for the ceiling of a 2-process speed-up in the same minutes."""
    x = 0.0
    for i in range(n):
        x += (i % 7) * 0.5
    return x


def arithmetic_ratio(n: int = 6_000_000) -> float:
    """Two units of pure arithmetic in one process, against one unit in each of two: what two
    processes can gain on this machine right now (other users' load included)."""
    from concurrent.futures import ProcessPoolExecutor

    start = time.perf_counter()
    _burn(n)
    _burn(n)
    one = time.perf_counter() - start
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_burn, [1000, 1000]))  # started
        start = time.perf_counter()
        list(pool.map(_burn, [n, n]))
        two = time.perf_counter() - start
    return one / two


def timed(loaded, out: Path, backend) -> tuple[float, dict]:
    start = time.perf_counter()
    result = run_sweep(loaded, out, backend=backend)
    return time.perf_counter() - start, result["_run"]


def part_speed(tmp: Path, args: argparse.Namespace) -> list[str]:
    loaded = load_sweep(grid_file(tmp, args.points, args.replications))
    n_points = len(loaded.spec.factors[0].values) * loaded.spec.factors[1].levels
    run_sweep(load_sweep(grid_file(tmp, 20, 128)), tmp / "warm", backend=InlineBackend())  # numba cache loaded
    rows, one, two, dask, dask_start, overhead, identical, ceiling = [], [], [], [], [], [], True, []
    for r in range(args.rounds):
        order = ["1", "2", "dask"] if r % 2 == 0 else ["dask", "2", "1"]
        times: dict[str, float] = {}
        ceiling.append(arithmetic_ratio())
        for which in order:
            out = tmp / f"speed-{r}-{which}"
            if which == "1":
                wall, info = timed(loaded, out, InlineBackend())
                overhead.append((wall - info["engine_s"]) / info["engine_s"])
            elif which == "2":
                wall, info = timed(loaded, out, ProcessBackend(2))
            else:
                start = time.perf_counter()
                backend = DaskBackend("local", 2)
                dask_start.append(time.perf_counter() - start)
                try:
                    wall, info = timed(loaded, out, backend)
                finally:
                    backend.close()
                wall += dask_start[-1]
            times[which] = wall
        ref = tmp / f"speed-{r}-1" / "points.parquet"
        for which in ("2", "dask"):
            identical &= filecmp.cmp(ref, tmp / f"speed-{r}-{which}" / "points.parquet", shallow=False)
        identical &= filecmp.cmp(ref, tmp / "speed-0-1" / "points.parquet", shallow=False)
        one.append(times["1"])
        two.append(times["1"] / times["2"])
        dask.append(times["1"] / times["dask"])
        rows.append(f"| {r + 1} ({' -> '.join(order)}) | {times['1']:.1f} | {times['2']:.1f} | {times['dask']:.1f} | "
                    f"{times['1'] / times['2']:.2f}x | {times['1'] / times['dask']:.2f}x | {100 * overhead[-1]:.1f}% | "
                    f"{ceiling[-1]:.2f}x |")
    return [
        f"### 1. {n_points}-point grid of city-defence, {args.replications} replications a point (one task a point)",
        "",
        "| round (order) | 1 worker s | 2 local workers s | Dask LocalCluster 2 s | 2 local vs 1 | Dask vs 1 | "
        "overhead (1 worker) | 2 processes of pure arithmetic vs 1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"- 2 local workers vs 1: {', '.join(f'{x:.2f}x' for x in two)} (median {statistics.median(two):.2f}x; "
        "goal >= 1.8x)",
        f"- Dask LocalCluster (2 workers, 1 thread each, start of the cluster included: "
        f"{', '.join(f'{x:.1f}' for x in dask_start)} s) vs 1: {', '.join(f'{x:.2f}x' for x in dask)} "
        f"(median {statistics.median(dask):.2f}x; goal >= 1.7x)",
        f"- the ceiling in the same minutes (2 processes of pure arithmetic vs 1, other users' load "
        f"included): {', '.join(f'{x:.2f}x' for x in ceiling)}",
        f"- per-task overhead, 1 worker: {', '.join(f'{100 * x:.1f}%' for x in overhead)} of the tasks' own time "
        "(variation + compile + simulation; goal <= 5%); it is the wall time beyond the tasks' work: design, "
        "shard writes, DuckDB read, points table, Sobol'/effects, sweep.json",
        f"- points.parquet byte-identical for 1 worker, 2 workers and Dask, in every round: "
        f"**{'yes' if identical else 'NO'}**",
    ]


def _shards(folder: Path) -> int:
    return len(list((folder / "shards").glob("p*.parquet"))) if (folder / "shards").exists() else 0


def part_kills(tmp: Path, args: argparse.Namespace) -> list[str]:
    sweep = grid_file(tmp, 80, args.replications, task_replications=128)
    folder, clean = tmp / "killed", tmp / "clean"
    cmd = [sys.executable, "-m", "shieldwall", "sweep", str(sweep), "--out", str(folder), "--no-report",
           "--workers", "2"]
    rng = random.Random(2021)
    kills, started = 0, time.perf_counter()
    shards_at_kill = []
    while kills < args.kills:
        before = _shards(folder)
        proc = subprocess.Popen(cmd + (["--resume"] if kills else []), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True, cwd=ROOT)
        if kills % 2:  # every other kill: at a random moment once this run has written a shard
            while proc.poll() is None and _shards(folder) <= before:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 1.5))
        else:  # the others: at a random moment from the start (imports, checks, the first tasks)
            time.sleep(rng.uniform(0.5, 6.0))
        if proc.poll() is not None:  # finished before the kill
            break
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
        shards_at_kill.append(_shards(folder))
    final = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, cwd=ROOT)
    assert final.returncode == 0, final.stderr
    run_sweep(load_sweep(sweep), clean, backend=InlineBackend())
    same = filecmp.cmp(folder / "points.parquet", clean / "points.parquet", shallow=False)
    con = SweepStore(folder).connect()
    total, distinct = con.execute("SELECT count(*), count(DISTINCT (point, replication)) FROM replications").fetchone()
    stray = [p.name for p in (folder / "shards").iterdir() if not p.name.startswith("p")]
    n_tasks = len(list((clean / "shards").glob("p*.parquet")))
    return [
        f"### 2. {kills} SIGKILLs, each followed by --resume (80 points x {args.replications} replications, "
        f"tasks of 128: {n_tasks} tasks, 2 workers)",
        "",
        f"- shards on disk at each kill: {', '.join(map(str, shards_at_kill))} (of {n_tasks}); "
        f"{time.perf_counter() - started:.0f} s in all",
        f"- after the last --resume: {total} replication rows, {distinct} distinct (point, replication) of "
        f"{80 * args.replications}; stray files in shards/: {len(stray)}; points.parquet identical to an "
        f"uninterrupted 1-worker run: **{'yes' if same else 'NO'}**",
    ]


def part_sobol(tmp: Path, args: argparse.Namespace) -> list[str]:
    text = CITY.read_text(encoding="utf-8").replace(
        "  - {id: rail-hub,", "  - {id: museum, lat: 48.950, lon: 32.050, value: 50, kind: culture}  # no raid\n"
        "  - {id: rail-hub,")
    (tmp / "city-with-museum.yaml").write_text(text, encoding="utf-8")
    sweep = tmp / "sobol.yaml"
    sweep.write_text(f"""base: city-with-museum.yaml
replications: {args.sobol_replications}
seed: 1
design: {{kind: sobol, n: {args.sobol_n}}}
factors:
  - {{path: "batteries[patriot-1].interceptors.pac3-mse", range: [8, 64]}}
  - {{path: "batteries[iris-1].interceptors.iris-t", range: [8, 48]}}
  - {{path: "catalog.interceptors.iris-t.pk.drone", range: [0.6, 0.95]}}
  - {{path: "catalog.interceptors.pac3-mse.pk.ballistic", range: [0.5, 0.95]}}
  - {{path: "catalog.interceptors.ahead-35mm.pk.drone", range: [0.3, 0.8]}}
  - {{path: "raids[drones-north].count", range: [30, 60]}}
  - {{path: "catalog.threats.shahed-136.speed_mps", range: [40, 60]}}
  - {{path: "assets[museum].value", range: [1, 200]}}
outputs: [value_lost_mean, leaked_mean]
""", encoding="utf-8")
    start = time.perf_counter()
    result = run_sweep(load_sweep(sweep), tmp / "sobol", backend=ProcessBackend(2))
    wall = time.perf_counter() - start
    lines = [f"### 3. Sobol' study: 8 factors, N = {args.sobol_n} ({result['n_points']:,} points x "
             f"{args.sobol_replications} replications), 2 local workers: {wall:.0f} s", ""]
    for output in ("value_lost_mean", "leaked_mean"):
        lines += [f"{output}, factors by ST:", "", "| factor | S1 [95%] | ST [95%] |", "|---|---:|---:|"]
        for r in result["ranking"][output]:
            lines.append(f"| {r['factor']} | {r['S1']:.3f} [{r['S1'] - r['S1_conf']:.3f}, {r['S1'] + r['S1_conf']:.3f}] | "
                         f"{r['ST']:.3f} [{r['ST'] - r['ST_conf']:.3f}, {r['ST'] + r['ST_conf']:.3f}] |")
        last = result["ranking"][output][-1]
        holds = last["ST"] - last["ST_conf"] <= 0 <= last["ST"] + last["ST_conf"]
        lines += ["", f"- last: `{last['factor']}`; its ST interval holds 0: **{'yes' if holds else 'NO'}**", ""]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--replications", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--sobol-n", type=int, default=256)
    parser.add_argument("--sobol-replications", type=int, default=128)
    parser.add_argument("--parts", default="speed,kills,sobol")
    args = parser.parse_args()
    started = time.perf_counter()
    lines = [f"## Sweeps ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
             "Command: `" + " ".join([".venv/bin/python benchmarks/sweep_speed.py", *sys.argv[1:]]) + "`", "",
             f"Machine: {platform.platform()}, os.cpu_count()={os.cpu_count()}, Python {platform.python_version()}; "
             "other engineers' test suites share the 2 cores, so ratios of paired runs count, not seconds.", ""]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for part in args.parts.split(","):
            lines += {"speed": part_speed, "kills": part_kills, "sobol": part_sobol}[part](tmp, args) + [""]
            print("\n".join(lines), flush=True)
            print("-" * 40, flush=True)
    lines.append(f"({time.perf_counter() - started:.0f} s in all)")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
