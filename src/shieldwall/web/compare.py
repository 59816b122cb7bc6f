"""A comparison's page: the CLI's ``compare`` (campaign/compare.py) shown in the web app.

B - A per metric with its 95% paired interval on common random numbers, and what it means:
green where B is clearly better, red where clearly worse (by whether higher is better for that
metric), plain where the interval holds zero."""

from __future__ import annotations

from html import escape
from typing import Any

from shieldwall.campaign.compare import verdict
from shieldwall.errors import UsageError
from shieldwall.report.tables import usd


def _show(x: float, money: bool, signed: bool = False) -> str:
    if money:
        return ("+" if signed and x > 0 else "") + usd(x)
    return f"{x:+,.2f}" if signed else f"{x:,.2f}"


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise UsageError(f"comparison.json: {where}: expected a number, found {str(value)[:60]!r}")
    return float(value)


def _checked_metric(m: Any, where: str) -> dict[str, Any]:
    """One metric of comparison.json with the numbers the table shows checked: the file sits in
    the runs folder, where anything may have been written, so a malformed one is a located 400,
    never a 500 (issue 19)."""
    if not isinstance(m, dict):
        raise UsageError(f"comparison.json: {where}: expected an object, found {str(m)[:60]!r}")
    ci = m.get("difference_ci95")
    if not isinstance(ci, list) or len(ci) != 2:
        raise UsageError(f"comparison.json: {where}.difference_ci95: expected [low, high], found {str(ci)[:60]!r}")
    better = m.get("higher_is_better")
    if better is not None and not isinstance(better, bool):
        raise UsageError(f"comparison.json: {where}.higher_is_better: expected true, false or null, "
                         f"found {str(better)[:60]!r}")
    return {**m, **{k: _number(m.get(k), f"{where}.{k}") for k in ("a_mean", "b_mean", "difference_mean")},
            "difference_ci95": [_number(x, f"{where}.difference_ci95") for x in ci]}


def _metrics(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, checked metric) rows: the metrics, then each stock's depletion night where either
    side runs out."""
    metrics, depletion = result.get("metrics"), result.get("depletion_night") or {}
    if not isinstance(metrics, dict):
        raise UsageError(f"comparison.json: metrics: expected an object, found {str(metrics)[:60]!r}")
    if not isinstance(depletion, dict):
        raise UsageError(f"comparison.json: depletion_night: expected an object, found {str(depletion)[:60]!r}")
    rows = [(str(name), _checked_metric(m, f"metrics.{name}")) for name, m in metrics.items()]
    for k, m in depletion.items():
        checked = _checked_metric(m, f"depletion_night.{k}")
        if not (m.get("a_never") == 1.0 and m.get("b_never") == 1.0):
            rows.append((f"depletion {k}", checked))
    return rows


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
    for name, m in _metrics(result):
        money = name.endswith("usd")
        lo, hi = m["difference_ci95"]
        word = verdict(m)
        cls = {"better": "sw-better", "worse": "sw-worse"}.get(word, "")
        rows.append(f'<tr data-metric="{escape(name)}" data-verdict="{escape(word)}"><td>{escape(str(m.get("label", name)))}</td>'
                    f"<td>{_show(m['a_mean'], money)}</td><td>{_show(m['b_mean'], money)}</td>"
                    f'<td class="{cls}">{_show(m["difference_mean"], money, True)}</td>'
                    f'<td>[{_show(lo, money, True)}, {_show(hi, money, True)}]</td><td class="{cls}">{escape(word)}</td></tr>')
    names = result.get("scenario")
    if not isinstance(names, list) or len(names) != 2:
        names = ["", ""]
    notes = []
    if not result.get("common_random_numbers", True):
        notes.append("A and B do not launch the same threats, so their random numbers are only partly common.")
    if result.get("note"):
        notes.append(str(result["note"]))
    return (f'<p class="sw-meta">A: {escape(str(result.get("a")))} ({escape(str(names[0]))}); '
            f'B: {escape(str(result.get("b")))} ({escape(str(names[1]))}); {escape(kind)}, '
            f"{escape(str(result.get('replications')))} replications, seed {escape(str(result.get('seed')))}, "
            "common random numbers. "
            "Green: B is clearly better; red: clearly worse (the 95% interval of B - A excludes 0); "
            "plain: no clear difference.</p>"
            '<table class="sw-table sw-compare-table"><thead><tr><th></th><th>A</th><th>B</th><th>B - A</th>'
            f'<th>95% interval</th><th>B is</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
            + "".join(f'<p class="sw-muted">{escape(n)}</p>' for n in notes))
