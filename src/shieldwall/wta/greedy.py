"""The greedy WTA solver: maximum marginal return."""

from __future__ import annotations

import time
from typing import Any

from shieldwall.wta.base import Result, Solver, SolverArrays, heuristic_bound, register
from shieldwall.wta.problem import Problem

@register("greedy")
class GreedySolver(Solver):
    """Maximum marginal return: repeatedly fire the unit that lowers the objective most. Milliseconds."""

    default_time_limit = 10.0

    def _settings(self) -> dict[str, Any]:
        return {"bound": True}

    def solve(self, problem: Problem) -> Result:
        from shieldwall.wta._kernels import greedy_kernel

        t0 = time.perf_counter()
        arr = SolverArrays(problem)
        x = greedy_kernel(arr.values, arr.q, arr.allowed, arr.counts, arr.ucost)
        lb = heuristic_bound(arr, x, t0 + self.time_limit_s) if self.settings["bound"] else 0.0
        return self._result(problem, x, lb, "feasible", t0)
