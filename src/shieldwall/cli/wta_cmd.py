"""``shieldwall wta``: solve weapon-target assignment instances and benchmark solvers. Heavy imports happen inside
the command functions so that ``shieldwall --help`` stays fast."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

wta_app = typer.Typer(
    name="wta",
    help="Weapon-target assignment: solve instances, benchmark solvers against best-known values.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_FORMATS = ("auto", "andersen", "square")


def _check(solver: str, fmt: str | None = None) -> None:
    from shieldwall.errors import UsageError
    from shieldwall.wta.solvers import solver_ids

    if solver not in solver_ids():
        raise UsageError(f"unknown solver {solver!r}; choose one of: {', '.join(solver_ids())}")
    if fmt is not None and fmt not in _FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(_FORMATS)}")


def solve_command(file: Path, fmt: str, solver: str, time_limit: Optional[float], seed: int, as_json: bool) -> None:
    from rich.console import Console

    from shieldwall.report.console import printable
    from shieldwall.wta.problem import read_instance
    from shieldwall.wta.solvers import get_solver

    from shieldwall.wta.bench import warm_up

    _check(solver, fmt)
    problem = read_instance(file, fmt)
    warm_up()  # load the compiled kernels first: the time limit is the solver's, not numba's
    res = get_solver(solver, time_limit_s=time_limit, seed=seed).solve(problem)
    if as_json:
        d = res.to_dict()
        out = {k: d[k] for k in ("objective", "lower_bound", "gap", "status", "time_s", "assignment")}
        typer.echo(json.dumps(out))
        return
    con = Console(highlight=False, markup=False)
    con.print(f"instance    {printable(problem.name)}  ({problem.n_types} weapon types, {problem.n_units} units, "
              f"{problem.n_targets} targets)")
    con.print(f"solver      {solver}")
    con.print(f"objective   {res.objective:.6f}")
    con.print(f"lower bound {res.lower_bound:.6f}")
    con.print(f"gap         {100 * res.gap:.4f} %")
    con.print(f"status      {res.status}")
    con.print(f"time        {res.time_s:.3f} s")


def bench_command(folder: Path, solver: str, time_limit: Optional[float], seed: int) -> None:
    from rich.console import Console
    from rich.table import Table

    from shieldwall.wta.bench import instance_files, read_best_known, run_one, warm_up
    from shieldwall.wta.problem import read_instance

    _check(solver)
    files = instance_files(folder)
    if not files:
        from shieldwall.errors import UsageError

        raise UsageError(f"{folder}: no instance files (*.txt)")
    best = read_best_known(folder)
    warm_up()
    table = Table(title=f"{solver} on {folder}")
    for col in ("instance", "objective", "lower bound", "gap %", "status", "time s", "best known", "ratio"):
        table.add_column(col, justify="left" if col in ("instance", "status") else "right")
    con = Console(highlight=False, markup=False)
    if not con.is_terminal:
        con = Console(highlight=False, markup=False, width=160)
    for f in files:
        problem = read_instance(f)
        row, _ = run_one(problem, solver, time_limit, seed, best.get(problem.name))
        table.add_row(row.instance, f"{row.objective:.6f}", f"{row.lower_bound:.6f}", f"{100 * row.gap:.4f}",
                      row.status, f"{row.time_s:.2f}",
                      f"{row.best_known:.6f}" if row.best_known is not None else "-",
                      f"{row.ratio:.7f}" if row.ratio is not None else "-")
    con.print(table)


@wta_app.command("solve")
def solve(
    file: Path = typer.Argument(..., help="Instance file (Andersen or square format)."),
    fmt: str = typer.Option("auto", "--format", "-f", help="auto | andersen | square."),
    solver: str = typer.Option("exact", "--solver", help="Solver id: greedy | local-search | exact."),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", "-t", min=0.001,
                                               help="Seconds (default: the solver's own)."),
    seed: int = typer.Option(0, "--seed", "-s", min=0, help="Random seed."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Solve one instance: objective, lower bound, gap, status and time."""
    from shieldwall.cli.main import guard

    guard(solve_command, file, fmt, solver, time_limit, seed, as_json)


@wta_app.command("bench")
def bench(
    folder: Path = typer.Argument(..., help="Folder of instance files, optionally with best_known.csv."),
    solver: str = typer.Option("exact", "--solver", help="Solver id: greedy | local-search | exact."),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", "-t", min=0.001, help="Seconds per instance."),
    seed: int = typer.Option(0, "--seed", "-s", min=0, help="Random seed."),
) -> None:
    """Run a solver over a folder of instances; compare with best_known.csv when present."""
    from shieldwall.cli.main import guard

    guard(bench_command, folder, solver, time_limit, seed)
