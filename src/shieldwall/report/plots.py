"""Report plots, drawn with matplotlib (Agg) to SVG text that the HTML inlines. Each function
takes the plain dicts/frames a run folder holds and returns one SVG string (or None when there
is nothing to draw)."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

from shieldwall.catalog.classes import CLASS_INFO

EVENT_COLOURS = {"launch": "#9ca3af", "detect": "#2563eb", "fire": "#0891b2", "kill": "#16a34a",
                 "miss": "#f59e0b", "leak": "#dc2626", "expire": "#6b7280"}
BAND = "#93c5fd"
LINE = "#1d4ed8"


def _figure(width: float, height: float) -> "Figure":
    from matplotlib.figure import Figure

    # Figure() directly (not pyplot): no global state, no GUI backend, safe in server threads
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig


def _svg(fig: "Figure") -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "shieldwall"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]  # drop the XML prologue and doctype: the SVG sits inside HTML
    return re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)


def _errors(mean: list[float], ci: list[list[float]]) -> list[list[float]]:
    return [[max(m - c[0], 0.0) for m, c in zip(mean, ci)], [max(c[1] - m, 0.0) for m, c in zip(mean, ci)]]


def _tidy(ax: Any) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color="#e5e7eb", linewidth=0.8)
    ax.set_axisbelow(True)


def leakers_plot(summary: dict[str, Any]) -> str | None:
    """Leakers per threat type: mean with its 95% interval, next to the number launched."""
    rows = summary.get("threats_by_type") or {}
    if not rows:
        return None
    ids = list(rows)[::-1]
    fig = _figure(7.5, 0.45 * len(ids) + 1.2)
    ax = fig.add_subplot()
    mean = [rows[t]["leaked_mean"] for t in ids]
    colours = [CLASS_INFO[rows[t]["class"]].colour if rows[t]["class"] in CLASS_INFO else "#6b7280" for t in ids]
    ax.barh(ids, mean, xerr=_errors(mean, [rows[t]["leaked_ci95"] for t in ids]), color=colours,
            error_kw={"ecolor": "#111827", "capsize": 3, "linewidth": 1})
    for y, t in enumerate(ids):
        ax.annotate(f"{rows[t]['leaked_mean']:.2f} of {rows[t]['launched']:g}",
                    (max(rows[t]["leaked_ci95"][1], rows[t]["leaked_mean"]), y), xytext=(6, 0),
                    textcoords="offset points", va="center", fontsize=8, color="#374151")
    ax.set_xlabel("threats leaked per raid (mean, 95% interval)")
    ax.set_title("Leakers by threat type", loc="left", fontsize=11)
    ax.margins(x=0.25)
    _tidy(ax)
    return _svg(fig)


def assets_plot(summary: dict[str, Any]) -> str | None:
    """Hits and value lost per defended asset, each with its 95% interval."""
    rows = summary.get("assets") or {}
    if not rows:
        return None
    ids = list(rows)[::-1]
    fig = _figure(9, 0.42 * len(ids) + 1.2)
    left, right = fig.subplots(1, 2, sharey=True)
    for ax, key, label in ((left, "hits", "hits per raid"), (right, "value_lost", "value lost per raid")):
        mean = [rows[a][f"{key}_mean"] for a in ids]
        ax.barh(ids, mean, xerr=_errors(mean, [rows[a][f"{key}_ci95"] for a in ids]),
                color="#f87171" if key == "hits" else "#fb923c",
                error_kw={"ecolor": "#111827", "capsize": 3, "linewidth": 1})
        ax.set_xlabel(f"{label} (mean, 95% interval)")
        _tidy(ax)
    left.set_title("Defended assets", loc="left", fontsize=11)
    return _svg(fig)


def interceptors_plot(summary: dict[str, Any]) -> str | None:
    """Interceptors fired (with interval, against the stock) and what they cost."""
    rows = summary.get("interceptors") or {}
    if not rows:
        return None
    ids = list(rows)[::-1]
    fig = _figure(9, 0.42 * len(ids) + 1.2)
    left, right = fig.subplots(1, 2, sharey=True)
    mean = [rows[k]["fired_mean"] for k in ids]
    left.barh(ids, [rows[k]["stock"] for k in ids], color="#e5e7eb", label="stock")
    left.barh(ids, mean, xerr=_errors(mean, [rows[k]["fired_ci95"] for k in ids]), color="#0891b2",
              error_kw={"ecolor": "#111827", "capsize": 3, "linewidth": 1}, label="fired")
    left.set_xscale("symlog", linthresh=10)
    left.set_xlabel("rounds fired per raid (mean, 95% interval) vs stock")
    left.legend(loc="lower right", fontsize=8, frameon=False)
    left.set_title("Interceptors", loc="left", fontsize=11)
    right.barh(ids, [rows[k]["cost_usd_mean"] / 1e6 for k in ids], color="#0e7490")
    right.set_xlabel("cost per raid, USD million (mean)")
    for ax in (left, right):
        _tidy(ax)
    return _svg(fig)


def timeline_plot(events: "pd.DataFrame | None") -> str | None:
    """Replication 0 over time: cumulative outcomes (top) and every event as a tick (bottom)."""
    if events is None or not len(events):
        return None
    import numpy as np

    hours = events.time_s.to_numpy() / 3600.0
    fig = _figure(9, 4.6)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1.3, 1])
    end = hours.max() if len(hours) else 1.0
    for kind in ("launch", "kill", "leak", "expire"):
        t = np.sort(hours[events.event.to_numpy() == kind])
        if len(t):
            top.step(np.concatenate([[0.0], t, [end]]), np.concatenate([[0], np.arange(1, len(t) + 1), [len(t)]]),
                     where="post", color=EVENT_COLOURS[kind], label=f"{kind}ed" if kind != "expire" else "expired",
                     linewidth=1.6)
    launched = np.sort(hours[events.event.to_numpy() == "launch"])
    done = np.sort(hours[events.event.isin(["kill", "leak", "expire"]).to_numpy()])
    grid = np.linspace(0.0, end, 400)
    airborne = np.searchsorted(launched, grid, side="right") - np.searchsorted(done, grid, side="right")
    top.fill_between(grid, airborne, color="#cbd5e1", alpha=0.6, label="in the air", step="post")
    top.set_ylabel("threats (cumulative)")
    top.legend(loc="upper left", fontsize=8, frameon=False, ncols=5)
    top.set_title("Timeline of replication 0", loc="left", fontsize=11)
    kinds = [k for k in ("detect", "fire", "kill", "miss", "leak", "expire") if (events.event == k).any()]
    for y, kind in enumerate(kinds):
        t = hours[events.event.to_numpy() == kind]
        bottom.scatter(t, np.full(len(t), y), marker="|", s=120, color=EVENT_COLOURS[kind], linewidths=1)
    bottom.set_yticks(range(len(kinds)), kinds)
    bottom.set_ylim(-0.6, len(kinds) - 0.4)
    bottom.set_xlabel("hours after the start of the scenario")
    for ax in (top, bottom):
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="x", color="#e5e7eb", linewidth=0.8)
    return _svg(fig)


def _quantiles(value: Any) -> tuple[float | None, float | None, float | None] | None:
    """(p5, median, p95) of a band; a None inside means 'not by the end of the campaign'.
    None when the value is not a band at all (null: never depleted)."""
    if not isinstance(value, dict) or not {"p5", "median", "p95"} <= set(value):
        return None
    out = []
    for key in ("p5", "median", "p95"):
        v = value[key]
        out.append(float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None)
    return (out[0], out[1], out[2])


def stock_series(campaign: dict[str, Any]) -> dict[str, tuple[list[int], list[tuple[float, float, float]]]]:
    """Interceptor -> (nights, bands): night 0 is the start stock (``interceptors.K.start``) when
    campaign.json has it, then the end of each night from ``stock_by_night``."""
    stock = campaign.get("stock_by_night")
    if not isinstance(stock, dict):
        return {}
    starts = campaign.get("interceptors") if isinstance(campaign.get("interceptors"), dict) else {}
    out = {}
    for kid, bands in stock.items():
        if not isinstance(bands, list):
            continue
        qs = [_quantiles(b) for b in bands]
        if not qs or any(q is None or None in q for q in qs):
            continue
        nights = list(range(1, len(qs) + 1))
        start = _quantiles((starts.get(kid) or {}).get("start")) if isinstance(starts.get(kid), dict) else None
        if start is not None and None not in start:
            nights, qs = [0] + nights, [start] + qs
        out[kid] = (nights, qs)  # type: ignore[assignment]
    return out  # type: ignore[return-value]


def stock_plot(campaign: dict[str, Any]) -> str | None:
    """Stock of each interceptor type night by night: median with its 5-95% band."""
    from matplotlib.ticker import MaxNLocator

    series = stock_series(campaign)
    if not series:
        return None
    n = len(series)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig = _figure(3.4 * cols, 2.5 * rows + 0.4)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, (kid, (nights, qs)) in zip(axes, series.items()):
        p5, med, p95 = zip(*qs)
        ax.fill_between(nights, p5, p95, color=BAND, alpha=0.7, linewidth=0, label="5-95%")
        ax.plot(nights, med, color=LINE, linewidth=1.8, marker="o", markersize=3 if len(nights) <= 30 else 0,
                label="median")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(kid, fontsize=10, loc="left")
        ax.set_xlabel("night (0 = start)")
        ax.set_ylim(bottom=0)
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(color="#e5e7eb", linewidth=0.8)
    axes[0].set_ylabel("rounds in stock (end of night)")
    axes[0].legend(fontsize=8, frameon=False)
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle("Interceptor stock over the campaign", x=0.01, ha="left", fontsize=11)
    return _svg(fig)


def depletion_plot(campaign: dict[str, Any]) -> str | None:
    """The night each interceptor type runs out: median and 5-95% range; a range that goes past
    the last night means some replications never run out; null means none ever does."""
    nights = campaign.get("depletion_night")
    if not isinstance(nights, dict) or not nights:
        return None
    last = campaign.get("nights") if isinstance(campaign.get("nights"), int) else None
    if last is None:
        last = max((len(v) for v in (campaign.get("stock_by_night") or {}).values() if isinstance(v, list)), default=0)
    known = [x for v in nights.values() if (q := _quantiles(v)) for x in q if x is not None]
    horizon = float(max([last, *known, 1]))
    ids = list(nights)[::-1]
    fig = _figure(8.5, 0.45 * len(ids) + 1.3)
    ax = fig.add_subplot()
    for y, kid in enumerate(ids):
        q = _quantiles(nights[kid])
        share = nights[kid].get("fraction_depleted") if isinstance(nights[kid], dict) else None
        if q is None or q[0] is None:
            label = "not depleted in the campaign" if q is None else "depleted in fewer than 5% of replications"
            ax.annotate(label, (0, y), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8,
                        color="#374151")
            continue
        lo, mid, hi = q
        ax.hlines(y, lo, hi if hi is not None else horizon + 0.5, color=BAND, linewidth=8)
        if mid is not None:
            ax.plot([mid], [y], "o", color=LINE)
        text = (f"night {mid:g}" if mid is not None else "median: not by the end") + \
            f" ({lo:g}-{'end' if hi is None else f'{hi:g}'})"
        if isinstance(share, (int, float)):
            text += f", {100 * share:.0f}% run out"
        ax.annotate(text, (hi if hi is not None else horizon + 0.5, y), xytext=(8, 0), textcoords="offset points",
                    va="center", fontsize=8, color="#374151")
    ax.set_yticks(range(len(ids)), ids)
    ax.set_xlim(0, horizon * 1.8 + 2)
    ax.set_ylim(-0.7, len(ids) - 0.3)
    if last:
        ax.axvline(last, color="#9ca3af", linewidth=1, linestyle=":")
    ax.set_xlabel("night the stock runs out (median, 5-95%; dotted: last night of the campaign)")
    ax.set_title("Depletion night", loc="left", fontsize=11)
    _tidy(ax)
    return _svg(fig)
