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
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Worker processes."),
) -> None:
    """Simulate a raid many times and report leakers, interceptors used and value lost."""
    from shieldwall.cli.run_cmd import run_command

    _guard(run_command, scenario, replications=replications, seed=seed, out=out, workers=workers)


@app.command()
def validate(scenario: Path = typer.Argument(..., help="Scenario file (YAML).")) -> None:
    """Check a scenario file and say what is wrong, or that it is fine."""
    from shieldwall.cli.validate_cmd import validate_command

    _guard(validate_command, scenario)


@app.command()
def catalog(entry_id: Optional[str] = typer.Argument(None, metavar="[ID]", help="Show one entry with its sources.")) -> None:
    """List the built-in systems, interceptors, radars and threats, or show one."""
    from shieldwall.cli.catalog_cmd import catalog_command

    _guard(catalog_command, entry_id)


@app.command()
def schema(out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write to a file instead of stdout.")) -> None:
    """Print the JSON Schema of scenario files (for editors)."""
    from shieldwall.cli.validate_cmd import schema_command

    _guard(schema_command, out)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
