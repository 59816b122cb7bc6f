"""The local-search WTA solver: iterated local search, then a very large neighbourhood over target patterns."""

from __future__ import annotations

from typing import Any

import numpy as np

from shieldwall.wta.base import Result, Solver, heuristic_bound, register
from shieldwall.wta.patterns import pattern_search
from shieldwall.wta.problem import Problem, evaluate
from shieldwall.wta.search import iterated_local_search

@register("local-search")
class LocalSearchSolver(Solver):
    """A heuristic in two stages, warm-started from greedy.

    1. Iterated local search: ruin the units of a few random targets, re-insert them by maximum marginal
       return, descend with move and swap neighbourhoods (``ils_share`` of the time limit, at most
       ``iterations`` rounds, stops after ``stall`` rounds without improvement).
    2. (``patterns=True``) A very large neighbourhood over target patterns: column generation on the
       set-partitioning LP proposes patterns, and a MILP (HiGHS) picks the best combination, one per target.
       It also yields the lower bound reported. Without it the bound is a Lagrangian bound from the solution.
    """

    default_time_limit = 1.0

    def _settings(self) -> dict[str, Any]:
        return {"iterations": 20000, "stall": 2000, "ruin": 3, "chunk": 200, "ils_share": 0.1, "patterns": True,
                "bound": True, "start": None, "verbose": False}

    def solve(self, problem: Problem) -> Result:
        from shieldwall.wta._kernels import greedy_kernel

        t0, deadline, log, arr = self._start(problem)
        st = self.settings
        if st["start"] is not None:
            x0 = np.asarray(st["start"], dtype=np.int64)
        else:
            x0 = greedy_kernel(arr.values, arr.q, arr.allowed, arr.counts, arr.ucost)
        share = st["ils_share"] if st["patterns"] else 1.0
        x, done, timed_out = iterated_local_search(problem, arr, x0, self.seed, t0 + share * self.time_limit_s, st["iterations"],
                                  st["stall"], st["ruin"], st["chunk"])
        log(f"ils: {evaluate(problem, x):.6f} after {done} rounds")
        lb = -np.inf
        status = "time_limit" if timed_out else "feasible"
        if st["patterns"] and arr.unit_type.size and problem.n_targets:
            x, _ub, lb, _cg, converged = pattern_search(problem, arr, x, deadline, log, mip_share=0.3)
            status = "feasible" if converged else "time_limit"
        if st["bound"] and not np.isfinite(lb):
            lb = heuristic_bound(arr, x, deadline)
        return self._result(problem, x, lb if np.isfinite(lb) else 0.0, status, t0, iterations=done)
