"""What ``mechanisms.detection`` costs: the same scenario with the switch off and on, side by side.

    .venv/bin/python benchmarks/detection_speed.py [--scenario examples/massive-raid.yaml]
                                                   [--replications 512] [--rounds 4]

Both compiled once (compile times printed), warmed up, then timed in alternating order (off, on,
then on, off: neither always second) as CPU time of this process; prints replications per second
per side and round, and the median on/off ratio of the times. One core (workers=1).
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    from shieldwall.engine.compile import compile_scenario
    from shieldwall.engine.runner import simulate
    from shieldwall.scenario.load import load_scenario

    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="examples/massive-raid.yaml")
    ap.add_argument("--replications", type=int, default=512)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    base = load_scenario(args.scenario)
    sides = {"off": base, "on": base.with_({"mechanisms.detection": True})}
    compiled = {}
    for name, sc in sides.items():
        t0 = time.perf_counter()
        compiled[name] = compile_scenario(sc, args.seed)
        print(f"compile {name}: {time.perf_counter() - t0:.2f} s")
        simulate(compiled[name], sc, replications=64, seed=args.seed + 1)  # load the kernel, warm caches
    ratios = []
    for r in range(args.rounds):
        times = {}
        for name in (["off", "on"] if r % 2 == 0 else ["on", "off"]):
            t0 = time.process_time()
            res = simulate(compiled[name], sides[name], replications=args.replications, seed=args.seed + 10 + r)
            times[name] = time.process_time() - t0
            print(f"round {r} {name}: {args.replications / times[name]:,.0f} replications/s "
                  f"(killed {res.killed.sum(axis=1).mean():.1f}, leaked {res.leaked.sum(axis=1).mean():.1f})")
        ratios.append(times["on"] / times["off"])
    print(f"median time on/off: {statistics.median(ratios):.3f} (rounds: {', '.join(f'{x:.3f}' for x in ratios)})")


if __name__ == "__main__":
    main()
