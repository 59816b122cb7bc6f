"""The report's charts, as Chart.js configurations (plain JSON) built from the run's numbers.

The browser draws them (static/charts.js mounts each on its canvas; Chart.js is vendored in
static/vendor/chartjs): writing a report costs no plotting time, and every number a chart
shows is in its configuration, where tests read it. Each function takes the plain dicts and
frames a run folder holds and returns one configuration, or None when there is nothing to draw.
Colours of threat classes and leak causes come from their tables (catalog/classes.py,
engine/causes.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shieldwall.catalog.classes import CLASS_INFO
from shieldwall.engine.causes import LEAK_CAUSES, NO_BATTERY

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

GREY, INK, BAND, LINE, TEAL = "#9ca3af", "rgba(17,24,39,0.55)", "rgba(147,197,253,0.55)", "#1d4ed8", "#0891b2"
EVENT_COLOURS = {"launch": "#9ca3af", "kill": "#16a34a", "leak": "#dc2626", "expire": "#6b7280"}
SERIES = ("#1d4ed8", "#0891b2", "#7c3aed", "#d97706", "#15803d", "#be185d")  # several lines in one chart


def _r(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(float(x), digits)


def _config(kind: str, labels: list[Any] | None, datasets: list[dict[str, Any]], title: str, *,
            horizontal: bool = False, stacked: bool = False, x: dict[str, Any] | None = None,
            y: dict[str, Any] | None = None, y1: dict[str, Any] | None = None, height: int | None = None,
            legend: bool = True) -> dict[str, Any]:
    scales: dict[str, Any] = {"x": {"stacked": stacked, **(x or {})}, "y": {"stacked": stacked, **(y or {})}}
    if y1:
        scales["y1"] = {"position": "right", "grid": {"drawOnChartArea": False}, **y1}
    data: dict[str, Any] = {"datasets": datasets}
    if labels is not None:
        data["labels"] = labels
    rows = len(labels or []) or 6
    return {"type": kind, "data": data, "height": height or (max(160, 26 * rows + 90) if horizontal else 280),
            "options": {"indexAxis": "y" if horizontal else "x", "scales": scales,
                        "plugins": {"title": {"display": True, "text": title, "align": "start"},
                                    "legend": {"display": legend, "position": "bottom"}}}}


def _axis(title: str, **extra: Any) -> dict[str, Any]:
    return {"title": {"display": True, "text": title}, **extra}


def _interval(means: list[float], cis: list[list[float]], label: str = "95% interval") -> list[dict[str, Any]]:
    """A mean bar and its interval drawn over it as a thin floating bar."""
    return [{"label": label, "data": [[_r(lo), _r(hi)] for lo, hi in cis], "backgroundColor": INK,
             "barPercentage": 0.18, "grouped": False, "order": 0}]


# -- a raid run -------------------------------------------------------------------------------
def leakers_chart(summary: dict[str, Any]) -> dict[str, Any] | None:
    rows = summary.get("threats_by_type") or {}
    if not rows:
        return None
    ids = list(rows)
    labels = [f"{t} (decoy)" if rows[t].get("decoy") else t for t in ids]
    means = [rows[t]["leaked_mean"] for t in ids]
    colours = [CLASS_INFO[rows[t]["class"]].colour if rows[t]["class"] in CLASS_INFO else GREY for t in ids]
    datasets = [{"label": "leaked per raid (mean)", "data": [_r(m) for m in means], "backgroundColor": colours,
                 "order": 1}, *_interval(means, [rows[t]["leaked_ci95"] for t in ids])]
    return _config("bar", labels, datasets, "Leakers by threat type (mean per raid, 95% interval)", horizontal=True,
                   x=_axis("threats leaked per raid", beginAtZero=True))


def leak_causes_chart(summary: dict[str, Any]) -> dict[str, Any] | None:
    """Why they leaked: a bar per threat type (and all), stacked by cause."""
    by_type = summary.get("leak_causes")
    totals = (summary.get("totals") or {}).get("leak_causes") or {}
    if not isinstance(by_type, dict) or not any(v > 0 for v in totals.values()):
        return None
    ids = [t for t, row in by_type.items() if sum(row.values()) > 0]
    datasets = [{"label": c.label, "data": [_r(by_type[t].get(c.id, 0.0)) for t in ids] + [_r(totals.get(c.id, 0.0))],
                 "backgroundColor": c.colour} for c in LEAK_CAUSES if totals.get(c.id, 0.0) > 0]
    return _config("bar", [*ids, "all"], datasets, "Why threats leaked (mean leakers per raid, all replications)",
                   horizontal=True, stacked=True, x=_axis("leakers per raid", beginAtZero=True))


def leak_causes_by_battery_chart(summary: dict[str, Any]) -> dict[str, Any] | None:
    """The batteries the leakers' causes point at (the one that missed, was busy or ran dry)."""
    by_battery = summary.get("leak_causes_by_battery")
    if not isinstance(by_battery, dict):
        return None
    ids = [b for b, row in by_battery.items() if sum(row.values()) > 0]
    if not ids:
        return None
    labels = ["no battery could" if b == NO_BATTERY else b for b in ids]
    datasets = [{"label": c.label, "data": [_r(by_battery[b].get(c.id, 0.0)) for b in ids], "backgroundColor": c.colour}
                for c in LEAK_CAUSES if any(by_battery[b].get(c.id, 0.0) > 0 for b in ids)]
    return _config("bar", labels, datasets, "Leakers by the battery their cause points at (mean per raid)",
                   horizontal=True, stacked=True, x=_axis("leakers per raid", beginAtZero=True))


