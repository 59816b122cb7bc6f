"""The long fuzz run of issue 19: the property of tests/fuzzing.py (every file accepted or refused
with a located message and exit 2; no traceback; no case past a time bound) over many cases.

    .venv/bin/python benchmarks/fuzz.py --cases 20000 [--seed 1] [--kinds scenario,campaign,wta,record]

Cases are shared out over the kinds in proportion to --share (default: half scenarios, since they
also run the engine when valid). Prints, per kind, the cases, how many were refused, accepted (or
run), the slowest case, and the wall time; a failing case stops the run with Hypothesis's
shrunk example. The suite runs the same property with a few hundred cases (tests/test_fuzz.py)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from hypothesis import HealthCheck, given, seed as hypothesis_seed, settings  # noqa: E402

from fuzzing import PROPERTIES  # noqa: E402

SHARE = {"scenario": 0.5, "campaign": 0.2, "wta": 0.15, "record": 0.15}


def fuzz(kind: str, cases: int, seed: int) -> dict[str, float]:
    strategy, check = PROPERTIES[kind]
    seen: dict[str, float] = {"slowest_s": 0.0}

    @hypothesis_seed(seed)
    @settings(max_examples=cases, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(strategy())
    def prop(text: str) -> None:
        start = time.monotonic()
        outcome = check(text)
        seen["slowest_s"] = max(seen["slowest_s"], time.monotonic() - start)
        seen[outcome] = seen.get(outcome, 0) + 1

    start = time.monotonic()
    prop()
    seen["wall_s"] = time.monotonic() - start
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kinds", default=",".join(PROPERTIES))
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    total = sum(SHARE[k] for k in kinds)
    print("| kind | cases | refused (exit 2, located) | accepted | slowest case s | wall s |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind in kinds:
        cases = max(1, round(args.cases * SHARE[kind] / total))
        seen = fuzz(kind, cases, args.seed)
        others = {k: int(v) for k, v in seen.items() if k not in ("refused", "slowest_s", "wall_s")}
        done = int(seen.get("refused", 0)) + sum(others.values())
        print(f"| {kind} | {done} | {int(seen.get('refused', 0))} | "
              f"{', '.join(f'{v} {k}' for k, v in sorted(others.items())) or 0} | {seen['slowest_s']:.2f} | "
              f"{seen['wall_s']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
