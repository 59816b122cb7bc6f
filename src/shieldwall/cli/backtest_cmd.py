"""``shieldwall backtest raids`` and ``shieldwall backtest rates``: the model against the public
attack record (docs/validation.md). Each writes its JSON and a self-contained HTML page into --out."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

backtest_app = typer.Typer(help="Check the model against the public attack record.", no_args_is_help=True)


def _date(text: str | None, flag: str) -> dt.date | None:
    from shieldwall.errors import UsageError

    try:
        return None if text is None else dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{flag} must be a date YYYY-MM-DD, got {text!r}") from None


def _guard(fn: Any, *args: Any, **kwargs: Any) -> Any:
    from shieldwall.cli.main import guard  # imported late: cli.main imports this module

    return guard(fn, *args, **kwargs)


# options both commands share, defined once
Record = Annotated[Path, typer.Argument(metavar="RECORD.csv", help="Attack record (format of the 2022-2024 file).")]
OutDir = Annotated[Path, typer.Option("--out", "-o", help="Folder for the backtest's JSON and HTML.")]
Seed = Annotated[int, typer.Option("--seed", "-s", min=0, help="Random seed.")]
Models = Annotated[Optional[Path], typer.Option("--models", help="Record model map merged over the shipped one.")]


@backtest_app.command("raids")
def raids(
    record: Record,
    fit_until: str = typer.Option(..., "--fit-until", help="Fit on nights before this date (YYYY-MM-DD)."),
    test_from: str = typer.Option(..., "--test-from", help="First night of the test period."),
    test_until: Optional[str] = typer.Option(None, "--test-until", help="Last night tested (default: the record's last)."),
    out: OutDir = Path("out/backtest"),
    method: str = typer.Option("trend", "--method", help="Generator: trend, regression or stationary."),
    half_life: float = typer.Option(12.0, "--half-life", min=0.5, help="trend: months over which a night's weight halves."),
    paths: int = typer.Option(2000, "--paths", min=1, help="Forecast futures (replications)."),
    seed: Seed = 0,
    models: Models = None,
) -> None:
    """Fit the raid generator before a date, forecast a later period, compare with the record."""
    _guard(raids_command, record, fit_until=fit_until, test_from=test_from, test_until=test_until, out=out,
           method=method, half_life=half_life, paths=paths, seed=seed, models=models)


@backtest_app.command("rates")
def rates(
    record: Record,
    start: str = typer.Option(..., "--from", help="First night replayed (YYYY-MM-DD)."),
    until: str = typer.Option(..., "--until", help="Last night replayed."),
    theatre: Optional[Path] = typer.Option(None, "--theatre", help="Theatre file (default: the shipped one)."),
    replications: int = typer.Option(50, "--replications", "-n", min=1, help="Monte Carlo replications per night."),
    seed: Seed = 0,
    out: OutDir = Path("out/backtest"),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Processes that simulate."),
    models: Models = None,
    within_pp: Optional[float] = typer.Option(
        None, "--within-pp", min=0.0, max=100.0, help="Also judge each model with at least --min-launched launched "
        "(and each size bin with at least --min-bin-launched): simulated neutralised share within this many "
        "percentage points of the record's?"),
    min_launched: int = typer.Option(100, "--min-launched", min=1, help="Smallest model judged by --within-pp."),
    min_bin_launched: int = typer.Option(1000, "--min-bin-launched", min=1,
                                         help="Smallest attack-size bin judged by --within-pp."),
) -> None:
    """Replay every recorded attack through the engine against a theatre; compare kill and neutralised shares."""
    _guard(rates_command, record, start=start, until=until, theatre=theatre, replications=replications, seed=seed,
           out=out, workers=workers, models=models, within_pp=within_pp, min_launched=min_launched,
           min_bin_launched=min_bin_launched)


def raids_command(record: Path, *, fit_until: str, test_from: str, test_until: str | None, out: Path, method: str,
                  half_life: float, paths: int, seed: int, models: Path | None) -> None:
    from shieldwall.backtest.raids import backtest_raids, write_backtest
    from shieldwall.report.backtest import render_raids, write_page
    from shieldwall.scenario.record import load_model_map

    doc = backtest_raids(record, _date(fit_until, "--fit-until"), _date(test_from, "--test-from"),
                         _date(test_until, "--test-until"), method=method, half_life_months=half_life, paths=paths,
                         seed=seed, model_map=load_model_map(models) if models else None)
    json_path = write_backtest(doc, out, "backtest-raids.json")
    html_path = write_page(render_raids(doc), Path(out) / "backtest-raids.html")
    test = doc["test"]
    table = Table(title=f"Forecast of {test['from']} to {test['until']} from a {method} fit before {fit_until}: "
                        "record / forecast", title_justify="left")
    for col in ("", "nights with", "KS", "median", "p95", "max", "median ratio", "months inside 90%"):
        table.add_column(col, justify="left" if not col else "right")
    for name, part in [("all threats", test), *test["by_family"].items()]:
        rec, fc = part["recorded"], part["forecast"]

        def pair(k: str) -> str:
            return "-" if rec.get(k) is None else f"{rec[k]:g} / {fc[k]:g}"

        table.add_row(name, str(part["nights_with"]),
                      "-" if part["ks_night_size"] is None else f"{part['ks_night_size']:.3f}",
                      pair("median"), pair("p95"), pair("max"),
                      "-" if part["median_ratio"] is None else f"{part['median_ratio']:.2f}",
                      "-" if part["monthly_coverage_90"] is None else f"{100 * part['monthly_coverage_90']:.0f}%")
    console = Console()
    console.print(table)
    console.print(f"wrote {json_path}, {html_path}")


def rates_command(record: Path, *, start: str, until: str, theatre: Path | None, replications: int, seed: int,
                  out: Path, workers: int, models: Path | None, within_pp: float | None = None,
                  min_launched: int = 100, min_bin_launched: int = 1000) -> None:
    from shieldwall.backtest.raids import write_backtest
    from shieldwall.backtest.rates import backtest_rates
    from shieldwall.report.backtest import render_rates, write_page
    from shieldwall.scenario.record import load_model_map

    first, last = _date(start, "--from"), _date(until, "--until")
    assert first is not None and last is not None
    doc = backtest_rates(record, first, last, theatre=theatre, replications=replications, seed=seed, workers=workers,
                         model_map=load_model_map(models) if models else None, within_pp=within_pp,
                         min_launched=min_launched, min_bin_launched=min_bin_launched)
    json_path = write_backtest(doc, out, "backtest-rates.json")
    html_path = write_page(render_rates(doc), Path(out) / "backtest-rates.html")
    w = doc["window"]
    table = Table(title=f"{w['from']} to {w['until']}: {w['attacks']} attacks on {w['nights']} nights, "
                        f"{replications} replications: record / simulated mean [95% range], %", title_justify="left")
    for col in ("record model", "launched", "destroyed", "neutralised"):
        table.add_column(col, justify="left" if col == "record model" else "right")

    def cell(e: dict[str, Any], k: str) -> str:
        rec, sim = e["recorded"][k], e["simulated"][k]
        return (f"{'-' if rec is None else f'{100 * rec:.1f}'} / {100 * sim['mean']:.1f} "
                f"[{100 * sim['lo']:.1f}-{100 * sim['hi']:.1f}]")

    for m, e in doc["by_model"].items():
        table.add_row(m, f"{e['launched']:,}", cell(e, "destroyed"), cell(e, "neutralised"))
    for b in doc["by_size"].get("Shahed-136/131", []):
        table.add_row(f"  Shahed-136/131 {b['bin']}", f"{b['launched']:,}", cell(b, "destroyed"), cell(b, "neutralised"))
    console = Console()
    console.print(table)
    if "verdicts" in doc:
        _print_verdicts(console, doc["verdicts"])
    th = doc["theatre"]
    if th["unresolved_targets"]:
        console.print(f"targets no alias knows (spread like national attacks): {', '.join(th['unresolved_targets'])}")
    console.print(f"wrote {json_path}, {html_path}")


def _print_verdicts(console: Console, verdicts: dict[str, Any]) -> None:
    rule, entries = verdicts["rule"], verdicts["entries"]
    met = sum(v["within"] for v in entries)
    table = Table(title=f"neutralised within {rule['within_pp']:g} pp (models >= {rule['min_launched']:,} launched, "
                        f"size bins >= {rule['min_bin_launched']:,}): {met} of {len(entries)} met",
                  title_justify="left")
    for col in ("entry", "launched", "record %", "simulated % [95%]", "difference", "within"):
        table.add_column(col, justify="left" if col == "entry" else "right")
    for v in entries:
        simulated = "" if v["launched_simulated"] == v["launched"] else f" ({v['launched_simulated']:,} simulated)"
        table.add_row(v["entry"] + simulated, f"{v['launched']:,}", f"{v['recorded_pct']:.1f}",
                      f"{v['simulated_pct']:.1f} [{v['lo_pct']:.1f}-{v['hi_pct']:.1f}]",
                      f"{v['difference_pp']:+.1f} pp", "yes" if v["within"] else "NO")
    console.print(table)


def calibrate_theatre_command(record: Path, *, start: str | None, until: str, theatre: Path | None, out: Path,
                              replications: int, seed: int, evaluations: int) -> None:
    """Fit the theatre's ranged parameters to the record and write the calibrated theatre."""
    from shieldwall.backtest.calibrate import calibrate_theatre, write_theatre_yaml

    first, last = _date(start, "--from"), _date(until, "--until")
    assert last is not None
    console = Console()

    def progress(n: int, d: float) -> None:
        if n % 10 == 0:
            console.print(f"  evaluation {n}: deviance {d:,.1f}")

    data, result = calibrate_theatre(record, first, last, theatre=theatre, replications=replications, seed=seed,
                                     evaluations=evaluations, progress=progress)
    cal = data["calibration"]
    header = (f"Calibrated by `shieldwall calibrate theatre` on {cal['record']['file']} "
              f"{cal['window']['from']}..{cal['window']['until']} (sha256 {cal['record']['sha256'][:16]}...).\n"
              f"From {theatre or 'the shipped theatre'}: every zone and unit NOTIONAL, never real positions; "
              "the fitted values and their provenance are under `calibration:`\nand in each fitted field's "
              "`sources` note.")
    path = write_theatre_yaml(data, out, header)
    table = Table(title=f"{len(result['parameters'])} parameters, deviance {cal['deviance']['start']:,.1f} -> "
                        f"{cal['deviance']['fitted']:,.1f} over {cal['groups']} groups ({cal['evaluations']} "
                        "evaluations)", title_justify="left")
    for col in ("parameter", "start", "fitted", "+- (1 se)", "range"):
        table.add_column(col, justify="left" if col == "parameter" else "right")
    for row in result["parameters"]:
        se = "not identified" if row["standard_error"] is None else f"{row['standard_error']:.3g}"
        table.add_row(row["name"], f"{row['start']:.4g}", f"{row['value']:.4g}", se,
                      f"[{row['range'][0]:g}, {row['range'][1]:g}]")
    console.print(table)
    console.print(f"wrote {path}")
