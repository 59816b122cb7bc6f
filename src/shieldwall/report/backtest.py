"""HTML pages of the backtests (``backtest-raids.json``, ``backtest-rates.json``): one
self-contained file each, in the run report's style (same stylesheet, matplotlib SVG inline).

- raids: a fan chart of monthly totals per family and for the whole night (the forecast's median
  and 90 % band against the record's totals), and the comparison table;
- rates: a calibration plot (simulated share against the record's, per model and per attack-size
  bin, with the 95 % range over replications; on the diagonal they agree) and its tables."""

from __future__ import annotations

import os
import threading
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any

from shieldwall.report.html import STATIC, _asset
from shieldwall.report.plots import BAND, LINE, _figure, _svg, _tidy

RECORD = "#dc2626"


def _plot(svg: str | None, name: str) -> str:
    """A matplotlib SVG as a figure of the page (nothing where there is no plot)."""
    return f'<figure class="sw-plot" data-plot="{name}">{svg}</figure>' if svg else ""


def _table(head: list[str], rows: list[list[str]]) -> str:
    """An HTML table of already escaped cells, in the run report's style."""
    out = ['<table class="sw-table"><thead><tr>', *(f"<th>{escape(h)}</th>" for h in head), "</tr></thead><tbody>"]
    out += ["<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows]
    return "".join(out) + "</tbody></table>"


def fan_chart(test: dict[str, Any]) -> str | None:
    """Monthly totals: forecast median and 5-95 % band (blue) against the record (red), one panel
    per family and one for the whole night."""
    panels = [("all threats", test), *((fid, fam) for fid, fam in test.get("by_family", {}).items())]
    panels = [(name, p) for name, p in panels if p.get("monthly")]
    if not panels:
        return None
    cols = min(2, len(panels))
    rows = -(-len(panels) // cols)
    fig = _figure(5.2 * cols, 2.8 * rows + 0.3)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, (name, part) in zip(axes, panels):
        months = [m["month"] for m in part["monthly"]]
        x = range(len(months))
        ax.fill_between(x, [m["p5"] for m in part["monthly"]], [m["p95"] for m in part["monthly"]], color=BAND,
                        alpha=0.7, linewidth=0, label="forecast 5-95%")
        ax.plot(x, [m["median"] for m in part["monthly"]], color=LINE, linewidth=1.8, label="forecast median")
        ax.plot(x, [m["recorded"] for m in part["monthly"]], "o", color=RECORD, markersize=4, label="record")
        ax.set_xticks(list(x), months, rotation=45, fontsize=7, ha="right")
        cov = part.get("monthly_coverage_90")
        ax.set_title(f"{name}: {'' if cov is None else f'{100 * cov:.0f}% of months inside'}", loc="left", fontsize=10)
        ax.set_ylim(bottom=0)
        _tidy(ax)
    axes[0].set_ylabel("threats in the month")
    axes[0].legend(fontsize=7, frameon=False)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    fig.suptitle("Monthly totals: forecast against the record", x=0.01, ha="left", fontsize=11)
    return _svg(fig)


def calibration_plot(doc: dict[str, Any], key: str) -> str | None:
    """Simulated against recorded share (``key``: destroyed or neutralised), per model (circles)
    and per attack-size bin (squares), 95 % range over replications; the diagonal is agreement."""
    points = []
    for model, e in doc.get("by_model", {}).items():
        points.append((model, e, "o"))
    for model, bins in doc.get("by_size", {}).items():
        if len(bins) > 1:
            points += [(f"{model} {b['bin']}", b, "s") for b in bins]
    points = [(n, e, m) for n, e, m in points if e["recorded"][key] is not None]
    if not points:
        return None
    fig = _figure(7.5, 6.0)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="#9ca3af", linewidth=1, linestyle=":")
    for name, e, marker in points:
        sim = e["simulated"][key]
        size = 3 + 9 * min(1.0, (e["launched"] / 2000.0) ** 0.5)
        ax.errorbar([e["recorded"][key]], [sim["mean"]], yerr=[[sim["mean"] - sim["lo"]], [sim["hi"] - sim["mean"]]],
                    fmt=marker, markersize=size, color=LINE if marker == "o" else "#d97706", alpha=0.8, capsize=2)
        ax.annotate(name, (e["recorded"][key], sim["mean"]), xytext=(5, 3), textcoords="offset points", fontsize=7,
                    color="#374151")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(f"recorded {key} share")
    ax.set_ylabel(f"simulated {key} share (mean, 95% range)")
    ax.set_title(f"Calibration: {key} (circles: models, squares: attack-size bins; size ~ launched)", loc="left",
                 fontsize=10)
    _tidy(ax)
    return _svg(fig)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def _band(b: dict[str, float]) -> str:
    return f"{100 * b['mean']:.1f} <span class=sw-muted>[{100 * b['lo']:.1f}, {100 * b['hi']:.1f}]</span>"


def _page(title: str, body: list[str]) -> str:
    head = (f'<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="icon" href="data:,"><title>{escape(title)}</title>'
            f"<style>{_asset(STATIC / 'shieldwall.css')}</style>")
    return (f"<!doctype html><html lang=en><head>{head}</head><body>"
            f'<header class="sw-top"><span class="sw-brand">shieldwall</span><span>{escape(title)}</span></header>'
            f"<main>{''.join(body)}</main></body></html>\n")


def _heading(title: str, meta: str) -> str:
    """The page's h1 and its line of provenance (``meta``: escaped HTML), stamped with the time written."""
    return (f"<h1>{escape(title)}</h1><p class=sw-meta>{meta}; "
            f"written {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC</p>")


def render_raids(doc: dict[str, Any]) -> str:
    test, fit = doc["test"], doc["fit"]
    body = [_heading("Backtest: raid generator",
                     f"fitted on nights {escape(fit['first_night_fitted'])} to {escape(fit['last_night_fitted'])} "
                     f"({escape(fit['method'])}), tested on {escape(test['from'])} to {escape(test['until'])} "
                     f"({test['nights']} nights), {doc['forecast']['paths']} forecast paths, "
                     f"seed {doc['forecast']['seed']}")]
    rows = []
    for name, part in [("all threats", test), *test["by_family"].items()]:
        rec, fc = part["recorded"], part["forecast"]

        def q(d: dict[str, Any], k: str) -> str:
            return "-" if d.get(k) is None else f"{d[k]:g}"

        rows.append([escape(name), str(part["nights_with"]),
                     "-" if part["ks_night_size"] is None else f"{part['ks_night_size']:.3f}",
                     *(f"{q(rec, k)} / {q(fc, k)}" for k in ("median", "p90", "p95", "max")),
                     "-" if part["median_ratio"] is None else f"{part['median_ratio']:.2f}",
                     "-" if part["monthly_coverage_90"] is None else f"{100 * part['monthly_coverage_90']:.0f}%",
                     "-" if part.get("monthly_crps_log") is None else f"{part['monthly_crps_log']:.3f}"])
    body.append("<h2>Night sizes and monthly totals</h2>" + _table(
        ["", "nights with", "KS", "median rec / fc", "p90", "p95", "max", "median ratio", "months inside 90%",
         "CRPS log month"], rows))
    body.append(_plot(fan_chart(test), "fan"))
    body.append("<p class=sw-muted>KS: sup |F_record - F_forecast| of night sizes on nights the family came. Forecast "
                "max: the median over paths of each path's largest night. CRPS log month: mean continuous ranked "
                "probability score of log(1 + monthly total), lower is better. Definitions: docs/validation.md.</p>")
    return _page("backtest raids", body)


def render_rates(doc: dict[str, Any]) -> str:
    w, eng = doc["window"], doc["engine"]
    body = [_heading("Backtest: interception rates",
                     f"{escape(w['from'])} to {escape(w['until'])}: {w['nights']} nights, {w['attacks']} attacks, "
                     f"{w['threats']:,} threats replayed against {escape(doc['theatre']['name'])} "
                     f"({doc['theatre']['units']} units); {eng['replications']} replications, seed {eng['seed']}")]
    def cells(e: dict[str, Any]) -> list[str]:
        return [c for k in ("destroyed", "suppressed", "neutralised")
                for c in (_pct(e["recorded"].get(k)), _band(e["simulated"][k]) if k in e["simulated"] else "")]

    rows = [[escape(m), f"{e['launched']:,}", *cells(e)] for m, e in doc["by_model"].items()]
    head = ["record model", "launched", "destroyed % (record)", "simulated", "not reaching goal % (record)",
            "simulated (EW, failed)", "neutralised % (record)", "simulated"]
    body.append("<h2>By record model</h2>" + _table(head, rows))
    for model, bins in doc["by_size"].items():
        if len(bins) > 1:
            rows = [[escape(b["bin"]), f"{b['launched']:,}", *cells(b)] for b in bins]
            body.append(f"<h3>{escape(model)} by attack size (launched in the attack)</h3>"
                        + _table(["attack size", *head[1:]], rows))
    body.append(_plot(calibration_plot(doc, "destroyed"), "calibration-destroyed"))
    body.append(_plot(calibration_plot(doc, "neutralised"), "calibration-neutralised"))
    body.append("<p class=sw-muted>Simulated: mean and 2.5-97.5% range over replications of the window's share. "
                "Destroyed: shot down by batteries and area defences; not reaching goal: lost to electronic "
                "warfare, diverted or failed in flight (docs/validation.md).</p>")
    return _page("backtest rates", body)


def write_page(html: str, out: str | Path) -> Path:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
