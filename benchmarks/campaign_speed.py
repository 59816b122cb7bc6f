"""Campaign speed: an N-night campaign against N single-night raids of the same size, and
180 nights x 200 replications of a typical calibrated night.

    .venv/bin/python benchmarks/campaign_speed.py [--nights 30] [--replications 200] [--markdown]

Part 1, the same raid every night (examples/city-defence.yaml's 176 threats):
  - campaign: N nights through ``run_campaign`` (ledger, top-up, one compile for all nights);
  - singles: N calls of ``shieldwall.engine.runner.run`` (compile + simulate each night), and
    N calls of ``simulate`` on one compile (the kernel alone).
Part 2, generated nights (the built-in 2022-2024 generator over the city's routes): the campaign
masks one compiled raid down to each replication's sampled raid; singles run, night by night,
a raid compiled at that night's mean sampled size.
Part 3: 180 nights x 200 replications of the median calibrated night (the generator's median
raid size, split by its mean threat mix over the city's routes), and of the generator itself.
The first compile of the numba kernel is done before any timing."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from shieldwall.campaign import load_campaign, run_campaign  # noqa: E402
from shieldwall.campaign.run import _GeneratedRaid, generator_rng, night_seed  # noqa: E402
from shieldwall.engine.compile import compile_scenario  # noqa: E402
from shieldwall.engine.runner import run, simulate  # noqa: E402
from shieldwall.scenario.load import load_scenario  # noqa: E402

CITY = ROOT / "examples" / "city-defence.yaml"


def campaign_file(folder: Path, nights: int, **extra: object) -> Path:
    doc = {"name": "bench", "start_date": "2025-01-01", "nights": nights, "seed": 7,
           "theatre": {"scenario": str(CITY)}, **extra}
    path = folder / f"bench-{len(list(folder.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


GENERATOR = {"builtin": "raids-2022-2024", "share": 1.0,
             "routes": [{"id": "kh-22-wave", "threat": "kh-22", "count": 1,
                         "launch": {"lat": 45.3, "lon": 36.6, "spread_km": 20}, "time_s": 16000,
                         "window_s": 300, "target": {"kind": "energy"}}]}


def part1(folder: Path, nights: int, reps: int) -> dict[str, float]:
    scenario = load_scenario(CITY)
    path = campaign_file(folder, nights, raids=[{"night": t + 1, "from_scenario": True} for t in range(nights)])
    loaded = load_campaign(path)
    t_campaign, _ = timed(lambda: run_campaign(loaded, replications=reps, seed=7))
    t_run, _ = timed(lambda: [run(scenario, replications=reps, seed=night_seed(7, t)) for t in range(nights)])
    compiled = compile_scenario(scenario, 7)
    t_sim, _ = timed(lambda: [simulate(compiled, scenario, replications=reps, seed=night_seed(7, t))
                              for t in range(nights)])
    return {"threats": compiled.n_threats, "campaign": t_campaign, "runs": t_run, "simulate": t_sim}


def part2(folder: Path, nights: int, reps: int) -> dict[str, float]:
    loaded = load_campaign(campaign_file(folder, nights, generator=GENERATOR))
    t_campaign, result = timed(lambda: run_campaign(loaded, replications=reps, seed=7))
    gen = _GeneratedRaid(loaded)
    base = loaded.theatre
    t_single = t_kernel = 0.0
    sizes = []
    for t in range(nights):
        counts = loaded.generator.sample(generator_rng(7, t), reps)
        mean = np.rint(counts.mean(axis=0)).astype(int)[None, :]
        mask, _ = gen.present(mean)
        raids = [r.model_copy(update={"count": int(n), "decoys": None}) for r, n in
                 _counts_per_raid(gen, mask[0]) if n > 0]
        raids += [r.model_copy(update={"id": r.id + "-d", "threat": r.decoys.threat, "count": int(n),
                                       "decoys": None}) for r, n in _counts_per_raid(gen, mask[0], decoys=True) if n > 0]
        sizes.append(int(mask[0].sum()))
        if not raids:
            continue
        scenario = base.model_copy(update={"raids": raids})
        start = time.perf_counter()
        compiled = compile_scenario(scenario, 7)
        mid = time.perf_counter()
        simulate(compiled, scenario, replications=reps, seed=night_seed(7, t))
        end = time.perf_counter()
        t_single += end - start
        t_kernel += end - mid
    return {"campaign": t_campaign, "singles": t_single, "singles_kernel": t_kernel,
            "compiled_threats": gen.n_threats, "mean_size": float(np.mean(sizes)),
            "campaign_mean_size": float(result.launched.sum(axis=2).mean())}


def _counts_per_raid(gen, mask, decoys: bool = False):  # type: ignore[no-untyped-def]
    i = 0
    for slot in gen.slots:
        if slot.decoy:
            if decoys:
                yield gen.raids[i - 1], int(mask[slot.start:slot.start + slot.cap].sum())
            continue
        if not decoys:
            yield gen.raids[i], int(mask[slot.start:slot.start + slot.cap].sum())
        i += 1


def typical_raids(loaded) -> tuple[list[dict], int]:  # type: ignore[no-untyped-def]
    """The generator's median raid size, split by its mean mix over raid nights."""
    typical = loaded.generator.typical_night(seed=0)
    size = int(typical["median_total"])
    ids = loaded.generator.threat_ids
    mean = np.array([typical[t] for t in ids])
    from shieldwall.campaign.ledger import largest_remainder

    counts = largest_remainder((size * mean / mean.sum())[None, :], np.array([size]))[0]
    raids = []
    for tid, n in zip(ids, counts):
        route = next(r for r in loaded.templates if r.threat == tid)
        if n > 0:
            raids.append({**route.model_dump(mode="json", exclude_none=True), "count": int(n), "id": f"typ-{tid}"})
            raids[-1].pop("decoys", None)
    return raids, size


