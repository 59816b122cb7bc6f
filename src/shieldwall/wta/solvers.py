"""WTA solvers shaped like estimators: settings in the constructor, ``solve(problem) -> Result``.

Registered ids: ``greedy`` (maximum marginal return), ``local-search`` (iterated local search: ruin-and-recreate
plus move/swap descent, warm-started from greedy), ``exact`` (column generation over target patterns with HiGHS,
then a proof by enumerating every pattern whose reduced cost lies within the gap and solving the set-partitioning
MILP over them). Every solver reports a valid lower bound: the Lagrangian bound of the weapon-count constraints,
evaluated with exact per-target pricing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from shieldwall.wta.problem import Problem, WTAError, evaluate

__all__ = ["Result", "Solver", "GreedySolver", "LocalSearchSolver", "ExactSolver", "register", "get_solver",
           "solver_ids", "lagrangian_bound"]

STATUSES = ("optimal", "feasible", "time_limit")
_REL_OPT = 1e-9  # relative gap under which a run counts as proven optimal
START_DUALS = (1, 3, 2, 4, 0)  # which of heuristic_duals() seed column generation, best first


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


# ----------------------------------------------------------------------------------------------- shared pieces


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


class _Arrays:
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


def _units_from_x(arr: _Arrays, x: np.ndarray) -> np.ndarray:
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


def _x_from_units(arr: _Arrays, tgt: np.ndarray, shape) -> np.ndarray:
    x = np.zeros(shape, np.int64)
    used = tgt >= 0
    np.add.at(x, (arr.unit_type[used], tgt[used]), 1)
    return x


def incumbent_duals(arr: _Arrays, x: np.ndarray) -> np.ndarray:
    """Weapon prices read off a solution: the least loss from taking one unit of the type away (0 if a unit is idle)."""
    m, n = arr.q.shape
    s = arr.values * np.prod(np.where(x > 0, arr.q ** x, 1.0), axis=0)
    loss = np.where(x > 0, s[None, :] * (1.0 / arr.q - 1.0), np.inf) - arr.ucost[:, None]
    u = loss.min(axis=1)
    idle = x.sum(axis=1) < arr.counts
    u[idle] = 0.0
    u[~np.isfinite(u)] = 0.0
    return np.maximum(u, 0.0)


def heuristic_duals(arr: _Arrays, x: np.ndarray) -> list[np.ndarray]:
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


def lagrangian_bound(arr: _Arrays, duals: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Valid lower bound for any duals >= 0: sum_j min_a (V_j prod q^a + (ucost + duals) a) - duals . counts.
    Returns the bound, the per-target minima and the minimising patterns."""
    from shieldwall.wta._kernels import price_kernel

    duals = np.ascontiguousarray(np.maximum(duals, 0.0), dtype=np.float64)
    best, pats = price_kernel(arr.values, arr.q, arr.w, arr.allowed, arr.counts, arr.ucost, duals)
    return float(best.sum() - duals @ arr.counts), best, pats


def _heuristic_bound(arr: _Arrays, x: np.ndarray, deadline: float = np.inf) -> float:
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

    def _start(self, problem: Problem) -> tuple[float, float, "_Log", "_Arrays"]:
        """Start time, deadline (a margin for the steps after the last check), log, arrays."""
        t0 = time.perf_counter()
        return t0, t0 + 0.97 * self.time_limit_s, _Log(self.settings["verbose"], t0), _Arrays(problem)

    def _result(self, problem: Problem, x: np.ndarray, lb: float, status: str, t0: float, **info: Any) -> Result:
        obj = evaluate(problem, x)
        lb = min(lb, obj)
        gap = rel_gap(obj, lb)
        if gap <= _REL_OPT:
            status = "optimal"
        return Result(assignment=x, objective=obj, lower_bound=float(lb), gap=gap, status=status,
                      time_s=time.perf_counter() - t0, solver=self.id, info=info)


