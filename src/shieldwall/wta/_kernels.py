"""Compiled hot loops of the WTA solvers (numba, cached). Plain arrays in, plain arrays out.

Conventions: ``q = 1 - p`` clipped to [1e-12, 1] so that removing a unit can divide; ``allowed[i, j]`` says where a
unit may go; ``ucost[i]`` is lambda * cost of one unit of type i. Units are the expanded weapon list: ``unit_type[u]``
and ``tgt[u]`` (a target, or -1 when unused).
"""

from __future__ import annotations

import numpy as np
from shieldwall.jit import cached_njit

QMIN = 1e-12


# ------------------------------------------------------------------------------------------------ greedy


@cached_njit()
def _best_for_target(j, s, q, allowed, rem, ucost, bt, bg):
    m = q.shape[0]
    best = -np.inf
    bi = -1
    for i in range(m):
        if rem[i] > 0 and allowed[i, j]:
            g = s[j] * (1.0 - q[i, j]) - ucost[i]
            if g > best:
                best = g
                bi = i
    bt[j] = bi
    bg[j] = best


@cached_njit()
def greedy_kernel(values, q, allowed, counts, ucost):
    """Maximum marginal return: repeatedly fire the unit with the largest decrease of the objective."""
    m, n = q.shape
    s = values.copy()
    rem = counts.copy()
    x = np.zeros((m, n), np.int64)
    bt = np.full(n, -1, np.int64)
    bg = np.full(n, -np.inf)
    for j in range(n):
        _best_for_target(j, s, q, allowed, rem, ucost, bt, bg)
    total = rem.sum()
    for _ in range(total):
        jb = -1
        gb = 0.0
        for j in range(n):
            if bg[j] > gb:
                gb = bg[j]
                jb = j
        if jb < 0:
            break
        i = bt[jb]
        x[i, jb] += 1
        s[jb] *= q[i, jb]
        rem[i] -= 1
        _best_for_target(jb, s, q, allowed, rem, ucost, bt, bg)
        if rem[i] == 0:
            for j in range(n):
                if bt[j] == i:
                    _best_for_target(j, s, q, allowed, rem, ucost, bt, bg)
    return x


# ------------------------------------------------------------------------------------------------ local search


@cached_njit()
def _survival(values, q, unit_type, tgt):
    s = values.copy()
    for u in range(unit_type.shape[0]):
        if tgt[u] >= 0:
            s[tgt[u]] *= q[unit_type[u], tgt[u]]
    return s


@cached_njit()
def _objective(s, ucost, unit_type, tgt):
    obj = s.sum()
    for u in range(unit_type.shape[0]):
        if tgt[u] >= 0:
            obj += ucost[unit_type[u]]
    return obj


@cached_njit()
def _recompute_target(j, values, q, unit_type, tgt, s):
    v = values[j]
    for u in range(unit_type.shape[0]):
        if tgt[u] == j:
            v *= q[unit_type[u], j]
    s[j] = v


