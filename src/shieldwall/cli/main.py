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


def _guard(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Run a command; a user mistake prints its message and exits 2, never a traceback."""
    from shieldwall.errors import ShieldwallError

    try:
        return fn(*args, **kwargs)
    except ShieldwallError as exc:
        from rich.console import Console
        from rich.text import Text

        # plain Text: a message quoting user input must never be parsed as markup
        Console(stderr=True, highlight=False, soft_wrap=True).print(Text("error: ", style="bold red") + Text(str(exc)))
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
) -> None:
    """Simulate a raid many times and report leakers, interceptors used and value lost."""
    from shieldwall.cli.run_cmd import run_command

    _guard(run_command, scenario, replications=replications, seed=seed, out=out, workers=workers,
           html=not no_report)


@app.command()
def validate(scenario: Path = typer.Argument(..., help="Scenario file (YAML).")) -> None:
    """Check a scenario or campaign file and say what is wrong, or that it is fine."""
    from shieldwall.cli.validate_cmd import validate_command

    _guard(validate_command, scenario)


@app.command()
def catalog(entry_id: Optional[str] = typer.Argument(None, metavar="[ID]", help="Show one entry with its sources.")) -> None:
    """List the built-in systems, interceptors, radars and threats, or show one."""
    from shieldwall.cli.catalog_cmd import catalog_command

    _guard(catalog_command, entry_id)


@app.command()
def schema(out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write to a file instead of stdout."),
           kind: str = typer.Option("scenario", "--kind", help="scenario or theatre.")) -> None:
    """Print the JSON Schema of scenario (or theatre) files, for editors."""
    from shieldwall.cli.validate_cmd import schema_command

    _guard(schema_command, out, kind)


@app.command()
def report(
    run_dir: Path = typer.Argument(..., help="Run folder (summary.json, events.parquet, scenario.json...)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="HTML file (default: RUN_DIR/report.html)."),
    scenario: Optional[Path] = typer.Option(None, "--scenario", help="Scenario file, for runs without scenario.json."),
) -> None:
    """Write one self-contained HTML report (tables, plots, map replay) of a run folder."""
    from shieldwall.cli.report_cmd import report_command

    _guard(report_command, run_dir, out=out, scenario=scenario)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback unless told otherwise)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port."),
    runs: Path = typer.Option(Path("out"), "--runs", help="Folder of run folders (created if missing)."),
    max_replications: int = typer.Option(20000, "--max-replications", min=1,
                                         help="Largest run the web app will start."),
    examples: Optional[Path] = typer.Option(None, "--examples", help="Folder of scenario files to offer (default: ./examples)."),
) -> None:
    """Local web app: browse runs and reports, edit and validate a scenario, start runs, compare two."""
    from shieldwall.cli.serve_cmd import serve_command

    _guard(serve_command, host=host, port=port, runs=runs, max_replications=max_replications, examples=examples)


@app.command()
def campaign(
    path: Path = typer.Argument(..., metavar="CAMPAIGN", help="Campaign file (YAML with a `nights:` key)."),
    replications: int = typer.Option(200, "--replications", "-n", min=1, help="Monte Carlo replications."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", min=0, help="Random seed (default: the file's, else 0)."),
    out: Path = typer.Option(Path("out/campaign"), "--out", "-o", help="Folder for campaign.json and nights.parquet."),
    workers: int = typer.Option(1, "--workers", "-w", min=1,
                                help="Processes that simulate each night (this one and N - 1 workers)."),
) -> None:
    """Simulate many nights of raids: stocks over time, when they run out, what leaks, what it costs."""
    from shieldwall.cli.campaign_cmd import campaign_command

    _guard(campaign_command, path, replications=replications, seed=seed, out=out, workers=workers)


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

    _guard(compare_command, a, b, replications=replications, seed=seed, out=out)


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

    _guard(calibrate_raids_command, csv, out=out, distribution=distribution, start=start, end=end, method=method,
           half_life=half_life)


from shieldwall.cli.wta_cmd import wta_app  # noqa: E402  (light: imports its solvers inside the commands)

app.add_typer(wta_app, name="wta")

from shieldwall.cli.backtest_cmd import backtest_app  # noqa: E402  (light: imports its work inside the commands)

app.add_typer(backtest_app, name="backtest")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
