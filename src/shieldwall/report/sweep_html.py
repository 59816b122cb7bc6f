"""The HTML report of a sweep folder (``report.html`` beside ``sweep.json``): per output a
tornado plot of the factors' importance, response plots (main effects), the best points with
intervals, and the points table. One self-contained file, like a run's report."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from shieldwall.errors import UsageError
from shieldwall.report.html import STATIC, _asset
from shieldwall.report.plots import BAND, LINE, _figure, _svg, _tidy

MAX_TABLE_POINTS = 500


def load_sweep_json(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / "sweep.json"
    if not path.is_file():
        raise UsageError(f"{folder} holds no sweep.json: run `shieldwall sweep` (or finish it with --resume)")
    return json.loads(path.read_text(encoding="utf-8"))



def _table(head: list[str], rows: list[list[str]], cls: str = "") -> str:
    """An HTML table of cells that are already HTML (escaped by the caller)."""
    out = [f'<table class="sw-table {cls}"><thead><tr>'] + [f"<th>{escape(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    out += ["<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows]
    return "".join(out) + "</tbody></table>"


def _plot(svg: str | None, name: str) -> str:
    """A sweep's SVG plot in its figure (sweep reports still draw SVG: report/plots.py)."""
    return f'<figure class="sw-plot" data-plot="{name}">{svg}</figure>' if svg else ""

def tornado_plot(result: dict[str, Any], output: str) -> str | None:
    """Bars per factor, most important on top: total and first-order Sobol' indices with their
    intervals (sobol designs), S1 (other samples), or the spread of the main effect (grids)."""
    ranking = result["ranking"][output][::-1]
    if not ranking:
        return None
    labels = [r["factor"] for r in ranking]
    fig = _figure(7.5, 0.42 * len(labels) + 1.3)
    ax = fig.add_subplot()
    y = range(len(labels))
    if any(r.get("ST") is not None for r in ranking):
        for key, offset, colour in (("ST", 0.18, LINE), ("S1", -0.18, BAND)):
            values = [r.get(key) or 0.0 for r in ranking]
            conf = [r.get(f"{key}_conf") or 0.0 for r in ranking]
            ax.barh([i + offset for i in y], values, height=0.34, xerr=conf, color=colour, label=key,
                    error_kw={"elinewidth": 0.8, "capsize": 2})
        ax.axvline(0.0, color="#111827", linewidth=0.8)
        ax.legend(frameon=False, loc="lower right")
        ax.set_xlabel(f"Sobol' index of {output} (95% interval)")
    elif any(r.get("S1") is not None for r in ranking):
        ax.barh(list(y), [r.get("S1") or 0.0 for r in ranking], xerr=[r.get("S1_conf") or 0.0 for r in ranking],
                color=LINE)
        ax.set_xlabel(f"first-order index S1 of {output} (RBD-FAST, 95% interval)")
    else:
        ax.barh(list(y), [r["effect_range"] for r in ranking], color=LINE)
        ax.set_xlabel(f"range of the main effect on {output}")
    ax.set_yticks(list(y), labels)
    _tidy(ax)
    return _svg(fig)


def response_plot(result: dict[str, Any], output: str) -> str | None:
    """One panel per factor: every point's output (dots, with sampling designs) and the main
    effect (the line: the mean at each level or fifth of the range)."""
    effects = result["main_effects"][output]
    factors = list(effects)
    if not factors:
        return None
    cols = min(3, len(factors))
    rows = -(-len(factors) // cols)
    fig = _figure(3.0 * cols + 0.5, 2.4 * rows + 0.4)
    numeric_points = result["design"]["kind"] != "grid"
    for i, factor in enumerate(factors):
        ax = fig.add_subplot(rows, cols, i + 1)
        levels = effects[factor]
        xs = [e["value"] for e in levels]
        numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs)
        positions = xs if numeric else list(range(len(xs)))
        if numeric_points and numeric and len(result["points"]) <= 5000:
            px = [p["factors"][factor] for p in result["points"]]
            py = [p["outputs"][output]["mean"] for p in result["points"]]
            ax.scatter(px, py, s=4, color=BAND, alpha=0.6, linewidths=0)
        ax.plot(positions, [e["mean"] for e in levels], marker="o", color=LINE, linewidth=1.5, markersize=3)
        if not numeric:
            ax.set_xticks(positions, [str(x) for x in xs])
        ax.set_title(factor, fontsize=8)
        ax.tick_params(labelsize=7)
        _tidy(ax)
    fig.supylabel(output, fontsize=8)
    return _svg(fig)


