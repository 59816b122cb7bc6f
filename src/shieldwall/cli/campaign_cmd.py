"""``shieldwall campaign``, ``shieldwall compare`` and ``shieldwall calibrate raids``."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from shieldwall.report.console import usd


def _checkpoints(n: int) -> list[int]:
    marks = [1, 7, 14, 30, 60, 90, 120, 180, 270, 365]
    return sorted({m for m in marks if m < n} | {n})


def _band(b: dict[str, float], digits: int = 0) -> str:
    return f"{b['median']:,.{digits}f} [{b['p5']:,.{digits}f}-{b['p95']:,.{digits}f}]"


def campaign_tables(summary: dict[str, Any]) -> list[Table]:
    n = summary["nights"]
    marks = _checkpoints(n)
    start = dt.date.fromisoformat(summary["start_date"])
    stock = Table(title="Stock at the end of the night, batteries + depots: median [5%-95%]", title_justify="left")
    stock.add_column("night")
    for k in summary["stock_by_night"]:
        stock.add_column(k, justify="right")
    stock.add_row(f"start {start:%d %b}", *(_band(summary["interceptors"][k]["start"]) for k in summary["stock_by_night"]))
    for m in marks:
        stock.add_row(f"{m} ({start + dt.timedelta(days=m - 1):%d %b})",
                      *(_band(bands[m - 1]) for bands in summary["stock_by_night"].values()))

    runs_out = Table(title="Night the stock first runs out (5% / median / 95% of replications)", title_justify="left")
    for col in ("interceptor", "runs out in", "5%", "median", "95%", "fired (median)", "delivered", "produced"):
        runs_out.add_column(col, justify="left" if col == "interceptor" else "right")
    for k, dep in summary["depletion_night"].items():
        info = summary["interceptors"][k]
        cells = ["never", "-", "-", "-"] if dep is None else [
            f"{100 * dep['fraction_depleted']:.0f}%",
            *("later" if dep[q] is None else f"{dep[q]} ({start + dt.timedelta(days=dep[q] - 1):%d %b})"
              for q in ("p5", "median", "p95"))]
        runs_out.add_row(k, *cells, f"{info['fired']['median']:,.0f}", f"{info['delivered']:,.0f}",
                         f"{info['produced']:,.0f}")

    cumulative = Table(title="Cumulative threats (mean over replications)", title_justify="left")
    cumulative.add_column("by night", justify="right")
    for col in ("launched", "intercepted", "leaked"):
        cumulative.add_column(col, justify="right")
    per = summary["per_night"]
    for m in marks:
        cumulative.add_row(str(m), *(f"{sum(per[f'{c}_mean'][:m]):,.1f}" for c in ("launched", "intercepted", "leaked")))

    tot = summary["totals"]
    totals = Table(title=f"Campaign totals over {n} nights: mean [95% CI]; 5%-95% of replications",
                   title_justify="left")
    for col in ("", "mean [95% CI]", "5%-95%"):
        totals.add_column(col, justify="left" if not col else "right")
    for name, label, money in (("launched", "threats launched", False), ("intercepted", "intercepted", False),
                               ("leaked", "leaked", False), ("leaked_armed", "leaked, armed (no decoys)", False),
                               ("expired", "failed in flight", False),
                               ("value_lost", "value lost (asset units)", False),
                               ("interceptor_cost_usd", "interceptors spent", True),
                               ("threat_cost_destroyed_usd", "threats destroyed (their cost)", True)):
        if name not in tot:  # a campaign.json written before armed leakers were split out
            continue
        row = tot[name]
        fmt = usd if money else (lambda x: f"{x:,.1f}")
        totals.add_row(label, f"{fmt(row['mean'])} [{fmt(row['ci95'][0])}, {fmt(row['ci95'][1])}]",
                       f"{fmt(row['p5'])} - {fmt(row['p95'])}")
    ratio = tot["cost_exchange_ratio"]
    totals.add_row("cost exchange (spent per $ destroyed)", "n/a" if ratio is None else f"{ratio:.2f}", "")
    return [stock, runs_out, cumulative, totals]


def campaign_command(path: Path, *, replications: int, seed: int | None, out: Path | None, workers: int,
                     max_memory: str | None = None) -> None:
    from rich.text import Text

    from shieldwall.campaign.load import load_campaign
    from shieldwall.campaign.run import run_campaign
    from shieldwall.cli.run_cmd import interrupted_message, steps_bar
    from shieldwall.engine.budget import parse_bytes
    from shieldwall.report.console import plain_console, printable
    from shieldwall.report.html import write_report
    from shieldwall.report.rundir import DEFAULT_RUNS, StagedRun, check_out_dir, new_run_folder

    console = plain_console()
    budget = parse_bytes(max_memory) if max_memory else None
    if out is not None:
        check_out_dir(out)
    loaded = load_campaign(path)
    reserved = out is None
    if out is None:  # a new folder each run, inside the folder `shieldwall serve` lists
        out = new_run_folder(DEFAULT_RUNS, loaded.campaign.name)
    with interrupted_message(console, out, reserved):
        with StagedRun(out, "campaign", replications=replications, seed=seed, campaign_file=str(path)) as stage:
            bar, advance = steps_bar(console, printable(f"{loaded.campaign.name}: nights"), loaded.nights)
            with bar:
                result = run_campaign(loaded, replications=replications, seed=seed, workers=workers,
                                      progress=advance, max_memory_bytes=budget)
            summary = result.summary()
            result.write(stage.path, summary)
            write_report(stage.path, shown_as=str(out))
            stage.commit()
    console.print(Text(printable(summary["campaign"]), style="bold") + Text(
        f": {summary['nights']} nights from {summary['start_date']}, {replications} replications, "
        f"seed {summary['seed']}"))
    for table in campaign_tables(summary):
        console.print(table)
    if summary["raid_threats_cut_to_compiled_size"]:
        console.print(f"note: {summary['raid_threats_cut_to_compiled_size']} generated threats did not fit the "
                      "compiled raid and were left out")
    console.print(Text(printable(f"wrote {out / 'campaign.json'}, {out / 'nights.parquet'} (one row per replication "
                                 f"and night), {out / 'report.html'}")))


def compare_command(a: Path, b: Path, *, replications: int | None, seed: int | None, out: Path | None,
                    workers: int = 1) -> None:
    from rich.progress import Progress
    from rich.text import Text

    from shieldwall.campaign.compare import compare_files, default_replications, verdict
    from shieldwall.campaign.load import is_campaign_file
    from shieldwall.cli.run_cmd import progress_columns
    from shieldwall.report.console import plain_console, printable

    console = plain_console()
    campaign = is_campaign_file(a)
    n = replications if replications is not None else default_replications(campaign)
    total = 2 * (load_nights(a) if campaign else n)
    with Progress(*progress_columns(), console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("A, then B: " + ("nights" if campaign else "replications"), total=total)
        result = compare_files(a, b, replications=n, seed=seed, workers=workers,
                               progress=lambda k: bar.advance(task, k))
    table = Table(title=f"B - A, paired over {n} replications (seed {result['seed']}, common random "
                        "numbers); 95% interval", title_justify="left")
    for col in ("", "A", "B", "B - A", "95% interval", "B is"):
        table.add_column(col, justify="left" if col in ("", "B is") else "right")
    for name, m in result["metrics"].items():
        fmt = usd if name.endswith("usd") else (lambda x: f"{x:,.2f}")
        table.add_row(m["label"], fmt(m["a_mean"]), fmt(m["b_mean"]), fmt(m["difference_mean"]),
                      f"[{fmt(m['difference_ci95'][0])}, {fmt(m['difference_ci95'][1])}]", verdict(m))
    for k, m in result["depletion_night"].items():
        if m["a_never"] == 1.0 and m["b_never"] == 1.0:
            continue
        table.add_row(m["label"], f"{m['a_mean']:.1f}", f"{m['b_mean']:.1f}", f"{m['difference_mean']:+.1f}",
                      f"[{m['difference_ci95'][0]:+.1f}, {m['difference_ci95'][1]:+.1f}]", verdict(m))
    console.print(Text(printable(f"A: {a}\nB: {b}")))
    console.print(table)
    if result["depletion_night"]:
        console.print("runs-out night: a stock that never runs out counts as the night after the campaign")
    if not result["common_random_numbers"]:
        console.print("note: A and B do not launch the same threats, so their random numbers are only partly common")
    if out is not None:
        from shieldwall.errors import UsageError

        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(result, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
        console.print(Text(printable(f"wrote {out}")))


def load_nights(path: Path) -> int:
    from shieldwall.campaign.load import load_campaign

    return load_campaign(path).nights


def calibrate_raids_command(csv: Path, *, out: Path, distribution: str, start: str | None, end: str | None,
                            method: str = "trend", half_life: float | None = 12.0) -> None:
    from shieldwall.campaign.calibrate import calibrate_raids, write_generator
    from shieldwall.errors import UsageError

    def date(text: str | None, flag: str) -> dt.date | None:
        try:
            return None if text is None else dt.date.fromisoformat(text)
        except ValueError:
            raise UsageError(f"{flag} must be a date YYYY-MM-DD, got {text!r}") from None

    if distribution not in ("negative-binomial", "empirical"):
        raise UsageError(f"--distribution must be negative-binomial or empirical, got {distribution!r}")
    doc = calibrate_raids(csv, method=method, distribution=distribution, start=date(start, "--from"),
                          end=date(end, "--to"), half_life_months=half_life)
    path = write_generator(doc, out)
    console = Console()
    prov = doc["provenance"]
    console.print(f"{prov['source_file']}: nights {prov['first_night']} to {prov['last_night']} ({prov['nights']}), "
                  f"{prov['raid_nights']} with a raid; {prov['rows_used']} of {prov['rows']} rows used")
    if doc.get("method") == "trend":
        _trend_table(console, doc)
    else:
        _stationary_table(console, doc)
    unmapped = prov["unmapped_models"]
    if unmapped:
        top = ", ".join(f"{m} ({v['launched']})" for m, v in list(unmapped.items())[:8])
        console.print(f"not mapped to a catalog threat ({len(unmapped)} models, launched): {top}"
                      + (", ..." if len(unmapped) > 8 else ""))
    console.print(f"wrote {path}")


def _trend_table(console: Console, doc: dict[str, Any]) -> None:
    table = Table(title=f"Raid generator following the trend (origin {doc['origin']}; months from it): the "
                        "regression", title_justify="left")
    for col in ("family", "mix", "P(comes) at origin", "growth of P (logit/month)", "mean size at origin",
                "size growth/month", "month effect sd"):
        table.add_column(col, justify="left" if col in ("family", "mix") else "right")
    for f in doc["families"]:
        t = f["trend"]
        table.add_row(f["id"], ", ".join(f"{k} {w:.2f}" for k, w in f["mix"].items()), f"{f['probability']:.3f}",
                      f"{t['occurrence'][1]:+.3f}", f"{f['size']['mean']:.1f}",
                      f"{100 * (math.exp(t['log_mean'][1]) - 1):+.1f}%", f"{t['month_effect']['sd']:.2f}")
    console.print(table)
    short = {"regression": "regression", "local-level": "level", "local-linear-trend": "linear trend"}
    for f in doc["families"]:
        if f.get("mixture"):
            sel = doc["fit"]["selection"][f["id"]]
            console.print(f"{f['id']}: " + ", ".join(f"{short[c['model']]} {c['weight']:.1f}" for c in f["mixture"])
                          + f" (stacking over {sel['months_scored']} months of rolling-origin cross-validation)")


def _stationary_table(console: Console, doc: dict[str, Any]) -> None:
    table = Table(title=f"Raid generator (P(raid night) = {doc['raid_probability']:.3f})", title_justify="left")
    for col in ("family", "P(comes | raid)", "mix", "size", "mean", "max", "KS distance"):
        table.add_column(col, justify="left" if col in ("family", "mix", "size") else "right")
    for f in doc["families"]:
        s = f["size"]
        size = f"1 + NB(n={s['n']:.3g}, p={s['p']:.3g})" if s["distribution"] == "negative-binomial" else "empirical"
        table.add_row(f["id"], f"{f['probability']:.3f}", ", ".join(f"{t} {w:.2f}" for t, w in f["mix"].items()),
                      size, f"{s['mean']:.1f}", str(s["max"]), f"{s['ks_distance']:.3f}")
    console.print(table)
    fit = doc["fit"]
    console.print(f"raid size (all threats of a night): KS distance {fit['raid_size_ks_distance']:.3f}; median "
                  f"{fit['raid_size_observed']['median']:g} observed, {fit['raid_size_fitted']['median']:g} fitted")
