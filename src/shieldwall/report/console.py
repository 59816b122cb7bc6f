"""Terminal rendering of a run's summary (the same dict that summary.json holds)."""

from __future__ import annotations

import unicodedata
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text


def printable(text: Any) -> str:
    """User text made safe for a terminal: control characters (escape sequences, carriage
    returns, bells) are shown as ``\x1b`` instead of acting on the terminal. Print it through a
    ``plain_console`` (or as rich ``Text``) so that brackets are never read as markup either."""
    return "".join(c if c in "\n\t" or unicodedata.category(c)[0] != "C" else ascii(c)[1:-1] for c in str(text))


def plain_console(**kwargs: Any) -> Console:
    """A console that never reads markup or highlights: names in user files may hold `[/]`."""
    return Console(markup=False, highlight=False, **kwargs)


def _ci(mean: float, ci: list[float], digits: int | None = None) -> str:
    if digits is None:
        digits = 2 if abs(mean) < 10 else 1
    return f"{mean:.{digits}f} [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"


def usd(x: float) -> str:
    if abs(x) >= 1e9:
        return f"${x / 1e9:.2f}bn"
    if abs(x) >= 1e6:
        return f"${x / 1e6:.1f}M"
    if abs(x) >= 1e3:
        return f"${x / 1e3:.0f}k"
    return f"${x:.0f}"


def summary_tables(summary: dict[str, Any]) -> list[Table]:
    threats = Table(title="Threats (mean over replications, 95% CI)", title_justify="left")
    for col in ("threat", "class", "launched", "intercepted", "leaked", "leak %"):
        threats.add_column(col, justify="left" if col in ("threat", "class") else "right")
    for tid, row in summary["threats_by_type"].items():  # ids are checked: letters, digits, . _ -
        threats.add_row(tid, row["class"], str(row["launched"]), _ci(row["intercepted_mean"], row["intercepted_ci95"]),
                        _ci(row["leaked_mean"], row["leaked_ci95"]), f"{100 * row['leak_fraction']:.1f}")
    tot = summary["totals"]
    threats.add_row("all", "", str(tot["launched"]), f"{tot['intercepted_mean']:.1f}",
                    _ci(tot["leaked_mean"], tot["leaked_ci95"]),
                    f"{100 * tot['leaked_mean'] / max(tot['launched'], 1):.1f}", style="bold")

    shots = Table(title="Interceptors fired", title_justify="left")
    for col in ("interceptor", "fired", "stock", "cost"):
        shots.add_column(col, justify="left" if col == "interceptor" else "right")
    for iid, row in summary["interceptors"].items():
        shots.add_row(iid, _ci(row["fired_mean"], row["fired_ci95"]), str(row["stock"]), usd(row["cost_usd_mean"]))

    assets = Table(title="Defended assets", title_justify="left")
    for col in ("asset", "value", "hits", "P(hit)", "value lost"):
        assets.add_column(col, justify="left" if col == "asset" else "right")
    for aid, row in summary["assets"].items():
        assets.add_row(aid, f"{row['value']:g}", _ci(row["hits_mean"], row["hits_ci95"]),
                       f"{row['p_hit']:.2f}", _ci(row["value_lost_mean"], row["value_lost_ci95"], 2))

    money = Table(title="Cost exchange (means)", title_justify="left", show_header=False)
    money.add_column("what")
    money.add_column("value", justify="right")
    money.add_row("interceptors spent", usd(tot["interceptor_cost_usd_mean"]))
    money.add_row("threats destroyed (their cost)", usd(tot["threat_cost_destroyed_usd_mean"]))
    ratio = tot["cost_exchange_ratio"]
    money.add_row("spent per $ destroyed", "n/a" if ratio is None else f"{ratio:.2f}")
    money.add_row("value lost (asset units)", _ci(tot["value_lost_mean"], tot["value_lost_ci95"], 2))
    return [threats, shots, assets, money]


def print_summary(console: Console, summary: dict[str, Any]) -> None:
    console.print(Text(printable(summary["scenario"]), style="bold")
                  + Text(f": {summary['replications']} replications, seed {summary['seed']}"))
    for table in summary_tables(summary):
        console.print(table)