@cached_njit()
def descend(values, q, allowed, ucost, unit_type, tgt, s, max_passes):
    """Best-improvement per unit over two neighbourhoods (move one unit; swap two units of different types)
    until no move improves. Modifies ``tgt`` and ``s``. Returns the number of passes."""
    n = q.shape[1]
    nu = unit_type.shape[0]
    eps = 1e-12 * max(1.0, values.sum())
    passes = 0
    improved = True
    while improved and passes < max_passes:
        improved = False
        passes += 1
        # moves: unit u from its target a (or unused) to b (or unused)
        for u in range(nu):
            t = unit_type[u]
            a = tgt[u]
            if a >= 0:
                rem = s[a] / q[t, a] - s[a] - ucost[t]
            else:
                rem = 0.0
            best = -eps
            bb = -2
            if a >= 0 and rem < best:
                best = rem
                bb = -1
            for b in range(n):
                if b == a or not allowed[t, b]:
                    continue
                d = rem + s[b] * (q[t, b] - 1.0) + ucost[t]
                if d < best:
                    best = d
                    bb = b
            if bb != -2:
                tgt[u] = bb
                if a >= 0:
                    _recompute_target(a, values, q, unit_type, tgt, s)
                if bb >= 0:
                    _recompute_target(bb, values, q, unit_type, tgt, s)
                improved = True
        # swaps: u (type t1 on a) <-> v (type t2 on b)
        for u in range(nu):
            t1 = unit_type[u]
            a = tgt[u]
            best = -eps
            bv = -1
            for v in range(nu):
                t2 = unit_type[v]
                b = tgt[v]
                if t1 == t2 or a == b:
                    continue
                d = 0.0
                if a >= 0:
                    if not allowed[t2, a]:
                        continue
                    d += s[a] * (q[t2, a] / q[t1, a] - 1.0)
                else:
                    d += ucost[t2] - ucost[t1]
                if b >= 0:
                    if not allowed[t1, b]:
                        continue
                    d += s[b] * (q[t1, b] / q[t2, b] - 1.0)
                else:
                    d += ucost[t1] - ucost[t2]
                if d < best:
                    best = d
                    bv = v
            if bv >= 0:
                b = tgt[bv]
                tgt[u] = b
                tgt[bv] = a
                if a >= 0:
                    _recompute_target(a, values, q, unit_type, tgt, s)
                if b >= 0:
                    _recompute_target(b, values, q, unit_type, tgt, s)
                improved = True
    return passes


@cached_njit()
def _reinsert(values, q, allowed, ucost, unit_type, tgt, s, freed, nfreed):
    """Greedy (maximum marginal return) re-insertion of the freed units."""
    n = q.shape[1]
    left = nfreed
    done = np.zeros(nfreed, np.bool_)
    while left > 0:
        best = 0.0
        bk = -1
        bj = -1
        for k in range(nfreed):
            if done[k]:
                continue
            t = unit_type[freed[k]]
            for j in range(n):
                if allowed[t, j]:
                    g = s[j] * (1.0 - q[t, j]) - ucost[t]
                    if g > best:
                        best = g
                        bk = k
                        bj = j
        if bk < 0:
            break
        done[bk] = True
        left -= 1
        u = freed[bk]
        tgt[u] = bj
        s[bj] *= q[unit_type[u], bj]


@cached_njit()
def ils_kernel(values, q, allowed, ucost, unit_type, tgt, it0, iters, ruin, seed, max_passes):
    """Iterated local search: ruin ``ruin`` random targets (free their units plus a few random units), re-insert
    greedily, descend; keep the new solution when it is no worse. ``tgt`` holds the start and returns the best.
    Round k (global index it0 + k) draws from its own seed, so splitting a run into calls changes nothing."""
    n = q.shape[1]
    nu = unit_type.shape[0]
    s = _survival(values, q, unit_type, tgt)
    descend(values, q, allowed, ucost, unit_type, tgt, s, max_passes)
    cur = _objective(s, ucost, unit_type, tgt)
    best_obj = cur
    best = tgt.copy()
    work = tgt.copy()
    freed = np.empty(nu, np.int64)
    eps = 1e-12 * max(1.0, values.sum())
    for it in range(iters):
        np.random.seed((seed * 1000003 + it0 + it) % 2147483647)
        work[:] = tgt
        nf = 0
        for _r in range(ruin):
            j = np.random.randint(n)
            for u in range(nu):
                if work[u] == j:
                    work[u] = -1
                    freed[nf] = u
                    nf += 1
        for _r in range(ruin):
            u = np.random.randint(nu)
            if work[u] >= 0:
                work[u] = -1
                freed[nf] = u
                nf += 1
        for u in range(nu):  # unused units also get a chance
            if work[u] < 0:
                already = False
                for k in range(nf):
                    if freed[k] == u:
                        already = True
                        break
                if not already:
                    freed[nf] = u
                    nf += 1
        s2 = _survival(values, q, unit_type, work)
        _reinsert(values, q, allowed, ucost, unit_type, work, s2, freed, nf)
        descend(values, q, allowed, ucost, unit_type, work, s2, max_passes)
        obj = _objective(_survival(values, q, unit_type, work), ucost, unit_type, work)
        if obj <= cur + eps:
            tgt[:] = work
            cur = obj
            if obj < best_obj - eps:
                best_obj = obj
                best[:] = work
    tgt[:] = best
    return best_obj