def part3(folder: Path, reps: int, nights: int = 180) -> dict[str, float]:
    loaded = load_campaign(campaign_file(folder, 2, generator=GENERATOR))
    raids, size = typical_raids(loaded)
    path = campaign_file(folder, nights, raids=[{"night": t + 1, "raids": raids} for t in range(nights)],
                         depots=[{"id": "central", "stock": {"pac3-mse": 500, "iris-t": 500, "amraam": 500}}])
    typical = load_campaign(path)
    t_typ, res = timed(lambda: run_campaign(typical, replications=reps, seed=7))
    gen = load_campaign(campaign_file(folder, nights, generator=GENERATOR))
    t_gen, res_gen = timed(lambda: run_campaign(gen, replications=reps, seed=7))
    return {"size": size, "typical": t_typ, "generator": t_gen,
            "gen_mean_size": float(res_gen.launched.sum(axis=2).mean()), "mix": {r["threat"]: r["count"] for r in raids}}


WINTER = ROOT / "examples" / "campaign-winter.yaml"


def workers_part(replications: list[int], rounds: int) -> list[dict[str, float]]:
    """examples/campaign-winter.yaml with 1 and 2 workers, alternating (1, 2, 2, 1, ...) so that a
    drift of the machine's speed falls on both; medians of ``rounds`` pairs, and the ratio of the
    medians. Results are checked identical. Besides, ``shieldwall campaign`` itself (a process
    each, imports and report included) once per worker count, at the CLI's default 200."""
    import subprocess

    loaded = load_campaign(WINTER)
    run_campaign(loaded, replications=20, seed=1, workers=2)  # warm: numba, scipy, the fork path
    out = []
    for reps in replications:
        times: dict[int, list[float]] = {1: [], 2: []}
        first = {}
        for i in range(rounds):
            for w in ((1, 2) if i % 2 == 0 else (2, 1)):
                dt, res = timed(lambda: run_campaign(loaded, replications=reps, seed=11, workers=w))
                times[w].append(dt)
                summary = res.summary()
                summary.pop("file")
                assert first.setdefault(w, summary) == summary and first.get(1, summary) == summary
        m1, m2 = float(np.median(times[1])), float(np.median(times[2]))
        out.append({"replications": reps, "w1": m1, "w2": m2, "ratio": m1 / m2,
                    "pairs": float(np.median(np.array(times[1]) / np.array(times[2])))})
    with tempfile.TemporaryDirectory() as tmp:
        cli = {}
        for w in (1, 2, 2, 1):
            cmd = [sys.executable, "-m", "shieldwall", "campaign", str(WINTER), "-n", "200", "-w", str(w),
                   "--out", str(Path(tmp) / f"w{w}")]
            dt, proc = timed(lambda: subprocess.run(cmd, capture_output=True, cwd=ROOT))
            assert proc.returncode == 0, proc.stderr
            cli.setdefault(w, []).append(dt)
        out.append({"replications": 200, "w1": float(np.median(cli[1])), "w2": float(np.median(cli[2])),
                    "ratio": float(np.median(cli[1]) / np.median(cli[2])), "pairs": float("nan"), "cli": 1.0})
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--workers-only", action="store_true", help="only the 1-vs-2-workers table")
    parser.add_argument("--rounds", type=int, default=5, help="pairs of runs per size in the workers table")
    args = parser.parse_args()
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    rows = workers_part([200, 2000], args.rounds)
    table = [f"`.venv/bin/python benchmarks/campaign_speed.py --workers-only --rounds {args.rounds}` on {machine}: "
             "examples/campaign-winter.yaml (121 nights), median of alternating runs, identical results checked.",
             "", "| replications | `-w 1` | `-w 2` | ratio of medians | median of paired ratios |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        what = f"{r['replications']} (`shieldwall campaign`, whole process)" if r.get("cli") else str(r["replications"])
        pairs = "" if r["pairs"] != r["pairs"] else f"{r['pairs']:.2f}x"
        table.append(f"| {what} | {r['w1']:.2f} s | {r['w2']:.2f} s | {r['ratio']:.2f}x | {pairs} |")
    print("\n".join(table), flush=True)
    if args.workers_only:
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run(load_scenario(CITY), replications=2, seed=0)  # numba compile outside the timings
        p1 = part1(folder, args.nights, args.replications)
        p2 = part2(folder, args.nights, args.replications)
        p3 = part3(folder, args.replications)
    n, r = args.nights, args.replications
    lines = [
        f"`.venv/bin/python benchmarks/campaign_speed.py --nights {n} --replications {r}` on {machine}, one process.",
        "",
        "| what | campaign | N single-night raids | ratio (goal <= 1.2) |",
        "|---|---:|---:|---:|",
        f"| same raid every night ({p1['threats']} threats), {n} nights x {r} reps: vs `run()` per night "
        f"| {p1['campaign']:.1f} s | {p1['runs']:.1f} s | {p1['campaign'] / p1['runs']:.2f}x |",
        f"| same, vs `simulate()` on one compile (kernel only) | {p1['campaign']:.1f} s | {p1['simulate']:.1f} s "
        f"| {p1['campaign'] / p1['simulate']:.2f}x |",
        f"| generated nights (compiled for {p2['compiled_threats']} threats, mean {p2['campaign_mean_size']:.0f} "
        f"launched), {n} nights x {r} reps: vs compile + simulate at each night's mean size "
        f"| {p2['campaign']:.1f} s | {p2['singles']:.1f} s | {p2['campaign'] / p2['singles']:.2f}x |",
        f"| same, vs the kernel alone at each night's mean size | {p2['campaign']:.1f} s | "
        f"{p2['singles_kernel']:.1f} s | {p2['campaign'] / p2['singles_kernel']:.2f}x |",
        "",
        "| 180 nights x %d replications | time |" % r,
        "|---|---:|",
        f"| median calibrated night, {p3['size']} threats ({', '.join(f'{k} {v}' for k, v in p3['mix'].items())}) "
        f"| {p3['typical']:.1f} s |",
        f"| the calibrated generator itself, share 1.0 (mean {p3['gen_mean_size']:.1f} threats a night) "
        f"| {p3['generator']:.1f} s |",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
