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
The first compile of the numba kernel is done before any timing.

Workers (printed first; alone with ``--workers-only``): examples/campaign-winter.yaml with 1 and
2 workers at ``--sizes`` replications, ``--rounds`` paired runs each in alternating order beside
the ceiling of two processes of pure arithmetic: ``run_campaign`` in a fresh, warmed-up process
(wall and CPU seconds of each process) and the whole ``shieldwall campaign`` command; then the
command's stages (load, run_campaign, summary, write, report) timed inside it.

    .venv/bin/python benchmarks/campaign_speed.py --workers-only [--rounds 3] [--sizes 200,1000,2000]"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
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
STAGES = ("load", "run_campaign", "summary", "write", "report")


def child_engine(replications: int, workers: int) -> dict:
    """In a fresh process: load the winter campaign, warm up (imports, numba's cache, one small
    campaign with 1 worker), then time ``run_campaign`` alone. CPU seconds of this process and
    of its workers (reaped before reading them)."""
    import multiprocessing
    import resource

    loaded = load_campaign(WINTER)
    run_campaign(loaded, replications=8, seed=1, workers=1)
    cpu, start = time.process_time(), time.perf_counter()
    result = run_campaign(loaded, replications=replications, seed=11, workers=workers)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    while multiprocessing.active_children():  # a pool left to exit on its own is reaped here
        time.sleep(0.01)
    summary = result.summary()
    summary.pop("file")
    return {"wall": wall, "cpu_main": cpu, "cpu_workers": resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
            + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime, "summary": json.dumps(summary, default=str)}


def child_stages(replications: int, workers: int, out: str) -> dict:
    """In a fresh process: ``shieldwall campaign`` itself (cli.campaign_cmd), each of its stages
    timed (what is not in them: interpreter start, imports, printing)."""
    import shieldwall.campaign.load as load_module
    import shieldwall.campaign.results as results_module
    import shieldwall.campaign.run as run_module
    import shieldwall.report.html as html_module
    from shieldwall.cli.campaign_cmd import campaign_command

    spent = dict.fromkeys(STAGES, 0.0)

    def timer(stage, fn):  # type: ignore[no-untyped-def]
        def timed_fn(*a, **k):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[stage] += time.perf_counter() - start
        return timed_fn

    load_module.load_campaign = timer("load", load_module.load_campaign)
    run_module.run_campaign = timer("run_campaign", run_module.run_campaign)
    cls = results_module.CampaignResult
    cls.summary, cls.write = timer("summary", cls.summary), timer("write", cls.write)
    html_module.write_report = timer("report", html_module.write_report)
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        campaign_command(WINTER, replications=replications, seed=None, out=Path(out), workers=workers)
    return spent


def _child(*argv: object) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *map(str, argv)], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ``python -m shieldwall`` that says, as it exits, the CPU seconds of its own process and of its workers
CLI_WITH_CPU = ("import atexit, os, resource, runpy\n"
                "def cpu(who):\n"
                "    r = resource.getrusage(who)\n"
                "    return r.ru_utime + r.ru_stime\n"
                "atexit.register(lambda: os.write(2, ('CPU %.4f %.4f\\n' % (cpu(resource.RUSAGE_SELF), "
                "cpu(resource.RUSAGE_CHILDREN))).encode()))\n"
                "runpy.run_module('shieldwall', run_name='__main__')\n")