# ------------------------------------------------------------------------------------------------ patterns


@cached_njit()
def _suffix_bound(s, U, k, K, ratio, seglen, mult_cost):
    """Lower bound on s * exp(-t) + U + F_k(t) over t >= 0, where F_k is the fractional-knapsack cost of
    reaching log-kill weight t with the items k..K-1 (sorted by cost per unit weight)."""
    F = 0.0
    e = s
    for kk in range(k, K):
        r = ratio[kk]
        if r >= e:
            return U + F + e
        L = seglen[kk]
        if r > 0.0:
            dt = np.log(e / r)
            if dt <= L:
                return U + F + r * dt + r
        F += mult_cost[kk]
        e *= np.exp(-L)
    return U + F + e


@cached_njit()
def _target_items(j, values, q, w, allowed, counts, cu, slack):
    """Items usable on target j, sorted by cost per unit of log-kill weight. theta = (cu - slack) / p: by
    diminishing returns an item can be part of a pattern of value within ``slack`` of the least only when added
    at a node whose survival exceeds its theta."""
    m = q.shape[0]
    idx = np.empty(m, np.int64)
    K = 0
    vj = values[j]
    for i in range(m):
        if counts[i] > 0 and allowed[i, j] and w[i, j] > 0.0 and cu[i] - slack < vj * (1.0 - q[i, j]):
            idx[K] = i
            K += 1
    idx = idx[:K]
    ratio = np.empty(K)
    for k in range(K):
        ratio[k] = cu[idx[k]] / w[idx[k], j]
    order = np.argsort(ratio, kind="mergesort")
    idx = idx[order]
    ratio = ratio[order]
    theta = np.empty(K)
    seglen = np.empty(K)
    mult_cost = np.empty(K)
    qk = np.empty(K)
    mult = np.empty(K, np.int64)
    for k in range(K):
        i = idx[k]
        theta[k] = (cu[i] - slack) / (1.0 - q[i, j])
        mult[k] = counts[i]
        seglen[k] = counts[i] * w[i, j]
        mult_cost[k] = counts[i] * cu[i]
        qk[k] = q[i, j]
    return idx, theta, ratio, seglen, mult_cost, qk, mult


