"""`backtest rates` on a synthetic 2025-style year: ~550 nights, drone raids up to ~800 a night
plus missile strikes, replayed against the shipped default theatre at 50 replications.

    .venv/bin/python benchmarks/backtest_speed.py [--nights 550] [--replications 50] [--workers 2]
                                                  [--units N]

The goal (issue 17): within 5 minutes on 2 cores. The record is written to a temporary folder
(synthetic: nothing from ../shared). ``--units N``: the theatre with notional extra point-defence
units up to N and every mechanism on (benchmarks/national_speed.py's laydown; issue 18: the
window is still compiled once at national scale)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

import numpy as np

HEADER = "time_start,time_end,model,launch_place,target,launched,destroyed,not_reach_goal,still_attacking,source"
PLACES = ["Kursk oblast", "Primorsko-Akhtarsk", "Oryol oblast", "Bryansk oblast", "Chauda, Crimea", "Millerovo"]


def synthetic_record(path: Path, nights: int, seed: int = 2025) -> dict[str, int]:
    """Nightly Shahed raids (mean ~180, negative binomial, up to 800) from two to four launch areas
    on the whole country, a cruise strike about weekly, ballistic missiles most nights."""
    rng = np.random.default_rng(seed)
    start = dt.date(2025, 1, 1)
    rows, largest, total = [], 0, 0
    for i in range(nights):
        day = start + dt.timedelta(days=i + 1)
        drones = int(min(800, rng.negative_binomial(1.5, 1.5 / (1.5 + 180.0))))
        if i % 60 == 0:
            drones = 800
        night = drones
        if drones:
            places = " and ".join(rng.choice(PLACES, size=rng.integers(2, 5), replace=False))
            rows.append(f"{day},{day} 08:00,Shahed-136/131,\"{places}\",Ukraine,{drones},{int(drones * 0.6)},"
                        f"{int(drones * 0.3)},,kpszsu")
        if rng.random() < 0.15:
            n = int(rng.integers(20, 80))
            night += n
            rows.append(f"{day},{day} 08:00,X-101/X-555,Caspian Sea,Ukraine,{n},{int(n * 0.8)},,,kpszsu")
        if rng.random() < 0.6:
            n = int(rng.integers(1, 12))
            night += n
            rows.append(f"{day},{day} 08:00,Iskander-M,Kursk oblast,Ukraine,{n},{n // 3},,,kpszsu")
        largest, total = max(largest, night), total + night
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return {"rows": len(rows), "largest_night": largest, "threats": total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=550)
    parser.add_argument("--replications", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--units", type=int, default=None,
                        help="notional extra point-defence units up to this many, every mechanism on")
    args = parser.parse_args()
    from shieldwall.backtest.rates import backtest_rates

    theatre = None
    if args.units is not None:
        from national_speed import national_theatre

        from shieldwall.scenario.theatre import load_theatre

        theatre = national_theatre(load_theatre(), args.units, mechanisms=True, zones=True)

    with tempfile.TemporaryDirectory() as folder:
        record = Path(folder) / "record-2025-style.csv"
        facts = synthetic_record(record, args.nights)
        start = time.perf_counter()
        doc = backtest_rates(record, dt.date(2025, 1, 1), dt.date(2025, 1, 1) + dt.timedelta(days=args.nights),
                             theatre=theatre, replications=args.replications, seed=0, workers=args.workers)
        wall = time.perf_counter() - start
    eng = doc["engine"]
    print(f"synthetic record: {doc['window']['nights']} nights, {facts['rows']} rows, {facts['threats']:,} threats, "
          f"largest night {facts['largest_night']}; theatre {doc['theatre']['name']} ({doc['theatre']['units']} units)")
    print(f"{args.replications} replications, {args.workers} workers ({os.cpu_count()} cores seen): "
          f"{wall:.1f} s in all (read + plan + compile {eng['compile_s']:.1f} s of {eng['compiled_threats']:,} "
          f"compiled threats; simulate {eng['simulate_s']:.1f} s); goal: < 300 s")
    shahed = doc["by_model"]["Shahed-136/131"]["simulated"]["destroyed"]
    print(f"simulated Shahed kill share {100 * shahed['mean']:.1f}% [{100 * shahed['lo']:.1f}-{100 * shahed['hi']:.1f}]")


if __name__ == "__main__":
    main()
