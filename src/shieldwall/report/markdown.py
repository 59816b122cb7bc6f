"""A plain Markdown report of one run, readable on GitHub or in any editor."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from rich.console import Console

from shieldwall.report.console import summary_tables


def write_markdown_report(summary: dict[str, Any], path: Path) -> Path:
    """The same tables as the terminal, rendered as text inside a Markdown page."""
    console = Console(record=True, width=110, file=io.StringIO(), color_system=None)
    for table in summary_tables(summary):
        console.print(table)
    tot = summary["totals"]
    lines = [
        f"# {summary['scenario']}",
        "",
        f"{summary['replications']} replications, seed {summary['seed']}. "
        f"Of {tot['launched']} threats launched, {tot['leaked_mean']:.1f} leaked on average "
        f"(95% CI {tot['leaked_ci95'][0]:.1f}-{tot['leaked_ci95'][1]:.1f}).",
        "",
        "```",
        console.export_text().rstrip(),
        "```",
        "",
        "Files: `summary.json` (these numbers), `replications/*.parquet` (one row per replication), "
        "`events.parquet` / `events.csv` (replication 0, for replays). Model: docs/model.md.",
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
