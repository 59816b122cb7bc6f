"""Attacks on the defence (docs/model.md): what the mechanism costs the engine.

    .venv/bin/python benchmarks/attack_speed.py [--rounds 9] [--replications 2000]

examples/attack-on-defence.yaml against its twin: the same scenario with an asset placed on each
battery and the attacking raids aimed at it (the same paths, windows and random numbers, but no
battery can be lost). Both compiled once and warmed up, then timed in alternating order (CPU time
of this process, fresh seed each round); prints replications per second and the median paired
ratio of the times."""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from shieldwall.engine.compile import compile_scenario
from shieldwall.engine.runner import simulate
from shieldwall.scenario.load import load_scenario
from shieldwall.scenario.model import Scenario, TargetBattery

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "attack-on-defence.yaml"


def twin(scenario: Scenario) -> Scenario:
    """The scenario with each attacked battery's position as an asset that the raid aims at instead."""
    assets = [a.model_dump(exclude_unset=True) for a in scenario.assets] + [
        {"id": f"at-{b.id}", "lat": b.lat, "lon": b.lon, "value": b.value} for b in scenario.batteries]
    raids = [{**r.model_dump(exclude_unset=True),
              **({"target": f"at-{r.target.battery}"} if isinstance(r.target, TargetBattery) else {})}
             for r in scenario.raids]
    return scenario.with_({"assets": assets, "raids": raids})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--replications", type=int, default=2000)
    args = parser.parse_args()
    attack = load_scenario(EXAMPLE)
    sides = {"attacks": attack, "twin": twin(attack)}
    compiled = {k: compile_scenario(s, 1) for k, s in sides.items()}
    for k, s in sides.items():  # warm-up: load the compiled kernel
        simulate(compiled[k], s, replications=128, seed=1)
    times: dict[str, list[float]] = {k: [] for k in sides}
    for i in range(args.rounds):
        for k in (sides if i % 2 == 0 else reversed(list(sides))):
            t = time.process_time()
            simulate(compiled[k], sides[k], replications=args.replications, seed=10 + i)
            times[k].append(time.process_time() - t)
    for k, ts in times.items():
        print(f"{k}: {args.replications / statistics.median(ts):,.0f} replications/s (median of {args.rounds})")
    ratio = statistics.median(a / b for a, b in zip(times["attacks"], times["twin"]))
    print(f"median time attacks / twin: {ratio:.3f}")


if __name__ == "__main__":
    main()
