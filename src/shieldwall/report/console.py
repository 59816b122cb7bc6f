"""Terminal rendering of a run's summary (the same dict that summary.json holds)."""

from __future__ import annotations

import unicodedata
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from shieldwall.report.tables import TextTable, raid_tables, usd  # noqa: F401  (usd: for the other commands)


def printable(text: Any) -> str:
    """User text made safe for a terminal: control characters (escape sequences, carriage
    returns, bells) are shown as ``\x1b`` instead of acting on the terminal. Print it through a
    ``plain_console`` (or as rich ``Text``) so that brackets are never read as markup either."""
    return "".join(c if c in "\n\t" or unicodedata.category(c)[0] != "C" else ascii(c)[1:-1] for c in str(text))


WIDE_COLUMNS = 240  # a pipe or a log file: tables at their natural width, never wrapped at 80


def plain_console(**kwargs: Any) -> Console:
    """A console that never reads markup or highlights: names in user files may hold `[/]`.
    Writing to a pipe or a file (``make demo | tee``, a CI log), it draws tables at their own
    width instead of wrapping them at 80 columns."""
    console = Console(markup=False, highlight=False, **kwargs)
    if not console.is_terminal and "width" not in kwargs:
        console = Console(markup=False, highlight=False, width=WIDE_COLUMNS, **kwargs)
    return console


def rich_table(table: TextTable) -> Table:
    """One of report/tables.py's tables, drawn by rich."""
    out = Table(title=table.title, title_justify="left", show_header=any(table.head))
    for i, col in enumerate(table.head):
        out.add_column(col, justify="left" if i in table.text_columns else "right")
    for row in table.rows:
        out.add_row(*row)
    for row in table.total:
        out.add_row(*row, style="bold")
    return out


def summary_tables(summary: dict[str, Any], everything: bool = False) -> list[Any]:
    """The run's tables (report/tables.py) for the terminal, each with its note under it;
    ``everything``: the long ones too (report.md)."""
    out: list[Any] = []
    for table in raid_tables(summary):
        if everything or table.console:
            out.append(rich_table(table))
            if table.note:
                out.append(Text(printable(table.note), style="dim"))
    return out


def print_warnings(console: Console, warnings: list[str]) -> None:
    for text in warnings:
        console.print(Text("warning: ", style="bold yellow") + Text(printable(text)))


def print_summary(console: Console, summary: dict[str, Any]) -> None:
    console.print(Text(printable(summary["scenario"]), style="bold")
                  + Text(f": {summary['replications']} replications, seed {summary['seed']}"))
    for table in summary_tables(summary):
        console.print(table)
    print_warnings(console, summary.get("warnings") or [])
