"""Target patterns: column generation on the set-partitioning LP (HiGHS, dual smoothing, exact
pricing), the pattern MILP, and the pattern neighbourhood the local-search and exact solvers share."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from shieldwall.wta.base import SolveLog, SolverArrays, heuristic_duals, lagrangian_bound, new_highs
from shieldwall.wta.problem import Problem, evaluate
from shieldwall.wta.search import polish, refill

START_DUALS = (1, 3, 2, 4, 0)  # which of heuristic_duals() seed column generation, best first


def pattern_cost(arr: SolverArrays, j: int, types: np.ndarray, cnts: np.ndarray) -> float:
    return float(arr.values[j] * np.prod(arr.q[types, j] ** cnts) + arr.ucost[types] @ cnts)


class ColumnGeneration:
    """The restricted master LP (HiGHS, warm-started between rounds) and its columns."""

    def __init__(self, arr: SolverArrays, x0: np.ndarray, log: SolveLog) -> None:
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
            cost = pattern_cost(self.arr, j, types, cnts)
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
        return refill(problem, arr, x, deadline)

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


def solve_set_partitioning(arr: SolverArrays, cols, x_inc: np.ndarray, ub: float, deadline: float):
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
        inc_c.append(pattern_cost(arr, j, ii, x_inc[ii, j]))
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


def pattern_search(problem: Problem, arr: SolverArrays, x: np.ndarray, deadline: float, log: "SolveLog",
                    mip_share: float = 0.5):
    """The pattern neighbourhood: column generation on the set-partitioning LP (stops at the deadline's first
    part), then the best combination of generated patterns (one per target) by MILP. Returns
    (assignment, objective, lower bound, column generation state, whether column generation converged)."""
    ub = evaluate(problem, x)
    cg = ColumnGeneration(arr, x, log)
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
        x_rm, _obj, _ = solve_set_partitioning(arr, cols, x, ub, deadline)
        if x_rm is not None:
            x_rm = polish(problem, arr, x_rm, deadline)
            if evaluate(problem, x_rm) < ub:
                x, ub = x_rm, evaluate(problem, x_rm)
                log(f"pattern MILP: UB {ub:.6f}")
    if status != "done" and time.perf_counter() + 3.0 * cg.price_s < deadline - 0.05 * (deadline - now):
        lb, status = cg.run(ub, deadline)  # time left over: tighten the bound
        log(f"column generation resumed: LB {lb:.6f} ({status})")
    return x, ub, lb, cg, status == "done"