@register("greedy")
class GreedySolver(Solver):
    """Maximum marginal return: repeatedly fire the unit that lowers the objective most. Milliseconds."""

    default_time_limit = 10.0

    def _settings(self) -> dict[str, Any]:
        return {"bound": True}

    def solve(self, problem: Problem) -> Result:
        from shieldwall.wta._kernels import greedy_kernel

        t0 = time.perf_counter()
        arr = _Arrays(problem)
        x = greedy_kernel(arr.values, arr.q, arr.allowed, arr.counts, arr.ucost)
        lb = _heuristic_bound(arr, x, t0 + self.time_limit_s) if self.settings["bound"] else 0.0
        return self._result(problem, x, lb, "feasible", t0)


def _ils(problem: Problem, arr: _Arrays, x0: np.ndarray, seed: int, deadline: float, iterations: int, stall: int,
         ruin: int, chunk: int) -> tuple[np.ndarray, int, bool]:
    """Iterated local search from x0 (see ils_kernel). Returns (best assignment, iterations done, hit deadline)."""
    from shieldwall.wta._kernels import ils_kernel

    tgt = _units_from_x(arr, x0)
    best = evaluate(problem, x0)
    done = since = 0
    timed_out = False
    seed31 = int(np.random.SeedSequence(seed).generate_state(1)[0] % (2**31 - 1))
    k = 1  # rounds per call, doubled while calls are quick (results do not depend on it)
    if not _descent_fits(arr, deadline):  # one round alone would overrun the time limit
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
    x = _x_from_units(arr, tgt, problem.p.shape)
    if evaluate(problem, x) > evaluate(problem, x0):
        x = x0
    return x, done, timed_out


def _refill(problem: Problem, arr: _Arrays, x: np.ndarray, deadline: float = np.inf) -> np.ndarray:
    """Re-insert idle units by maximum marginal return, then descend."""
    from shieldwall.wta._kernels import _reinsert, _survival

    tgt = _units_from_x(arr, x)
    idle = np.nonzero(tgt < 0)[0].astype(np.int64)
    if idle.size:
        s = _survival(arr.values, arr.q, arr.unit_type, tgt)
        _reinsert(arr.values, arr.q, arr.allowed, arr.ucost, arr.unit_type, tgt, s, idle, idle.size)
    return _polish(problem, arr, _x_from_units(arr, tgt, problem.p.shape), deadline)


# Seconds per (unit, unit) pair of one move/swap descent pass, on the slow side: a pass is
# quadratic in the units, so with many units (mu = 100,000) a single pass outlasts any time limit.
DESCENT_PAIR_S = 5e-9
MAX_POLISH_PASSES = 1000


def _descent_fits(arr: _Arrays, deadline: float) -> bool:
    """Whether one descent pass (moves: units x targets; swaps: units x units) fits before the deadline."""
    units = arr.unit_type.size
    return time.perf_counter() + DESCENT_PAIR_S * units * (units + arr.q.shape[1]) < deadline


def _polish(problem: Problem, arr: _Arrays, x: np.ndarray, deadline: float = np.inf) -> np.ndarray:
    """Move/swap descent from x (never worse), one pass at a time while passes fit before the deadline."""
    from shieldwall.wta._kernels import _survival, descend

    tgt = _units_from_x(arr, x)
    s = _survival(arr.values, arr.q, arr.unit_type, tgt)
    for _ in range(MAX_POLISH_PASSES):
        if not _descent_fits(arr, deadline):
            break
        before = tgt.copy()
        descend(arr.values, arr.q, arr.allowed, arr.ucost, arr.unit_type, tgt, s, 1)
        if np.array_equal(before, tgt):
            break
    y = _x_from_units(arr, tgt, problem.p.shape)
    return y if evaluate(problem, y) < evaluate(problem, x) else x


