"""The raid engine's hot loop: one replication after another over plain arrays.

Read ``simulate_chunk`` top-down. Per replication it draws nothing: all uniforms come in
pre-drawn, indexed by threat and shot number, which makes runs reproducible and gives common
random numbers across options. The battle manager decides on a grid of epochs
k * decision_interval_s; the engine takes only the epochs at which something happens (a window
opens, an intercept lands, a launcher is reloaded, a kill assessment ends), runs the battle
manager only where that changed something it looks at, and there re-examines only what changed:
the threats that became engageable and the batteries that got resources back. Every other
candidate was already blocked at the previous epoch and still is, so the greedy assignment is
the same as re-examining everything. Events wait on a calendar with one bucket per epoch;
docs/architecture.md says why the loop is written out the way it is (what made it fast,
measured).
"""

from __future__ import annotations

import numpy as np
from numba import objmode

from shieldwall.engine.causes import (
    LEAK_HELD,
    LEAK_IDENTIFIED,
    LEAK_MAGAZINE_EMPTY,
    LEAK_MISSED,
    LEAK_NOT_DETECTED,
    LEAK_OUT_OF_REACH,
    LEAK_SATURATED,
)
from shieldwall.engine.detection import fire_unit_tracks, link_lost_max, window_own_cover
from shieldwall.engine.hazards import next_event
from shieldwall.engine.intercept import intercept_time, leg_table
from shieldwall.engine.policies import solve_epoch_by_code
from shieldwall.jit import KERNEL_CHECKS, cached_njit
from shieldwall.policies import GREEDY_CODE

# threat end states
# threat end states: shot down by a battery, reached its target, failed in flight, lost to
# electronic warfare (crashed, or diverted to fall elsewhere), shot down by an area defence
ALIVE, KILLED, LEAKED, EXPIRED, ABSENT, SUPPRESSED, DIVERTED, AREA_KILLED = 0, 1, 2, 3, 4, 5, 6, 7
# event kinds of the replay log
EV_LAUNCH, EV_DETECT, EV_FIRE, EV_KILL, EV_MISS, EV_LEAK, EV_EXPIRE = 0, 1, 2, 3, 4, 5, 6
EV_SUPPRESS, EV_DIVERT, EV_AREA_KILL, EV_AREA_MISS = 7, 8, 9, 10
EV_BATTERY_LOST = 11  # an attacker destroyed its battery (the event's battery)
EV_RADAR_LOST = 12  # an attacker destroyed its stand-alone radar (the event's battery: n_bat + n_area + radar)
# then a battery's own events (threat -1)
EV_RELOAD = 13
EVENT_NAMES = ("launch", "detect", "fire", "kill", "miss", "leak", "expire", "suppressed", "diverted", "area-kill",
               "area-miss", "battery-lost", "radar-lost", "reload")
THREAT_EVENTS = EV_RELOAD  # kinds below this are a threat's
# a threat's fire was held by the cost weight (for the cause of a leak: engine/causes.py)
MET_HELD = 1
EPS_S = 1e-6  # epochs land exactly on window edges; rounding must not miss them
INSERTION_SORT_MAX = 48  # candidates of an epoch sorted in place up to this many, else by stable argsorts
NEVER = 1 << 62  # the epoch of a reload that is not coming
# a battery destroyed by an attack holds this many more fire channels than it has: every test of
# "a channel free?" then says no, and the engagements it has in flight still land and free theirs
LOST_BUSY = 1 << 40


@cached_njit()
def _log(log, kind, t, j, b, k, n, tau):  # type: ignore[no-untyped-def]
    """One row of the replay log (engine/records.py EventLog). Positions are worked out afterwards
    from tau (time since the threat's launch): passing the path arrays down here would slow every
    replication. The log has Compiled.max_events_per_threat rows per threat."""
    i = log.count[0]
    if KERNEL_CHECKS:
        assert i < log.time_s.shape[0], "replay log overflow: more events than max_events_per_threat allows"
    log.time_s[i] = t
    log.kind[i] = kind
    log.threat[i] = j
    log.battery[i] = b
    log.interceptor[i] = k
    log.shots[i] = n
    log.tau_s[i] = tau
    log.count[0] = i + 1


@cached_njit(inline="always")
def _leak_cause(j, t_launch, met, n_eng, res_bat, max_eng, track_s, pair_off, w_end, open_order, pair_b, pair_k, pair_open,
                pair_close, dry_s, n_itc, dt, per_dt):  # type: ignore[no-untyped-def]
    """(cause code, battery) of leaker j: engine/causes.py gives the rule, in this order. A threat
    never engaged could be engaged at every decision epoch inside one of its windows, so what
    stopped it follows from the windows, the epoch grid and when each battery ran dry: nothing
    is recorded in the hot loops for it (a flag set there cost the kernel ~5%). Inlined, and
    each scan stops at its first match (a call, whose arrays numba reference-counts, cost more)."""
    if n_eng > 0:
        return LEAK_MISSED, res_bat
    lo, hi = pair_off[j], w_end[j]
    if lo == hi:
        return (LEAK_NOT_DETECTED if track_s == np.inf else LEAK_OUT_OF_REACH), -1
    first = pair_b[open_order[lo]]
    held = max_eng == 0 or met & MET_HELD
    for q in range(lo, hi):  # the first window with a decision epoch while its battery had rounds
        p = open_order[q]
        t_epoch = _epoch_of(t_launch + pair_open[p], dt, per_dt) * dt
        if t_epoch <= t_launch + pair_close[p] + EPS_S and t_epoch < dry_s[pair_b[p] * n_itc + pair_k[p]]:
            return (LEAK_HELD if held else LEAK_SATURATED), pair_b[p]
    if held:
        return LEAK_HELD, first
    for q in range(lo, hi):  # the first battery that ran dry while its window was open
        p = open_order[q]
        if dry_s[pair_b[p] * n_itc + pair_k[p]] <= t_launch + pair_close[p] + EPS_S:
            return LEAK_MAGAZINE_EMPTY, pair_b[p]
    return LEAK_OUT_OF_REACH, first


