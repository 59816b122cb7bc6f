"""The ``shieldwall`` command. Heavy modules are imported inside the commands so that
``shieldwall --help`` answers at once."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from shieldwall.limits import CAMPAIGN_REPLICATIONS, RAID_REPLICATIONS

app = typer.Typer(
    name="shieldwall",
    help="Analyse layered air and missile defence: raids, interceptors, stockpiles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: flags without a type, and no rich import for --help
)
REPLICATIONS_HELP = (f"Monte Carlo replications (default: {RAID_REPLICATIONS:,} for a raid scenario, "
                     f"{CAMPAIGN_REPLICATIONS} for a campaign).")
WORKERS_HELP = "Processes that simulate (this one and N - 1 workers)."
SEED_HELP = "Random seed (default: the file's, else 0)."


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"shieldwall {version('shieldwall')}")
        except PackageNotFoundError:  # pragma: no cover - run from a source tree without install
            typer.echo("shieldwall (not installed)")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Analyse layered air and missile defence: raids, interceptors, stockpiles."""


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
    scenario: Path = typer.Argument(..., metavar="SCENARIO", help="Raid scenario file (YAML)."),
    replications: int = typer.Option(RAID_REPLICATIONS, "--replications", "-n", min=1, metavar="N",
                                     help="Monte Carlo replications."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", min=0, metavar="SEED", help=SEED_HELP),
    out: Optional[Path] = typer.Option(None, "--out", "-o", metavar="DIR",
                                       help="Run folder to write (default: out/NAME-DATE-TIME, a new one each run, "
                                            "where `shieldwall serve` lists it)."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, metavar="N", help=WORKERS_HELP),
    no_report: bool = typer.Option(False, "--no-report", help="Skip the HTML report (report.html)."),
    engagements: Optional[int] = typer.Option(None, "--engagements", min=0, metavar="N",
                                              help="Log every engagement of the first N replications for "
                                                   "engagements.parquet and the timelines (default: all, up to "
                                                   "10,000; 0: none)."),
    max_memory: Optional[str] = typer.Option(None, "--max-memory", metavar="SIZE", help=MAX_MEMORY_HELP),
) -> None:
    """Simulate a raid many times and report leakers and why, interceptors used and value lost."""
    from shieldwall.cli.run_cmd import run_command

    guard(run_command, scenario, replications=replications, seed=seed, out=out, workers=workers,
          html=not no_report, max_memory=max_memory, engagements=engagements)


@app.command()
def validate(scenario: Path = typer.Argument(..., metavar="FILE",
                                             help="Scenario, campaign, sweep or allocation file (YAML).")) -> None:
    """Check a scenario, campaign, sweep or allocation file: what is wrong, what looks wrong, or that it is fine."""
    from shieldwall.cli.validate_cmd import validate_command

    guard(validate_command, scenario)


@app.command()
def catalog(entry_id: Optional[str] = typer.Argument(None, metavar="[ID]", help="Show one entry with its sources.")) -> None:
    """List the built-in systems, interceptors, radars and threats, or show one."""
    from shieldwall.cli.catalog_cmd import catalog_command

    guard(catalog_command, entry_id)


