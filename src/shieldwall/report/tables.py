"""What a run's tables show, once: built from summary.json's dict as plain rows of text, and
drawn by the terminal and report.md (report/console.py, with rich) and by the HTML report
(report/html.py). A column or a row added here appears everywhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shieldwall.engine.causes import LEAK_CAUSES, NO_BATTERY


@dataclass
class TextTable:
    key: str  # a stable name (the HTML table's class, tests)
    title: str
    head: list[str]
    rows: list[list[str]] = field(default_factory=list)
    total: list[list[str]] = field(default_factory=list)  # rows drawn bold, after the others
    note: str = ""  # a line under the table
    console: bool = True  # shown in the terminal too (long tables go to the reports only)
    text_columns: tuple[int, ...] = (0,)  # left-aligned; the others hold numbers


def usd(x: float) -> str:
    """$1.2M, $370k, -$149k: the sign before the dollar."""
    sign, x = ("-" if x < 0 else ""), abs(x)
    if x >= 1e9:
        return f"{sign}${x / 1e9:.2f}bn"
    if x >= 1e6:
        return f"{sign}${x / 1e6:.1f}M"
    if x >= 1e3:
        return f"{sign}${x / 1e3:.0f}k"
    return f"{sign}${x:.0f}"


def number(x: float, digits: int | None = None) -> str:
    if digits is None:
        digits = 2 if abs(x) < 10 else 1
    return f"{x:.{digits}f}"


def ci(mean: float, interval: list[float] | None, digits: int | None = None) -> str:
    """``3.83 [3.70, 3.96]``: a mean with its 95% interval."""
    if digits is None:
        digits = 2 if abs(mean) < 10 else 1
    if not interval:
        return number(mean, digits)
    return f"{mean:.{digits}f} [{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]"


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    t = int(round(seconds))
    return f"{t // 3600}:{t % 3600 // 60:02d}:{t % 60:02d}"


def threats_table(summary: dict[str, Any]) -> TextTable:
    """Launched = intercepted + failed in flight + leaked, per threat type; decoys marked, and the
    armed leakers (decoys do no damage) apart."""
    table = TextTable("threats", "Threats (mean per raid, 95% interval)",
                      ["threat", "class", "launched", "intercepted", "failed in flight", "leaked", "leak %"],
                      text_columns=(0, 1))
    for tid, row in summary["threats_by_type"].items():
        cls = row["class"] + (" (decoy)" if row.get("decoy") else "")
        table.rows.append([tid, cls, f"{row['launched']:g}", ci(row["intercepted_mean"], row["intercepted_ci95"]),
                           number(row.get("expired_mean", 0.0)), ci(row["leaked_mean"], row["leaked_ci95"]),
                           f"{100 * row['leak_fraction']:.1f}"])
    tot = summary["totals"]
    launched = max(tot["launched"], 1)
    table.total.append(["all", "", f"{tot['launched']:g}", number(tot["intercepted_mean"]),
                        number(tot.get("expired_mean", 0.0)), ci(tot["leaked_mean"], tot["leaked_ci95"]),
                        f"{100 * tot['leaked_mean'] / launched:.1f}"])
    if "leaked_armed_mean" in tot:
        table.total.append(["armed", "no decoys", "", "", "", ci(tot["leaked_armed_mean"], tot["leaked_armed_ci95"]),
                            f"{100 * tot['leaked_armed_mean'] / launched:.1f}"])
        table.note = (f"{tot['decoys_leaked_mean']:.2f} of the {tot['leaked_mean']:.2f} leakers are decoys, which do "
                      "no damage; failed in flight: the threat's own reliability.")
    return table


def causes_present(summary: dict[str, Any]) -> list[Any]:
    """The causes (engine/causes.py, in its order) that any leaker of the run had."""
    totals = summary.get("totals", {}).get("leak_causes") or {}
    return [c for c in LEAK_CAUSES if totals.get(c.id, 0.0) > 0]


def leak_causes_table(summary: dict[str, Any]) -> TextTable | None:
    """Why threats leaked, per threat type: mean leakers per raid by cause, over all replications."""
    causes = causes_present(summary)
    by_type = summary.get("leak_causes")
    if not causes or not isinstance(by_type, dict):
        return None
    table = TextTable("leak-causes", "Why threats leaked (mean leakers per raid, all replications)",
                      ["threat", *[c.label for c in causes]])
    for tid, row in by_type.items():
        if sum(row.values()) > 0:
            table.rows.append([tid, *[number(row.get(c.id, 0.0)) for c in causes]])
    table.total.append(["all", *[number(summary["totals"]["leak_causes"][c.id]) for c in causes]])
    by_battery = summary.get("leak_causes_by_battery") or {}
    top = sorted(((sum(v.values()), b) for b, v in by_battery.items() if b != NO_BATTERY and sum(v.values()) > 0),
                 reverse=True)[:3]
    if top:
        table.note = "most leakers point at " + ", ".join(f"{b} ({n:.2f})" for n, b in top) + \
            " (the battery that missed, was busy or ran dry; docs/model.md)"
    return table


def interceptors_table(summary: dict[str, Any]) -> TextTable:
    table = TextTable("interceptors", "Interceptors fired (rounds; a gun's burst is many)",
                      ["interceptor", "fired", "stock", "left (mean)", "cost"])
    for iid, row in summary["interceptors"].items():
        table.rows.append([iid, ci(row["fired_mean"], row["fired_ci95"]), f"{row['stock']:g}",
                           number(row.get("remaining_mean", 0.0), 1), usd(row["cost_usd_mean"])])
    return table


def _kills_by_interceptor(summary: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Mean kills per battery and interceptor, from the engagement log when it holds every
    replication (then they add up to the battery's kills); {} otherwise (none, or a sample)."""
    eng = summary.get("engagements")
    if not isinstance(eng, dict) or eng.get("replications") != summary.get("replications"):
        return {}
    return {bid: {iid: sum(r.get("kills_mean", 0.0) for r in by_t.values()) for iid, by_t in by_i.items()}
            for bid, by_i in (eng.get("by_battery") or {}).items()}


