"""``shieldwall report``: the self-contained HTML report of a run folder."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console


def report_command(run_dir: Path, *, out: Path | None, scenario: Path | None) -> Path:
    from shieldwall.report.html import write_report

    path = write_report(run_dir, out, scenario)
    from shieldwall.report.console import printable

    Console(highlight=False, markup=False).print(printable(f"wrote {path}"))
    return path