def asset_hits_chart(summary: dict[str, Any]) -> dict[str, Any] | None:
    """Hits per defended asset, stacked by the threat type that hit it."""
    rows = summary.get("assets") or {}
    if not rows:
        return None
    ids = list(rows)
    classes = {t: r["class"] for t, r in (summary.get("threats_by_type") or {}).items()}
    types = list(dict.fromkeys(t for a in ids for t in (rows[a].get("hits_by_threat_type") or {})))
    if types:
        datasets = [{"label": t, "data": [_r((rows[a].get("hits_by_threat_type") or {}).get(t, 0.0)) for a in ids],
                     "backgroundColor": CLASS_INFO[classes[t]].colour if classes.get(t) in CLASS_INFO else GREY,
                     "borderColor": "#fff", "borderWidth": 1} for t in types]
    else:  # a summary from before hits by threat type
        datasets = [{"label": "hits", "data": [_r(rows[a]["hits_mean"]) for a in ids], "backgroundColor": "#f87171"}]
    return _config("bar", ids, datasets, "Hits per defended asset, by threat type (mean per raid)", horizontal=True,
                   stacked=True, x=_axis("hits per raid", beginAtZero=True))


def value_lost_chart(summary: dict[str, Any]) -> dict[str, Any] | None:
    rows = summary.get("assets") or {}
    if not rows:
        return None
    ids = list(rows)
    means = [rows[a]["value_lost_mean"] for a in ids]
    datasets = [{"label": "value lost per raid (mean)", "data": [_r(m) for m in means], "backgroundColor": "#fb923c",
                 "order": 1}, *_interval(means, [rows[a]["value_lost_ci95"] for a in ids])]
    return _config("bar", ids, datasets, "Value lost per defended asset (mean per raid, 95% interval)",
                   horizontal=True, x=_axis("asset value units", beginAtZero=True))


def interceptors_chart(summary: dict[str, Any]) -> dict[str, Any] | None:
    rows = summary.get("interceptors") or {}
    if not rows:
        return None
    ids = list(rows)
    datasets = [{"label": "stock", "data": [rows[k]["stock"] for k in ids], "backgroundColor": "#e5e7eb",
                 "grouped": False, "order": 2},
                {"label": "fired per raid (mean)", "data": [_r(rows[k]["fired_mean"]) for k in ids],
                 "backgroundColor": TEAL, "grouped": False, "barPercentage": 0.55, "order": 1}]
    return _config("bar", ids, datasets, "Rounds fired per raid against the stock (log scale)", horizontal=True,
                   x=_axis("rounds", type="logarithmic"))