def _value(x: Any) -> str:
    return f"{x:.4g}" if isinstance(x, float) else escape(str(x))


def _ci(entry: dict[str, Any]) -> str:
    mean, ci = entry["mean"], entry["ci95"]
    if mean is None:
        return "-"
    return f"{mean:,.4g} <span class=sw-muted>[{ci[0]:,.4g}, {ci[1]:,.4g}]</span>"


def render_sweep_report(result: dict[str, Any], name: str) -> str:
    factors = [f["name"] for f in result["factors"]]
    outputs = result["outputs"]
    body = [f"<h1>Sweep: {escape(name)}</h1>",
            f'<p class="sw-meta">{result["n_points"]:,} points ({escape(result["design"]["kind"])} design) x '
            f'{result["replications"]:,} replications of {escape(result["base"])} ({escape(result["kind"])}), '
            f'seed {result["seed"]}; every point on the same random numbers.</p>']
    body.append("<h2>Factors</h2>" + _table(
        ["factor", "path", "values"],
        [[escape(f["name"]), escape(f["path"]), escape(json.dumps({k: v for k, v in f.items() if k in ("values", "range", "distribution")
                                                                  or (k == "levels" and result["design"]["kind"] == "grid"
                                                                      and "values" not in f)}))]
         for f in result["factors"]]))
    for output in outputs:
        body.append(f"<h2 id=\"{escape(output)}\">{escape(output)}</h2>")
        body.append(_plot(tornado_plot(result, output), f"tornado-{output}"))
        if "sensitivity" in result:
            rows = [[escape(r["factor"]), *(("-" if r.get(k) is None else f"{r[k]:.3f}")
                                            for k in ("S1", "S1_conf", "ST", "ST_conf"))]
                    for r in result["ranking"][output]]
            body.append(_table(["factor", "S1", "S1 ± (95%)", "ST", "ST ± (95%)"], rows, cls="sw-sobol"))
        body.append(_plot(response_plot(result, output), f"response-{output}"))
        best = [[str(b["point"]), *(_value(b["factors"][f]) for f in factors), _ci(b)] for b in result["best"][output]]
        body.append("<h3>Best points</h3>" + _table(["point", *factors, f"{output} [95% CI]"], best, cls="sw-best"))
    shown = result["points"][:MAX_TABLE_POINTS]
    body.append(f"<h2>Points</h2><p class=sw-muted>{len(shown):,} of {result['n_points']:,} "
                "(all of them: points.parquet, sweep.json)</p>")
    body.append(_table(["point", *factors, *outputs],
                       [[str(p["point"]), *(_value(p["factors"][f]) for f in factors),
                         *(_ci(p["outputs"][o]) for o in outputs)] for p in shown], cls="sw-points"))
    head = (f'<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="icon" href="data:,"><title>shieldwall sweep: {escape(name)}</title>'
            f"<style>{_asset(STATIC / 'shieldwall.css')}</style>")
    return (f"<!doctype html><html lang=en><head>{head}</head><body>"
            f'<header class="sw-top"><span class="sw-brand">shieldwall</span><span>sweep {escape(name)}</span></header>'
            f"<main>{''.join(body)}</main></body></html>\n")


def write_sweep_report(folder: str | Path) -> Path:
    """Write ``report.html`` into a finished sweep folder; returns its path."""
    folder = Path(folder)
    result = load_sweep_json(folder)
    path = folder / "report.html"
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(render_sweep_report(result, folder.name), encoding="utf-8")
    tmp.replace(path)
    return path
