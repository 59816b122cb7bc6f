"""The pieces every WTA solver shares: the result record, the solver registry and base class,
problem arrays in the form the compiled kernels take, Lagrangian bounds, HiGHS instances.

Solvers are shaped like estimators: settings in the constructor, ``solve(problem) -> Result``; each
lives in a module of its own (greedy.py, local_search.py, exact.py) and registers itself by id."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from shieldwall.wta.problem import Problem, WTAError, evaluate

__all__ = ["Result", "Solver", "register", "get_solver", "solver_ids", "lagrangian_bound", "SolverArrays",
           "SolveLog", "STATUSES", "new_highs"]

STATUSES = ("optimal", "feasible", "time_limit")
REL_OPT = 1e-9  # relative gap under which a run counts as proven optimal


@dataclass(frozen=True)
class Result:
    """What a solver returns. ``assignment[i, j]``: units of type i fired at target j."""

    assignment: np.ndarray
    objective: float
    lower_bound: float
    gap: float  # relative: (objective - lower_bound) / |objective|
    status: str  # optimal | feasible | time_limit
    time_s: float
    solver: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        x = self.assignment
        ii, jj = np.nonzero(x)
        return {
            "objective": self.objective,
            "lower_bound": self.lower_bound,
            "gap": self.gap,
            "status": self.status,
            "time_s": self.time_s,
            "solver": self.solver,
            "assignment": [[int(i), int(j), int(x[i, j])] for i, j in zip(ii, jj)],
        }


def rel_gap(ub: float, lb: float) -> float:
    if ub - lb <= 0:
        return 0.0
    return float((ub - lb) / max(abs(ub), 1e-12))


# ----------------------------------------------------------------------------------------------- registry

_REGISTRY: dict[str, Callable[..., "Solver"]] = {}


def register(solver_id: str):
    def deco(cls):
        cls.id = solver_id
        _REGISTRY[solver_id] = cls
        return cls

    return deco


def solver_ids() -> list[str]:
    return list(_REGISTRY)


def get_solver(solver_id: str, **settings: Any) -> "Solver":
    try:
        cls = _REGISTRY[solver_id]
    except KeyError:
        raise WTAError(f"unknown solver {solver_id!r}; registered: {', '.join(_REGISTRY)}") from None
    return cls(**settings)


_HIGHS_QUIET = False


def new_highs():
    """A silent, single-threaded HiGHS instance. The first one in a process prints a banner on the C-level
    stdout; it is sent to /dev/null so that ``--json`` output stays one JSON object."""
    import os
    import sys

    import highspy

    global _HIGHS_QUIET
    if not _HIGHS_QUIET:
        _HIGHS_QUIET = True
        try:
            sys.stdout.flush()
            saved = os.dup(1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            try:
                h = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(devnull)
        except OSError:  # no usable fd 1: nothing to protect
            h = highspy.Highs()
    else:
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    return h


class SolverArrays:
    """Problem arrays in the form the kernels take."""

    def __init__(self, problem: Problem) -> None:
        self.values = np.ascontiguousarray(problem.values)
        q = np.clip(1.0 - problem.p, 1e-12, 1.0)
        self.q = np.ascontiguousarray(q)
        self.w = np.ascontiguousarray(-np.log(q))
        self.allowed = np.ascontiguousarray(problem.allowed())
        self.counts = np.ascontiguousarray(problem.counts.astype(np.int64))
        self.ucost = np.ascontiguousarray(problem.unit_costs().astype(np.float64))
        self.unit_type = np.repeat(np.arange(problem.n_types, dtype=np.int64), self.counts)


def units_from_x(arr: SolverArrays, x: np.ndarray) -> np.ndarray:
    """Target of every unit (-1 unused), units of a type filled in target order."""
    tgt = np.full(arr.unit_type.size, -1, np.int64)
    starts = np.concatenate([[0], np.cumsum(arr.counts)[:-1]])
    ii, jj = np.nonzero(x)
    fill = starts.copy()
    for i, j in zip(ii, jj):
        c = int(x[i, j])
        tgt[fill[i]:fill[i] + c] = j
        fill[i] += c
    return tgt


def x_from_units(arr: SolverArrays, tgt: np.ndarray, shape) -> np.ndarray:
    x = np.zeros(shape, np.int64)
    used = tgt >= 0
    np.add.at(x, (arr.unit_type[used], tgt[used]), 1)
    return x


def incumbent_duals(arr: SolverArrays, x: np.ndarray) -> np.ndarray:
    """Weapon prices read off a solution: the least loss from taking one unit of the type away (0 if a unit is idle)."""
    m, n = arr.q.shape
    s = arr.values * np.prod(np.where(x > 0, arr.q ** x, 1.0), axis=0)
    loss = np.where(x > 0, s[None, :] * (1.0 / arr.q - 1.0), np.inf) - arr.ucost[:, None]
    u = loss.min(axis=1)
    idle = x.sum(axis=1) < arr.counts
    u[idle] = 0.0
    u[~np.isfinite(u)] = 0.0
    return np.maximum(u, 0.0)


def heuristic_duals(arr: SolverArrays, x: np.ndarray) -> list[np.ndarray]:
    """A few weapon-price estimates read off a solution: the loss from removing a unit, the best gain from adding
    one elsewhere, and points between."""
    m, n = arr.q.shape
    s = arr.values * np.prod(np.where(x > 0, arr.q ** x, 1.0), axis=0)
    loss = incumbent_duals(arr, x)
    add = np.where(arr.allowed, s[None, :] * (1.0 - arr.q), 0.0) - arr.ucost[:, None]
    add = np.where(x > 0, -np.inf, add).max(axis=1) if n else np.zeros(m)
    add = np.maximum(np.where(np.isfinite(add), add, 0.0), 0.0)
    add = np.minimum(add, np.where(loss > 0, loss, add))
    return [loss, add, 0.5 * (loss + add), 0.25 * loss + 0.75 * add, 0.75 * loss + 0.25 * add]


def lagrangian_bound(arr: SolverArrays, duals: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Valid lower bound for any duals >= 0: sum_j min_a (V_j prod q^a + (ucost + duals) a) - duals . counts.
    Returns the bound, the per-target minima and the minimising patterns."""
    from shieldwall.wta._kernels import price_kernel

    duals = np.ascontiguousarray(np.maximum(duals, 0.0), dtype=np.float64)
    best, pats = price_kernel(arr.values, arr.q, arr.w, arr.allowed, arr.counts, arr.ucost, duals)
    return float(best.sum() - duals @ arr.counts), best, pats