def _pattern_search(problem: Problem, arr: _Arrays, x: np.ndarray, deadline: float, log: "_Log",
                    mip_share: float = 0.5):
    """The pattern neighbourhood: column generation on the set-partitioning LP (stops at the deadline's first
    part), then the best combination of generated patterns (one per target) by MILP. Returns
    (assignment, objective, lower bound, column generation state, whether column generation converged)."""
    ub = evaluate(problem, x)
    cg = _ColumnGeneration(arr, x, log)
    now = time.perf_counter()
    cg_deadline = now + (1.0 - mip_share) * max(0.0, deadline - now)
    lb, status = cg.run(ub, cg_deadline)
    log(f"column generation: LP {cg.lp_value:.6f} LB {lb:.6f} UB {ub:.6f} cols {cg.ncols} iters {cg.iters}")
    tol = 1e-9 * max(1.0, abs(ub))
    x_lp = cg.round_lp(problem, deadline)
    if x_lp is not None and evaluate(problem, x_lp) < ub:
        x, ub = x_lp, evaluate(problem, x_lp)
        log(f"LP rounding: UB {ub:.6f}")
    if ub - lb > tol and time.perf_counter() < deadline:
        cols = cg.columns_within(ub - cg.best_lb + tol)
        log(f"pattern MILP over {cols[0].size} of {cg.ncols} columns")
        x_rm, _obj, _ = _solve_set_partitioning(arr, cols, x, ub, deadline)
        if x_rm is not None:
            x_rm = _polish(problem, arr, x_rm, deadline)
            if evaluate(problem, x_rm) < ub:
                x, ub = x_rm, evaluate(problem, x_rm)
                log(f"pattern MILP: UB {ub:.6f}")
    if status != "done" and time.perf_counter() + 3.0 * cg.price_s < deadline - 0.05 * (deadline - now):
        lb, status = cg.run(ub, deadline)  # time left over: tighten the bound
        log(f"column generation resumed: LB {lb:.6f} ({status})")
    return x, ub, lb, cg, status == "done"


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
        x, done, timed_out = _ils(problem, arr, x0, self.seed, t0 + share * self.time_limit_s, st["iterations"],
                                  st["stall"], st["ruin"], st["chunk"])
        log(f"ils: {evaluate(problem, x):.6f} after {done} rounds")
        lb = -np.inf
        status = "time_limit" if timed_out else "feasible"
        if st["patterns"] and arr.unit_type.size and problem.n_targets:
            x, _ub, lb, _cg, converged = _pattern_search(problem, arr, x, deadline, log, mip_share=0.3)
            status = "feasible" if converged else "time_limit"
        if st["bound"] and not np.isfinite(lb):
            lb = _heuristic_bound(arr, x, deadline)
        return self._result(problem, x, lb if np.isfinite(lb) else 0.0, status, t0, iterations=done)


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
        x_best, _, _ = _ils(problem, arr, x0, self.seed, ils_deadline, 20000, 2000, 3, 200)
        log(f"heuristic {evaluate(problem, x_best):.6f}")
        x_best, ub, lb, cg, converged = _pattern_search(problem, arr, x_best, deadline, log, mip_share=0.2)
        if not converged:
            return self._result(problem, x_best, lb, "time_limit", t0, **cg.stats())
        tol = 1e-9 * max(1.0, abs(ub))
        if ub - lb > tol and time.perf_counter() < deadline:
            cols = cg.enumerate(ub - cg.best_lb + tol, st["max_columns"])
            if cols is None:
                log("too many patterns within the gap to enumerate")
            else:
                log(f"enumerated {cols[0].size} patterns within gap {ub - cg.best_lb:.3g}")
                x_mip, obj_mip, (mip_status, mip_lb) = _solve_set_partitioning(arr, cols, x_best, ub, deadline)
                if x_mip is not None and evaluate(problem, x_mip) < ub:
                    x_best, ub = x_mip, evaluate(problem, x_mip)
                if mip_status == "optimal":
                    # the MILP over every pattern that can beat the incumbent is the whole problem
                    return self._result(problem, x_best, ub, "optimal", t0, **cg.stats())
                lb = max(lb, mip_lb)
        status = "optimal" if ub - lb <= tol else "time_limit"
        return self._result(problem, x_best, lb, status, t0, **cg.stats())


class _Log:
    def __init__(self, on: bool, t0: float) -> None:
        self.on = on
        self.t0 = t0

    def __call__(self, msg: str) -> None:
        if self.on:
            print(f"[wta {time.perf_counter() - self.t0:7.2f}s] {msg}", flush=True)


def _pattern_cost(arr: _Arrays, j: int, types: np.ndarray, cnts: np.ndarray) -> float:
    return float(arr.values[j] * np.prod(arr.q[types, j] ** cnts) + arr.ucost[types] @ cnts)