@app.command()
def schema(
    kind: str = typer.Argument("scenario", metavar="[KIND]", help="scenario (default), campaign or theatre."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", metavar="FILE", help="Write to a file instead of stdout."),
    kind_option: Optional[str] = typer.Option(None, "--kind", metavar="KIND", help="The same as the KIND argument."),
) -> None:
    """Print the JSON Schema of scenario, campaign or theatre files (for editors)."""
    kind = kind_option or kind
    from shieldwall.cli.validate_cmd import schema_command

    guard(schema_command, out, kind)


@app.command()
def report(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR",
                                   help="Run folder (summary.json or campaign.json, scenario.json, ...)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", metavar="FILE", help="HTML file (default: RUN_DIR/report.html)."),
    scenario: Optional[Path] = typer.Option(None, "--scenario", metavar="FILE",
                                            help="Scenario file, for runs without scenario.json."),
) -> None:
    """Write one self-contained HTML report (tables, plots, map replay) of a run folder."""
    from shieldwall.cli.report_cmd import report_command

    guard(report_command, run_dir, out=out, scenario=scenario)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", metavar="ADDRESS",
                             help="Address to bind (loopback unless told otherwise)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, metavar="PORT", help="Port."),
    runs: Path = typer.Option(Path("out"), "--runs", metavar="DIR",
                              help="Folder of run folders (created if missing); `run` and `campaign` write there "
                                   "by default."),
    max_replications: int = typer.Option(20000, "--max-replications", min=1, metavar="N",
                                         help="Largest run the web app will start."),
    examples: Optional[Path] = typer.Option(None, "--examples", metavar="DIR",
                                            help="Folder of scenario and campaign files to offer (default: ./examples)."),
    allow_host: list[str] = typer.Option([], "--allow-host", metavar="NAME",
                                         help="Also answer requests for this host name (repeat for more)."),
    max_run_seconds: float = typer.Option(1800.0, "--max-run-seconds", min=1.0, metavar="SECONDS",
                                          help="Stop a run from the app after this long."),
    max_run_memory: Optional[str] = typer.Option(None, "--max-run-memory", metavar="SIZE",
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
    replications: int = typer.Option(CAMPAIGN_REPLICATIONS, "--replications", "-n", min=1, metavar="N",
                                     help="Monte Carlo replications."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", min=0, metavar="SEED", help=SEED_HELP),
    out: Optional[Path] = typer.Option(None, "--out", "-o", metavar="DIR",
                                       help="Run folder for campaign.json, nights.parquet and the report (default: "
                                            "out/NAME-DATE-TIME, a new one each run)."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, metavar="N", help=WORKERS_HELP),
    max_memory: Optional[str] = typer.Option(None, "--max-memory", metavar="SIZE", help=MAX_MEMORY_HELP),
) -> None:
    """Simulate many nights of raids: stocks over time, when they run out, what leaks, what it costs."""
    from shieldwall.cli.campaign_cmd import campaign_command

    guard(campaign_command, path, replications=replications, seed=seed, out=out, workers=workers,
          max_memory=max_memory)


@app.command()
def compare(
    a: Path = typer.Argument(..., metavar="A", help="Campaign or raid scenario file (the baseline)."),
    b: Path = typer.Argument(..., metavar="B", help="The same with an option (a delivery, a battery, a doctrine)."),
    replications: Optional[int] = typer.Option(None, "--replications", "-n", min=2, metavar="N",
                                               help=REPLICATIONS_HELP),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", min=0, metavar="SEED",
                                       help="Random seed (default: A's, else 0)."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, metavar="N", help=WORKERS_HELP),
    out: Optional[Path] = typer.Option(None, "--out", "-o", metavar="FILE", help="Also write the comparison as JSON."),
) -> None:
    """B - A with 95% intervals, on common random numbers: leakers, value lost, cost, runs-out night.
    A and B must be two options of one scenario or campaign (the same defended assets and raids)."""
    from shieldwall.cli.campaign_cmd import compare_command

    guard(compare_command, a, b, replications=replications, seed=seed, out=out, workers=workers)


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


class PlainCommand(typer.core.TyperCommand):
    """Help as a command line reads: ``Usage: shieldwall run [OPTIONS] SCENARIO`` and arguments
    by their names, not typer's ``{scenario}`` and ``<path>``."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        for param in self.params:  # an option that takes a value shows one: --time-limit TIME_LIMIT
            if param.param_type_name == "option" and not getattr(param, "is_flag", False) and param.metavar is None:
                longest = max(param.opts, key=len)
                param.metavar = longest.lstrip("-").replace("-", "_").upper()

    @staticmethod
    def _name(param: typer.core.click.Parameter) -> str:
        return param.metavar or (param.name or "").upper()

    def collect_usage_pieces(self, ctx: typer.core.click.Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = self._name(param).strip("[]")
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: typer.core.click.Context, formatter: typer.core.click.HelpFormatter) -> None:
        args = [(self._name(p).strip("[]"), getattr(p, "help", "") or "") for p in self.get_params(ctx)
                if p.param_type_name == "argument"]
        opts = [rv for p in self.get_params(ctx) if p.param_type_name == "option" and (rv := p.get_help_record(ctx))]
        if args:
            with formatter.section("Arguments"):
                formatter.write_dl(args)
        if opts:
            with formatter.section("Options"):
                formatter.write_dl(opts)


def _plain_help(typer_app: typer.Typer) -> None:
    for info in typer_app.registered_commands:
        if info.cls in (None, typer.core.TyperCommand):
            info.cls = PlainCommand
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _plain_help(group.typer_instance)


_plain_help(app)


# The command's process allocates few reference cycles but holds a large heap of long-lived
# objects (numba's type system and compiled code, pydantic's schemas, pandas): at the default
# thresholds the collector walked all of them three times during a raid run and once more at
# exit (~0.2 s and ~0.3 s of a 2 s command). So collections are rarer (a young generation of
# 20,000 objects instead of 700) and, once the command is done, everything left is frozen: the
# interpreter then exits without walking the heap (``gc.freeze``; memory goes back with the
# process).
GC_THRESHOLDS = (20_000, 10, 10)


def main() -> None:  # pragma: no cover - the console script; tests call ``app`` directly
    import gc

    gc.set_threshold(*GC_THRESHOLDS)
    try:
        app()
    finally:
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    main()
