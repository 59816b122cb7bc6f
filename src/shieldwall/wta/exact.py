"""The exact WTA solver: column generation over target patterns, then a proof of optimality."""

from __future__ import annotations

import time
from typing import Any

from shieldwall.wta.base import Result, Solver, register
from shieldwall.wta.patterns import pattern_search, solve_set_partitioning
from shieldwall.wta.problem import Problem, evaluate
from shieldwall.wta.search import iterated_local_search

@register("exact")
class ExactSolver(Solver):
    """Column generation over target patterns, then a proof of optimality.

    1. Incumbent from greedy and a short iterated local search.
    2. Column generation on the set-partitioning LP (one pattern per target, weapon counts as capacities) with
       HiGHS, stabilised by dual smoothing; patterns are priced exactly per target by branch and bound with a
       fractional-knapsack bound, so every pricing round gives a valid Lagrangian lower bound.
    3. The MILP over the generated patterns improves the incumbent (UB).
    4. Every pattern whose reduced cost (at the duals of the best bound LB) is within UB - LB is enumerated; no
       other pattern can be part of a solution better than the incumbent, so the set-partitioning MILP over
       them (HiGHS) is exact.
    """

    default_time_limit = 60.0

    def _settings(self) -> dict[str, Any]:
        return {"ils_s": 0.1, "max_columns": 400_000, "verbose": False}

    def solve(self, problem: Problem) -> Result:
        from shieldwall.wta._kernels import greedy_kernel

        t0, deadline, log, arr = self._start(problem)
        st = self.settings
        m, n = problem.p.shape
        x0 = greedy_kernel(arr.values, arr.q, arr.allowed, arr.counts, arr.ucost)
        if m == 0 or n == 0 or arr.unit_type.size == 0:
            return self._result(problem, x0, evaluate(problem, x0), "optimal", t0)
        ils_deadline = t0 + min(st["ils_s"], 0.1 * self.time_limit_s)
        x_best, _, _ = iterated_local_search(problem, arr, x0, self.seed, ils_deadline, 20000, 2000, 3, 200)
        log(f"heuristic {evaluate(problem, x_best):.6f}")
        x_best, ub, lb, cg, converged = pattern_search(problem, arr, x_best, deadline, log, mip_share=0.2)
        if not converged:
            return self._result(problem, x_best, lb, "time_limit", t0, **cg.stats())
        tol = 1e-9 * max(1.0, abs(ub))
        if ub - lb > tol and time.perf_counter() < deadline:
            cols = cg.enumerate(ub - cg.best_lb + tol, st["max_columns"])
            if cols is None:
                log("too many patterns within the gap to enumerate")
            else:
                log(f"enumerated {cols[0].size} patterns within gap {ub - cg.best_lb:.3g}")
                x_mip, obj_mip, (mip_status, mip_lb) = solve_set_partitioning(arr, cols, x_best, ub, deadline)
                if x_mip is not None and evaluate(problem, x_mip) < ub:
                    x_best, ub = x_mip, evaluate(problem, x_mip)
                if mip_status == "optimal":
                    # the MILP over every pattern that can beat the incumbent is the whole problem
                    return self._result(problem, x_best, ub, "optimal", t0, **cg.stats())
                lb = max(lb, mip_lb)
        status = "optimal" if ub - lb <= tol else "time_limit"
        return self._result(problem, x_best, lb, status, t0, **cg.stats())
