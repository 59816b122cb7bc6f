"""The ``shieldwall`` command. Heavy modules are imported inside the commands so that
``shieldwall --help`` answers at once."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(
    name="shieldwall",
    help="Analyse layered air and missile defence: raids, interceptors, stockpiles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


MAX_MEMORY_HELP = ("Refuse a run estimated to need more memory, e.g. 8GiB (default: half of this machine's, "
                   "or SHIELDWALL_MAX_MEMORY).")


def guard(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Run a command; a user mistake prints its message and exits 2, never a traceback."""
    from shieldwall.errors import ShieldwallError

    try:
        return fn(*args, **kwargs)
    except ShieldwallError as exc:
        from rich.console import Console
        from rich.text import Text

        # plain Text: a message quoting user input must never be parsed as markup
        from shieldwall.report.console import printable

        Console(stderr=True, highlight=False, soft_wrap=True).print(Text("error: ", style="bold red")
                                                                    + Text(printable(exc)))
        raise typer.Exit(code=exc.exit_code) from None


@app.command()
def run(
    scenario: Path = typer.Argument(..., help="Scenario file (YAML)."),
    replications: int = typer.Option(1000, "--replications", "-n", min=1, help="Monte Carlo replications."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", min=0, help="Random seed (default: the scenario's, else 0)."),
    out: Path = typer.Option(Path("out"), "--out", "-o", help="Folder for summary.json, Parquet and events."),
    workers: int = typer.Option(1, "--workers", "-w", min=1,
                                help="Processes that simulate (this one and N - 1 workers)."),
    no_report: bool = typer.Option(False, "--no-report", help="Skip the HTML report (report.html)."),
    max_memory: Optional[str] = typer.Option(None, "--max-memory", help=MAX_MEMORY_HELP),
) -> None:
    """Simulate a raid many times and report leakers, interceptors used and value lost."""
    from shieldwall.cli.run_cmd import run_command

    guard(run_command, scenario, replications=replications, seed=seed, out=out, workers=workers,
          html=not no_report, max_memory=max_memory)


@app.command()
def validate(scenario: Path = typer.Argument(..., help="Scenario file (YAML).")) -> None:
    """Check a scenario or campaign file and say what is wrong, or that it is fine."""
    from shieldwall.cli.validate_cmd import validate_command

    guard(validate_command, scenario)


@app.command()
def catalog(entry_id: Optional[str] = typer.Argument(None, metavar="[ID]", help="Show one entry with its sources.")) -> None:
    """List the built-in systems, interceptors, radars and threats, or show one."""
    from shieldwall.cli.catalog_cmd import catalog_command

    guard(catalog_command, entry_id)


@app.command()
def schema(out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write to a file instead of stdout."),
           kind: str = typer.Option("scenario", "--kind", help="scenario or theatre.")) -> None:
    """Print the JSON Schema of scenario (or theatre) files, for editors."""
    from shieldwall.cli.validate_cmd import schema_command

    guard(schema_command, out, kind)


@app.command()
def report(
    run_dir: Path = typer.Argument(..., help="Run folder (summary.json, events.parquet, scenario.json...)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="HTML file (default: RUN_DIR/report.html)."),
    scenario: Optional[Path] = typer.Option(None, "--scenario", help="Scenario file, for runs without scenario.json."),
) -> None:
    """Write one self-contained HTML report (tables, plots, map replay) of a run folder."""
    from shieldwall.cli.report_cmd import report_command

    guard(report_command, run_dir, out=out, scenario=scenario)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback unless told otherwise)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port."),
    runs: Path = typer.Option(Path("out"), "--runs", help="Folder of run folders (created if missing)."),
    max_replications: int = typer.Option(20000, "--max-replications", min=1,
                                         help="Largest run the web app will start."),
    examples: Optional[Path] = typer.Option(None, "--examples", help="Folder of scenario files to offer (default: ./examples)."),
    allow_host: list[str] = typer.Option([], "--allow-host",
                                         help="Also answer requests for this host name (repeat for more)."),
    max_run_seconds: float = typer.Option(1800.0, "--max-run-seconds", min=1.0,
                                          help="Stop a run from the app after this long."),
    max_run_memory: Optional[str] = typer.Option(None, "--max-run-memory",
                                                 help="Stop (or refuse) a run from the app over this much memory, "
                                                      "e.g. 4GiB (default: a share of this machine's)."),
) -> None:
    """Local web app: browse runs and reports, edit and validate a scenario, start runs, compare two."""
    from shieldwall.cli.serve_cmd import serve_command

    guard(serve_command, host=host, port=port, runs=runs, max_replications=max_replications, examples=examples,
          allow_host=allow_host, max_run_seconds=max_run_seconds, max_run_memory=max_run_memory)


@app.command()
def campaign(
    path: Path = typer.Argument(..., metavar="CAMPAIGN", help="Campaign file (YAML with a `nights:` key)."),
    replications: int = typer.Option(200, "--replications", "-n", min=1, help="Monte Carlo replications."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", min=0, help="Random seed (default: the file's, else 0)."),
    out: Path = typer.Option(Path("out/campaign"), "--out", "-o", help="Folder for campaign.json and nights.parquet."),
    workers: int = typer.Option(1, "--workers", "-w", min=1,
                                help="Processes that simulate each night (this one and N - 1 workers)."),
    max_memory: Optional[str] = typer.Option(None, "--max-memory", help=MAX_MEMORY_HELP),
) -> None:
    """Simulate many nights of raids: stocks over time, when they run out, what leaks, what it costs."""
    from shieldwall.cli.campaign_cmd import campaign_command

    guard(campaign_command, path, replications=replications, seed=seed, out=out, workers=workers,
          max_memory=max_memory)


@app.command()
def compare(
    a: Path = typer.Argument(..., metavar="A", help="Campaign or raid scenario file (the baseline)."),
    b: Path = typer.Argument(..., metavar="B", help="The same with an option (a delivery, a battery, a doctrine)."),
    replications: int = typer.Option(200, "--replications", "-n", min=2, help="Monte Carlo replications."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", min=0, help="Random seed (default: A's, else 0)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Also write the comparison as JSON."),
) -> None:
    """B - A with 95% intervals, on common random numbers: leakers, value lost, cost, runs-out night."""
    from shieldwall.cli.campaign_cmd import compare_command

    guard(compare_command, a, b, replications=replications, seed=seed, out=out)


@app.command()
def sweep(
    path: Path = typer.Argument(..., metavar="SWEEP", help="Sweep file (YAML): base, factors, design, outputs."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for shards, points, sweep.json, report "
                                       "(default out/sweep/<name>)."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Local worker processes (or LocalCluster size)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask: `local` for a LocalCluster, or "
                                            "tcp://HOST:PORT of a running cluster."),
    resume: bool = typer.Option(False, "--resume", help="Finish a sweep in --out: run only the missing tasks."),
    no_report: bool = typer.Option(False, "--no-report", help="Skip the HTML report."),
) -> None:
    """Run a parameter study over a scenario or campaign: points x replications on common random numbers."""
    from shieldwall.cli.sweep_cmd import sweep_command

    guard(sweep_command, path, out=out, workers=workers, scheduler=scheduler, resume=resume, html=not no_report)


@app.command()
def allocate(
    path: Path = typer.Argument(..., metavar="ALLOCATION", help="Allocation file (YAML): base campaign, "
                                "interceptor and recipients (or regions), or batteries and sites; tranches."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="allocation.json to write "
                                       "(default out/allocate/<name>.json)."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Local worker processes (or LocalCluster size)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask: `local` or tcp://HOST:PORT."),
) -> None:
    """Split a delivery (interceptors over batteries and regions, or new batteries over sites) across its dates to
    minimise value lost; checked against simple splits on fresh random numbers."""
    from shieldwall.cli.sweep_cmd import allocate_command

    guard(allocate_command, path, out=out, workers=workers, scheduler=scheduler)


calibrate_app = typer.Typer(help="Fit model inputs to data.", no_args_is_help=True)
app.add_typer(calibrate_app, name="calibrate")


@calibrate_app.command("raids")
def calibrate_raids(
    csv: Path = typer.Argument(..., help="Attack reports (format of missile_attacks_daily_2022-2024.csv)."),
    out: Path = typer.Option(Path("raid-generator.yaml"), "--out", "-o", help="Generator file to write."),
    distribution: str = typer.Option("negative-binomial", "--distribution",
                                     help="stationary: negative-binomial or empirical."),
    start: Optional[str] = typer.Option(None, "--from", help="First night used (YYYY-MM-DD)."),
    end: Optional[str] = typer.Option(None, "--to", help="Last night used (YYYY-MM-DD)."),
    method: str = typer.Option("trend", "--method",
                               help="trend (models mixed by cross-validation), regression (the trend's regression "
                                    "alone) or stationary."),
    half_life: Optional[float] = typer.Option(12.0, "--half-life", min=0.5,
                                              help="trend: weight of a night halves every this many months."),
) -> None:
    """Fit the campaign raid generator (frequency, size, threat mix, trend) to attack reports."""
    from shieldwall.cli.campaign_cmd import calibrate_raids_command

    guard(calibrate_raids_command, csv, out=out, distribution=distribution, start=start, end=end, method=method,
           half_life=half_life)


@calibrate_app.command("theatre")
def calibrate_theatre(
    record: Path = typer.Argument(..., metavar="RECORD.csv", help="Attack record (format of the 2022-2024 file)."),
    until: str = typer.Option(..., "--until", help="Last night fitted (YYYY-MM-DD)."),
    start: Optional[str] = typer.Option(None, "--from", help="First night fitted (default: the record's first)."),
    theatre: Optional[Path] = typer.Option(None, "--theatre", help="Theatre file (default: the shipped one)."),
    out: Path = typer.Option(Path("calibrated-theatre.yaml"), "--out", "-o", help="Theatre file to write."),
    replications: int = typer.Option(10, "--replications", "-n", help="Replications per night per evaluation."),
    seed: int = typer.Option(0, "--seed", "-s", min=0, help="Random seed (common to every evaluation)."),
    evaluations: int = typer.Option(80, "--evaluations", help="Optimiser budget (objective evaluations)."),
) -> None:
    """Fit the theatre's uncertain physical parameters (their catalog `ranges`) to the record."""
    from shieldwall.cli.backtest_cmd import calibrate_theatre_command

    guard(calibrate_theatre_command, record, start=start, until=until, theatre=theatre, out=out,
          replications=replications, seed=seed, evaluations=evaluations)


from shieldwall.cli.wta_cmd import wta_app  # noqa: E402  (light: imports its solvers inside the commands)

app.add_typer(wta_app, name="wta")

from shieldwall.cli.backtest_cmd import backtest_app  # noqa: E402  (light: imports its work inside the commands)

app.add_typer(backtest_app, name="backtest")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