@cached_njit()
def _dfs(j, values, ucost, cu, idx, theta, ratio, seglen, mult_cost, qk, mult, thr, enum,
         out_cost, out_val, out_start, out_type, out_cnt, ncol, nnz, cap_col, cap_nnz, best_pat):
    """Depth-first search over the multisets of items on target j (items added in non-decreasing order).
    Pricing (enum=False): finds the pattern of least value s + sum cu, returns (value, size) with the pattern in
    best_pat. Enumeration (enum=True): appends every pattern with value <= thr to the out_* buffers."""
    K = idx.shape[0]
    maxd = 0
    for k in range(K):
        maxd += mult[k]
    vj = values[j]
    s_st = np.empty(maxd + 1)
    u_st = np.empty(maxd + 1)
    c_st = np.empty(maxd + 1)
    nk = np.empty(maxd + 1, np.int64)
    cnt = np.empty(maxd + 1, np.int64)
    pat = np.empty(maxd + 1, np.int64)
    s_st[0] = vj
    u_st[0] = 0.0
    c_st[0] = 0.0
    nk[0] = 0
    cnt[0] = 0
    best_val = vj
    best_len = 0
    overflow = False
    if enum:
        if vj <= thr:
            if ncol >= cap_col:
                return best_val, best_len, ncol, nnz, True
            out_cost[ncol] = vj
            out_val[ncol] = vj
            out_start[ncol + 1] = nnz
            ncol += 1
    else:
        thr = vj
    d = 0
    while d >= 0:
        k = nk[d]
        if k >= K:
            d -= 1
            continue
        if _suffix_bound(s_st[d], u_st[d], k, K, ratio, seglen, mult_cost) > thr:
            d -= 1
            continue
        nk[d] = k + 1
        if theta[k] >= s_st[d]:  # not worth adding at this node, nor anywhere below it
            continue
        c = cnt[d] + 1 if (d > 0 and pat[d - 1] == k) else 1
        if c > mult[k]:
            continue
        s2 = s_st[d] * qk[k]
        u2 = u_st[d] + cu[idx[k]]
        pat[d] = k
        val = s2 + u2
        if val <= thr:
            if enum:
                # compress the pattern into (type, count) pairs
                need = 0
                for dd in range(d + 1):
                    if dd == 0 or pat[dd] != pat[dd - 1]:
                        need += 1
                if ncol >= cap_col or nnz + need > cap_nnz:
                    overflow = True
                    break
                for dd in range(d + 1):
                    if dd == 0 or pat[dd] != pat[dd - 1]:
                        out_type[nnz] = idx[pat[dd]]
                        out_cnt[nnz] = 1
                        nnz += 1
                    else:
                        out_cnt[nnz - 1] += 1
                out_cost[ncol] = s2 + c_st[d] + ucost[idx[k]]
                out_val[ncol] = val
                out_start[ncol + 1] = nnz
                ncol += 1
            else:
                thr = val - 1e-13 * vj
                best_val = val
                best_len = d + 1
                for dd in range(d + 1):
                    best_pat[dd] = idx[pat[dd]]
        d += 1
        s_st[d] = s2
        u_st[d] = u2
        c_st[d] = c_st[d - 1] + ucost[idx[k]]
        nk[d] = k
        cnt[d] = c
    return best_val, best_len, ncol, nnz, overflow


@cached_njit()
def price_kernel(values, q, w, allowed, counts, ucost, duals):
    """For every target j: the least value of V_j prod q^a + sum_i a_i (ucost_i + duals_i) over patterns a, and
    that pattern (types with repetition, -1 padded). Exact (branch and bound with a fractional-knapsack bound)."""
    m, n = q.shape
    cu = ucost + duals
    best_val = np.empty(n)
    maxlen = counts.sum() + 1
    pats = np.full((n, maxlen), -1, np.int64)
    for j in range(n):
        dummy_f = np.empty(0)
        dummy_i = np.empty(1, np.int64)
        idx, theta, ratio, seglen, mult_cost, qk, mult = _target_items(j, values, q, w, allowed, counts,
                                                                               cu, 0.0)
        bp = np.empty(maxlen, np.int64)
        v, ln, _a, _b, _c = _dfs(j, values, ucost, cu, idx, theta, ratio, seglen, mult_cost, qk, mult, 0.0,
                                 False,
                                 dummy_f, dummy_f, dummy_i, dummy_i, dummy_i, 0, 0, 0, 0, bp)
        best_val[j] = v
        for k in range(ln):
            pats[j, k] = bp[k]
    return best_val, pats


@cached_njit()
def enumerate_kernel(values, q, w, allowed, counts, ucost, duals, sigma, thr, cap_col, cap_nnz):
    """Every pattern of every target j with value (as in price_kernel) <= thr[j]; sigma[j] is the least value. Returns CSR-like buffers
    (target, true cost, start, type, count) and an overflow flag."""
    m, n = q.shape
    cu = ucost + duals
    out_cost = np.empty(cap_col)
    out_val = np.empty(cap_col)
    out_tgt = np.empty(cap_col, np.int64)
    out_start = np.zeros(cap_col + 1, np.int64)
    out_type = np.empty(cap_nnz, np.int64)
    out_cnt = np.empty(cap_nnz, np.int64)
    ncol = 0
    nnz = 0
    bp = np.empty(1, np.int64)
    overflow = False
    for j in range(n):
        # adding item i raises a pattern's value by at least cu_i - V_j p_ij, and every value is >= sigma_j
        slack = max(thr[j] - sigma[j], 0.0) + 1e-12 * values[j]
        idx, theta, ratio, seglen, mult_cost, qk, mult = _target_items(j, values, q, w, allowed, counts,
                                                                               cu, slack)
        c0 = ncol
        _v, _l, ncol, nnz, overflow = _dfs(j, values, ucost, cu, idx, theta, ratio, seglen, mult_cost, qk,
                                           mult, thr[j],
                                           True, out_cost, out_val, out_start, out_type, out_cnt, ncol, nnz,
                                           cap_col, cap_nnz, bp)
        for c in range(c0, ncol):
            out_tgt[c] = j
        if overflow:
            break
    return out_tgt[:ncol], out_cost[:ncol], out_val[:ncol], out_start[:ncol + 1], out_type[:nnz], out_cnt[:nnz], overflow



