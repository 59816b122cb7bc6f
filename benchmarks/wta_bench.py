"""Weapon-target assignment benchmark: the shared instances (when ../shared is there) and seeded generated ones.

    .venv/bin/python benchmarks/wta_bench.py            # full run, appends its table to benchmarks/RESULTS.md
    .venv/bin/python benchmarks/wta_bench.py --quick    # small subset, prints only

Prints one table (instance, solver, objective, bound, gap, time, best known, ratio to best known) and records it,
with the command and the machine, under "## Weapon-target assignment" in benchmarks/RESULTS.md (that section only
is replaced on a re-run). Kernels are loaded once before timing (numba cache, HiGHS).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from shieldwall.wta import generate_andersen, generate_square, read_instance  # noqa: E402
from shieldwall.wta.bench import BenchRow, format_rows_markdown, read_best_known, run_one, warm_up  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "wta"
HEADING = "## Weapon-target assignment"


def plan(quick: bool):
    """(problem loader, name, best known (UB, LB) or None, [(solver, time limit)])."""
    runs = []
    ex = [("greedy", None), ("local-search", 1.0), ("local-search", 10.0), ("exact", 60.0)]
    if SHARED.is_dir():
        for fam in ("square", "andersen2022"):
            folder = SHARED / fam
            best = read_best_known(folder)
            files = sorted(folder.glob("*.txt"), key=lambda p: (p.stat().st_size, p.name))
            if quick:
                files = files[:2]
            for f in files:
                runs.append((lambda f=f: read_instance(f), f.stem, best.get(f.stem), ex if not quick else ex[:2]))
    else:
        print("../shared/data/wta is absent: shared instances skipped", file=sys.stderr)
    gen = [
        (lambda: generate_square(100, seed=1), "gen-square-100-s1", ex),
        (lambda: generate_andersen(200, mu=1, seed=1), "gen-andersen-200x400x1-s1", ex),
        (lambda: generate_andersen(100, mu=3, seed=1), "gen-andersen-100x200x3-s1", ex),
        (lambda: generate_square(1000, seed=1), "gen-square-1000-s1",
         [("greedy", None), ("local-search", 5.0), ("exact", 5.0)]),
    ]
    if quick:
        gen = [(gen[0][0], gen[0][1], ex[:2])]
    for load, name, solvers in gen:
        runs.append((load, name, None, solvers))
    return runs


def record(table: str, command: str, elapsed: float) -> Path:
    path = ROOT / "benchmarks" / "RESULTS.md"
    machine = (f"{platform.platform()}, {platform.processor() or platform.machine()}, "
               f"os.cpu_count()={os.cpu_count()}, Python {platform.python_version()}")
    section = (f"{HEADING}\n\n"
               f"Command: `{command}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {elapsed:.0f} s in all)\n\n"
               f"Machine: {machine}\n\n"
               "Objective: expected surviving value (lower is better); `ratio` = objective / best-known upper bound "
               "(< 1 beats the published value). Times are wall-clock seconds of `solve()` after the kernels are "
               "loaded; the solver's time limit is in the solver column. `best known` is the published upper bound "
               "from ../shared/data/wta/*/best_known.csv (CPLEX logs of approximate models: where our proven optimum "
               "sits a few 1e-6 above it, the published value is the approximate model's, not a better solution; "
               "see docs/wta.md).\n\n"
               f"{table}\n")
    text = path.read_text() if path.exists() else "# Benchmark results\n\n"
    pat = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pat.search(text):
        text = pat.sub(lambda _m: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a small subset; prints only")
    ap.add_argument("--no-record", action="store_true", help="do not write benchmarks/RESULTS.md")
    args = ap.parse_args()
    t0 = time.perf_counter()
    warm_up()
    rows: list[BenchRow] = []
    for load, name, best, solvers in plan(args.quick):
        problem = load()
        for sid, tl in solvers:
            row, _ = run_one(problem, sid, tl, 0, best)
            row.instance = name
            row.solver = sid if tl is None else f"{sid} ({tl:g} s)"
            rows.append(row)
            bk = f"{row.best_known:.6f}" if row.best_known is not None else "-"
            rt = f"{row.ratio:.7f}" if row.ratio is not None else "-"
            print(f"{name:28s} {row.solver:20s} obj {row.objective:14.6f} lb {row.lower_bound:14.6f} "
                  f"gap {100 * row.gap:8.4f}% {row.status:10s} {row.time_s:7.2f}s best {bk} ratio {rt}",
                  flush=True)
    table = format_rows_markdown(rows)
    print()
    print(table)
    if not args.quick and not args.no_record:
        cmd = ".venv/bin/python " + " ".join(shlex.quote(a) for a in ["benchmarks/wta_bench.py", *sys.argv[1:]])
        print(f"recorded in {record(table, cmd, time.perf_counter() - t0)}")


if __name__ == "__main__":
    main()
