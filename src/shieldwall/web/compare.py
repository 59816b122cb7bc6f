"""A comparison's page: the CLI's ``compare`` (campaign/compare.py) shown in the web app.

B - A per metric with its 95% paired interval on common random numbers, and what it means:
green where B is clearly better, red where clearly worse (by whether higher is better for that
metric), plain where the interval holds zero."""

from __future__ import annotations

from html import escape
from typing import Any

from shieldwall.campaign.compare import verdict
from shieldwall.report.tables import usd


def _show(x: float, money: bool, signed: bool = False) -> str:
    if money:
        return ("+" if signed and x > 0 else "") + usd(x)
    return f"{x:+,.2f}" if signed else f"{x:,.2f}"


def comparison_body(result: dict[str, Any]) -> str:
    """The comparison page's body: a heading, what was compared, the table."""
    if not result.get("metrics"):
        return '<h1>Comparison</h1><p class="sw-error">This comparison has no results (comparison.json).</p>'
    return (f"<h1>Compare: {escape(str(result.get('b')))} - {escape(str(result.get('a')))}</h1>"
            + comparison_table(result) + '<p><a href="/compare">another comparison</a></p>')


def comparison_table(result: dict[str, Any]) -> str:
    """What was compared, B - A per metric with its interval and verdict, and the notes: the
    comparison page's and the laydown page's (shown in place) one table."""
    kind = result.get("kind", "raid")
    rows = []
    metrics = [(name, m) for name, m in result["metrics"].items()]
    metrics += [(f"depletion {k}", m) for k, m in (result.get("depletion_night") or {}).items()
                if not (m.get("a_never") == 1.0 and m.get("b_never") == 1.0)]
    for name, m in metrics:
        money = name.endswith("usd")
        lo, hi = m["difference_ci95"]
        word = verdict(m)
        cls = {"better": "sw-better", "worse": "sw-worse"}.get(word, "")
        rows.append(f'<tr data-metric="{escape(name)}" data-verdict="{escape(word)}"><td>{escape(m.get("label", name))}</td>'
                    f"<td>{_show(m['a_mean'], money)}</td><td>{_show(m['b_mean'], money)}</td>"
                    f'<td class="{cls}">{_show(m["difference_mean"], money, True)}</td>'
                    f'<td>[{_show(lo, money, True)}, {_show(hi, money, True)}]</td><td class="{cls}">{escape(word)}</td></tr>')
    names = result.get("scenario") or ["", ""]
    notes = []
    if not result.get("common_random_numbers", True):
        notes.append("A and B do not launch the same threats, so their random numbers are only partly common.")
    if result.get("note"):
        notes.append(str(result["note"]))
    return (f'<p class="sw-meta">A: {escape(str(result.get("a")))} ({escape(str(names[0]))}); '
            f'B: {escape(str(result.get("b")))} ({escape(str(names[1]))}); {escape(kind)}, '
            f"{result.get('replications')} replications, seed {result.get('seed')}, common random numbers. "
            "Green: B is clearly better; red: clearly worse (the 95% interval of B - A excludes 0); "
            "plain: no clear difference.</p>"
            '<table class="sw-table sw-compare-table"><thead><tr><th></th><th>A</th><th>B</th><th>B - A</th>'
            f'<th>95% interval</th><th>B is</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
            + "".join(f'<p class="sw-muted">{escape(n)}</p>' for n in notes))
