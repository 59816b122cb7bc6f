"""Local moves on a WTA assignment, shared by the local-search and exact solvers: iterated local
search (ruin and recreate, move/swap descent) and re-insertion of idle units."""

from __future__ import annotations

import time

import numpy as np

from shieldwall.wta.base import SolverArrays, units_from_x, x_from_units
from shieldwall.wta.problem import Problem, evaluate

def iterated_local_search(problem: Problem, arr: SolverArrays, x0: np.ndarray, seed: int, deadline: float, iterations: int, stall: int,
         ruin: int, chunk: int) -> tuple[np.ndarray, int, bool]:
    """Iterated local search from x0 (see ils_kernel). Returns (best assignment, iterations done, hit deadline)."""
    from shieldwall.wta._kernels import ils_kernel

    tgt = units_from_x(arr, x0)
    best = evaluate(problem, x0)
    done = since = 0
    timed_out = False
    seed31 = int(np.random.SeedSequence(seed).generate_state(1)[0] % (2**31 - 1))
    k = 1  # rounds per call, doubled while calls are quick (results do not depend on it)
    if not descent_fits(arr, deadline):  # one round alone would overrun the time limit
        return x0, 0, True
    if arr.unit_type.size and problem.n_targets:
        while done < iterations and since < stall:
            now = time.perf_counter()
            if now >= deadline:
                timed_out = True
                break
            k = min(k, chunk, iterations - done)
            obj = ils_kernel(arr.values, arr.q, arr.allowed, arr.ucost, arr.unit_type, tgt, done, k, int(ruin),
                             seed31, 1000)
            done += k
            if obj < best - 1e-12 * max(1.0, abs(best)):
                best, since = obj, 0
            else:
                since += k
            if time.perf_counter() - now < 0.02 * max(deadline - now, 0.0):
                k *= 2
    x = x_from_units(arr, tgt, problem.p.shape)
    if evaluate(problem, x) > evaluate(problem, x0):
        x = x0
    return x, done, timed_out


def refill(problem: Problem, arr: SolverArrays, x: np.ndarray, deadline: float = np.inf) -> np.ndarray:
    """Re-insert idle units by maximum marginal return, then descend."""
    from shieldwall.wta._kernels import _reinsert, _survival

    tgt = units_from_x(arr, x)
    idle = np.nonzero(tgt < 0)[0].astype(np.int64)
    if idle.size:
        s = _survival(arr.values, arr.q, arr.unit_type, tgt)
        _reinsert(arr.values, arr.q, arr.allowed, arr.ucost, arr.unit_type, tgt, s, idle, idle.size)
    return polish(problem, arr, x_from_units(arr, tgt, problem.p.shape), deadline)


# Seconds per (unit, unit) pair of one move/swap descent pass, on the slow side: a pass is
# quadratic in the units, so with many units (mu = 100,000) a single pass outlasts any time limit.
DESCENT_PAIR_S = 5e-9
MAX_POLISH_PASSES = 1000


def descent_fits(arr: SolverArrays, deadline: float) -> bool:
    """Whether one descent pass (moves: units x targets; swaps: units x units) fits before the deadline."""
    units = arr.unit_type.size
    return time.perf_counter() + DESCENT_PAIR_S * units * (units + arr.q.shape[1]) < deadline


def polish(problem: Problem, arr: SolverArrays, x: np.ndarray, deadline: float = np.inf) -> np.ndarray:
    """Move/swap descent from x (never worse), one pass at a time while passes fit before the deadline."""
    from shieldwall.wta._kernels import _survival, descend

    tgt = units_from_x(arr, x)
    s = _survival(arr.values, arr.q, arr.unit_type, tgt)
    for _ in range(MAX_POLISH_PASSES):
        if not descent_fits(arr, deadline):
            break
        before = tgt.copy()
        descend(arr.values, arr.q, arr.allowed, arr.ucost, arr.unit_type, tgt, s, 1)
        if np.array_equal(before, tgt):
            break
    y = x_from_units(arr, tgt, problem.p.shape)
    return y if evaluate(problem, y) < evaluate(problem, x) else x