def replication_timeline_chart(events: "pd.DataFrame | None") -> dict[str, Any] | None:
    """Replication 0: threats launched, shot down, leaked and failed, cumulative over time."""
    if events is None or not len(events):
        return None
    datasets = []
    for kind, label in (("launch", "launched"), ("kill", "shot down"), ("leak", "leaked"), ("expire", "failed in flight")):
        t = sorted(float(x) for x in events.time_s[events.event == kind])
        if t:
            datasets.append({"label": label, "stepped": True, "pointRadius": 0, "borderColor": EVENT_COLOURS[kind],
                             "borderWidth": 1.6,
                             "data": [{"x": 0, "y": 0}] + [{"x": _r(v / 3600.0, 4), "y": i + 1} for i, v in enumerate(t)]})
    return _config("line", None, datasets, "Replication 0: threats over the night (cumulative)",
                   x=_axis("hours after the start", type="linear", beginAtZero=True),
                   y=_axis("threats", beginAtZero=True))


def resource_timeline_charts(timelines: "pd.DataFrame | None") -> list[dict[str, Any]]:
    """Per battery: rounds left (and loaded on launchers) of each interceptor it carries, and its
    fire channels in use, over the night: median and 5-95% band over replications."""
    if timelines is None or not len(timelines):
        return []
    out = []
    for battery, rows in timelines.groupby("battery", sort=False):
        datasets: list[dict[str, Any]] = []
        for i, (iid, series) in enumerate(rows[rows.quantity != "channels_busy"].groupby("interceptor", sort=False)):
            colour = SERIES[i % len(SERIES)]
            for quantity, dash in (("rounds_left", None), ("rounds_loaded", [5, 4])):
                part = series[series.quantity == quantity]
                hours = (part.time_s.to_numpy(float) / 3600.0).round(4).tolist()
                line = {"label": f"{iid}: {'rounds left' if quantity == 'rounds_left' else 'loaded'} (median)",
                        "data": [{"x": h, "y": _r(v, 2)} for h, v in zip(hours, part["median"])],
                        "borderColor": colour, "pointRadius": 0, "borderWidth": 1.8, "yAxisID": "y"}
                if dash:
                    line["borderDash"] = dash
                    datasets.append(line)
                    continue
                datasets += [{"label": f"{iid}: 5%", "data": [{"x": h, "y": _r(v, 2)} for h, v in zip(hours, part.p5)],
                              "borderWidth": 0, "pointRadius": 0, "yAxisID": "y", "sw_band": True},
                             {"label": f"{iid}: 5-95%", "data": [{"x": h, "y": _r(v, 2)} for h, v in zip(hours, part.p95)],
                              "borderWidth": 0, "pointRadius": 0, "fill": "-1", "backgroundColor": BAND, "yAxisID": "y"},
                             line]
        busy = rows[rows.quantity == "channels_busy"]
        if len(busy):
            hours = (busy.time_s.to_numpy(float) / 3600.0).round(4).tolist()
            for key, label, dash in (("median", "median", None), ("p95", "95%", [2, 3])):
                line = {"label": f"fire channels in use ({label})", "stepped": True, "pointRadius": 0,
                        "borderColor": "#dc2626", "borderWidth": 1.2, "yAxisID": "y1",
                        "data": [{"x": h, "y": _r(v, 2)} for h, v in zip(hours, busy[key])]}
                if dash:
                    line["borderDash"] = dash
                datasets.append(line)
        cfg = _config("line", None, datasets, f"{battery}: rounds and fire channels over the night", height=240,
                      x=_axis("hours after the start", type="linear", beginAtZero=True),
                      y=_axis("rounds", beginAtZero=True), y1=_axis("channels in use", beginAtZero=True))
        cfg["battery"] = str(battery)
        out.append(cfg)
    return out


