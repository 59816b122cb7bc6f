"""Fixed costs of a command (issue 20): a warm ``shieldwall run examples/city-defence.yaml
--replications 1000`` (report included) and ``shieldwall --help``, this tree beside another
revision (default: where this branch left main), and where the seconds of a run go.

    .venv/bin/python benchmarks/run_speed.py [--rounds 5] [--baseline REV] [--replications 1000]

Both commands run as a user runs them (a fresh ``python -m shieldwall`` each time), warm: each
tree has run once before the timings (numba's cache filled and loaded from disk afterwards).
The baseline is the revision's ``src/`` exported with ``git archive`` into a folder of the
temporary directory named by its commit (kept, so that its numba cache survives between
benchmark runs), run by the same interpreter with ``PYTHONPATH`` pointing there. Rounds are
paired and alternate their order (this tree then the baseline, then the other way round), so
that a drift of a shared machine's speed falls on both; each run's CPU seconds are printed
beside its wall seconds (other users' load moves CPU time less). Both trees' summary.json,
report.md, scenario.json, events.csv and report.html (but the line that says when and where it
was written) are checked identical (the same seed).

Then the stages of one run of each tree, timed inside the process (``--child stages``):
interpreter start and the command's imports up to the run, loading the scenario, compiling,
the Monte Carlo (kernel and the files streamed as chunks land), the end of the run
(summary.json, engagements), report.md, report.html, printing; ``other`` is what no stage
holds."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT / "examples" / "city-defence.yaml"

# (stage, module, attribute): the function timed for a stage, where that tree has it
STAGES = (
    ("load", "shieldwall.scenario.load", "load_scenario"),
    ("compile", "shieldwall.engine.runner", "compile_scenario"),
    ("simulate", "shieldwall.engine.runner", "run_chunk"),
    ("end of run", "shieldwall.engine.results", "RaidResult.finish"),
    ("report.md", "shieldwall.report.markdown", "write_markdown_report"),
    ("report.html", "shieldwall.report.html", "write_report"),
    ("print", "shieldwall.report.console", "print_summary"),
)


def child_stages(replications: int, out: str, started: float) -> dict[str, float]:
    """In a fresh process: ``shieldwall run`` (cli.run_cmd.run_command) with its stages timed.
    ``started``: time.time() just before this process was started (interpreter start)."""
    import importlib

    entered = time.time()
    from shieldwall.cli.run_cmd import run_command  # what the command imports before it runs

    imported = time.time()
    spent = {name: 0.0 for name, _, _ in STAGES}
    for name, module, attr in STAGES:
        owner = importlib.import_module(module)
        *path, leaf = attr.split(".")
        for part in path:
            owner = getattr(owner, part)
        fn = getattr(owner, leaf, None)
        if fn is None:
            continue

        def timed(*a, _fn=fn, _name=name, **k):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return _fn(*a, **k)
            finally:
                spent[_name] += time.perf_counter() - start

        setattr(owner, leaf, timed)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        run_command(CITY, replications=replications, seed=None, out=Path(out), workers=1)
    total = time.perf_counter() - start
    spent["other"] = total - sum(spent.values())
    return {"interpreter": entered - started, "imports": imported - entered, **spent}


def export(revision: str) -> Path:
    """``revision``'s tree in a folder of the temporary directory named by its commit (kept)."""
    sha = subprocess.run(["git", "rev-parse", revision], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    folder = Path(tempfile.gettempdir()) / f"shieldwall-run-speed-{sha[:12]}"
    if not (folder / "src").is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", "--format=tar", sha, "src", "examples"], cwd=ROOT,
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def command(tree: Path, *args: str) -> tuple[float, float]:
    """``python -m shieldwall ARGS`` on ``tree``'s sources: wall and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "shieldwall", *args], capture_output=True, cwd=tree,
                          env={**os.environ, "PYTHONPATH": str(tree / "src")})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert proc.returncode == 0, proc.stderr.decode()
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def stages(tree: Path, replications: int, out: Path) -> dict[str, float]:
    started = time.time()
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(replications), str(out),
                           repr(started)], capture_output=True, text=True, cwd=tree,
                          env={**os.environ, "PYTHONPATH": str(tree / "src")})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", default=None,
                        help="git revision to compare with (default: where this branch left main, "
                             "`git merge-base HEAD main`, whose outputs must equal this tree's)")
    parser.add_argument("--replications", type=int, default=1000)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_stages(int(args.child[0]), args.child[1], float(args.child[2]))))
        return
    if args.baseline is None:
        args.baseline = subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=ROOT, capture_output=True, text=True,
                                       check=True).stdout.strip()[:12]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    base = export(args.baseline)
    trees = {"this tree": ROOT, args.baseline: base}
    reps = str(args.replications)
    with tempfile.TemporaryDirectory() as tmp:
        outs = {name: Path(tmp) / f"run-{i}" for i, name in enumerate(trees)}

        def run_args(name: str) -> tuple[str, ...]:
            return ("run", str(CITY), "--replications", reps, "--out", str(outs[name]))

        for name, tree in trees.items():  # warm: numba's cache filled, files in the page cache
            command(tree, *run_args(name))
        def text(name: str, f: str) -> str:  # the report names its folder and when it was written
            return re.sub(r"report written [^<]*", "", (outs[name] / f).read_text(encoding="utf-8"))

        same = [f for f in ("summary.json", "report.md", "scenario.json", "events.csv", "report.html")
                if text("this tree", f) != text(args.baseline, f)]
        if same:
            a, b = text("this tree", same[0]), text(args.baseline, same[0])
            at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            raise SystemExit(f"{', '.join(same)} differ from the baseline's, first at character {at} of "
                             f"{same[0]}: {a[at - 80:at + 80]!r} / {b[at - 80:at + 80]!r}")
        timings: dict[str, dict[str, list[tuple[float, float]]]] = {n: {"run": [], "help": []} for n in trees}
        for i in range(args.rounds):
            order = list(trees) if i % 2 == 0 else list(trees)[::-1]
            for name in order:
                timings[name]["run"].append(command(trees[name], *run_args(name)))
            for name in order:
                timings[name]["help"].append(command(trees[name], "--help"))
        staged = {name: stages(tree, args.replications, Path(tmp) / f"stages-{i}") for i, (name, tree)
                  in enumerate(trees.items())}
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"

    def med(xs: list[tuple[float, float]], i: int) -> float:
        return statistics.median(x[i] for x in xs)

    new, old = timings["this tree"], timings[args.baseline]
    lines = [
        f"`.venv/bin/python benchmarks/run_speed.py --rounds {args.rounds} --baseline {args.baseline} "
        f"--replications {args.replications}` on {machine}, load average before: {load}; {args.rounds} rounds of "
        "paired runs in alternating order, each a fresh process, warm; summary.json, report.md, scenario.json, events.csv "
        "and report.html (but its time and folder) identical (checked).",
        "",
        f"| command | this tree, wall (median, min-max) | CPU | {args.baseline}, wall | CPU | "
        f"{args.baseline} / this tree, paired wall ratio (median) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for what, label in (("run", f"`shieldwall run examples/city-defence.yaml --replications {reps}`"),
                        ("help", "`shieldwall --help`")):
        a, b = new[what], old[what]
        ratio = statistics.median(y[0] / x[0] for x, y in zip(a, b))
        lines.append(f"| {label} | {med(a, 0):.2f} s ({min(x[0] for x in a):.2f}-{max(x[0] for x in a):.2f}) | "
                     f"{med(a, 1):.2f} s | {med(b, 0):.2f} s ({min(x[0] for x in b):.2f}-{max(x[0] for x in b):.2f}) | "
                     f"{med(b, 1):.2f} s | {ratio:.2f}x |")
    names = list(staged["this tree"])
    lines += ["", "Stages of one run, seconds (timers inside the process):", "",
              "| tree | " + " | ".join(names) + " | total |", "|---|" + "---:|" * (len(names) + 1)]
    for name, spent in staged.items():
        lines.append(f"| {name} | " + " | ".join(f"{spent.get(s, 0.0):.3f}" for s in names)
                     + f" | {sum(spent.values()):.2f} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
