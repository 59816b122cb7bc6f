"""``shieldwall sweep`` and ``shieldwall allocate``: many options, one table, a decision."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from shieldwall.errors import UsageError


def progress_bar(unit: str = "replications") -> tuple[Progress, Any]:
    """A bar with tasks done, replications per second and time left; refreshed by its caller
    (no thread of its own: worker processes may be forked while it is open)."""
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                   console=Console(stderr=True), auto_refresh=False, transient=False)
    task = bar.add_task("tasks", total=None, rate="")
    start = [time.perf_counter(), None]

    def update(done: int, total: int, reps: int) -> None:
        if start[1] is None:  # the rate counts this run's replications, not resumed ones
            start[1] = done
        elapsed = max(time.perf_counter() - start[0], 1e-9)
        bar.update(task, completed=done, total=total, rate=f"{reps / elapsed:,.0f} {unit}/s")
        bar.refresh()

    return bar, update


def sweep_command(path: Path, *, out: Path | None, workers: int, scheduler: str | None, resume: bool,
                  html: bool = True) -> None:
    from shieldwall.sweep import load_sweep, run_sweep

    if workers < 1:
        raise UsageError("--workers must be at least 1")
    loaded = load_sweep(path)
    out = out or Path("out") / "sweep" / path.stem
    console = Console(highlight=False, soft_wrap=True)
    from shieldwall.sweep.design import design_size

    console.print(Text(f"sweep {path}: {design_size(loaded.spec):,} points x {loaded.spec.replications:,} replications "
                  f"of {loaded.spec.base} ({loaded.kind}), design {loaded.spec.design.kind}"))
    bar, update = progress_bar()
    with bar:
        result = run_sweep(loaded, out, workers=workers, scheduler=scheduler, resume=resume, progress=update)
    run = result.pop("_run")
    console.print(f"{run['tasks_run']} tasks run on {run['backend']} in {run['wall_s']:.1f} s")
    for table in sweep_tables(result):
        console.print(table)
    if html:
        from shieldwall.report.sweep_html import write_sweep_report

        console.print(f"report: {write_sweep_report(out)}")
    console.print(f"results: {out / 'sweep.json'}, {out / 'points.parquet'}, shards in {out / 'shards'} "
                  "(DuckDB: shieldwall.sweep.store.SweepStore(DIR).connect())")


def sweep_tables(result: dict[str, Any]) -> list[Table]:
    tables = []
    for output, ranking in result["ranking"].items():
        has_sobol = any(r.get("ST") is not None or r.get("S1") is not None for r in ranking)
        t = Table(title=f"{output}: factors by importance", title_justify="left")
        t.add_column("factor")
        t.add_column("effect range", justify="right")
        if has_sobol:
            for col in ("S1 [95%]", "ST [95%]"):
                t.add_column(col, justify="right")
        for r in ranking:
            cells = [r["factor"], f"{r['effect_range']:,.3g}"]
            if has_sobol:
                cells += [_index(r.get("S1"), r.get("S1_conf")), _index(r.get("ST"), r.get("ST_conf"))]
            t.add_row(*map(Text, cells))
        tables.append(t)
        best = Table(title=f"{output}: best points (mean [95% CI])", title_justify="left")
        for col in ("point", "factors", output):
            best.add_column(col)
        for b in result["best"][output]:
            best.add_row(str(b["point"]), Text(", ".join(f"{k}={v}" for k, v in b["factors"].items())),
                         Text(f"{b['mean']:,.3g} [{b['ci95'][0]:,.3g}, {b['ci95'][1]:,.3g}]"))
        tables.append(best)
    return tables


def _index(value: float | None, conf: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f} [{value - (conf or 0):.3f}, {value + (conf or 0):.3f}]"


def allocate_command(path: Path, *, out: Path | None, workers: int, scheduler: str | None) -> None:
    import json

    from shieldwall.sweep.allocate import allocate, load_allocation
    from shieldwall.sweep.backends import make_backend
    from shieldwall.sweep.store import atomic_write_text

    loaded = load_allocation(path)
    spec = loaded.spec
    console = Console(highlight=False, soft_wrap=True)
    over = (f"regions {', '.join(loaded.arms)} (within a region: {spec.within_region})" if loaded.by_region
            else ("sites " if loaded.kind == "batteries" else "") + ", ".join(loaded.arms))
    console.print(Text(f"allocate {loaded.total:,} {loaded.what} over {over} in {len(spec.tranches)} tranches, "
                       f"minimising {spec.objective} over {spec.base} ({spec.replications} replications on common "
                       f"random numbers, seed {spec.seed})"))
    backend = make_backend(workers, scheduler)
    start = time.perf_counter()
    try:
        def progress(n: int) -> None:
            console.print(Text(f"  {n} allocations evaluated ({time.perf_counter() - start:.0f} s)"), end="\r")

        result = allocate(loaded, backend, progress)
    finally:
        backend.close()
    console.print()
    console.print(allocation_table(result))
    if "regions" in result:
        console.print(regions_table(result))
    console.print(verification_table(result))
    target = out or Path("out") / "allocate" / f"{path.stem}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, json.dumps(result, indent=2, default=str) + "\n")
    console.print(Text(f"wrote {target} ({result['optimisation']['evaluations']} allocations evaluated "
                       f"({result['optimisation']['search']}) in {time.perf_counter() - start:.0f} s)"))


def allocation_table(result: dict[str, Any]) -> Table:
    """Units: per tranche and recipient, then the totals and the baselines' totals. Batteries:
    the sites chosen on each date."""
    if result["kind"] == "batteries":
        t = Table(title=f"Chosen sites of {result['total']} {result['delivery']}", title_justify="left")
        for col in ("delivery date", "sites (batteries)"):
            t.add_column(col)
        for date, row in result["allocation"].items():
            t.add_row(date, Text(", ".join(f"{s} ({n})" if n > 1 else s for s, n in row.items() if n)))
        for name, table in result["baselines"].items():
            sites = [s for row in table.values() for s, n in row.items() if n]
            t.add_row(Text(f"({name})", style="dim"), Text(", ".join(sites), style="dim"))
        return t
    t = Table(title=f"Chosen allocation of {result['total']:,} {result['delivery']} (units per tranche)",
              title_justify="left")
    t.add_column("delivery date")
    for r in result["recipients"]:
        t.add_column(r, justify="right")
    for date, row in result["allocation"].items():
        t.add_row(date, *(str(row[r]) for r in result["recipients"]))
    t.add_row("total", *(str(result["totals_by_recipient"][r]) for r in result["recipients"]))
    for name, table in result["baselines"].items():
        totals = {r: sum(row[r] for row in table.values()) for r in result["recipients"]}
        t.add_row(Text(f"({name})", style="dim"), *(Text(str(totals[r]), style="dim") for r in result["recipients"]))
    return t


def _difference(d: dict[str, Any], scale: float = 1.0) -> str:
    m, (lo, hi) = d["difference_mean"] / scale, (x / scale for x in d["difference_ci95"])
    return f"{m:+,.1f} [{lo:+,.1f}, {hi:+,.1f}]"


def regions_table(result: dict[str, Any]) -> Table:
    """Per region and option: what it receives, and its value lost on fresh random numbers
    (mean [95% CI]) with the paired difference chosen - option."""
    regions, v = result["regions"], result["verification"]
    unit = "batteries" if result["kind"] == "batteries" else "units"
    t = Table(title="Per region, checked on fresh random numbers: value lost over the campaign, mean [95% CI]",
              title_justify="left")
    for col in ("region", "option", unit, "value lost", "chosen - option"):
        t.add_column(col, justify="left" if col in ("region", "option") else "right")
    for region, checked in v["regions"].items():
        for k, option in enumerate(["chosen", *result["baselines"]]):
            lost = checked["value_lost"][option]
            t.add_row(region if k == 0 else "", option, str(regions["totals"][option].get(region, 0)),
                      f"{lost['mean']:,.1f} [{lost['ci95'][0]:,.1f}, {lost['ci95'][1]:,.1f}]",
                      _difference(checked["differences"][f"chosen - {option}"]) if k else "",
                      end_section=k == len(result["baselines"]))
    return t


def verification_table(result: dict[str, Any]) -> Table:
    v = result["verification"]
    t = Table(title=f"Checked on fresh random numbers (seed {v['seed']}, {v['replications']} replications): "
                    "chosen - baseline, mean [95% CI]", title_justify="left")
    for col in ("baseline", "value lost", "leaked", "interceptor cost", "chosen beats it"):
        t.add_column(col, justify="left" if col == "baseline" else "right")
    for name in result["baselines"]:
        d = v["differences"][f"chosen - {name}"]
        t.add_row(name, _difference(d["value_lost"]), _difference(d["leaked"]),
                  _difference(d["interceptor_cost_usd"], 1e6) + " M$",
                  "yes" if v["beats"][name] else "no (interval holds 0 or above)")
    return t
