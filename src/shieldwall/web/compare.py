"""Two runs side by side: their key numbers in one table with the difference, and their
leaker and interceptor plots next to each other."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from shieldwall.report.console import usd


def _summary(folder: Path) -> dict[str, Any]:
    """summary.json, or {} when it is missing or unreadable (the page says so)."""
    from shieldwall.errors import ShieldwallError
    from shieldwall.report.rundir import read_json_object

    try:
        return read_json_object(folder / "summary.json") or {}
    except ShieldwallError:
        return {}


def _rows(sa: dict[str, Any], sb: dict[str, Any]) -> list[tuple[str, float | None, float | None, bool]]:
    """(label, a, b, money) for every number both runs can have; missing -> None."""
    def get(s: dict[str, Any], *keys: str) -> float | None:
        for k in keys:
            if not isinstance(s, dict) or k not in s:
                return None
            s = s[k]
        return float(s) if isinstance(s, (int, float)) else None

    rows = [("threats launched", get(sa, "totals", "launched"), get(sb, "totals", "launched"), False),
            ("leaked (mean)", get(sa, "totals", "leaked_mean"), get(sb, "totals", "leaked_mean"), False),
            ("value lost (mean)", get(sa, "totals", "value_lost_mean"), get(sb, "totals", "value_lost_mean"), False),
            ("interceptor cost (mean)", get(sa, "totals", "interceptor_cost_usd_mean"),
             get(sb, "totals", "interceptor_cost_usd_mean"), True)]
    for group, key, label in (("threats_by_type", "leaked_mean", "leaked: {}"),
                              ("assets", "value_lost_mean", "value lost: {}"),
                              ("interceptors", "fired_mean", "fired: {}")):
        ga = sa.get(group) if isinstance(sa.get(group), dict) else {}
        gb = sb.get(group) if isinstance(sb.get(group), dict) else {}
        ids = list(ga) + [k for k in gb if k not in ga]
        rows += [(label.format(i), get(sa, group, i, key), get(sb, group, i, key), False) for i in ids]
    return rows


def _plot(draw: Any, summary: dict[str, Any]) -> str:
    """A plot of a summary, or nothing when the file does not have the shape shieldwall writes."""
    try:
        return draw(summary) or ""
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return ""


def compare_body(fa: Path, fb: Path) -> str:
    from shieldwall.report import plots

    sa, sb = _summary(fa), _summary(fb)

    def show(x: float | None, money: bool) -> str:
        return "" if x is None else (usd(x) if money else f"{x:.2f}")

    table = ['<table class="sw-table sw-compare-table"><thead><tr><th></th>'
             f'<th>A: {escape(fa.name)}</th><th>B: {escape(fb.name)}</th><th>B - A</th></tr></thead><tbody>']
    for label, a, b, money in _rows(sa, sb):
        diff = None if a is None or b is None else b - a
        cls = "" if not diff else ("sw-up" if diff > 0 else "sw-down")
        cell = "" if diff is None else ("" if not diff else "+" if diff > 0 else "-") + show(abs(diff), money)
        table.append(f"<tr><td>{escape(label)}</td><td>{show(a, money)}</td><td>{show(b, money)}</td>"
                     f'<td class="{cls}">{cell}</td></tr>')
    table.append("</tbody></table>")
    head = []
    for tag, folder, s in (("A", fa, sa), ("B", fb, sb)):
        meta = (escape(f"{s.get('scenario', '')}, {s.get('replications', '?')} replications, seed {s.get('seed', '?')}")
                if s else "no readable summary.json")
        head.append(f'<div><h2>{tag}: <a href="/runs/{escape(folder.name)}/report">{escape(folder.name)}</a></h2>'
                    f"<p class=sw-meta>{meta}</p>"
                    f'<figure class="sw-plot">{_plot(plots.leakers_plot, s)}</figure>'
                    f'<figure class="sw-plot">{_plot(plots.interceptors_plot, s)}</figure></div>')
    return (f"<h1>Compare runs</h1><p class=sw-meta>Means per raid; red: B is higher, green: B is lower. "
            f"Differences within the runs' 95% intervals (see each report) may be noise.</p>"
            f"{''.join(table)}<div class=\"sw-compare\">{''.join(head)}</div>")