# -- a campaign -------------------------------------------------------------------------------
def _band_value(band: Any, key: str) -> float | None:
    v = band.get(key) if isinstance(band, dict) else None
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _band_datasets(label: str, nights: list[int], bands: list[Any], colour: str = LINE) -> list[dict[str, Any]]:
    def points(key: str) -> list[dict[str, Any]]:
        return [{"x": n, "y": _r(_band_value(b, key), 2)} for n, b in zip(nights, bands)]
    return [{"label": f"{label}: 5%", "data": points("p5"), "borderWidth": 0, "pointRadius": 0, "sw_band": True},
            {"label": f"{label}: 5-95%", "data": points("p95"), "borderWidth": 0, "pointRadius": 0, "fill": "-1",
             "backgroundColor": BAND},
            {"label": f"{label} (median)", "data": points("median"), "borderColor": colour, "pointRadius": 0,
             "borderWidth": 1.8}]


def stock_charts(campaign: dict[str, Any]) -> list[dict[str, Any]]:
    """Stock of each interceptor type night by night (night 0: the start), median and 5-95%."""
    stock = campaign.get("stock_by_night")
    if not isinstance(stock, dict):
        return []
    starts = campaign.get("interceptors") if isinstance(campaign.get("interceptors"), dict) else {}
    out = []
    for kid, bands in stock.items():
        if not isinstance(bands, list) or not bands:
            continue
        start = (starts.get(kid) or {}).get("start") if isinstance(starts.get(kid), dict) else None
        nights = list(range(1, len(bands) + 1))
        if isinstance(start, dict):
            nights, bands = [0, *nights], [start, *bands]
        out.append(_config("line", None, _band_datasets(kid, nights, bands), f"{kid}: stock at the end of each night",
                           height=220, legend=False, x=_axis("night (0 = start)", type="linear", min=0, max=nights[-1]),
                           y=_axis("rounds", beginAtZero=True)))
    return out


def depletion_chart(campaign: dict[str, Any]) -> dict[str, Any] | None:
    """The night each interceptor type runs out: 5-95% range and median, on an axis that ends
    with the campaign (a range past it: some replications never run out)."""
    nights = campaign.get("depletion_night")
    if not isinstance(nights, dict) or not nights:
        return None
    last = campaign.get("nights") if isinstance(campaign.get("nights"), int) else None
    if last is None:
        last = max((len(v) for v in (campaign.get("stock_by_night") or {}).values() if isinstance(v, list)), default=1)
    ids = list(nights)
    ranges, medians = [], []
    for kid in ids:
        lo, mid, hi = (_band_value(nights[kid], k) for k in ("p5", "median", "p95"))
        ranges.append(None if lo is None else [lo, hi if hi is not None else last + 0.5])
        medians.append(mid)
    datasets = [{"label": "5-95% of replications (past the end: some never run out)", "data": ranges,
                 "backgroundColor": BAND, "order": 2, "grouped": False},
                {"label": "median", "data": [None if m is None else [m - 0.15, m + 0.15] for m in medians],
                 "backgroundColor": LINE, "order": 1, "grouped": False, "barPercentage": 0.9}]
    return _config("bar", ids, datasets, f"Night the stock runs out (campaign of {last} nights; none: never)",
                   horizontal=True, x=_axis("night", min=0, max=last + 1))


def per_night_chart(campaign: dict[str, Any], key: str, title: str, axis: str) -> dict[str, Any] | None:
    """Leakers (key "leaked") or value lost ("value_lost") night by night: median and 5-95%."""
    bands = (campaign.get("per_night") or {}).get(f"{key}_band")
    if not isinstance(bands, list) or not bands:
        return None
    nights = list(range(1, len(bands) + 1))
    return _config("line", None, _band_datasets(axis, nights, bands, "#dc2626" if key == "leaked" else "#ea580c"),
                   title, height=240, legend=False, x=_axis("night", type="linear", min=1, max=nights[-1]),
                   y=_axis(axis, beginAtZero=True))