# ------------------------------------------------------------------------------------------------ epoch


@cached_njit()
def _epoch_fill(g, th, bt, pl, rd, order, chosen, thr_used, ch_left, r_left):
    for c in order:
        if chosen[c] or thr_used[th[c]]:
            continue
        if ch_left[bt[c]] > 0 and r_left[pl[c]] >= rd[c]:
            chosen[c] = True
            thr_used[th[c]] = True
            ch_left[bt[c]] -= 1
            r_left[pl[c]] -= rd[c]


@cached_njit()
def _epoch_state(th, bt, pl, rd, ch, rf, chosen, n_thr):
    thr_used = np.zeros(n_thr, np.bool_)
    ch_left = ch.copy()
    r_left = rf.copy()
    for c in range(chosen.shape[0]):
        if chosen[c]:
            thr_used[th[c]] = True
            ch_left[bt[c]] -= 1
            r_left[pl[c]] -= rd[c]
    return thr_used, ch_left, r_left


@cached_njit()
def epoch_greedy(g, th, bt, pl, rd, ch, rf, order, n_thr):
    chosen = np.zeros(g.shape[0], np.bool_)
    thr_used, ch_left, r_left = _epoch_state(th, bt, pl, rd, ch, rf, chosen, n_thr)
    _epoch_fill(g, th, bt, pl, rd, order, chosen, thr_used, ch_left, r_left)
    return chosen


@cached_njit()
def epoch_improve(g, th, bt, pl, rd, ch, rf, order, n_thr, chosen, max_passes):
    """Insert-with-ejection: force one unchosen candidate in, drop its threat's shot and the least-gain shots
    of its battery and pool as needed, refill in order; keep the result if the total gain rises."""
    C = g.shape[0]
    total = 0.0
    for c in range(C):
        if chosen[c]:
            total += g[c]
    eps = 1e-12 * max(1.0, np.abs(g).sum())
    passes = 0
    improved = True
    while improved and passes < max_passes:
        improved = False
        passes += 1
        for c in order:
            if chosen[c]:
                continue
            new = chosen.copy()
            for d in range(C):
                if new[d] and th[d] == th[c]:
                    new[d] = False
            b = bt[c]
            p = pl[c]
            while True:  # battery channels
                cnt = 0
                worst = -1
                for d in range(C):
                    if new[d] and bt[d] == b:
                        cnt += 1
                        if worst < 0 or g[d] < g[worst] or (g[d] == g[worst] and d > worst):
                            worst = d
                if cnt < ch[b] or worst < 0:
                    break
                new[worst] = False
            while True:  # pool rounds
                used = 0
                worst = -1
                for d in range(C):
                    if new[d] and pl[d] == p:
                        used += rd[d]
                        if worst < 0 or g[d] < g[worst] or (g[d] == g[worst] and d > worst):
                            worst = d
                if used + rd[c] <= rf[p] or worst < 0:
                    break
                new[worst] = False
            new[c] = True
            thr_used, ch_left, r_left = _epoch_state(th, bt, pl, rd, ch, rf, new, n_thr)
            _epoch_fill(g, th, bt, pl, rd, order, new, thr_used, ch_left, r_left)
            val = 0.0
            for d in range(C):
                if new[d]:
                    val += g[d]
            if val > total + eps:
                chosen[:] = new
                total = val
                improved = True
    return chosen
