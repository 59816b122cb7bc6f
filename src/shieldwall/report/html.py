"""The HTML report of a run folder: one self-contained file (styles, scripts, map outline,
replay data and plots inline) that opens in any browser with no network."""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any

from shieldwall.report.console import usd
from shieldwall.static import STATIC_DIR
from shieldwall.errors import UsageError
from shieldwall.report.rundir import RunFolder, load_run

STATIC = STATIC_DIR
LEAFLET = STATIC / "vendor" / "leaflet"
OUTLINE = STATIC / "vendor" / "natural-earth" / "europe-50m.geojson"


def _asset(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def leaflet_css_inline() -> str:
    """leaflet.css with its images as data URIs, so nothing is fetched."""
    css = _asset(LEAFLET / "leaflet.css")

    def data_uri(match: re.Match[str]) -> str:
        png = base64.b64encode((LEAFLET / match.group(1)).read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{png})"

    return re.sub(r"url\((images/[\w\-]+\.png)\)", data_uri, css)


def json_script(element_id: str, data: Any) -> str:
    """Data for the page's scripts, safe inside HTML (no '</script>' can close it early)."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def _script(text: str) -> str:
    return "<script>" + text.replace("</script", "<\\/script") + "</script>"


def _ci(mean: float, ci: list[float] | None, digits: int | None = None) -> str:
    if digits is None:
        digits = 2 if abs(mean) < 10 else 1
    if not ci:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} <span class=sw-muted>[{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]</span>"


def _table(head: list[str], rows: list[list[str]], total: list[str] | None = None, cls: str = "") -> str:
    out = [f'<table class="sw-table {cls}"><thead><tr>']
    out += [f"<th>{escape(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    if total:
        out.append('<tr class="sw-total">' + "".join(f"<td>{c}</td>" for c in total) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def summary_cards(summary: dict[str, Any]) -> str:
    tot = summary["totals"]
    ratio = tot.get("cost_exchange_ratio")
    cards = [
        ("threats launched", f"{tot['launched']:g}", "per raid"),
        ("leaked", f"{tot['leaked_mean']:.1f}", f"95% CI {tot['leaked_ci95'][0]:.1f}-{tot['leaked_ci95'][1]:.1f}"),
        ("value lost", f"{tot['value_lost_mean']:.1f}",
         f"95% CI {tot['value_lost_ci95'][0]:.1f}-{tot['value_lost_ci95'][1]:.1f} (asset units)"),
        ("interceptors spent", usd(tot["interceptor_cost_usd_mean"]), "mean cost per raid"),
        ("spent per $ destroyed", "n/a" if ratio is None else f"{ratio:.2f}",
         f"threats destroyed: {usd(tot['threat_cost_destroyed_usd_mean'])}"),
    ]
    return '<div class="sw-cards">' + "".join(
        f'<div class="sw-card"><div class="sw-small">{escape(a)}</div><div class="sw-big">{escape(b)}</div>'
        f'<div class="sw-small">{escape(c)}</div></div>' for a, b, c in cards) + "</div>"


def summary_tables(summary: dict[str, Any]) -> str:
    """The tables of the terminal and report.md, as HTML."""
    tot = summary["totals"]
    threats = _table(
        ["threat", "class", "launched", "intercepted", "leaked", "leak %"],
        [[escape(t), escape(r["class"]), f"{r['launched']:g}", _ci(r["intercepted_mean"], r["intercepted_ci95"]),
          _ci(r["leaked_mean"], r["leaked_ci95"]), f"{100 * r['leak_fraction']:.1f}"]
         for t, r in summary["threats_by_type"].items()],
        ["all", "", f"{tot['launched']:g}", f"{tot['intercepted_mean']:.1f}", _ci(tot["leaked_mean"], tot["leaked_ci95"]),
         f"{100 * tot['leaked_mean'] / max(tot['launched'], 1):.1f}"], cls="sw-threats")
    shots = _table(
        ["interceptor", "fired", "stock", "left (mean)", "cost"],
        [[escape(k), _ci(r["fired_mean"], r["fired_ci95"]), f"{r['stock']:g}", f"{r.get('remaining_mean', 0):.1f}",
          usd(r["cost_usd_mean"])] for k, r in summary["interceptors"].items()], cls="sw-interceptors")
    assets = _table(
        ["asset", "value", "hits", "P(hit)", "value lost"],
        [[escape(a), f"{r['value']:g}", _ci(r["hits_mean"], r["hits_ci95"]), f"{r['p_hit']:.2f}",
          _ci(r["value_lost_mean"], r["value_lost_ci95"], 2)] for a, r in summary["assets"].items()],
        cls="sw-assets")
    batteries = _table(["battery", "rounds fired (mean)", "kills (mean)"],
                       [[escape(b), f"{r['fired_mean']:.1f}", f"{r['kills_mean']:.2f}"]
                        for b, r in summary.get("batteries", {}).items()], cls="sw-batteries")
    return (f"<h3>Threats <span class=sw-muted>(mean per raid, 95% interval)</span></h3>{threats}"
            f'<div class="sw-grid2"><div><h3>Interceptors</h3>{shots}</div>'
            f"<div><h3>Batteries</h3>{batteries}</div></div>"
            f"<h3>Defended assets</h3>{assets}")


def _plot(svg: str | None, name: str) -> str:
    return f'<figure class="sw-plot" data-plot="{name}">{svg}</figure>' if svg else ""


def campaign_section(campaign: dict[str, Any]) -> str:
    from shieldwall.report import plots

    parts = ["<h2 id=campaign>Campaign</h2>"]
    keys = ("campaign", "start_date", "end_date", "nights", "replications", "seed")
    facts = [(k, campaign[k]) for k in keys if isinstance(campaign.get(k), (int, float, str))]
    if facts:
        parts.append(_table(["", ""], [[escape(k.replace("_", " ")), escape(str(v))] for k, v in facts],
                            cls="sw-campaign"))
    totals = campaign.get("totals")
    if isinstance(totals, dict):
        rows = []
        for name, t in totals.items():
            if isinstance(t, dict) and isinstance(t.get("mean"), (int, float)):
                money = name.endswith("usd")
                show = usd if money else (lambda x: f"{x:.1f}")
                band = (f"{show(t['p5'])} - {show(t['p95'])}"
                        if isinstance(t.get("p5"), (int, float)) and isinstance(t.get("p95"), (int, float)) else "")
                rows.append([escape(name.replace("_", " ")), show(t["mean"]), band])
        if rows:
            parts.append("<h3>Whole campaign, per replication</h3>"
                         + _table(["", "mean", "5-95%"], rows, cls="sw-campaign-totals"))
    stock, depletion = plots.stock_plot(campaign), plots.depletion_plot(campaign)
    parts.append(_plot(stock, "stock"))
    parts.append(_plot(depletion, "depletion"))
    nights = campaign.get("depletion_night")
    if isinstance(nights, dict):
        rows = []
        for kid, q in nights.items():
            qs = plots._quantiles(q)
            cells = ["not depleted", "", ""] if qs is None else ["not by the end" if x is None else f"{x:g}" for x in qs]
            share = q.get("fraction_depleted") if isinstance(q, dict) else 0.0
            rows.append([escape(kid), *cells, f"{100 * share:.0f}%" if isinstance(share, (int, float)) else ""])
        parts.append(_table(["interceptor", "depletion night p5", "median", "p95", "replications that run out"], rows,
                            cls="sw-depletion"))
    if not (stock or depletion):
        parts.append('<p class="sw-note">campaign.json has no stock_by_night or depletion_night to plot.</p>')
    return "".join(parts)


def replay_section(run: RunFolder) -> tuple[str, str]:
    """The map replay's HTML and its data scripts (empty when there is no scenario)."""
    if run.scenario is None:
        return (f'<h2 id=map>Map replay</h2><p class="sw-note">No map: {escape(run.scenario_note or "")}</p>', "")
    from shieldwall.report.replay import replay_data

    from shieldwall.catalog.classes import THREAT_CLASS_TABLE

    data = replay_data(run.scenario, run.events, run.tracks)
    classes = "".join(f'<span style="--c:{c.colour}">{escape(c.label)}</span>' for c in THREAT_CLASS_TABLE)
    legend = ('<div class="sw-legend"><span style="--c:#1d4ed8">defended asset</span>'
              '<span style="--c:#15803d">battery (green ring: engagement range)</span>'
              '<span style="--c:#2563eb">radar coverage (dashed)</span>'
              f'{classes}<span style="--c:#dc2626">leaker</span>'
              '<span style="--c:#16a34a">intercept point</span><span style="--c:#0891b2">shot</span></div>')
    note = f'<p class="sw-note">{escape(data["note"])}</p>' if data.get("note") else ""
    html = (f"<h2 id=map>Map replay <span class=sw-muted>(replication 0)</span></h2>{note}{legend}"
            '<div id="replay" tabindex="0"></div>'
            '<p class="sw-muted">Drag the slider or press Play; the speed is simulated seconds per second. '
            "Tracks, shots, intercept points and leakers are those of replication 0 (events.parquet).</p>")
    scripts = (json_script("replay-data", data) + json_script("outline-data", json.loads(_asset(OUTLINE)))
               + _script("ShieldwallReplay.mount(document.getElementById('replay'),"
                         "JSON.parse(document.getElementById('replay-data').textContent),"
                         "JSON.parse(document.getElementById('outline-data').textContent));"))
    return html, scripts


def render_report(run: RunFolder, shown_as: str | None = None) -> str:
    """The report's HTML; ``shown_as`` names the run folder in it (a run is written in a staging
    folder and moved into place afterwards)."""
    from shieldwall.report import plots

    title = f"shieldwall report: {run.name}"
    body: list[str] = [f"<h1>{escape(run.name)}</h1>"]
    meta = []
    if run.summary:
        meta.append(escape(f"{run.summary.get('replications')} replications, seed {run.summary.get('seed')}"))
    if run.scenario is not None and run.scenario.description:
        meta.append(escape(run.scenario.description))
    meta.append(f"report written {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC from {escape(shown_as or str(run.path))}")
    body.append('<p class="sw-meta">' + "<br>".join(meta) + "</p>")
    toc = ['<a href="#summary">summary</a>' if run.summary else "", '<a href="#plots">plots</a>' if run.summary else "",
           '<a href="#map">map replay</a>' if (run.summary or run.scenario) else "",
           '<a href="#campaign">campaign</a>' if run.campaign else ""]
    body.append('<p class="sw-muted">' + " · ".join(t for t in toc if t) + "</p>")
    if run.summary:
        s = run.summary
        body.append(f"<h2 id=summary>Summary</h2>{summary_cards(s)}{summary_tables(s)}")
        body.append("<h2 id=plots>Plots</h2>")
        body.append(_plot(plots.leakers_plot(s), "leakers"))
        body.append(_plot(plots.assets_plot(s), "assets"))
        body.append(_plot(plots.interceptors_plot(s), "interceptors"))
        body.append(_plot(plots.timeline_plot(run.events), "timeline"))
    replay_html, replay_scripts = replay_section(run) if (run.summary or run.scenario) else ("", "")
    body.append(replay_html)
    if run.campaign:
        body.append(campaign_section(run.campaign))
    files = ", ".join(f for f in ("summary.json", "scenario.json", "events.parquet", "campaign.json", "nights.parquet")
                      if (run.path / f).is_file())
    body.append("<h2>About these numbers</h2><p class=sw-muted>Public, approximate data; notional laydowns. "
                "Raid intervals are 95% intervals of the mean over replications, campaign bands 5-95% ranges "
                f"over replications (docs/model.md). Files of this run: {escape(files)}.</p>")
    head = (f'<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="icon" href="data:,"><title>{escape(title)}</title><style>{leaflet_css_inline()}</style>'

            f"<style>{_asset(STATIC / 'shieldwall.css')}</style>")
    scripts = (_script(_asset(LEAFLET / "leaflet.js")) + _script(_asset(STATIC / "replay.js"))
               if replay_scripts else "")
    return (f"<!doctype html><html lang=en><head>{head}</head><body>"
            f'<header class="sw-top"><span class="sw-brand">shieldwall</span><span>{escape(run.name)}</span></header>'
            f"<main>{''.join(body)}</main>{scripts}{replay_scripts}</body></html>\n")


def write_report(run_dir: str | Path, out: str | Path | None = None,
                 scenario_file: str | Path | None = None, shown_as: str | None = None) -> Path:
    """Write ``report.html`` (or ``out``) for a run folder; returns its path."""
    run = load_run(run_dir, scenario_file)
    path = Path(out) if out is not None else run.path / "report.html"
    try:
        html = render_report(run, shown_as)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:  # a file edited or cut short
        raise UsageError(f"{run.path}: summary.json or campaign.json is not what shieldwall writes "
                         f"({type(exc).__name__}: {exc}); run it again") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")  # one per writer
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(path)  # a browser never sees half a report
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
