"""The battle manager's per-epoch assignment: which of the candidate shots to fire now.

A candidate is one (threat, battery, interceptor pool) engagement with an expected gain (value saved minus
weighted cost, computed by the caller). Constraints: at most one candidate per threat; at most
``channels_free[b]`` candidates per battery; per pool, the rounds used must fit ``rounds_free[g]``.
"""

from __future__ import annotations

import time

import numpy as np

from shieldwall.wta.problem import WTAError

__all__ = ["solve_epoch", "EPOCH_ALGORITHMS"]

# the per-epoch algorithms, named for what they do (the doctrine's policies map onto them in
# shieldwall.policies; the static WTA solvers of this package are other algorithms)
EPOCH_ALGORITHMS = ("epoch-greedy", "epoch-exchange", "epoch-milp")


def solve_epoch(algorithm: str, gain: np.ndarray, threat: np.ndarray, battery: np.ndarray, pool: np.ndarray,
                rounds: np.ndarray, channels_free: np.ndarray, rounds_free: np.ndarray,
                time_limit_s: float = 0.05) -> np.ndarray:
    """Choose candidates to fire this decision epoch.

    Candidates c = 0..C-1: gain[c] (float, may be negative: never choose those), threat[c] (int),
    battery[c] (int index into channels_free), pool[c] (int index into rounds_free; a pool is one
    battery's loaded rounds of one interceptor type), rounds[c] (int rounds it uses).
    Constraints: at most one candidate per threat; per battery b at most channels_free[b] candidates;
    per pool g, sum of rounds[c] over chosen c <= rounds_free[g].
    Maximise the sum of gains. Returns the chosen candidate indices (int64, sorted ascending).
    algorithm: 'epoch-greedy' (take candidates by decreasing gain, ties by index), 'epoch-exchange'
    (improve on greedy by insert-with-ejection exchanges), 'epoch-milp' (HiGHS MILP; fall back to the best
    found if the time limit hits). Deterministic for the same input: epoch-greedy and epoch-exchange do a
    bounded amount of work and never look at the clock; epoch-milp is deterministic whenever the MILP
    finishes within ``time_limit_s`` (the only one that reads it).
    """
    t0 = time.perf_counter()
    g = np.asarray(gain, dtype=np.float64).reshape(-1)
    c_n = g.size
    th = _ints(threat, c_n, "threat")
    bt = _ints(battery, c_n, "battery")
    pl = _ints(pool, c_n, "pool")
    rd = _ints(rounds, c_n, "rounds")
    ch = np.asarray(channels_free, dtype=np.int64).reshape(-1)
    rf = np.asarray(rounds_free, dtype=np.int64).reshape(-1)
    if algorithm not in EPOCH_ALGORITHMS:
        raise WTAError(f"unknown epoch algorithm {algorithm!r}; expected one of {', '.join(EPOCH_ALGORITHMS)}")
    if c_n and (bt.min() < 0 or bt.max() >= ch.size or pl.min() < 0 or pl.max() >= rf.size):
        raise WTAError("battery or pool index out of range")
    if np.any(~np.isfinite(g)):
        raise WTAError("gains must be finite")
    # a candidate can be fired alone only if it gains and fits its battery and pool
    ok = (g > 0) & (rd >= 0)
    if c_n:
        ok &= (ch[bt] > 0) & (rd <= rf[pl])
    cand = np.nonzero(ok)[0]
    if cand.size == 0:
        return np.zeros(0, np.int64)
    inst = _Epoch(g, th, bt, pl, rd, ch, rf, cand)
    chosen = inst.greedy()
    if algorithm != "epoch-greedy":
        chosen = inst.improve(chosen)
    if algorithm == "epoch-milp":
        mip = inst.milp(max(1e-3, t0 + time_limit_s - time.perf_counter()))
        if mip is not None and inst.feasible(mip) and g[mip].sum() > g[chosen].sum() + 1e-12:
            chosen = mip
    return np.sort(np.asarray(chosen, dtype=np.int64))


def _ints(a, n: int, name: str) -> np.ndarray:
    arr = np.asarray(a).reshape(-1)
    if arr.size != n:
        raise WTAError(f"{name} has {arr.size} entries, expected {n} (one per candidate)")
    return arr.astype(np.int64)


class _Epoch:
    def __init__(self, g, th, bt, pl, rd, ch, rf, cand) -> None:
        self.g, self.bt, self.pl, self.rd, self.ch, self.rf = g, bt, pl, rd, ch, rf
        _, self.th = np.unique(th, return_inverse=True)  # threats as 0..T-1
        self.th = self.th.astype(np.int64)
        self.n_thr = int(self.th.max()) + 1 if th.size else 0
        # consideration order: decreasing gain, ties by index
        self.order = cand[np.lexsort((cand, -g[cand]))].astype(np.int64)

    def feasible(self, chosen) -> bool:
        chosen = np.asarray(chosen, dtype=np.int64)
        if np.unique(self.th[chosen]).size != chosen.size:
            return False
        if np.any(np.bincount(self.bt[chosen], minlength=self.ch.size) > self.ch):
            return False
        used = np.bincount(self.pl[chosen], weights=self.rd[chosen], minlength=self.rf.size)
        return bool(np.all(used <= self.rf + 1e-9))

    def _args(self):
        return (self.g, self.th, self.bt, self.pl, self.rd, self.ch, self.rf, self.order, self.n_thr)

    def greedy(self) -> list[int]:
        from shieldwall.wta._kernels import epoch_greedy

        return np.nonzero(epoch_greedy(*self._args()))[0].tolist()

    def improve(self, chosen, max_passes: int = 50) -> list[int]:
        """Insert-with-ejection moves (compiled): force one unchosen candidate in, drop what conflicts with it
        (its threat's shot, the least-gain shots of its battery and pool as needed), refill greedily; keep if
        better. Bounded by passes, not by time, so the answer never depends on the clock."""
        from shieldwall.wta._kernels import epoch_improve

        mask = np.zeros(self.g.size, dtype=np.bool_)
        mask[np.asarray(chosen, dtype=np.int64)] = True
        return np.nonzero(epoch_improve(*self._args(), mask, max_passes))[0].tolist()

    def milp(self, time_limit: float):
        import highspy

        from shieldwall.wta.base import new_highs

        cand = np.sort(self.order)
        k = cand.size
        ths, th_idx = np.unique(self.th[cand], return_inverse=True)
        n_t, n_b, n_p = ths.size, self.ch.size, self.rf.size
        h = new_highs()
        h.setOptionValue("time_limit", float(time_limit))
        h.setOptionValue("mip_rel_gap", 1e-9)
        inf = highspy.kHighsInf
        lower = np.full(n_t + n_b + n_p, -inf)
        upper = np.concatenate([np.ones(n_t), self.ch.astype(float), self.rf.astype(float)])
        h.addRows(lower.size, lower, upper, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
        starts = (3 * np.arange(k)).astype(np.int32)
        idx = np.stack([th_idx, n_t + self.bt[cand], n_t + n_b + self.pl[cand]], axis=1).reshape(-1).astype(np.int32)
        val = np.stack([np.ones(k), np.ones(k), self.rd[cand].astype(float)], axis=1).reshape(-1)
        h.addCols(k, -self.g[cand], np.zeros(k), np.ones(k), idx.size, starts, idx, val)
        h.changeColsIntegrality(k, np.arange(k, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * k))
        h.run()
        if h.getInfo().primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
            return None
        z = np.asarray(h.getSolution().col_value) > 0.5
        return [int(c) for c in cand[z]]