def heuristic_bound(arr: SolverArrays, x: np.ndarray, deadline: float = np.inf) -> float:
    """Best Lagrangian bound over the dual estimates read off x (stops trying once past the deadline)."""
    best = -np.inf
    duals = heuristic_duals(arr, x)
    for d in (duals[1], duals[3], duals[2], duals[4], duals[0]):
        t = time.perf_counter()
        best = max(best, lagrangian_bound(arr, d)[0])
        now = time.perf_counter()
        if now + (now - t) >= deadline:
            break
    return best if np.isfinite(best) else 0.0


class Solver:
    """Base: ``Solver(time_limit_s=..., seed=..., **settings)``; ``solve(problem) -> Result``."""

    id = "base"
    default_time_limit = 10.0

    def __init__(self, time_limit_s: float | None = None, seed: int = 0, **settings: Any) -> None:
        self.time_limit_s = float(self.default_time_limit if time_limit_s is None else time_limit_s)
        if not self.time_limit_s > 0:
            raise WTAError(f"time_limit_s must be > 0, got {time_limit_s}")
        self.seed = int(seed)
        unknown = set(settings) - set(self._settings())
        if unknown:
            raise WTAError(f"{self.id}: unknown settings {sorted(unknown)}; known: {sorted(self._settings())}")
        self.settings = {**self._settings(), **settings}

    def _settings(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.settings.items())
        return f"{type(self).__name__}(time_limit_s={self.time_limit_s}, seed={self.seed}{extra})"

    def solve(self, problem: Problem) -> Result:
        raise NotImplementedError

    def _start(self, problem: Problem) -> tuple[float, float, "SolveLog", "SolverArrays"]:
        """Start time, deadline (a margin for the steps after the last check), log, arrays."""
        t0 = time.perf_counter()
        return t0, t0 + 0.97 * self.time_limit_s, SolveLog(self.settings["verbose"], t0), SolverArrays(problem)

    def _result(self, problem: Problem, x: np.ndarray, lb: float, status: str, t0: float, **info: Any) -> Result:
        obj = evaluate(problem, x)
        lb = min(lb, obj)
        gap = rel_gap(obj, lb)
        if gap <= REL_OPT:
            status = "optimal"
        return Result(assignment=x, objective=obj, lower_bound=float(lb), gap=gap, status=status,
                      time_s=time.perf_counter() - t0, solver=self.id, info=info)


class SolveLog:
    def __init__(self, on: bool, t0: float) -> None:
        self.on = on
        self.t0 = t0

    def __call__(self, msg: str) -> None:
        if self.on:
            print(f"[wta {time.perf_counter() - self.t0:7.2f}s] {msg}", flush=True)
