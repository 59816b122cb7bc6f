"""How good is the exchange search? Side by side in one run, on the same sample (prints the
RESULTS.md section):

    .venv/bin/python benchmarks/allocate_search.py [--batteries 3] [--replications 60] [--workers 2]

Places ``--batteries`` new Patriot batteries, one a month from 1 December, over the six
notional sites of examples/sweeps/allocation-sites.yaml (6 x 5 x 4 = 120 placements for 3), with
``search: exhaustive`` (every placement: the SAA optimum) and then ``search: exchange`` (swaps
from the better baseline), both on the same common random numbers. Reports each search's
evaluations, wall time and answer, and where the exchange's answer ranks among all placements.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from shieldwall.sweep.allocate import Evaluator, all_allocations, load_allocation, optimise  # noqa: E402
from shieldwall.sweep.backends import make_backend  # noqa: E402

SITES = ROOT / "examples" / "sweeps" / "allocation-sites.yaml"
DATES = [dt.date(2024, 12, 1), dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1)]


def variant_file(folder: Path, batteries: int, replications: int, search: str) -> Path:
    text = SITES.read_text(encoding="utf-8").replace("../campaign-three-cities.yaml",
                                                     str(ROOT / "examples" / "campaign-three-cities.yaml"))
    head, rest = text.split("tranches:", 1)
    rest = rest.split("regions:", 1)[1]
    tranches = "".join(f"  - {{date: {d}, quantity: 1}}\n" for d in DATES[:batteries])
    text = (f"{head}tranches:\n{tranches}regions:{rest}".replace("replications: 60", f"replications: {replications}")
            .replace("max_evaluations: 60", "max_evaluations: 2000") + f"search: {search}\n")
    path = folder / f"sites-{search}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def placement(loaded, x: np.ndarray) -> str:  # type: ignore[no-untyped-def]
    return ", ".join(f"{loaded.spec.tranches[t].date}: {loaded.arms[s]}" for t, s in zip(*np.nonzero(x)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batteries", type=int, default=3, choices=range(1, 5))
    parser.add_argument("--replications", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"Command: `.venv/bin/python benchmarks/allocate_search.py --batteries {args.batteries} --replications "
          f"{args.replications} --workers {args.workers}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n")
    print(f"Machine: {platform.platform()}, Python {platform.python_version()}\n")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        loaded = load_allocation(variant_file(Path(tmp), args.batteries, args.replications, "exhaustive"))
        backend = make_backend(args.workers, None)
        try:  # every placement on the sample: what search: exhaustive does, kept for the ranking
            start = time.perf_counter()
            every = list(all_allocations(loaded))
            runs = Evaluator(loaded, backend).run(every, replications=loaded.spec.replications, seed=loaded.spec.seed)
            values = [float(np.mean(r[loaded.spec.objective])) for r in runs]
            best = min(range(len(every)), key=lambda i: (values[i], i))
            rows.append(("exhaustive", len(every), time.perf_counter() - start, values[best], placement(loaded, every[best])))
            exchange = load_allocation(variant_file(Path(tmp), args.batteries, args.replications, "exchange"))
            start = time.perf_counter()
            found = optimise(exchange, Evaluator(exchange, backend))
            rows.append(("exchange", found["evaluations"], time.perf_counter() - start, found["objective"],
                         placement(exchange, found["allocation"])))
        finally:
            backend.close()
    print("| search | evaluations | wall s | value lost (SAA mean) | placement |")
    print("|---|---:|---:|---:|---|")
    for search, n, wall, objective, where in rows:
        print(f"| {search} | {n} | {wall:.0f} | {objective:,.1f} | {where} |")
    ordered = sorted(values)
    rank = 1 + sum(v < found["objective"] for v in values)
    same = np.array_equal(found["allocation"], every[best])
    print(f"\n- placements: {len(values)}; the exchange's answer ranks {rank} of {len(values)} on the same sample "
          f"(best {ordered[0]:,.1f}, median {ordered[len(values) // 2]:,.1f}, worst {ordered[-1]:,.1f}); "
          f"the exhaustive optimum: **{'yes' if same else 'no'}**")
    moves = [t["move"] for t in found["trace"][1:]]
    print(f"- exchange: from the {found['start']} placement ({found['baseline_objective'][found['start']]:,.1f}), "
          + (f"{len(moves)} moves: " + "; ".join(moves) if moves else "no better swap") + f"; {found['stopped']}")


if __name__ == "__main__":
    main()