def batteries_table(summary: dict[str, Any]) -> TextTable:
    """Per battery and interceptor it carries: rounds fired and left, kills, and when it runs
    dry. Kills are split by interceptor where the engagement log holds every replication; else
    the battery's kills stand on its first row (marked "all")."""
    split = _kills_by_interceptor(summary)
    table = TextTable("batteries", "Batteries (mean per raid; each interceptor on its own row)",
                      ["battery", "interceptor", "fired", "left", "kills", "runs dry", "when (median)"],
                      text_columns=(0, 1))
    for bid, row in (summary.get("batteries") or {}).items():
        per = row.get("interceptors") or {}
        if not per:  # a summary from before per-interceptor rows
            table.rows.append([bid, "", number(row["fired_mean"], 1), "", number(row["kills_mean"]), "", ""])
            continue
        for i, (iid, r) in enumerate(per.items()):
            dry = r.get("runs_dry_fraction", 0.0)
            when = (r.get("runs_dry_s") or {}).get("median")
            table.rows.append([bid if i == 0 else "", iid, number(r["fired_mean"], 1), number(r["remaining_mean"], 1),
                               number(split[bid].get(iid, 0.0)) if bid in split else
                               (number(row["kills_mean"]) + (" (all)" if len(per) > 1 else "") if i == 0 else ""),
                               "at the start" if r.get("empty_at_start_fraction", 0.0) >= 1.0 else
                               (f"{100 * dry:.0f}%" if dry > 0 else "never"),
                               clock(when) if dry >= 0.5 and when is not None else ""])
    return table


def assets_table(summary: dict[str, Any]) -> TextTable:
    table = TextTable("assets", "Defended assets (mean per raid, 95% interval)",
                      ["asset", "value", "hits", "P(hit)", "value lost", "hits by threat type"],
                      text_columns=(0, 5))
    for aid, row in summary["assets"].items():
        by_type = row.get("hits_by_threat_type") or {}
        table.rows.append([aid, f"{row['value']:g}", ci(row["hits_mean"], row["hits_ci95"]), f"{row['p_hit']:.2f}",
                           ci(row["value_lost_mean"], row["value_lost_ci95"], 2),
                           ", ".join(f"{t} {v:.2f}" for t, v in sorted(by_type.items(), key=lambda kv: -kv[1]))])
    return table


