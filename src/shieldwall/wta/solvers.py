"""WTA solvers by id: ``get_solver("exact", time_limit_s=60).solve(problem) -> Result``.

Registered ids: ``greedy`` (maximum marginal return, greedy.py), ``local-search`` (iterated local
search: ruin-and-recreate plus move/swap descent, warm-started from greedy, then a pattern
neighbourhood; local_search.py), ``exact`` (column generation over target patterns with HiGHS, then
a proof by enumerating every pattern whose reduced cost lies within the gap and solving the
set-partitioning MILP over them; exact.py). Every solver reports a valid lower bound: the
Lagrangian bound of the weapon-count constraints, evaluated with exact per-target pricing.
Importing this module registers them all.
"""

from __future__ import annotations

from shieldwall.wta.base import STATUSES, Result, Solver, get_solver, lagrangian_bound, new_highs, register, solver_ids
from shieldwall.wta.exact import ExactSolver
from shieldwall.wta.greedy import GreedySolver
from shieldwall.wta.local_search import LocalSearchSolver

__all__ = ["Result", "Solver", "GreedySolver", "LocalSearchSolver", "ExactSolver", "register", "get_solver",
           "solver_ids", "lagrangian_bound", "new_highs", "STATUSES", "compile_kernels"]


def compile_kernels() -> None:
    """Compile (or load from numba's cache) every kernel the registered solvers and epoch algorithms
    use, by running each once on small problems (a new solver or algorithm is warmed up by being
    registered), so that later timings and time limits measure solving: a fresh checkout compiles
    for about a minute, a cached one loads in a second."""
    import numpy as np

    from shieldwall.wta.epoch import EPOCH_ALGORITHMS, solve_epoch
    from shieldwall.wta.problem import generate_andersen

    # small, but past what greedy alone settles: the exact solver enumerates patterns on the second
    problems = (generate_andersen(3, mu=2, seed=0), generate_andersen(8, mu=3, seed=1))
    for solver_id in solver_ids():
        for problem in problems:
            get_solver(solver_id, time_limit_s=5.0).solve(problem)
    ones = np.ones(3, np.int64)
    for algorithm in EPOCH_ALGORITHMS:
        solve_epoch(algorithm, np.array([1.0, 0.5, 0.4]), np.array([0, 0, 1]), np.zeros(3, np.int64),
                    np.zeros(3, np.int64), ones, np.array([1]), np.array([2]), time_limit_s=1.0)
