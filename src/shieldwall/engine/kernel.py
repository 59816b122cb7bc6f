"""The raid engine's hot loop: one replication after another over plain arrays.

Read ``simulate_chunk`` top-down: per replication it draws nothing (all uniforms come in
pre-drawn, indexed by threat and shot number, which is what makes runs reproducible and gives
common random numbers across options), then alternates three steps until every threat has
ended: settle what happened up to now (intercepts, impacts, failures, reloads), decide which
battery fires at which threat, and move the clock to the next decision.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from shieldwall.engine.paths import position

# threat end states
ALIVE, KILLED, LEAKED, EXPIRED, ABSENT = 0, 1, 2, 3, 4
# event kinds of the replay log
EV_LAUNCH, EV_DETECT, EV_FIRE, EV_KILL, EV_MISS, EV_LEAK, EV_EXPIRE = 0, 1, 2, 3, 4, 5, 6
EVENT_NAMES = ("launch", "detect", "fire", "kill", "miss", "leak", "expire")
EPS_S = 1e-6  # clock jumps land exactly on window edges; rounding must not miss them


@njit(cache=True)
def intercept_time(j, tau_f, bx, by, k, geo, thr, itc):  # type: ignore[no-untyped-def]
    """Earliest tau_i >= tau_f (after launch) at which interceptor k fired from (bx, by) at
    tau_f meets threat j inside its envelope; -1 if there is none before impact."""
    flight, step, vmax = thr[9], thr[10], thr[11]
    speed, minr, maxr, minalt, maxalt = itc[0][k], itc[1][k], itc[2][k], itc[3][k], itc[4][k]
    x, y, z = position(j, tau_f, geo)
    d0 = np.sqrt((x - bx) ** 2 + (y - by) ** 2 + z * z)
    tau = tau_f + d0 / (speed + vmax[j])  # no intercept can come sooner than a head-on one
    prev = -1.0
    while tau < flight[j]:
        x, y, z = position(j, tau, geo)
        d = np.sqrt((x - bx) ** 2 + (y - by) ** 2 + z * z)
        reach = (tau - tau_f) * speed >= d
        if reach and minr <= d <= maxr and minalt <= z <= maxalt:
            if prev < 0.0:
                return tau
            lo, hi = prev, tau
            for _ in range(30):  # the reach condition flips between the two samples
                mid = 0.5 * (lo + hi)
                xm, ym, zm = position(j, mid, geo)
                if (mid - tau_f) * speed >= np.sqrt((xm - bx) ** 2 + (ym - by) ** 2 + zm * zm):
                    hi = mid
                else:
                    lo = mid
            return hi
        prev = tau if not reach else -1.0
        tau += step[j]
    return -1.0


@njit(cache=True)
def _log(log, kind, t, j, b, k, n, x, y, z):  # type: ignore[no-untyped-def]
    ev_t, ev_kind, ev_j, ev_b, ev_k, ev_n, ev_xyz, n_ev = log
    i = n_ev[0]
    ev_t[i] = t
    ev_kind[i] = kind
    ev_j[i] = j
    ev_b[i] = b
    ev_k[i] = k
    ev_n[i] = n
    ev_xyz[i, 0] = x
    ev_xyz[i, 1] = y
    ev_xyz[i, 2] = z
    n_ev[0] = i + 1


@njit(cache=True)
def simulate_chunk(geo, thr, bat, itc, pairs, doc, rnd, stock_init, present, out, log, log_first):  # type: ignore[no-untyped-def]
    (th_type, th_class, th_target, th_value, th_damage, th_rel, th_launch0, th_window, th_cost,
     flight, step, vmax, first_open, last_close, track_any) = thr
    bat_x, bat_y, bat_channels, bat_reload, _, n_launch, cap = bat
    itc_pk, itc_cost, itc_rps = itc[5], itc[6], itc[7]
    pair_off, pair_b, pair_k, pair_open, pair_close = pairs
    salvo_c, maxeng_c, dt, assess, cost_w = doc
    u_launch, u_rel, u_kill = rnd
    killed, leaked, expired, rounds, kills_bat, hits, survive, cost_killed, leak_threat, remaining = out

    n_rep, n_thr = u_launch.shape
    n_bat, n_itc = n_launch.shape
    n_pairs = pair_b.shape[0]
    inf = np.inf
    # per-epoch candidate buffers, allocated once
    c_j = np.empty(n_pairs, np.int64)
    c_p = np.empty(n_pairs, np.int64)
    c_gain = np.empty(n_pairs)
    c_urg = np.empty(n_pairs)
    c_cost = np.empty(n_pairs)

    for r in range(n_rep):
        logging = log_first and r == 0
        launch = th_launch0 + u_launch[r] * th_window
        impact = launch + flight
        expire = np.full(n_thr, inf)
        for j in range(n_thr):
            if u_rel[r, j] >= th_rel[j]:  # fails in flight, at a uniform fraction of it
                expire[j] = launch[j] + flight[j] * (u_rel[r, j] - th_rel[j]) / (1.0 - th_rel[j])
        status = np.zeros(n_thr, np.int8)
        n_alive = 0
        for j in range(n_thr):  # a campaign's generator may leave some of tonight's threats out
            if present[r, j]:
                n_alive += 1
            else:
                status[j] = ABSENT
        resolve = np.full(n_thr, inf)  # pending engagement's intercept time
        res_kill = np.zeros(n_thr, np.bool_)
        res_bat = np.zeros(n_thr, np.int64)
        next_ok = np.full(n_thr, -inf)
        n_eng = np.zeros(n_thr, np.int64)
        shots_used = np.zeros(n_thr, np.int64)
        busy = np.zeros(n_bat, np.int64)
        stock0 = stock_init[r]  # per replication: a campaign carries each one's stock over
        full = n_launch * cap
        ready = np.minimum(stock0, full)
        reserve = stock0 - ready
        reload_done = np.full((n_bat, n_itc), inf)
        surv = np.ones(hits.shape[1])

        t = inf
        for j in range(n_thr):
            if status[j] == ALIVE:
                t = min(t, launch[j] + first_open[j])
        while True:
            final = t == inf
            # 1. settle intercepts, impacts and failures up to t
            for j in range(n_thr):
                if status[j] != ALIVE:
                    continue
                if resolve[j] <= t:
                    tr = resolve[j]
                    resolve[j] = inf
                    busy[res_bat[j]] -= 1
                    x, y, z = position(j, tr - launch[j], geo)
                    if expire[j] < tr:
                        status[j] = EXPIRED
                        if logging:
                            _log(log, EV_EXPIRE, expire[j], j, -1, -1, 0, x, y, z)
                    elif res_kill[j]:
                        status[j] = KILLED
                        kills_bat[r, res_bat[j]] += 1
                        cost_killed[r] += th_cost[j]
                        if logging:
                            _log(log, EV_KILL, tr, j, res_bat[j], -1, 0, x, y, z)
                    else:
                        next_ok[j] = tr + assess
                        if logging:
                            _log(log, EV_MISS, tr, j, res_bat[j], -1, 0, x, y, z)
                if status[j] == ALIVE and resolve[j] == inf:
                    if expire[j] <= t and expire[j] < impact[j]:
                        status[j] = EXPIRED
                        if logging:
                            x, y, z = position(j, expire[j] - launch[j], geo)
                            _log(log, EV_EXPIRE, expire[j], j, -1, -1, 0, x, y, z)
                    elif impact[j] <= t:
                        status[j] = LEAKED
                        a = th_target[j]
                        if th_damage[j] > 0.0:
                            hits[r, a] += 1
                            surv[a] *= 1.0 - th_damage[j]
                        leak_threat[j] += 1.0
                        if logging:
                            x, y, z = position(j, flight[j], geo)
                            _log(log, EV_LEAK, impact[j], j, -1, -1, 0, x, y, z)
                if status[j] != ALIVE:
                    n_alive -= 1
                    tp = th_type[j]
                    if status[j] == KILLED:
                        killed[r, tp] += 1
                    elif status[j] == LEAKED:
                        leaked[r, tp] += 1
                    else:
                        expired[r, tp] += 1
            if final or n_alive == 0:
                break
            # 2. reloads: one at a time per (battery, type), each adds one launcher's worth
            for b in range(n_bat):
                for k in range(n_itc):
                    while reload_done[b, k] <= t:
                        add = min(cap[b, k], reserve[b, k], full[b, k] - ready[b, k])
                        ready[b, k] += add
                        reserve[b, k] -= add
                        if ready[b, k] < full[b, k] and reserve[b, k] > 0:
                            reload_done[b, k] += bat_reload[b]
                        else:
                            reload_done[b, k] = inf
            # 3. decide: gather feasible (threat, battery, type) candidates
            n_c = 0
            active = False
            for j in range(n_thr):
                if status[j] != ALIVE or resolve[j] != inf or t < next_ok[j]:
                    continue
                cls = th_class[j]
                if n_eng[j] >= maxeng_c[cls]:
                    continue
                rel = t - launch[j]
                if rel < first_open[j] - EPS_S or rel > last_close[j] + EPS_S:
                    continue
                active = True
                for p in range(pair_off[j], pair_off[j + 1]):
                    if rel < pair_open[p] - EPS_S or rel > pair_close[p] + EPS_S:
                        continue
                    b = pair_b[p]
                    k = pair_k[p]
                    if busy[b] >= bat_channels[b] or ready[b, k] < itc_rps[k]:
                        continue
                    n = min(salvo_c[cls], ready[b, k] // itc_rps[k])
                    pk = itc_pk[k, th_type[j]]
                    shot_cost = itc_cost[k] * itc_rps[k] * n
                    gain = th_value[j] * (1.0 - (1.0 - pk) ** n) - cost_w * shot_cost
                    if cost_w > 0.0 and gain <= 0.0:
                        continue
                    c_j[n_c] = j
                    c_p[n_c] = p
                    c_gain[n_c] = -gain
                    c_urg[n_c] = impact[j]
                    c_cost[n_c] = shot_cost
                    n_c += 1
            # greedy maximum marginal return: best gain first; ties: sooner impact, cheaper
            if n_c > 0:
                order = np.argsort(c_cost[:n_c], kind="mergesort")
                order = order[np.argsort(c_urg[:n_c][order], kind="mergesort")]
                order = order[np.argsort(c_gain[:n_c][order], kind="mergesort")]
                for c in order:
                    j = c_j[c]
                    if resolve[j] != inf:
                        continue  # already engaged this epoch
                    p = c_p[c]
                    b = pair_b[p]
                    k = pair_k[p]
                    if busy[b] >= bat_channels[b] or ready[b, k] < itc_rps[k]:
                        continue
                    tau_i = intercept_time(j, t - launch[j], bat_x[b], bat_y[b], k, geo, thr, itc)
                    if tau_i < 0.0:
                        continue
                    n = min(salvo_c[th_class[j]], ready[b, k] // itc_rps[k])
                    pk = itc_pk[k, th_type[j]]
                    kill = False
                    for s in range(n):
                        if u_kill[r, j, shots_used[j] + s] < pk:
                            kill = True
                    shots_used[j] += n
                    n_eng[j] += 1
                    used = n * itc_rps[k]
                    ready[b, k] -= used
                    rounds[r, b, k] += used
                    busy[b] += 1
                    if reload_done[b, k] == inf and reserve[b, k] > 0:
                        reload_done[b, k] = t + bat_reload[b]
                    resolve[j] = launch[j] + tau_i
                    res_kill[j] = kill
                    res_bat[j] = b
                    if logging:
                        x, y, z = position(j, t - launch[j], geo)
                        _log(log, EV_FIRE, t, j, b, k, n, x, y, z)
            # 4. next decision: step while something is engageable, else jump to the next change
            if active:
                t = t + dt
            else:
                t_next = inf
                for j in range(n_thr):
                    if status[j] != ALIVE:
                        continue
                    if resolve[j] != inf:
                        t_next = min(t_next, resolve[j])
                    elif n_eng[j] < maxeng_c[th_class[j]]:
                        opens = max(launch[j] + first_open[j], next_ok[j])
                        if opens > t and opens <= launch[j] + last_close[j]:
                            t_next = min(t_next, opens)
                t = t_next
        for a in range(surv.shape[0]):
            survive[r, a] = surv[a]
        for b in range(n_bat):
            for k in range(n_itc):
                remaining[r, b, k] = ready[b, k] + reserve[b, k]
        if logging:
            for j in range(n_thr):
                if status[j] == ABSENT:
                    continue
                x, y, z = position(j, 0.0, geo)
                _log(log, EV_LAUNCH, launch[j], j, -1, -1, 0, x, y, z)
                if track_any[j] < inf:
                    x, y, z = position(j, track_any[j], geo)
                    _log(log, EV_DETECT, launch[j] + track_any[j], j, -1, -1, 0, x, y, z)