def attacks_table(summary: dict[str, Any]) -> TextTable | None:
    """Attacks on the defence (docs/model.md): each attacked battery's (and radar's) chance of
    being destroyed and when, and the units lost per raid; only where some raid attacks one."""
    att = summary.get("attacks_on_defence")
    if not isinstance(att, dict):
        return None
    table = TextTable("attacks", "Batteries attacked (95% interval)", ["battery", "attackers", "P(lost)", "lost at (mean)"])
    for bid, row in att["batteries"].items():
        table.rows.append([bid, str(row["attackers"]), ci(row["p_lost"], row["p_lost_ci95"], 2),
                           clock(row["lost_at_s_mean"]) if row["lost_at_s_mean"] is not None else ""])
    for rid, row in att.get("radars", {}).items():  # stand-alone radars, where a raid attacks one
        table.rows.append([f"radar:{rid}", str(row["attackers"]), ci(row["p_lost"], row["p_lost_ci95"], 2),
                           clock(row["lost_at_s_mean"]) if row["lost_at_s_mean"] is not None else ""])
    table.total.append(["batteries lost per raid", "", ci(att["batteries_lost_mean"], att["batteries_lost_ci95"], 2), ""])
    if "radars_lost_mean" in att:
        table.total.append(["radars lost per raid", "", ci(att["radars_lost_mean"], att["radars_lost_ci95"], 2), ""])
    return table


def area_defences_table(summary: dict[str, Any]) -> TextTable | None:
    """Area defences (docs/model.md): each one's engagements, kills, munitions and their cost per
    raid; only where the scenario has them."""
    areas = summary.get("area_defences")
    if not isinstance(areas, dict) or not areas:
        return None
    table = TextTable("area-defences", "Area defences (mean per raid)",
                      ["area defence", "engagements", "kills", "munitions", "stock", "cost"])
    for aid, row in areas.items():
        name = f"{aid} (cued by {row['cued_by']})" if row.get("cued_by") else aid  # dispatched on tracks
        table.rows.append([name, number(row["engagements_mean"]), number(row["kills_mean"]),
                           number(row["munitions_mean"]), "unlimited" if row.get("stock") is None else f"{row['stock']:,}",
                           usd(row["cost_usd_mean"])])
    return table


def acoustic_table(summary: dict[str, Any]) -> TextTable | None:
    """Acoustic cueing (docs/model.md): each field's network, sensors and the detections per km it
    makes on each threat type it hears; only where the scenario has fields and detection is on."""
    fields = (summary.get("detection") or {}).get("acoustic")
    if not isinstance(fields, dict) or not fields:
        return None
    table = TextTable("acoustic", "Acoustic sensors (detections per km flown inside, by threat type)",
                      ["field", "network", "sensors", "hears"], text_columns=(0, 1, 3))
    for fid, row in fields.items():
        hears = ", ".join(f"{t} {v:.3f}" for t, v in row["detections_per_km"].items()) or "nothing in this raid"
        table.rows.append([fid, str(row["network"]), f"{row['sensors']:,}", hears])
    return table


def money_table(summary: dict[str, Any]) -> TextTable:
    tot = summary["totals"]
    ratio = tot["cost_exchange_ratio"]
    table = TextTable("money", "Cost exchange (means)", ["", ""])
    table.rows += [["interceptors spent", usd(tot["interceptor_cost_usd_mean"])],
                   ["threats destroyed (their cost)", usd(tot["threat_cost_destroyed_usd_mean"])],
                   ["spent per $ destroyed", "n/a" if ratio is None else f"{ratio:.2f}"],
                   ["value lost (asset units)", ci(tot["value_lost_mean"], tot["value_lost_ci95"], 2)]]
    return table


def engagements_table(summary: dict[str, Any]) -> TextTable | None:
    """Which battery fired what at what: engagements, rounds and kills per battery, interceptor
    and threat type (mean per replication of the logged ones)."""
    eng = summary.get("engagements")
    if not isinstance(eng, dict) or not eng.get("by_battery"):
        return None
    table = TextTable("engagements", f"Engagements by battery, interceptor and threat type (mean per raid over "
                      f"{eng['replications']:,} replications)",
                      ["battery", "interceptor", "threat", "engagements", "rounds", "kills"], console=False,
                      text_columns=(0, 1, 2))
    for bid, by_k in eng["by_battery"].items():
        for iid, by_t in by_k.items():
            for tid, r in by_t.items():
                table.rows.append([bid, iid, tid, number(r["engagements_mean"]), number(r["rounds_mean"]),
                                   number(r["kills_mean"])])
    table.note = "engagements.parquet has every engagement (replication, time, threat, target asset, result)."
    return table


def raid_tables(summary: dict[str, Any]) -> list[TextTable]:
    """Every table of a raid run, in the order they are shown."""
    tables = [threats_table(summary), leak_causes_table(summary), interceptors_table(summary),
              batteries_table(summary), attacks_table(summary), area_defences_table(summary),
              acoustic_table(summary), assets_table(summary), money_table(summary), engagements_table(summary)]
    return [t for t in tables if t is not None]
