"""Running solvers over a folder of instances and comparing with ``best_known.csv`` (used by the CLI and by
``benchmarks/wta_bench.py``)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from shieldwall.wta.problem import Problem, WTAError
from shieldwall.wta.solvers import Result, get_solver

__all__ = ["BenchRow", "read_best_known", "instance_files", "run_one", "warm_up", "format_rows_markdown"]


@dataclass
class BenchRow:
    instance: str
    solver: str
    objective: float
    lower_bound: float
    gap: float
    status: str
    time_s: float
    best_known: float | None = None
    best_known_lb: float | None = None

    @property
    def ratio(self) -> float | None:
        """objective / best known upper bound (1.0 = equal; < 1 beats it)."""
        if self.best_known is None or self.best_known == 0:
            return None
        return self.objective / self.best_known


def read_best_known(folder: str | Path) -> dict[str, tuple[float, float | None]]:
    """instance name -> (best upper bound, best lower bound or None), from ``best_known.csv`` when present."""
    path = Path(folder) / "best_known.csv"
    out: dict[str, tuple[float, float | None]] = {}
    if not path.is_file():
        return out
    with path.open(newline="") as fh:
        for lineno, row in enumerate(csv.DictReader(fh), start=2):
            try:
                ub = float(row["best_UB"])
                lb = float(row["best_LB"]) if row.get("best_LB") not in (None, "") else None
            except (KeyError, TypeError, ValueError):
                raise WTAError(f"{path}:{lineno}: expected columns instance, best_UB[, best_LB]") from None
            out[row["instance"]] = (ub, lb)
    return out


def instance_files(folder: str | Path) -> list[Path]:
    """Instance files of a folder (``*.txt``), smallest first."""
    folder = Path(folder)
    if not folder.is_dir():
        raise WTAError(f"{folder}: not a folder")
    return sorted(folder.glob("*.txt"), key=lambda p: (p.stat().st_size, p.name))


def run_one(problem: Problem, solver_id: str, time_limit_s: float | None, seed: int = 0,
            best: tuple[float, float | None] | None = None) -> tuple[BenchRow, Result]:
    res = get_solver(solver_id, time_limit_s=time_limit_s, seed=seed).solve(problem)
    row = BenchRow(problem.name, solver_id, res.objective, res.lower_bound, res.gap, res.status, res.time_s,
                   best[0] if best else None, best[1] if best else None)
    return row, res


def warm_up() -> None:
    """Load the compiled kernels and HiGHS once, so that timings measure solving, not loading."""
    from shieldwall.wta.problem import generate_andersen
    from shieldwall.wta.solvers import compile_kernels

    compile_kernels()
    p = generate_andersen(4, mu=2, seed=0)
    for sid in ("greedy", "local-search", "exact"):
        get_solver(sid, time_limit_s=5.0).solve(p)


def format_rows_markdown(rows: list[BenchRow]) -> str:
    head = "| instance | solver | objective | lower bound | gap % | status | time s | best known | ratio |\n"
    head += "|---|---|---:|---:|---:|---|---:|---:|---:|\n"
    lines = []
    for r in rows:
        bk = f"{r.best_known:.6f}" if r.best_known is not None else "-"
        ratio = f"{r.ratio:.7f}" if r.ratio is not None else "-"
        lines.append(f"| {r.instance} | {r.solver} | {r.objective:.6f} | {r.lower_bound:.6f} | {100 * r.gap:.4f} | "
                     f"{r.status} | {r.time_s:.2f} | {bk} | {ratio} |")
    return head + "\n".join(lines) + "\n"

