"""The HTML report of a run folder: one self-contained file (styles, scripts, map outline,
replay data, and charts drawn in the browser from the numbers inline: report/charts.py) that
opens in any browser with no network."""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shieldwall.errors import UsageError
from shieldwall.report.rundir import RunFolder, load_run
from shieldwall.report.tables import TextTable, raid_tables, usd
from shieldwall.static import STATIC_DIR

if TYPE_CHECKING:  # pragma: no cover
    from shieldwall.scenario.model import Scenario

STATIC = STATIC_DIR
LEAFLET = STATIC / "vendor" / "leaflet"
OUTLINE = STATIC / "vendor" / "natural-earth" / "europe-50m.geojson"
CHARTJS = STATIC / "vendor" / "chartjs" / "chart.umd.min.js"


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


def html_table(table: TextTable) -> str:
    """One of report/tables.py's tables as HTML (every cell escaped)."""
    out = [f'<h3>{escape(table.title)}</h3><table class="sw-table sw-{table.key}"><thead><tr>']
    out += [f"<th>{escape(h)}</th>" for h in table.head]
    out.append("</tr></thead><tbody>")
    for row in table.rows:
        out.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
    for row in table.total:
        out.append('<tr class="sw-total">' + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    if table.note:
        out.append(f'<p class="sw-muted">{escape(table.note)}</p>')
    return "".join(out)


def summary_cards(summary: dict[str, Any]) -> str:
    """The headline: armed leakers apart from decoys, and launched = intercepted + failed + leaked."""
    tot = summary["totals"]
    ratio = tot.get("cost_exchange_ratio")
    armed = "leaked_armed_mean" in tot
    lead, lead_ci = (tot["leaked_armed_mean"], tot["leaked_armed_ci95"]) if armed else (tot["leaked_mean"],
                                                                                         tot["leaked_ci95"])
    cards = [
        ("threats launched", f"{tot['launched']:g}",
         f"{tot['intercepted_mean']:.1f} intercepted, {tot.get('expired_mean', 0.0):.1f} failed in flight, "
         f"{tot['leaked_mean']:.2f} leaked"),
        ("armed leakers" if armed else "leaked", f"{lead:.2f}",
         f"95% CI {lead_ci[0]:.2f}-{lead_ci[1]:.2f}"
         + (f"; plus {tot['decoys_leaked_mean']:.2f} decoys (no damage)" if armed else "")),
        ("value lost", f"{tot['value_lost_mean']:.1f}",
         f"95% CI {tot['value_lost_ci95'][0]:.1f}-{tot['value_lost_ci95'][1]:.1f} (asset units)"),
        ("interceptors spent", usd(tot["interceptor_cost_usd_mean"]), "mean cost per raid"),
        ("spent per $ destroyed", "n/a" if ratio is None else f"{ratio:.2f}",
         f"threats destroyed: {usd(tot['threat_cost_destroyed_usd_mean'])}"),
    ]
    return '<div class="sw-cards">' + "".join(
        f'<div class="sw-card" data-card="{escape(a)}"><div class="sw-small">{escape(a)}</div>'
        f'<div class="sw-big">{escape(b)}</div><div class="sw-small">{escape(c)}</div></div>' for a, b, c in cards) + "</div>"


def warnings_box(warnings: list[str]) -> str:
    if not warnings:
        return ""
    return ('<div class="sw-note sw-warnings"><b>Look at these</b><ul>'
            + "".join(f"<li>{escape(w)}</li>" for w in warnings) + "</ul></div>")


def _chart(name: str) -> str:
    return f'<figure class="sw-chart" data-chart="{name}"></figure>'


def raid_section(run: RunFolder, charts: dict[str, Any]) -> str:
    """Summary cards and tables, why threats leaked, who fired what, the resource timelines."""
    from shieldwall.report import charts as ch

    s = run.summary or {}
    tables = {t.key: t for t in raid_tables(s)}
    charts.update({"leakers": ch.leakers_chart(s), "leak-causes": ch.leak_causes_chart(s),
                   "leak-causes-by-battery": ch.leak_causes_by_battery_chart(s), "asset-hits": ch.asset_hits_chart(s),
                   "value-lost": ch.value_lost_chart(s), "interceptors": ch.interceptors_chart(s),
                   "replication-timeline": ch.replication_timeline_chart(run.events),
                   "resources": ch.resource_timeline_charts(run.timelines)})
    parts = [f"<h2 id=summary>Summary</h2>{summary_cards(s)}{warnings_box(s.get('warnings') or [])}",
             html_table(tables["threats"]), _chart("leakers")]
    parts.append("<h2 id=why>Why threats leaked</h2>")
    if "leak-causes" in tables:
        parts += [_chart("leak-causes"), html_table(tables["leak-causes"]), _chart("leak-causes-by-battery")]
    else:
        parts.append('<p class="sw-muted">Nothing leaked in any replication.</p>')
    parts += ["<h2 id=fire>Who fired what</h2>", html_table(tables["interceptors"]), _chart("interceptors"),
              html_table(tables["batteries"])]
    if "engagements" in tables:
        parts.append(html_table(tables["engagements"]))
    # the mechanisms a scenario may have: raids on batteries, area defences, acoustic sensors
    parts += [html_table(tables[key]) for key in ("attacks", "area-defences", "acoustic") if key in tables]
    parts += ["<h2 id=assets>Defended assets</h2>", html_table(tables["assets"]), _chart("asset-hits"),
              _chart("value-lost"), html_table(tables["money"])]
    if charts["resources"]:
        parts += ["<h2 id=resources>Rounds and fire channels over the night</h2>"
                  '<p class="sw-muted">Median and 5-95% band over replications (timelines.parquet): rounds left, '
                  "rounds loaded on launchers (dashed: reloads bring it back up) and fire channels in use.</p>",
                  '<div class="sw-grid2">' + _chart("resources") + "</div>"]
    parts.append(_chart("replication-timeline"))
    return "".join(parts)


CAMPAIGN_TOTAL_LABELS = {"leaked_armed": "leaked, armed (no decoys)", "expired": "failed in flight",
                         "interceptor_cost_usd": "interceptors spent",
                         "threat_cost_destroyed_usd": "threats destroyed (their cost)"}


def campaign_section(campaign: dict[str, Any], charts: dict[str, Any]) -> str:
    from shieldwall.report import charts as ch
    from shieldwall.report.tables import number

    parts = ["<h2 id=campaign>Campaign</h2>"]
    keys = ("campaign", "start_date", "end_date", "nights", "replications", "seed")
    facts = [(k, campaign[k]) for k in keys if isinstance(campaign.get(k), (int, float, str))]
    if facts:
        parts.append(html_table(TextTable("campaign", "The campaign", ["", ""],
                                          [[k.replace("_", " "), str(v)] for k, v in facts])))
    totals = campaign.get("totals")
    if isinstance(totals, dict):
        rows = []
        for name, t in totals.items():
            if isinstance(t, dict) and isinstance(t.get("mean"), (int, float)):
                show = usd if name.endswith("usd") else (lambda x: number(x, 1))
                band = (f"{show(t['p5'])} - {show(t['p95'])}"
                        if isinstance(t.get("p5"), (int, float)) and isinstance(t.get("p95"), (int, float)) else "")
                rows.append([CAMPAIGN_TOTAL_LABELS.get(name, name.replace("_", " ")), show(t["mean"]), band])
        if rows:
            parts.append(html_table(TextTable("campaign-totals", "Whole campaign, per replication",
                                              ["", "mean", "5-95%"], rows)))
    charts.update({"night-leakers": ch.per_night_chart(campaign, "leaked", "Leakers night by night (median, 5-95%)",
                                                       "leakers"),
                   "night-value-lost": ch.per_night_chart(campaign, "value_lost", "Value lost night by night "
                                                          "(median, 5-95%)", "value lost"),
                   "stock": ch.stock_charts(campaign), "depletion": ch.depletion_chart(campaign)})
    if charts["night-leakers"] or charts["night-value-lost"]:
        parts.append('<div class="sw-grid2">' + _chart("night-leakers") + _chart("night-value-lost") + "</div>")
    if charts["stock"]:
        parts.append('<div class="sw-grid3">' + _chart("stock") + "</div>")
    parts.append(_chart("depletion"))
    nights = campaign.get("depletion_night")
    if isinstance(nights, dict):
        rows = []
        for kid, q in nights.items():
            qs = [q.get(k) if isinstance(q, dict) else None for k in ("p5", "median", "p95")]
            cells = ["not depleted", "", ""] if q is None else ["not by the end" if x is None else f"{x:g}" for x in qs]
            share = q.get("fraction_depleted") if isinstance(q, dict) else 0.0
            rows.append([kid, *cells, f"{100 * share:.0f}%" if isinstance(share, (int, float)) else ""])
        parts.append(html_table(TextTable("depletion", "The night each stock runs out (fewer rounds than one shot)",
                                          ["interceptor", "depletion night p5", "median", "p95",
                                           "replications that run out"], rows)))
    if not (charts["stock"] or charts["depletion"]):
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
    title = f"shieldwall report: {run.name}"
    body: list[str] = [f"<h1>{escape(run.name)}</h1>"]
    meta = []
    if run.summary:
        meta.append(escape(f"{run.summary.get('replications')} replications, seed {run.summary.get('seed')}"))
    if run.scenario is not None and run.scenario.description:
        meta.append(escape(run.scenario.description))
    meta.append(f"report written {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC from {escape(shown_as or str(run.path))}")
    body.append('<p class="sw-meta">' + "<br>".join(meta) + "</p>")
    toc = [('<a href="#summary">summary</a> · <a href="#why">why threats leaked</a> · <a href="#fire">who fired what'
            '</a> · <a href="#assets">assets</a>') if run.summary else "",
           '<a href="#resources">over the night</a>' if run.summary and run.timelines is not None else "",
           '<a href="#map">map replay</a>' if (run.summary or run.scenario) else "",
           '<a href="#campaign">campaign</a>' if run.campaign else ""]
    body.append('<p class="sw-muted">' + " · ".join(t for t in toc if t) + "</p>")
    charts: dict[str, Any] = {}
    if run.summary:
        body.append(raid_section(run, charts))
    replay_html, replay_scripts = replay_section(run) if (run.summary or run.scenario) else ("", "")
    body.append(replay_html)
    if run.campaign:
        body.append(campaign_section(run.campaign, charts))
    files = ", ".join(f for f in ("summary.json", "scenario.json", "engagements.parquet", "timelines.parquet",
                                  "events.parquet", "campaign.json", "nights.parquet") if (run.path / f).is_file())
    body.append("<h2>About these numbers</h2><p class=sw-muted>Public, approximate data; notional laydowns. "
                "Raid intervals are 95% intervals of the mean over replications, campaign bands 5-95% ranges "
                f"over replications (docs/model.md). Files of this run: {escape(files)}.</p>")
    head = (f'<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="icon" href="data:,"><title>{escape(title)}</title>'
            + (f"<style>{leaflet_css_inline()}</style>" if replay_scripts else "")
            + f"<style>{_asset(STATIC / 'shieldwall.css')}</style>")
    charts = {k: v for k, v in charts.items() if v}
    scripts = (_script(_asset(LEAFLET / "leaflet.js")) + _script(_asset(STATIC / "replay.js"))
               if replay_scripts else "")
    if charts:
        scripts += (_script(_asset(CHARTJS)) + _script(_asset(STATIC / "charts.js")) + json_script("chart-data", charts)
                    + _script("ShieldwallCharts.mount(document.body,"
                              "JSON.parse(document.getElementById('chart-data').textContent));"))
    return (f"<!doctype html><html lang=en><head>{head}</head><body>"
            f'<header class="sw-top"><span class="sw-brand">shieldwall</span><span>{escape(run.name)}</span></header>'
            f"<main>{''.join(body)}</main>{scripts}{replay_scripts}</body></html>\n")


def write_report(run_dir: str | Path, out: str | Path | None = None,
                 scenario_file: str | Path | None = None, shown_as: str | None = None,
                 scenario: "Scenario | None" = None) -> Path:
    """Write ``report.html`` (or ``out``) for a run folder; returns its path. ``scenario``: the
    run's own, held by the command that has just run it (rundir.load_run)."""
    run = load_run(run_dir, scenario_file, scenario)
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