@cached_njit()
def _solve_outside(policy, limit_s, o, c_p, c_key, pair_j, pair_b, pair_k, busy, bat_channels, ready, itc_rps,
                   salvo_c, th_class):  # type: ignore[no-untyped-def]
    """Positions in ``o`` (candidates in greedy order) of the set a WTA policy chooses."""
    m = o.shape[0]
    n_bat, n_itc = ready.shape
    gain = np.empty(m)
    threat = np.empty(m, np.int64)
    battery = np.empty(m, np.int64)
    pool = np.empty(m, np.int64)
    used = np.empty(m, np.int64)
    for i in range(m):
        p = c_p[o[i]]
        gain[i] = -c_key[0, o[i]]
        threat[i] = pair_j[p]
        battery[i] = pair_b[p]
        k = pair_k[p]
        pool[i] = pair_b[p] * n_itc + k
        used[i] = min(salvo_c[th_class[pair_j[p]]], ready[pair_b[p], k] // itc_rps[k]) * itc_rps[k]
    free = np.maximum(bat_channels - busy, 0)  # a destroyed battery (LOST_BUSY) has none
    loaded = ready.reshape(n_bat * n_itc).copy()
    with objmode(chosen="int64[:]"):
        chosen = solve_epoch_by_code(policy, gain, threat, battery, pool, used, free, loaded, limit_s)
    return chosen


@cached_njit(inline="always")
def _wait(p, b, waiting, n_b, is_waiting, bat_off):  # type: ignore[no-untyped-def]
    """Put window p on battery b's waiting list (once); returns the list's new length."""
    if is_waiting[p]:
        return n_b
    is_waiting[p] = True
    waiting[bat_off[b] + n_b] = p
    return n_b + 1


@cached_njit()
def _sorted_by_keys(n_c, c_p, c_key):  # type: ignore[no-untyped-def]
    """Stable argsorts, key by key: for the rare epoch with many candidates."""
    o = np.argsort(c_p[:n_c], kind="mergesort")
    for key in (2, 1, 0):
        o = o[np.argsort(c_key[key, :n_c][o], kind="mergesort")]
    return o


# what an event on the calendar means for threat j: its next window opens, an intercept comes
# due, a kill assessment ends. The event's code is j << J_SHIFT | bk << 2 | kind, where bk is
# the (battery, interceptor) of the window an opening is filed for: whether that battery has run
# dry since is read without looking the window up. Shifts and masks to decode (dividing by 3
# showed in the profile)
OPEN, RESOLVE, ASSESSED, AREA = 0, 1, 2, 3  # AREA: the threat's next area-defence engagement
J_SHIFT = 18
BK_MASK = (1 << (J_SHIFT - 2)) - 1
MAX_BATTERY_INTERCEPTOR_PAIRS = BK_MASK + 1  # what the code holds (compile_scenario checks it)


@cached_njit(inline="always")
def _end_event(cause):  # type: ignore[no-untyped-def]
    """The replay log's event for a threat that ended in flight (its end state)."""
    if cause == SUPPRESSED:
        return EV_SUPPRESS
    if cause == DIVERTED:
        return EV_DIVERT
    return EV_EXPIRE


@cached_njit()
def _area_order(n, buf_t, buf_j, order):  # type: ignore[no-untyped-def]
    """The epoch's area-defence engagements in order of time, then threat (insertion sort: a few)."""
    for i in range(n):
        m = i
        while m > 0 and (buf_t[order[m - 1]], buf_j[order[m - 1]]) > (buf_t[i], buf_j[i]):
            order[m] = order[m - 1]
            m -= 1
        order[m] = i


# relative margin of _quiet_below: far above the rounding of a logarithm and of a sum of a few
# exposures (~1e-15), far below what would move a draw's outcome by chance (~1e-9 of cases)
QUIET_MARGIN = 1e-9


@cached_njit()
def _quiet_below(off, t0_s, t1_s, rate_per_s):  # type: ignore[no-untyped-def]
    """Per threat: a uniform u below this never gives next_event's first event (from launch,
    exposure -ln u): -ln u then exceeds the whole flight's exposure, summed segment by segment as
    next_event sums it, by a margin the logarithm's rounding cannot bridge. 0 without segments."""
    n = off.shape[0] - 1
    out = np.zeros(n)
    for j in range(n):
        acc = 0.0
        for s in range(off[j], off[j + 1]):
            a = max(t0_s[s], 0.0)
            if t1_s[s] > 0.0:
                acc += rate_per_s[s] * (t1_s[s] - a)
        if off[j] < off[j + 1]:
            out[j] = np.exp(-acc) * (1.0 - QUIET_MARGIN)
    return out


@cached_njit(inline="always")
def _opening(j, bk):  # type: ignore[no-untyped-def]
    """The event code of threat j's next window opening, on (battery, interceptor) bk."""
    return j << J_SHIFT | bk << 2 | OPEN


@cached_njit(inline="always")
def _join(j, hd, lnk):  # type: ignore[no-untyped-def]
    """Put node j on the circular list whose head node is hd (lnk[:, 0] next, lnk[:, 1]
    previous). Written without branches: numba then drops the reference counts of the arrays
    passed in (with branches it kept them: the kernel was 29% slower, measured)."""
    n = lnk[hd, 0]
    lnk[j, 0] = n
    lnk[j, 1] = hd
    lnk[n, 1] = j
    lnk[hd, 0] = j


@cached_njit(inline="always")
def _leave(j, lnk):  # type: ignore[no-untyped-def]
    """Take node j off its list."""
    p = lnk[j, 1]
    n = lnk[j, 0]
    lnk[p, 0] = n
    lnk[n, 1] = p


@cached_njit(inline="always")
def _epoch_of(time_s, dt, per_dt):  # type: ignore[no-untyped-def]
    """The first decision epoch k (at k * dt) that sees something happening at time_s.
    per_dt = 1 / dt: a first guess by multiplication, made exact by the two comparisons."""
    k = max(int((time_s - EPS_S) * per_dt), 0)
    while k * dt + EPS_S < time_s:
        k += 1
    while k > 0 and (k - 1) * dt + EPS_S >= time_s:
        k -= 1
    return k


@cached_njit(inline="always")
def _schedule(head, nxt, ev_code, free, k, code):  # type: ignore[no-untyped-def]
    """File an event under epoch k, in the free slot ``free``; returns the next free slot."""
    e = free
    free = nxt[e]
    nxt[e] = head[k]
    ev_code[e] = code
    head[k] = e
    return free


@cached_njit(inline="always")
def _file_opening(j, q, k_min, launch_j, dt, per_dt, free, head, nxt, ev_code, open_at, lnk, chained,
                  ord_open, ord_bk, n_thr):  # type: ignore[no-untyped-def]
    """Put threat j's next window opening (its window q in open order) on the calendar, no
    earlier than epoch k_min, and on the list of its (battery, interceptor); returns the next
    free calendar slot. Branch-free, so numba drops the reference counts of the arrays it takes
    (with a branch it kept them, and a helper cost more than its work: see _join)."""
    bk = ord_bk[q]
    kk = max(_epoch_of(launch_j + ord_open[q], dt, per_dt), k_min)
    free = _schedule(head, nxt, ev_code, free, kk, _opening(j, bk))
    open_at[j] = kk
    _join(j, n_thr + bk, lnk)
    chained[j] = True
    return free


# nogil: in a parallel run the run's own process simulates too, while its pool's threads feed the workers
@cached_njit(nogil=True)
def simulate_chunk(paths, threats, batteries, interceptors, windows, doctrine, ew, ew_zones, area, layers, det,
                   losses, uniforms, stock_init, present, sensor_lost0, out, log, log_on):  # type: ignore[no-untyped-def]
    """Simulate the chunk's replications (uniforms' first axis) into ``out`` (engine/records.py:
    every argument is one of its records; stock_init [rep, battery, interceptor] and present
    [rep, threat] are per replication, and sensor_lost0 [rep, losses row]: when each losable sensor
    was lost before the night, -inf for a campaign's radar out of action, else inf). With detection (``det.on``) each replication opens every
    window no sooner than its battery's drawn track (engine/detection.py) and closes a decoy's
    when it is identified: the windows' times and their order are then this replication's. Returns the decision epochs visited, a cost diagnostic."""
    # the records' arrays as local names, once: the hot loops below read plain arrays
    th_type, th_class, th_target = threats.type, threats.cls, threats.target
    th_value, th_damage, th_rel, th_cost = threats.value_at_stake, threats.damage, threats.reliability, threats.cost_usd
    th_launch0, th_window, flight, step, vmax = (threats.launch_s, threats.window_s, threats.flight_s, threats.step_s,
                                                  threats.vmax_mps)
    track_any = threats.track_s.copy()  # per replication under detection
    bat_x, bat_y, bat_channels, bat_reload = batteries.x_m, batteries.y_m, batteries.channels, batteries.reload_s
    n_launch, cap = batteries.launchers, batteries.rounds_per_launcher
    itc_speed, itc_minr, itc_maxr = interceptors.speed_mps, interceptors.min_range_m, interceptors.max_range_m
    itc_minalt, itc_maxalt = interceptors.min_altitude_m, interceptors.max_altitude_m
    itc_cost, itc_rps = interceptors.cost_usd, interceptors.rounds_per_shot
    is_ball, vert_off, th_alt, th_apogee = paths.ballistic, paths.vertex_offset, paths.altitude_m, paths.apogee_m
    th_release = paths.release_m
    th_attack = threats.attack_battery
    th_last_close = threats.last_close_s  # the compiled windows' last closing (identified decoys)
    pair_off, pair_b, pair_k, pair_j = windows.threat_offset, windows.battery, windows.interceptor, windows.threat
    pair_level, pk_levels = windows.pk_level, windows.pk_levels
    # the windows' times and order: as compiled, or this replication's under detection
    pair_open, pair_close, open_order = windows.open_s.copy(), windows.close_s.copy(), windows.open_order.copy()
    open_order_c = windows.open_order  # as compiled: under detection the order a replication's sort starts from
    bat_off = windows.battery_offset
    w_end = pair_off[1:].copy()  # threat j's usable windows are open_order[pair_off[j] .. w_end[j] - 1]
    salvo_c, maxeng_c, policy = doctrine.salvo, doctrine.max_engagements, doctrine.policy
    dt, assess, cost_w, epoch_limit_s = (doctrine.decision_interval_s, doctrine.assess_s, doctrine.cost_weight,
                                         doctrine.epoch_time_limit_s)
    u_launch, u_rel, u_kill, u_ew, u_area = uniforms.launch, uniforms.reliability, uniforms.kill, uniforms.ew, uniforms.area
    u_attack, lost_s, radar_lost_s = uniforms.attack, out.battery_lost_s, out.radar_lost_s
    th_attack_radar = threats.attack_radar
    # attacks on sensors: the radars an attack can destroy, and when each was (inf: not yet)
    n_sl = losses.unit.shape[0]
    sl_unit, sl_net, sl_track = losses.unit, losses.net, losses.track_s
    sl_fixed, sl_bat_net, sl_latency, sl_own, sl_floor, sl_risk = (losses.fixed_s, losses.bat_net, losses.bat_latency_s,
                                                                   losses.own_s, losses.floor_s, losses.at_risk)
    sl_lost_t = np.full(n_sl, np.inf)
    killed, leaked, expired, rounds, kills_bat = out.killed, out.leaked, out.expired, out.rounds, out.kills_by_battery
    hits, survive, cost_killed = out.hits, out.survive, out.threat_cost_destroyed
    leak_threat, remaining = out.leak_count_by_threat, out.remaining
    suppressed, diverted, area_killed = out.suppressed, out.diverted, out.area_killed
    area_attempts, area_kills = out.area_attempts, out.area_kills
    leak_cause, leak_bat, dry_s = out.leak_cause, out.leak_battery, out.dry_s
    n_logged = log.rep_end.shape[0] if log_on else 0
    ew_off, area_off = ew.threat_offset, area.threat_offset
    n_layers = layers.burst.shape[0]
    n_area_draws = u_area.shape[2]

    n_rep, n_thr = u_launch.shape
    n_bat, n_itc = n_launch.shape
    n_pairs = pair_b.shape[0]
    per_dt = 1.0 / dt
    inf = np.inf
    # each threat's windows in the order they open: their opening times and (battery,
    # interceptor) index side by side, for the chain that follows them
    ord_open = pair_open[open_order]
    ord_bk = pair_b[open_order] * n_itc + pair_k[open_order]
    # under detection: the compiled order's look-ups, and per threat whether this chunk's arrays
    # hold other windows than the compiled ones (a threat whose tracks all come before its
    # windows open, and that is not identified before they close, has the compiled ones: most
    # do, and then nothing is rewritten or sorted)
    ord_open_c = ord_open.copy()
    ord_bk_c = ord_bk.copy()
    w_moved = np.zeros(n_thr, np.bool_)
    legs = leg_table(paths.vertex_x_m, paths.vertex_y_m, paths.vertex_t_s)
    n_det = n_thr if det.on else 0
    # detection: [window] its battery's track, after launch; read only as max(opening, track), so
    # fire_unit_tracks may give one at or before the opening where none can move it (its docstring)
    trk = np.empty(n_pairs if det.on else 0)
    own_cover_s = window_own_cover(det, pair_j, pair_b) if det.on else np.empty(0)
    lost_max = link_lost_max(det.bat_link_loss)
    t_id = np.empty(n_det)  # when a decoy is identified
    t_any = np.empty(n_det)  # when a network first holds a track
    # cued area defences: [threat, network] each network's first track (under detection, drawn)
    cue_net = layers.cue_net
    n_cue_net = 0
    for a in range(cue_net.shape[0]):
        n_cue_net = max(n_cue_net, cue_net[a] + 1)
    t_net = np.empty((n_det, n_cue_net))
    # buffers allocated once per chunk
    c_p = np.empty(n_pairs, np.int64)
    probe = np.empty(n_pairs, np.int64)
    order = np.empty(n_pairs, np.int64)
    kill_u = np.empty(u_kill.shape[1:])
    # per battery, the windows that were blocked by its channels or rounds (or left out by a
    # policy): what to look at again when the battery gets resources back
    waiting = np.empty(n_pairs, np.int64)
    n_waiting = np.zeros(n_bat, np.int64)
    is_waiting = np.zeros(n_pairs, np.bool_)
    c_key = np.empty((3, n_pairs))  # -gain, impact time, shot cost
    # the chance that a salvo of n kills, per Pk level of the windows and n: a power per
    # candidate showed in the profile
    p_kill = np.zeros((pk_levels.shape[0], salvo_c.max() + 1))
    for lv in range(pk_levels.shape[0]):
        for n in range(p_kill.shape[1]):
            p_kill[lv, n] = 1.0 - (1.0 - pk_levels[lv]) ** n
    seen = np.full(n_pairs, -1, np.int64)  # epoch stamp: a window is examined once per epoch
    woken = np.full(n_thr, -1, np.int64)  # epoch stamp: a WTA policy's left-out threat woken once
    stamp = 0  # counts epochs across the whole chunk
    n_decided = 0  # epochs at which the battle manager ran
    dirty = np.empty(n_thr, np.int64)
    follow = np.empty(n_thr, np.int64)
    is_follow = np.zeros(n_thr, np.bool_)
    is_dirty = np.zeros(n_thr, np.bool_)
    bat_dirty = np.zeros(n_bat, np.bool_)
    dirty_bats = np.empty(n_bat, np.int64)
    fired_bat = np.zeros(n_bat, np.bool_)
    fired_bats = np.empty(n_bat, np.int64)
    # the calendar: per decision epoch, a linked list of the events that epoch is the first to
    # see. Events fall on an epoch grid anyway, so a bucket per epoch replaces a priority queue
    # (O(1) per event, no ordering within an epoch: candidates are ordered by their keys). What
    # can be pending at once, per threat: its next opening, an intercept, an assessment, and a
    # retry per window at an envelope edge.
    op_ptr = np.empty(n_thr, np.int64)  # the threat's next window to open, in open_order
    open_at = np.empty(n_thr, np.int64)  # the epoch its next opening is filed under
    # per (battery, interceptor), a list of the threats whose next opening is on it: when it runs
    # dry they move on at once. Found only when they came due, a third of all epochs visited was
    # for openings on batteries that had run dry since they were filed. Nodes: the threats, then
    # one head per (battery, interceptor)
    lnk = np.empty((n_thr + n_bat * n_itc, 2), np.int64)
    chained = np.zeros(n_thr, np.bool_)  # its next opening is on the calendar
    horizon_s = (th_launch0 + th_window + flight).max() + 2.0 * dt if n_thr > 0 else 0.0
    head = np.full(_epoch_of(horizon_s, dt, per_dt) + 2, -1, np.int64)
    n_slots = 2 * n_pairs + 3 * n_thr + 1  # (and an area-defence engagement per threat)
    if n_sl > 0:  # wakes for windows waiting on a track a lost sensor no longer gives: one per window at most
        n_slots += n_pairs + n_thr
    trk_wake = np.empty(n_thr if n_sl > 0 else 0, np.int64)  # the epoch of a threat's pending track wake
    nxt = np.arange(1, n_slots + 1).astype(np.int64)  # free slots are chained through nxt
    nxt[n_slots - 1] = -1
    ev_code = np.empty(n_slots, np.int64)
    free = 0

    launch = np.empty(n_thr)
    impact = np.empty(n_thr)
    expire = np.empty(n_thr)
    status = np.empty(n_thr, np.int8)
    end_cause = np.empty(n_thr, np.int8)  # how it ends if it ends in flight at expire[j]
    # area defences: each threat's next engagement (time after launch, area defence, its number),
    # the epoch's engagements to take in time order, and each area defence's means tonight
    area_tau = np.empty(n_thr)
    area_z = np.empty(n_thr, np.int64)
    area_n = np.empty(n_thr, np.int64)
    abuf_t = np.empty(n_thr)
    abuf_j = np.empty(n_thr, np.int64)
    abuf_o = np.empty(n_thr, np.int64)
    tokens = np.empty(n_layers)
    tokens_t = np.empty(n_layers)
    munitions = np.empty(n_layers, np.int64)
    gate = np.empty(n_thr)
    resolve = np.empty(n_thr)
    res_kill = np.empty(n_thr, np.bool_)
    res_bat = np.empty(n_thr, np.int64)
    met = np.empty(n_thr, np.int64)  # MET_ flags: for the cause of a leak
    n_eng = np.empty(n_thr, np.int64)
    shots_used = np.empty(n_thr, np.int64)
    busy = np.empty(n_bat, np.int64)
    full = n_launch * cap
    ready = np.empty((n_bat, n_itc), np.int64)
    reserve = np.empty((n_bat, n_itc), np.int64)
    spent = np.empty(n_bat * n_itc, np.bool_)
    reload_done = np.empty((n_bat, n_itc))
    dry = np.empty(n_bat * n_itc)  # when each (battery, interceptor) ran dry this replication
    # attacks on the defence: the attackers, taken in order of impact; which batteries are lost
    att_list = np.flatnonzero((th_attack >= 0) | (th_attack_radar >= 0))
    n_att = att_list.shape[0]
    att_order = att_list.copy()
    lost = np.zeros(n_bat, np.bool_)
    radar_lost = np.zeros(radar_lost_s.shape[1], np.bool_)
    # the (battery, interceptor) pairs with a reload coming (reload_done < inf), in no order: a
    # reload epoch looks at these, not at every pair (a national laydown of hundreds of batteries
    # spent half its time scanning all of them at every reload)
    reloading = np.empty(n_bat * n_itc, np.int64)
    due = np.empty(n_bat * n_itc, np.int64)

    # per threat, a uniform below which its first electronic-warfare loss (and first area-defence
    # engagement) never comes: the exposure of its whole flight, summed as next_event sums it, is
    # below -ln u. Most threats see neither, and the logarithm and the walk of the segments are
    # then skipped (the margin keeps the shortcut inside what next_event would find: same results)
    ew_quiet = _quiet_below(ew_off, ew.t0_s, ew.t1_s, ew.rate_per_s)
    area_quiet = _quiet_below(area_off, area.t0_s, area.t1_s, area.rate_per_s)

    for r in range(n_rep):
        logging = r < n_logged
        # this replication's kill draws, copied in one streaming pass into a buffer that stays
        # in cache: read where they lie, in random order, each would be a cache miss
        kill_u[:, :] = u_kill[r]
        # per-threat state, set in one pass into arrays allocated once per chunk
        for j in range(n_thr):
            launch[j] = th_launch0[j] + u_launch[r, j] * th_window[j]
            impact[j] = launch[j] + flight[j]
            expire[j] = inf
            end_cause[j] = EXPIRED
            if u_rel[r, j] >= th_rel[j]:  # fails in flight, at a uniform fraction of it
                expire[j] = launch[j] + flight[j] * (u_rel[r, j] - th_rel[j]) / (1.0 - th_rel[j])
            if ew_off[j] < ew_off[j + 1] and u_ew[r, j, 0] >= ew_quiet[j]:  # lost where its exposure reaches -ln u
                tau, z = next_event(ew_off[j], ew_off[j + 1], 0.0, -np.log(u_ew[r, j, 0]), u_ew[r, j, 1], ew.t0_s,
                                    ew.t1_s, ew.rate_per_s, ew.zone_offset, ew.zone, ew.zone_rate_per_s)
                if launch[j] + tau < expire[j]:
                    expire[j] = launch[j] + tau
                    end_cause[j] = DIVERTED if u_ew[r, j, 2] < ew_zones.divert_share[z] else SUPPRESSED
            area_n[j] = 0
            area_tau[j] = inf
            area_z[j] = -1
            # its first area-defence engagement
            if area_off[j] < area_off[j + 1] and u_area[r, j, 0, 0] >= area_quiet[j]:
                area_tau[j], area_z[j] = next_event(area_off[j], area_off[j + 1], 0.0, -np.log(u_area[r, j, 0, 0]),
                                                    u_area[r, j, 0, 1], area.t0_s, area.t1_s, area.rate_per_s,
                                                    area.zone_offset, area.zone, area.zone_rate_per_s)
            # a campaign's generator may leave some of tonight's threats out
            status[j] = ALIVE if present[r, j] else ABSENT
            # gate: the time from which the threat may be engaged, inf while it cannot be (gone,
            # an intercept pending, no engagements left). One number answers what five arrays
            # did, so the loop reads one cache line per threat where it read five
            gate[j] = -inf if status[j] == ALIVE and maxeng_c[th_class[j]] > 0 else inf
            resolve[j] = inf  # pending engagement's intercept time
            res_kill[j] = False
            res_bat[j] = 0
            met[j] = 0
            n_eng[j] = 0
            shots_used[j] = 0
        if det.on:  # this replication's tracks: each window opens no sooner, a decoy's closes when identified
            fire_unit_tracks(det, paths, flight, np.int64(uniforms.detect[r, 0] * 9007199254740992.0), present[r],
                             pair_off, pair_b, own_cover_s, windows.open_s, lost_max, trk, t_id,
                             t_any, t_net)
            for j in range(n_thr):
                track_any[j] = t_any[j]
                lo = pair_off[j]
                compiled = True
                for p in range(lo, pair_off[j + 1]):
                    if trk[p] > windows.open_s[p] or t_id[j] < windows.close_s[p] \
                            or windows.open_s[p] > windows.close_s[p]:
                        compiled = False
                        break
                if compiled:
                    if w_moved[j]:  # back to the compiled windows
                        for q in range(lo, pair_off[j + 1]):
                            pair_open[q] = windows.open_s[q]
                            pair_close[q] = windows.close_s[q]
                            open_order[q] = open_order_c[q]
                            ord_open[q] = ord_open_c[q]
                            ord_bk[q] = ord_bk_c[q]
                        w_end[j] = pair_off[j + 1]
                        w_moved[j] = False
                    continue
                w_moved[j] = True
                n_ok = lo
                for p in range(lo, pair_off[j + 1]):
                    w_o = max(windows.open_s[p], trk[p])
                    w_c = min(windows.close_s[p], t_id[j])
                    pair_open[p] = w_o if w_o <= w_c else inf
                    pair_close[p] = w_c
                    if w_o <= w_c:
                        n_ok += 1
                w_end[j] = n_ok
                if n_ok == lo:  # none opens (a decoy identified first): their order is never read
                    continue
                # insertion sort by (opening, window), windows that never open last: taken in their
                # compiled order, which a track delays little, most take one comparison (in window
                # order, a threat's dozen windows took dozens)
                for q in range(lo, pair_off[j + 1]):
                    p = open_order_c[q]
                    m = q
                    while m > lo and (pair_open[open_order[m - 1]], open_order[m - 1]) > (pair_open[p], p):
                        open_order[m] = open_order[m - 1]
                        m -= 1
                    open_order[m] = p
                for q in range(lo, pair_off[j + 1]):
                    ord_open[q] = pair_open[open_order[q]]
                    ord_bk[q] = pair_b[open_order[q]] * n_itc + pair_k[open_order[q]]
        for b in range(n_bat):
            busy[b] = 0
            for k in range(n_itc):
                # per replication: a campaign carries each one's stock over
                ready[b, k] = min(stock_init[r, b, k], full[b, k])
                reserve[b, k] = stock_init[r, b, k] - ready[b, k]
                # (battery, interceptor) pairs that can never fire again this replication: loaded
                # plus reserve rounds only go down, so a spent pair stays spent and its windows
                # are dropped (most probes of a big raid were windows of batteries that had run dry)
                spent[b * n_itc + k] = ready[b, k] + reserve[b, k] < itc_rps[k]
                dry[b * n_itc + k] = -inf if spent[b * n_itc + k] else inf
                reload_done[b, k] = inf
        n_reloading = 0
        next_reload = inf
        reload_at = inf  # the next reload's time when k_reload, its epoch, was worked out
        a_ptr = 0  # the next attacker to reach its battery, in att_order
        k_attack = NEVER  # its epoch
        if n_att > 0:
            lost[:] = False
            lost_s[r, :] = inf
            radar_lost[:] = False
            radar_lost_s[r, :] = inf
            for i in range(n_att):  # by impact, then threat (insertion sort from the last replication's order)
                j = att_order[i]
                m = i
                while m > 0 and (impact[att_order[m - 1]], att_order[m - 1]) > (impact[j], j):
                    att_order[m] = att_order[m - 1]
                    m -= 1
                att_order[m] = j
            k_attack = _epoch_of(impact[att_order[0]], dt, per_dt)
        if n_sl > 0:  # the sensors lost before the night (a campaign's), none yet tonight
            sl_lost_t[:] = sensor_lost0[r]
            trk_wake[:] = NEVER
        k_reload = NEVER
        for a in range(survive.shape[1]):
            survive[r, a] = 1.0
        for a in range(n_layers):
            tokens[a] = layers.burst[a]  # every unit ready at the start
            tokens_t[a] = -inf
            munitions[a] = layers.stock[a]
        # each threat's first window opening goes on the calendar: a threat follows its openings
        # one at a time while it can be engaged (the wake after an intercept or an assessment
        # looks at all its windows and picks the chain up again)
        n_pending = 0
        k_epoch = head.shape[0]
        for hd in range(n_thr, lnk.shape[0]):
            lnk[hd, 0] = hd
            lnk[hd, 1] = hd
        for j in range(n_thr):
            op_ptr[j] = pair_off[j]
            chained[j] = False
            if status[j] == ALIVE and pair_off[j] < w_end[j]:
                free = _file_opening(j, op_ptr[j], 0, launch[j], dt, per_dt, free, head, nxt, ev_code, open_at, lnk,
                                     chained, ord_open, ord_bk, n_thr)
                n_pending += 1
                k_epoch = min(k_epoch, open_at[j])
            if status[j] == ALIVE and launch[j] + area_tau[j] < expire[j]:
                kk = _epoch_of(launch[j] + area_tau[j], dt, per_dt)
                free = _schedule(head, nxt, ev_code, free, kk, j << J_SHIFT | AREA)
                n_pending += 1
                k_epoch = min(k_epoch, kk)
        k_epoch = min(k_epoch, k_attack)  # (NEVER without attacks)

        n_fired = 0
        n_waiting[:] = 0
        is_waiting[:] = False
        while n_pending > 0 or next_reload < inf or a_ptr < n_att:
            t = k_epoch * dt
            stamp += 1
            n_dirty = 0
            n_dbat = 0
            n_probe = 0
            n_follow = 0
            for i in range(n_fired):  # batteries that fired last epoch, under a cost weight or a WTA policy
                b = fired_bats[i]
                fired_bat[b] = False
                bat_dirty[b] = True
                dirty_bats[n_dbat] = b
                n_dbat += 1
            n_fired = 0
            # 1. what happened since the last epoch
            n_abuf = 0
            e = head[k_epoch] if k_epoch < head.shape[0] else -1
            if e >= 0:
                head[k_epoch] = -1
            while e >= 0:
                code = ev_code[e]
                e_next = nxt[e]
                nxt[e] = free  # the slot is free again
                free = e
                e = e_next
                n_pending -= 1
                j = code >> J_SHIFT
                kind = code & 3
                wake = False
                if kind == OPEN:
                    chained[j] = False
                    _leave(j, lnk)
                    rel = t - launch[j]
                    if policy == GREEDY_CODE:
                        # an opening that can change nothing is dropped: its threat cannot be
                        # engaged now (the wake that ends that state looks at all its windows), or
                        # every window it opens is on a battery that has no rounds (the threat then
                        # waits for its next window on one that has; only openings filed on a
                        # battery empty from the start get here: one that runs dry later moves
                        # its threats on at once, see the fire step)
                        if gate[j] > t + EPS_S or expire[j] <= t:
                            continue
                        q = op_ptr[j]
                        if spent[code >> 2 & BK_MASK] or ord_open[q] > rel + EPS_S:
                            while q < w_end[j] and spent[ord_bk[q]]:
                                q += 1
                            if q == w_end[j] or ord_open[q] > rel + EPS_S:
                                op_ptr[j] = q
                                if q < w_end[j]:
                                    free = _file_opening(j, q, k_epoch + 1, launch[j], dt, per_dt, free, head, nxt,
                                                         ev_code, open_at, lnk, chained, ord_open, ord_bk, n_thr)
                                    n_pending += 1
                                continue
                    while op_ptr[j] < w_end[j] and ord_open[op_ptr[j]] <= rel + EPS_S:
                        p = open_order[op_ptr[j]]
                        op_ptr[j] += 1
                        if policy == GREEDY_CODE and seen[p] != stamp:  # greedy: only new windows can change it
                            seen[p] = stamp
                            probe[n_probe] = p
                            n_probe += 1
                    wake = policy != GREEDY_CODE  # a WTA solver sees the threat's other windows again too
                    if not is_follow[j]:
                        is_follow[j] = True
                        follow[n_follow] = j
                        n_follow += 1
                elif kind == RESOLVE:  # the interceptor arrives: the channel is free again
                    tr = resolve[j]
                    resolve[j] = inf
                    b = res_bat[j]
                    busy[b] -= 1
                    if n_waiting[b] > 0 and not bat_dirty[b]:  # windows wait for this channel
                        bat_dirty[b] = True
                        dirty_bats[n_dbat] = b
                        n_dbat += 1
                    if status[j] == AREA_KILLED:  # an area defence got it first: the rounds are wasted
                        pass
                    elif expire[j] < tr:  # the threat failed in flight (or was lost) before it got there
                        status[j] = end_cause[j]
                        if logging:
                            _log(log, _end_event(end_cause[j]), expire[j], j, -1, -1, 0, expire[j] - launch[j])
                    elif res_kill[j]:
                        status[j] = KILLED
                        kills_bat[r, b] += 1
                        cost_killed[r] += th_cost[j]
                        if logging:
                            _log(log, EV_KILL, tr, j, b, -1, 0, tr - launch[j])
                    else:
                        next_ok = tr + assess  # kill assessment before it can be engaged again
                        if n_eng[j] < maxeng_c[th_class[j]]:
                            gate[j] = next_ok
                        if logging:
                            _log(log, EV_MISS, tr, j, b, -1, 0, tr - launch[j])
                        if next_ok <= t + EPS_S:
                            wake = True
                        elif next_ok < impact[j]:  # later, nothing can engage it any more
                            kk = max(_epoch_of(next_ok, dt, per_dt), k_epoch + 1)
                            free = _schedule(head, nxt, ev_code, free, kk, j << J_SHIFT | ASSESSED)
                            n_pending += 1
                elif kind == AREA:  # taken after the epoch's other events, in time order
                    abuf_t[n_abuf] = launch[j] + area_tau[j]
                    abuf_j[n_abuf] = j
                    n_abuf += 1
                else:
                    wake = True
                    if n_sl > 0 and trk_wake[j] == k_epoch:
                        trk_wake[j] = NEVER
                if wake and gate[j] < inf and not is_dirty[j]:
                    is_dirty[j] = True
                    dirty[n_dirty] = j
                    n_dirty += 1
            # 1b. area-defence engagements that came due, in time order (docs/model.md, Area
            # defences), after the epoch's intercepts: an area defence engages a threat still flying
            # at this epoch (not shot down, failed, lost or at its target) if it is in place, a unit is
            # free (its units start attempts_per_min each; unused turns do not pile up past one per
            # unit) and it has the munitions; a miss or a turn without means leaves the threat to
            # its next engagement further on
            if n_abuf > 0:
                _area_order(n_abuf, abuf_t, abuf_j, abuf_o)
                for i in range(n_abuf):
                    j = abuf_j[abuf_o[i]]
                    ta = abuf_t[abuf_o[i]]
                    a = area_z[j]
                    n_try = area_n[j]
                    if status[j] != ALIVE or expire[j] <= t or impact[j] <= t:  # ended by this epoch
                        continue
                    engaged = False
                    # a cued one acts only once its network tracks the threat (docs/model.md, Area
                    # defences cued by a network): before that it is as if not in place
                    cued_from = -inf
                    if cue_net[a] >= 0:
                        cued_from = launch[j] + (t_net[j, cue_net[a]] if det.on else layers.cue_s[j, a])
                    if layers.active_from_s[a] <= ta <= layers.active_until_s[a] and ta >= cued_from:
                        tokens[a] = min(layers.burst[a], tokens[a] + layers.tokens_per_s[a] * (ta - tokens_t[a]))
                        tokens_t[a] = ta
                        if tokens[a] >= 1.0 and munitions[a] >= layers.munitions_per_attempt[a]:
                            tokens[a] -= 1.0
                            munitions[a] -= layers.munitions_per_attempt[a]
                            area_attempts[r, a] += 1
                            engaged = True
                    if engaged and u_area[r, j, n_try, 2] < layers.pk[a, th_type[j]]:
                        status[j] = AREA_KILLED
                        expire[j] = ta
                        end_cause[j] = AREA_KILLED
                        gate[j] = inf
                        area_kills[r, a] += 1
                        cost_killed[r] += th_cost[j]
                        if logging:
                            _log(log, EV_AREA_KILL, ta, j, n_bat + a, -1, 0, ta - launch[j])
                        continue
                    if engaged and logging:
                        _log(log, EV_AREA_MISS, ta, j, n_bat + a, -1, 0, ta - launch[j])
                    area_n[j] = n_try + 1
                    if n_try + 1 < n_area_draws:
                        area_tau[j], area_z[j] = next_event(
                            area_off[j], area_off[j + 1], area_tau[j], -np.log(u_area[r, j, n_try + 1, 0]),
                            u_area[r, j, n_try + 1, 1], area.t0_s, area.t1_s, area.rate_per_s, area.zone_offset,
                            area.zone, area.zone_rate_per_s)
                        if launch[j] + area_tau[j] < expire[j]:
                            kk = max(_epoch_of(launch[j] + area_tau[j], dt, per_dt), k_epoch + 1)
                            free = _schedule(head, nxt, ev_code, free, kk, j << J_SHIFT | AREA)
                            n_pending += 1
            # 1c. attackers that reached their battery by now (docs/model.md, Attacks on the
            # defence), after the intercepts and area-defence engagements that came first: one still
            # flying hits, and destroys its battery if U_attack(j) < its damage fraction; from
            # then on the battery fires no more (written out: a call with these arrays cost more)
            if k_epoch >= k_attack:
                while a_ptr < n_att and impact[att_order[a_ptr]] <= t + EPS_S:
                    j = att_order[a_ptr]
                    a_ptr += 1
                    if status[j] != ALIVE or expire[j] < impact[j]:  # shot down, failed or lost on the way
                        continue
                    a = th_target[j]
                    if th_damage[j] > 0.0:
                        hits[r, a] += 1
                    b = th_attack[j]
                    unit = -1  # the unit destroyed: battery b, or n_bat + radar
                    if b >= 0 and not lost[b] and u_attack[r, j] < th_damage[j]:
                        lost[b] = True
                        busy[b] += LOST_BUSY
                        lost_s[r, b] = impact[j]
                        survive[r, a] = 0.0
                        unit = b
                        if logging:
                            _log(log, EV_BATTERY_LOST, impact[j], j, b, -1, 0, flight[j])
                    rr = th_attack_radar[j]
                    if rr >= 0 and not radar_lost[rr] and u_attack[r, j] < th_damage[j]:
                        radar_lost[rr] = True  # it forms no more tracks
                        radar_lost_s[r, rr] = impact[j]
                        survive[r, a] = 0.0
                        unit = n_bat + rr
                        if logging:
                            _log(log, EV_RADAR_LOST, impact[j], j, n_bat + n_layers + rr, -1, 0, flight[j])
                    for q in range(n_sl):  # its radar's tracks end here (or ended before the night)
                        if sl_unit[q] == unit:
                            sl_lost_t[q] = min(sl_lost_t[q], impact[j])
                k_attack = _epoch_of(impact[att_order[a_ptr]], dt, per_dt) if a_ptr < n_att else NEVER
            # an epoch at which nothing the battle manager looks at changed (every intercept
            # that landed was a kill, a failure or a miss still under assessment, every
            # opening was dropped) is not a decision epoch: steps 2-5 would change nothing
            # (skipping them is 5% faster than running them empty)
            if n_probe > 0 or n_dirty > 0 or n_dbat > 0 or n_follow > 0 or next_reload <= t + EPS_S:
                n_decided += 1
                # 2. reloads: one at a time per (battery, type), each adds one launcher's worth
                if next_reload <= t + EPS_S:
                    # the pairs due, in (battery, interceptor) order as a scan of all would take
                    # them (the log's order, the dirty batteries' order); the rest stay listed
                    n_due = 0
                    n_keep = 0
                    for i in range(n_reloading):
                        bk = reloading[i]
                        if reload_done[bk // n_itc, bk % n_itc] <= t + EPS_S:
                            m = n_due  # insertion sort: a handful due at once
                            while m > 0 and due[m - 1] > bk:
                                due[m] = due[m - 1]
                                m -= 1
                            due[m] = bk
                            n_due += 1
                        else:
                            reloading[n_keep] = bk
                            n_keep += 1
                    n_reloading = n_keep
                    for i in range(n_due):
                        b = due[i] // n_itc
                        k = due[i] % n_itc
                        while reload_done[b, k] <= t + EPS_S:
                            add = min(cap[b, k], reserve[b, k], full[b, k] - ready[b, k])
                            ready[b, k] += add
                            reserve[b, k] -= add
                            if logging:
                                _log(log, EV_RELOAD, t, -1, b, k, add, 0.0)
                            if not bat_dirty[b]:
                                bat_dirty[b] = True
                                dirty_bats[n_dbat] = b
                                n_dbat += 1
                            if ready[b, k] < full[b, k] and reserve[b, k] > 0:
                                reload_done[b, k] += bat_reload[b]
                            else:
                                reload_done[b, k] = inf
                        if reload_done[b, k] < inf:
                            reloading[n_reloading] = due[i]
                            n_reloading += 1
                    next_reload = inf
                    for i in range(n_reloading):
                        bk = reloading[i]
                        next_reload = min(next_reload, reload_done[bk // n_itc, bk % n_itc])
                # 3. candidates: every window of a changed threat, every open window of a changed battery
                for i in range(n_dirty):
                    j = dirty[i]
                    is_dirty[j] = False
                    for p in range(pair_off[j], pair_off[j + 1]):
                        if seen[p] != stamp:
                            seen[p] = stamp
                            probe[n_probe] = p
                            n_probe += 1
                    if not is_follow[j]:
                        is_follow[j] = True
                        follow[n_follow] = j
                        n_follow += 1
                for i in range(n_dbat):
                    b = dirty_bats[i]
                    bat_dirty[b] = False
                    if busy[b] >= bat_channels[b]:
                        continue
                    for q in range(bat_off[b], bat_off[b] + n_waiting[b]):
                        p = waiting[q]
                        is_waiting[p] = False
                        if seen[p] != stamp:
                            seen[p] = stamp
                            probe[n_probe] = p
                            n_probe += 1
                    n_waiting[b] = 0
                # a window is a candidate if its threat and battery can fire now (written out here, not
                # in a helper: this is the hottest loop and a call would cost more than the checks)
                n_c = 0
                for i in range(n_probe):
                    p = probe[i]
                    j = pair_j[p]
                    if t < gate[j] - EPS_S or expire[j] <= t:
                        continue
                    cls = th_class[j]
                    rel = t - launch[j]
                    if rel < pair_open[p] - EPS_S or rel > pair_close[p] + EPS_S:
                        continue
                    b = pair_b[p]
                    k = pair_k[p]
                    if n_sl > 0 and sl_risk[p] and not lost[b]:  # attacks on sensors: does it still hold a track?
                        # (written out: a helper's array arguments cost their reference counts per probe; a
                        # destroyed battery's windows wait as before: it never fires, no wake could change that)
                        nn = sl_bat_net[b]
                        tn = sl_fixed[j, nn]
                        for q in range(n_sl):  # its network's first track from a sensor not lost by then
                            if sl_net[q] == nn and sl_track[j, q] < tn and launch[j] + sl_track[j, q] <= sl_lost_t[q]:
                                tn = sl_track[j, q]
                        f = max(min(tn + sl_latency[b], sl_own[p]), sl_floor[p])  # compile's fire-time rule
                        if rel < f - EPS_S:  # not yet, perhaps never: look at the threat again when it may
                            if f <= pair_close[p] + EPS_S:
                                kk = max(_epoch_of(launch[j] + f, dt, per_dt), k_epoch + 1)
                                if kk < trk_wake[j]:
                                    trk_wake[j] = kk
                                    free = _schedule(head, nxt, ev_code, free, kk, j << J_SHIFT | ASSESSED)
                                    n_pending += 1
                            continue
                    if spent[b * n_itc + k]:
                        continue
                    if busy[b] >= bat_channels[b] or ready[b, k] < itc_rps[k]:
                        n_waiting[b] = _wait(p, b, waiting, n_waiting[b], is_waiting, bat_off)
                        continue
                    n = min(salvo_c[cls], ready[b, k] // itc_rps[k])
                    shot_cost = itc_cost[k] * itc_rps[k] * n
                    gain = th_value[j] * p_kill[pair_level[p], n] - cost_w * shot_cost
                    if cost_w > 0.0 and gain <= 0.0:  # a shot that costs more than it is expected to save is held
                        met[j] |= MET_HELD
                        n_waiting[b] = _wait(p, b, waiting, n_waiting[b], is_waiting, bat_off)
                        continue
                    c_p[n_c] = p
                    c_key[0, n_c] = -gain
                    c_key[1, n_c] = impact[j]
                    c_key[2, n_c] = shot_cost
                    n_c += 1
                # 4. greedy maximum marginal return: best gain first; ties: sooner impact, cheaper, order
                if n_c > 0:
                    # usually a handful: an insertion sort in place, written out here (a helper that
                    # takes arrays pays an atomic reference count per array per call, numba's rule,
                    # and that cost more than the sort); four stable argsorts for the rare crowd
                    if n_c > INSERTION_SORT_MAX:
                        order[:n_c] = _sorted_by_keys(n_c, c_p, c_key)
                    else:
                        for i in range(n_c):
                            m = i
                            while m > 0:
                                a = order[m - 1]
                                if (c_key[0, a], c_key[1, a], c_key[2, a], c_p[a]) <= (c_key[0, i], c_key[1, i], c_key[2, i], c_p[i]):
                                    break
                                order[m] = a
                                m -= 1
                            order[m] = i
                    n_try = n_c
                    if policy != GREEDY_CODE and n_c > 1:  # a WTA solver picks the set to fire instead
                        chosen = _solve_outside(policy, epoch_limit_s, order[:n_c], c_p, c_key, pair_j, pair_b, pair_k,
                                                busy, bat_channels, ready, itc_rps, salvo_c, th_class)
                        n_try = chosen.shape[0]
                        order[:n_try] = order[:n_c][chosen]
                    for i in range(n_try):
                        c = order[i]
                        p = c_p[c]
                        j = pair_j[p]
                        b = pair_b[p]
                        k = pair_k[p]
                        if resolve[j] != inf or busy[b] >= bat_channels[b] or ready[b, k] < itc_rps[k]:
                            continue
                        tau_i = intercept_time(t - launch[j], bat_x[b], bat_y[b], itc_speed[k], itc_minr[k],
                                               itc_maxr[k], itc_minalt[k], itc_maxalt[k], flight[j], step[j], vmax[j],
                                               is_ball[j], vert_off[j], vert_off[j + 1], th_alt[j], th_apogee[j],
                                               th_release[j], legs)
                        if tau_i < 0.0:  # an envelope edge: look at this threat again next epoch
                            gate[j] = t + dt
                            free = _schedule(head, nxt, ev_code, free, k_epoch + 1, j << J_SHIFT | ASSESSED)
                            n_pending += 1
                            continue
                        n = min(salvo_c[th_class[j]], ready[b, k] // itc_rps[k])
                        pk = pk_levels[pair_level[p]]
                        kill = False
                        for s in range(n):
                            if kill_u[j, shots_used[j] + s] < pk:
                                kill = True
                        shots_used[j] += n
                        n_eng[j] += 1
                        used = n * itc_rps[k]
                        ready[b, k] -= used
                        bk = b * n_itc + k
                        if ready[b, k] + reserve[b, k] < itc_rps[k] and not spent[bk]:
                            spent[bk] = True
                            dry[bk] = t
                            if policy == GREEDY_CODE:
                                # the threats whose next opening is on it move on now to their next
                                # window on a battery that has rounds: what the opening would have
                                # done when it came due (a WTA solver is shown every opening)
                                hd = n_thr + bk
                                j2 = lnk[hd, 0]
                                lnk[hd, 0] = hd
                                lnk[hd, 1] = hd
                                while j2 != hd:
                                    j_next = lnk[j2, 0]
                                    # its opening comes off the calendar (written out: as a helper, with
                                    # its loop, it kept reference counts and the kernel was 28% slower)
                                    kq = open_at[j2]
                                    code = _opening(j2, bk)
                                    prev = -1
                                    e = head[kq]
                                    while ev_code[e] != code:
                                        prev = e
                                        e = nxt[e]
                                    if prev < 0:
                                        head[kq] = nxt[e]
                                    else:
                                        nxt[prev] = nxt[e]
                                    nxt[e] = free
                                    free = e
                                    n_pending -= 1
                                    q = op_ptr[j2]
                                    while q < w_end[j2] and spent[ord_bk[q]]:
                                        q += 1
                                    op_ptr[j2] = q
                                    chained[j2] = False
                                    if q < w_end[j2]:
                                        free = _file_opening(j2, q, k_epoch + 1, launch[j2], dt, per_dt, free, head,
                                                             nxt, ev_code, open_at, lnk, chained, ord_open, ord_bk,
                                                             n_thr)
                                        n_pending += 1
                                    j2 = j_next
                        rounds[r, b, k] += used
                        busy[b] += 1
                        if KERNEL_CHECKS:
                            assert busy[b] <= bat_channels[b] and ready[b, k] >= 0, "fired past a battery's means"
                            assert shots_used[j] <= kill_u.shape[1], "more shots than kill draws"
                        if reload_done[b, k] == inf and reserve[b, k] > 0:
                            reload_done[b, k] = t + bat_reload[b]
                            next_reload = min(next_reload, reload_done[b, k])
                            reloading[n_reloading] = bk
                            n_reloading += 1
                        resolve[j] = launch[j] + tau_i
                        gate[j] = inf
                        res_kill[j] = kill
                        res_bat[j] = b
                        kk = max(_epoch_of(resolve[j], dt, per_dt), k_epoch + 1)
                        free = _schedule(head, nxt, ev_code, free, kk, j << J_SHIFT | RESOLVE)
                        n_pending += 1
                        if (cost_w > 0.0 or policy != GREEDY_CODE) and not fired_bat[b]:
                            # fewer loaded rounds may turn a held salvo into a shot worth its cost, and
                            # a WTA policy may fire next epoch what it left out for this shot (a battery
                            # whose means this epoch changed is shown to it again)
                            fired_bat[b] = True
                            fired_bats[n_fired] = b
                            n_fired += 1
                        if logging:
                            _log(log, EV_FIRE, t, j, b, k, n, t - launch[j])
                for c in range(n_c):  # not fired (resources taken, or not the policy's choice): wait
                    p = c_p[c]
                    j = pair_j[p]
                    if resolve[j] != inf:
                        continue
                    b = pair_b[p]
                    k = pair_k[p]
                    if policy != GREEDY_CODE and busy[b] < bat_channels[b] and ready[b, k] >= itc_rps[k] \
                            and woken[j] != stamp:
                        # a WTA policy left it out though its battery could still fire (perhaps a
                        # smaller salvo, now that the chosen shots took rounds): look at the threat
                        # again next epoch, as re-examining every candidate at every epoch would
                        woken[j] = stamp
                        free = _schedule(head, nxt, ev_code, free, k_epoch + 1, j << J_SHIFT | ASSESSED)
                        n_pending += 1
                    else:
                        n_waiting[b] = _wait(p, b, waiting, n_waiting[b], is_waiting, bat_off)
                # 5. threats that may follow their openings again: those whose window opened or that
                # came back in play, if no intercept is now pending (the chain waits for the next
                # window that is still to open on a battery that has rounds to fire)
                for i in range(n_follow):
                    j = follow[i]
                    is_follow[j] = False
                    if chained[j] or gate[j] > t + EPS_S or expire[j] <= t:
                        continue
                    rel = t - launch[j]
                    while op_ptr[j] < w_end[j] and (ord_open[op_ptr[j]] <= rel + EPS_S or spent[ord_bk[op_ptr[j]]]):
                        op_ptr[j] += 1
                    if op_ptr[j] < w_end[j]:
                        free = _file_opening(j, op_ptr[j], k_epoch + 1, launch[j], dt, per_dt, free, head, nxt,
                                             ev_code, open_at, lnk, chained, ord_open, ord_bk, n_thr)
                        n_pending += 1
                n_follow = 0
            # 6. the next epoch with something on the calendar (or a reload)
            k_next = k_epoch + 1
            if n_fired == 0:
                if next_reload != reload_at:  # worked out again only when the next reload moved
                    reload_at = next_reload
                    k_reload = _epoch_of(next_reload, dt, per_dt) if next_reload < inf else NEVER
                while k_next < k_reload and k_next < k_attack and n_pending > 0 and head[k_next] < 0:
                    k_next += 1
                if n_pending == 0:
                    k_next = max(k_next, min(k_reload, k_attack))
            k_epoch = k_next
        # every intercept has resolved; what is still flying fails or hits its target
        for j in range(n_thr):
            leak_cause[r, j] = -1
            leak_bat[r, j] = -1
            if status[j] == ALIVE:
                if expire[j] < impact[j]:
                    status[j] = end_cause[j]
                    if logging:
                        _log(log, _end_event(end_cause[j]), expire[j], j, -1, -1, 0, expire[j] - launch[j])
                else:
                    status[j] = LEAKED
                    a = th_target[j]
                    if th_damage[j] > 0.0 and th_attack[j] < 0 and th_attack_radar[j] < 0:  # an attacker's: step 1c
                        hits[r, a] += 1
                        survive[r, a] *= 1.0 - th_damage[j]
                    leak_threat[j] += 1.0
                    cause, lb = _leak_cause(j, launch[j], met[j], n_eng[j], res_bat[j], maxeng_c[th_class[j]],
                                            track_any[j], pair_off, w_end, open_order, pair_b, pair_k, pair_open,
                                            pair_close, dry, n_itc, dt, per_dt)
                    if cause == LEAK_OUT_OF_REACH and n_det > 0 and t_id[j] < th_last_close[j]:
                        cause = LEAK_IDENTIFIED  # a decoy recognised, its windows closed there
                        lb = -1
                    leak_cause[r, j] = cause
                    leak_bat[r, j] = lb
                    if logging:
                        _log(log, EV_LEAK, impact[j], j, -1, -1, 0, flight[j])
            if status[j] == KILLED:
                killed[r, th_type[j]] += 1
            elif status[j] == LEAKED:
                leaked[r, th_type[j]] += 1
            elif status[j] == EXPIRED:
                expired[r, th_type[j]] += 1
            elif status[j] == SUPPRESSED:
                suppressed[r, th_type[j]] += 1
            elif status[j] == DIVERTED:
                diverted[r, th_type[j]] += 1
            elif status[j] == AREA_KILLED:
                area_killed[r, th_type[j]] += 1
        for b in range(n_bat):
            for k in range(n_itc):
                remaining[r, b, k] = ready[b, k] + reserve[b, k]
                dry_s[r, b, k] = dry[b * n_itc + k]
        if logging:
            for j in range(n_thr):
                if status[j] == ABSENT:
                    continue
                _log(log, EV_LAUNCH, launch[j], j, -1, -1, 0, 0.0)
                if track_any[j] < inf:
                    _log(log, EV_DETECT, launch[j] + track_any[j], j, -1, -1, 0, track_any[j])
            log.rep_end[r] = log.count[0]
        if KERNEL_CHECKS:  # the debug build's conservation identities (jit.py); folded away otherwise
            n_present = 0
            for j in range(n_thr):
                assert status[j] != ALIVE, "a threat ended the replication without an end state"
                assert n_eng[j] <= maxeng_c[th_class[j]], "more engagements than the doctrine allows"
                n_present += present[r, j]
            ended = 0
            for ty in range(killed.shape[1]):
                ended += (killed[r, ty] + leaked[r, ty] + expired[r, ty] + suppressed[r, ty] + diverted[r, ty]
                          + area_killed[r, ty])
            assert ended == n_present, "every threat present ends exactly once"
            assert n_pending == 0, "events left on the calendar"
            assert n_reloading == 0, "a reload left on the list of pairs reloading"
            n_free = 0
            e = free
            while e >= 0:
                n_free += 1
                e = nxt[e]
            assert n_free == n_slots, "a calendar slot was lost"
            for b in range(n_bat):
                assert busy[b] == (LOST_BUSY if n_att > 0 and lost[b] else 0), "a fire channel is still held"
                for k in range(n_itc):
                    assert 0 <= ready[b, k] <= full[b, k] and reserve[b, k] >= 0, "loaded rounds out of bounds"
                    assert rounds[r, b, k] + remaining[r, b, k] == stock_init[r, b, k], "rounds not conserved"
    return n_decided  # decision epochs: a cost diagnostic