class _ColumnGeneration:
    """The restricted master LP (HiGHS, warm-started between rounds) and its columns."""

    def __init__(self, arr: _Arrays, x0: np.ndarray, log: _Log) -> None:
        import highspy

        self.arr = arr
        self.log = log
        self._pending: list = []
        m, n = arr.q.shape
        self.m, self.n = m, n
        h = new_highs()
        inf = highspy.kHighsInf
        lower = np.concatenate([np.ones(n), np.full(m, -inf)])
        upper = np.concatenate([np.ones(n), arr.counts.astype(np.float64)])
        h.addRows(n + m, lower, upper, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
        self.h = h
        self.col_tgt: list[np.ndarray] = []
        self.col_types: list[np.ndarray] = []
        self.col_cnts: list[np.ndarray] = []
        self.col_cost: list[float] = []
        self.seen: set = set()
        # empty pattern for every target, and the incumbent's patterns
        for j in range(n):
            self._add(j, np.zeros(0, np.int64), np.zeros(0, np.int64))
        for j in range(n):
            ii = np.nonzero(x0[:, j])[0]
            if ii.size:
                self._add(j, ii, x0[ii, j])
        # single-weapon patterns: for each target the most useful few types
        k = min(m, 8 if m * n <= 100_000 else 3)
        gain = arr.values[None, :] * (1.0 - arr.q) - arr.ucost[:, None]
        gain = np.where(arr.allowed & (arr.counts[:, None] > 0), gain, -np.inf)
        top = np.argsort(-gain, axis=0, kind="stable")[:k]
        for j in range(n):
            for i in top[:, j]:
                if np.isfinite(gain[i, j]) and gain[i, j] > 0:
                    self._add(j, np.array([i], np.int64), np.ones(1, np.int64),
                              float(arr.values[j] * arr.q[i, j] + arr.ucost[i]))
        self._flush()
        hd = heuristic_duals(arr, x0)
        self.start_duals = [hd[k] for k in (START_DUALS if m * n <= 100_000 else START_DUALS[:2])]
        self.best_lb = -np.inf
        self.best_duals = np.zeros(m)
        self.best_sigma = np.zeros(n)
        self.lp_value = np.nan
        self.iters = 0
        self.price_s = 0.0

    @property
    def ncols(self) -> int:
        return len(self.col_cost)

    def stats(self) -> dict[str, Any]:
        return {"columns": self.ncols, "cg_iterations": self.iters, "lp_value": self.lp_value}

    def _add(self, j: int, types: np.ndarray, cnts: np.ndarray, cost: float | None = None) -> bool:
        key = (j, types.tobytes(), cnts.tobytes())
        if key in self.seen:
            return False
        self.seen.add(key)
        if cost is None:
            cost = _pattern_cost(self.arr, j, types, cnts)
        self._pending.append((j, types, cnts, cost))
        return True

    def _flush(self) -> None:
        pend = self._pending
        if not pend:
            return
        k = len(pend)
        costs = np.empty(k)
        starts = np.empty(k, np.int32)
        idx: list[int] = []
        vals: list[float] = []
        for c, (j, types, cnts, cost) in enumerate(pend):
            costs[c] = cost
            starts[c] = len(idx)
            idx.append(j)
            vals.append(1.0)
            idx.extend((self.n + types).tolist())
            vals.extend(cnts.astype(float).tolist())
            self.col_tgt.append(j)
            self.col_types.append(types)
            self.col_cnts.append(cnts)
            self.col_cost.append(cost)
        self.h.addCols(k, costs, np.zeros(k), np.full(k, np.inf), len(idx), starts,
                       np.asarray(idx, np.int32), np.asarray(vals))
        self._pending = []

    def _add_patterns(self, pats: np.ndarray, which: np.ndarray) -> int:
        """Add the priced patterns of the targets in ``which`` (rows of types with repetition, -1 padded)."""
        arr = self.arr
        which = np.asarray(which, dtype=np.int64)
        if which.size == 0:
            return 0
        width = max(1, int((pats[which] >= 0).sum(axis=1).max()))
        rows = np.sort(np.where(pats[which, :width] >= 0, pats[which, :width], np.iinfo(np.int64).max), axis=1)
        valid = rows != np.iinfo(np.int64).max
        safe = np.where(valid, rows, 0)
        qv = np.where(valid, arr.q[safe, which[:, None]], 1.0)
        costs = arr.values[which] * qv.prod(axis=1) + np.where(valid, arr.ucost[safe], 0.0).sum(axis=1)
        added = 0
        for r, j in enumerate(which):
            types = rows[r][valid[r]]
            if types.size:
                brk = np.flatnonzero(np.diff(types)) + 1
                starts = np.concatenate([[0], brk])
                ut = types[starts]
                uc = np.diff(np.concatenate([starts, [types.size]]))
            else:
                ut = uc = np.zeros(0, np.int64)
            if self._add(int(j), ut.astype(np.int64), uc.astype(np.int64), float(costs[r])):
                added += 1
        return added

    def _try_center(self, duals: np.ndarray):
        t = time.perf_counter()
        lb, best, pats = lagrangian_bound(self.arr, duals)
        self.price_s = time.perf_counter() - t
        if lb > self.best_lb:
            self.best_lb, self.best_duals, self.best_sigma = lb, duals.copy(), best
        return lb, best, pats

    def run(self, ub: float, deadline: float, alpha: float = 0.7) -> tuple[float, str]:
        """Column generation with Wentges dual smoothing around the duals of the best Lagrangian bound."""
        import highspy

        arr = self.arr
        tol = 1e-9 * max(1.0, abs(ub))
        rc_tol = 1e-9 * max(1.0, float(arr.values.max()))
        # stability centre: the best of a few dual estimates read off the incumbent
        for d in self.start_duals:
            t = time.perf_counter()
            _lb, _best, pats = self._try_center(d)
            self._add_patterns(pats, np.arange(self.n))
            now = time.perf_counter()
            if now + (now - t) >= deadline:  # the next estimate would not fit
                break
        self._flush()
        while True:
            if time.perf_counter() >= deadline:
                return self.best_lb, "time_limit"
            self.h.setOptionValue("time_limit", max(1e-3, 0.9 * (deadline - time.perf_counter())))
            self.h.run()
            if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return self.best_lb, "time_limit"  # stopped inside the LP: its duals mean nothing
            if time.perf_counter() + self.price_s > deadline:
                return self.best_lb, "time_limit"  # no time left for a pricing round
            self.iters += 1
            sol = self.h.getSolution()
            self.lp_value = self.h.getInfo().objective_function_value
            rd = np.asarray(sol.row_dual)
            sigma = rd[: self.n]
            duals = np.maximum(-rd[self.n:], 0.0)
            if self.best_lb >= self.lp_value - tol or self.best_lb >= ub - tol:
                return self.best_lb, "done"
            a = alpha
            while True:
                sep = a * self.best_duals + (1.0 - a) * duals
                _lb, best, pats = self._try_center(sep)
                # reduced cost of the priced patterns at the LP duals: value at sep, corrected to the LP duals
                # sum over each pattern's units of (LP dual - smoothed dual)
                diff = duals - sep
                rc = best + np.where(pats >= 0, diff[np.maximum(pats, 0)], 0.0).sum(axis=1) - sigma
                which = np.nonzero(rc < -rc_tol)[0]
                if which.size or a == 0.0:
                    break
                a = 0.0 if a < 0.1 else a * 0.5  # mispricing: move towards the LP duals
            if self.best_lb >= ub - tol:
                return self.best_lb, "done"
            added = self._add_patterns(pats, which)
            self._flush()
            if self.iters % 10 == 0:
                self.log(f"cg iter {self.iters}: LP {self.lp_value:.6f} LB {self.best_lb:.6f} cols {self.ncols}")
            if added == 0:
                # at the LP duals nothing prices out: the LP is optimal and its value is the bound
                return self.best_lb, "done"

    def round_lp(self, problem: Problem, deadline: float = np.inf) -> np.ndarray | None:
        """A solution read off the LP: each target takes its column of largest LP value; overused types give
        up their least useful units; idle units are re-inserted greedily; then move/swap descent."""
        if not np.isfinite(self.lp_value):
            return None
        arr = self.arr
        z = np.asarray(self.h.getSolution().col_value)
        k = min(z.size, len(self.col_cost))
        tg = np.asarray(self.col_tgt[:k])
        order = np.lexsort((np.asarray(self.col_cost[:k]), -z[:k], tg))  # per target: largest z, then cheapest
        first = np.ones(k, bool)
        first[1:] = tg[order][1:] != tg[order][:-1]
        x = np.zeros((self.m, self.n), np.int64)
        for c in order[first]:
            x[self.col_types[c], self.col_tgt[c]] += self.col_cnts[c]
        over = x.sum(axis=1) - arr.counts
        for i in np.nonzero(over > 0)[0]:
            for _ in range(int(over[i])):
                if time.perf_counter() >= deadline:
                    return None
                js = np.nonzero(x[i])[0]
                s = arr.values[js] * np.prod(np.where(x[:, js] > 0, arr.q[:, js] ** x[:, js], 1.0), axis=0)
                loss = s * (1.0 / arr.q[i, js] - 1.0)
                x[i, js[np.argmin(loss)]] -= 1
        return _refill(problem, arr, x, deadline)

    def columns(self):
        """All generated columns as (target, cost, start, type, count) arrays."""
        tg = np.asarray(self.col_tgt, np.int64)
        cost = np.asarray(self.col_cost)
        lens = np.array([t.size for t in self.col_types], np.int64)
        start = np.concatenate([[0], np.cumsum(lens)])
        types = np.concatenate(self.col_types) if lens.sum() else np.zeros(0, np.int64)
        cnts = np.concatenate(self.col_cnts) if lens.sum() else np.zeros(0, np.int64)
        return tg, cost, start, types, cnts

    def columns_within(self, gap: float):
        """The generated columns whose reduced cost at the best duals is <= gap: no other generated column can be
        part of a solution better than LB + gap (same argument as for the enumeration)."""
        tg, cost, start, types, cnts = self.columns()
        if not np.isfinite(self.best_lb):
            return tg, cost, start, types, cnts
        owner = np.repeat(np.arange(tg.size), np.diff(start))
        dual_use = np.bincount(owner, weights=self.best_duals[types] * cnts, minlength=tg.size)
        rc = cost + dual_use - self.best_sigma[tg]
        keep = np.nonzero(rc <= gap)[0]
        lens = np.diff(start)[keep]
        new_start = np.concatenate([[0], np.cumsum(lens)])
        sel = np.concatenate([np.arange(start[c], start[c + 1]) for c in keep]) if lens.sum() else np.zeros(0, np.int64)
        return tg[keep], cost[keep], new_start, types[sel], cnts[sel]

    def enumerate(self, gap: float, cap: int):
        from shieldwall.wta._kernels import enumerate_kernel

        arr = self.arr
        thr = self.best_sigma + gap
        cap_col = int(min(cap, 50_000))
        while True:
            tg, cost, _val, start, types, cnts, overflow = enumerate_kernel(
                arr.values, arr.q, arr.w, arr.allowed, arr.counts, arr.ucost, self.best_duals,
                self.best_sigma, thr, cap_col, cap_col * 8)
            if not overflow:
                return tg, cost, start, types, cnts
            if cap_col >= cap:
                return None
            cap_col = min(cap, cap_col * 4)


def _solve_set_partitioning(arr: _Arrays, cols, x_inc: np.ndarray, ub: float, deadline: float):
    """min sum cost z over the columns, one column per target, type counts respected; z binary. The incumbent's
    columns are appended so that the model always has a solution. Returns (x, objective, (status, bound))."""
    import highspy

    m, n = arr.q.shape
    tg, cost, start, types, cnts = cols
    # incumbent columns
    inc_t, inc_c, inc_s, inc_ty, inc_cn = [], [], [0], [], []
    for j in range(n):
        ii = np.nonzero(x_inc[:, j])[0]
        inc_t.append(j)
        inc_c.append(_pattern_cost(arr, j, ii, x_inc[ii, j]))
        inc_ty.extend(ii.tolist())
        inc_cn.extend(x_inc[ii, j].tolist())
        inc_s.append(len(inc_ty))
    tg = np.concatenate([tg, np.asarray(inc_t, np.int64)])
    cost = np.concatenate([cost, np.asarray(inc_c)])
    start = np.concatenate([start, start[-1] + np.asarray(inc_s[1:], np.int64)])
    types = np.concatenate([types, np.asarray(inc_ty, np.int64)])
    cnts = np.concatenate([cnts, np.asarray(inc_cn, np.int64)])
    k = tg.size
    lens = np.diff(start)
    # column-wise matrix: target row first, then the type rows
    col_start = (np.arange(k) + start[:-1]).astype(np.int32)
    nnz = k + types.size
    index = np.empty(nnz, np.int32)
    value = np.empty(nnz)
    pos_t = col_start
    index[pos_t] = tg
    value[pos_t] = 1.0
    owner = np.repeat(np.arange(k), lens)
    within = np.arange(types.size) - start[:-1][owner]
    pos = col_start[owner] + 1 + within
    index[pos] = n + types
    value[pos] = cnts
    lp = highspy.HighsLp()
    lp.num_col_ = k
    lp.num_row_ = n + m
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(k)
    lp.col_upper_ = np.ones(k)
    lp.row_lower_ = np.concatenate([np.ones(n), np.full(m, -highspy.kHighsInf)])
    lp.row_upper_ = np.concatenate([np.ones(n), arr.counts.astype(np.float64)])
    a = highspy.HighsSparseMatrix()  # built apart: lp.a_matrix_ hands out a copy
    a.format_ = highspy.MatrixFormat.kColwise
    a.num_col_ = k
    a.num_row_ = n + m
    a.start_ = np.concatenate([col_start, [nnz]]).astype(np.int32)
    a.index_ = index
    a.value_ = value
    lp.a_matrix_ = a
    lp.integrality_ = [highspy.HighsVarType.kInteger] * k
    h = new_highs()
    h.setOptionValue("mip_rel_gap", 1e-10)
    h.setOptionValue("mip_abs_gap", 1e-9)
    h.setOptionValue("time_limit", max(1e-3, deadline - time.perf_counter()))
    # no setSolution: with HiGHS 1.16 it misreported the objective here; a cutoff above the incumbent instead
    h.setOptionValue("objective_bound", ub + 1e-7 * max(1.0, abs(ub)))
    h.passModel(lp)
    h.run()
    ms = h.getModelStatus()
    info = h.getInfo()
    if info.primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
        return None, np.inf, ("none", -np.inf)
    z = np.asarray(h.getSolution().col_value) > 0.5
    x = np.zeros((m, n), np.int64)
    for c in np.nonzero(z)[0]:
        sl = slice(start[c], start[c + 1])
        x[types[sl], tg[c]] += cnts[sl]
    status = "optimal" if ms == highspy.HighsModelStatus.kOptimal else "time_limit"
    return x, float(info.objective_function_value), (status, float(info.mip_dual_bound))


def compile_kernels() -> None:
    """Compile (or load from numba's cache) every kernel once, on a tiny problem, so that later timings and
    time limits measure solving: a fresh checkout compiles for about a minute, a cached one loads in a second."""
    from shieldwall.wta import _kernels as K
    from shieldwall.wta.problem import generate_andersen

    arr = _Arrays(generate_andersen(3, mu=2, seed=0))
    x = K.greedy_kernel(arr.values, arr.q, arr.allowed, arr.counts, arr.ucost)
    tgt = _units_from_x(arr, x)
    s = K._survival(arr.values, arr.q, arr.unit_type, tgt)
    K.descend(arr.values, arr.q, arr.allowed, arr.ucost, arr.unit_type, tgt, s, 10)
    K.ils_kernel(arr.values, arr.q, arr.allowed, arr.ucost, arr.unit_type, tgt, 0, 2, 1, 1, 10)
    idle = np.zeros(1, np.int64)
    K._reinsert(arr.values, arr.q, arr.allowed, arr.ucost, arr.unit_type, tgt.copy(), s.copy(), idle, 0)
    duals = np.full(arr.q.shape[0], 1.0)
    best, _ = K.price_kernel(arr.values, arr.q, arr.w, arr.allowed, arr.counts, arr.ucost, duals)
    K.enumerate_kernel(arr.values, arr.q, arr.w, arr.allowed, arr.counts, arr.ucost, duals, best, best + 1.0, 100, 800)
    g = np.array([1.0, 0.5])
    z = np.zeros(2, np.int64)
    one = np.ones(1, np.int64)
    order = np.arange(2, dtype=np.int64)
    chosen = K.epoch_greedy(g, z, z, z, np.ones(2, np.int64), one, one, order, 1)
    K.epoch_improve(g, z, z, z, np.ones(2, np.int64), one, one, order, 1, chosen, 2)
