"""``shieldwall run``: load, simulate with a progress bar, print tables, write files."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def run_command(path: Path, *, replications: int, seed: int | None, out: Path, workers: int,
                html: bool = True) -> None:
    from shieldwall.engine.runner import run
    from shieldwall.report.console import print_summary
    from shieldwall.report.markdown import write_markdown_report
    from shieldwall.scenario.load import load_scenario

    console = Console()
    scenario = load_scenario(path)
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(f"simulating {scenario.name}", total=replications)
        result = run(scenario, replications=replications, seed=seed, workers=workers, out_dir=out,
                     progress=lambda n: bar.advance(task, n))
    summary = result.summary()
    print_summary(console, summary)
    report = write_markdown_report(summary, out / "report.md")
    console.print(f"wrote {out / 'summary.json'}, {report}, {out / 'replications'}/*.parquet, "
                  f"{out / 'events.parquet'} (replication 0)")
    if html:
        from shieldwall.report.html import write_report

        console.print(f"wrote {write_report(out)} (open it in a browser; no network needed)")
