"""A plain Markdown report of one run, readable on GitHub or in any editor."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from rich.console import Console

from shieldwall.report.console import WIDE_COLUMNS, summary_tables


def write_markdown_report(summary: dict[str, Any], path: Path) -> Path:
    """The same tables as the terminal, rendered as text inside a Markdown page."""
    console = Console(record=True, width=WIDE_COLUMNS, file=io.StringIO(), color_system=None)
    for table in summary_tables(summary, everything=True):
        console.print(table)
    for text in summary.get("warnings") or []:
        console.print(f"warning: {text}", markup=False, highlight=False)
    tot = summary["totals"]
    lines = [
        f"# {summary['scenario']}",
        "",
        f"{summary['replications']} replications, seed {summary['seed']}. "
        f"Of {tot['launched']} threats launched, {tot['leaked_mean']:.1f} leaked on average "
        f"(95% CI {tot['leaked_ci95'][0]:.1f}-{tot['leaked_ci95'][1]:.1f})"
        + (f", {tot['leaked_armed_mean']:.2f} of them armed (the rest decoys)" if "leaked_armed_mean" in tot else "")
        + f"; {tot.get('expired_mean', 0.0):.1f} failed in flight.",
        "",
        "```",
        console.export_text().rstrip(),
        "```",
        "",
        "Files: `summary.json` (these numbers), `replications/*.parquet` (one row per replication), "
        "`engagements.parquet` (every engagement), `timelines.parquet` (rounds and fire channels over the night), "
        "`events.parquet` / `events.csv` (replication 0, for replays). Model: docs/model.md.",
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