def _cli(replications: int, workers: int, out: Path) -> tuple[float, float, float]:
    """``shieldwall campaign`` as a user runs it: wall seconds, CPU seconds of all its processes
    and of the command's own process (the one that also does every serial part)."""
    cmd = [sys.executable, "-c", CLI_WITH_CPU, "campaign", str(WINTER), "-n", str(replications), "-w", str(workers),
           "--out", str(out)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    wall = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    own, workers_cpu = (float(x) for x in proc.stderr.decode().strip().splitlines()[-1].split()[1:3])
    return wall, own + workers_cpu, own


def workers_part(replications: list[int], rounds: int, tmp: Path) -> list[str]:
    """examples/campaign-winter.yaml with 1 and 2 workers, paired runs in alternating order
    (1, 2 then 2, 1) so that a drift of the machine's speed falls on both, each round beside
    what two processes of pure arithmetic got: the engine part (``run_campaign``, warm, in a
    fresh process), and the whole ``shieldwall campaign`` command. Results checked identical."""
    import statistics

    from raid_speed import child_capacity

    def spread(xs: list[float]) -> str:
        return f"{statistics.median(xs):.2f}x ({min(xs):.2f}-{max(xs):.2f})"

    rows = []
    for reps in replications:
        engine: dict[int, list[dict]] = {1: [], 2: []}
        cli: dict[int, list[tuple[float, float, float]]] = {1: [], 2: []}
        ceiling = []
        for i in range(rounds):
            ceiling.append(child_capacity()["capacity"])
            order = (1, 2) if i % 2 == 0 else (2, 1)
            for w in order:
                engine[w].append(_child("engine", reps, w))
            for w in order:
                cli[w].append(_cli(reps, w, tmp / f"cli-{reps}-{i}-{w}"))
        assert len({r["summary"] for r in engine[1] + engine[2]}) == 1, "results differ between worker counts"
        e1, e2 = engine[1], engine[2]
        paired = [a["wall"] / b["wall"] for a, b in zip(e1, e2)]
        cpu_ratio = [(a["cpu_main"] + a["cpu_workers"]) / max(b["cpu_main"], b["cpu_workers"]) for a, b in zip(e1, e2)]
        rows.append(f"| {reps} | `run_campaign` | {statistics.median(r['wall'] for r in e1):.2f} s | "
                    f"{statistics.median(r['wall'] for r in e2):.2f} s | {spread(paired)} | {spread(cpu_ratio)} | "
                    f"{statistics.median(b['cpu_main'] + b['cpu_workers'] for b in e2) / statistics.median(a['cpu_main'] for a in e1):.2f} | "
                    f"{spread(ceiling)} |")
        paired = [a[0] / b[0] for a, b in zip(cli[1], cli[2])]
        cpu_ratio = [a[1] / b[2] for a, b in zip(cli[1], cli[2])]  # the worker ends first: the command's own is longer
        rows.append(f"| {reps} | `shieldwall campaign` | {statistics.median(a[0] for a in cli[1]):.2f} s | "
                    f"{statistics.median(b[0] for b in cli[2]):.2f} s | {spread(paired)} | {spread(cpu_ratio)} | "
                    f"{statistics.median(b[1] for b in cli[2]) / statistics.median(a[1] for a in cli[1]):.2f} | |")
    stages = []
    for reps in replications:
        for w in (1, 2):
            spent = _child("stages", reps, w, tmp / f"stages-{reps}-{w}")
            stages.append(f"| {reps} | {w} | " + " | ".join(f"{spent[s]:.2f}" for s in STAGES) + " |")
    return [
        f"examples/campaign-winter.yaml (121 nights), {rounds} rounds of paired runs (1 then 2 workers, then 2 then "
        "1), each run in a fresh process; results identical for 1 and 2 workers (checked).",
        "",
        "| replications | what | `-w 1` (median) | `-w 2` (median) | paired ratio, median (min-max) | CPU ratio: "
        "1 worker's CPU / the busier process's with 2 | CPU of all processes, 2 workers / 1 | two processes of "
        "pure arithmetic vs one, same rounds |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "The CPU ratio is what 2 workers would give on two idle cores (each process's own CPU seconds, which other "
        "users' load changes less than wall time; for the command, all of `-w 1`'s CPU over the CPU of `-w 2`'s own "
        "process, which does every serial part and half the replications: its worker ends first). The command's stages, seconds (one run each, in-process timers; "
        "the rest of the command is interpreter start, imports and printing):",
        "",
        "| replications | workers | " + " | ".join(STAGES) + " |",
        "|---:|---:|" + "---:|" * len(STAGES),
        *stages,
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--workers-only", action="store_true", help="only the 1-vs-2-workers tables")
    parser.add_argument("--rounds", type=int, default=3, help="pairs of runs per size in the workers table")
    parser.add_argument("--sizes", default="200,1000,2000", help="replications of the workers table")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        out = child_engine(int(rest[0]), int(rest[1])) if kind == "engine" else \
            child_stages(int(rest[0]), int(rest[1]), rest[2])
        print(json.dumps(out))
        return
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    sizes = [int(x) for x in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        table = workers_part(sizes, args.rounds, Path(tmp))
    print("\n".join([f"`.venv/bin/python benchmarks/campaign_speed.py --workers-only --rounds {args.rounds} "
                     f"--sizes {args.sizes}` on {machine}, load average before: "
                     f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}", "", *table]), flush=True)
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
