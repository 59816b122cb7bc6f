"""The intercept time of one engagement (docs/model.md, Engagement feasibility).

Every shot the battle manager fires needs one, so it is on the hot path. A drone or cruise
missile flies straight legs at constant speed and altitude: on a leg, the squared slant range is
a quadratic in time, and each condition of the rule (the interceptor can be there in time, inside
the range envelope) is a quadratic inequality. The earliest time that meets all of them is
either the start of the leg or a root of one of those quadratics, so it is found exactly, leg by
leg, in closed form. A ballistic arc is not a quadratic; it is stepped along and bisected.
"""

from __future__ import annotations

import numpy as np
from shieldwall.jit import cached_njit

from shieldwall.engine.paths import arc_position


@cached_njit(inline="always")
def _on_arc(tau, tau_f, bx, by, speed, minr, maxr, minalt, maxalt, x0, y0, x1, y1, flight_s, apogee_m, release_m):  # type: ignore[no-untyped-def]
    """The rule at one time on a ballistic arc: (feasible, gap_m), gap_m > 0 while the
    interceptor cannot be there yet. Scalars only (see arc_position)."""
    x, y, z = arc_position(tau, x0, y0, x1, y1, flight_s, apogee_m, release_m)
    d = np.sqrt((x - bx) ** 2 + (y - by) ** 2 + z * z)
    gap_m = d - (tau - tau_f) * speed
    return gap_m <= 0.0 and minr <= d <= maxr and minalt <= z <= maxalt, gap_m


@cached_njit(inline="always")
def _roots(qa, qb, qc):  # type: ignore[no-untyped-def]
    """The real roots of qa u^2 + qb u + qc (inf where there is none). Scalars in and out:
    helpers with array arguments pay reference counting on every call."""
    inf = np.inf
    if qa == 0.0:
        return (-qc / qb, inf) if qb != 0.0 else (inf, inf)
    disc = qb * qb - 4.0 * qa * qc
    if disc < 0.0:
        return inf, inf
    sq = np.sqrt(disc)
    q = -0.5 * (qb + sq) if qb >= 0.0 else -0.5 * (qb - sq)  # no cancellation
    return q / qa, (qc / q if q != 0.0 else q / qa)


@cached_njit(inline="always")
def _after(u, r0, r1, r2, r3, r4, r5, end):  # type: ignore[no-untyped-def]
    """The first of the roots after u, else end."""
    best = end
    for r in (r0, r1, r2, r3, r4, r5):
        if u < r < best:
            best = r
    return best


@cached_njit(inline="always")
def _holds(u, a, b, c, w, s2, r2min, r2max):  # type: ignore[no-untyped-def]
    """The rule on a leg at u: reachable (s (u + w) >= range) and inside the range envelope."""
    q = (a * u + 2.0 * b) * u + c
    return s2 * (u + w) * (u + w) >= q and r2min <= q <= r2max


@cached_njit(inline="always")
def _past_root(u, until, lo, a, b, c, w, s2, r2min, r2max):  # type: ignore[no-untyped-def]
    """A root is exact up to rounding: the first u' >= u, a few ulps on, where the rule holds
    (or ``until``, where it is known to)."""
    step_s = 1e-12 * max(1.0, lo)
    x = u
    while x < until and not _holds(x, a, b, c, w, s2, r2min, r2max):
        x = u + step_s
        step_s *= 10.0
    return min(x, until)


@cached_njit(inline="always")
def _earliest_on_leg(lo, hi, tau_f, px, py, h, vx, vy, speed, minr, maxr, flight_j):  # type: ignore[no-untyped-def]
    """Earliest feasible time in [lo, hi] on a straight leg; -1 if none. (px, py): the threat
    at ``lo`` relative to the battery, (vx, vy): its velocity, h: its altitude.

    Time is counted from ``lo`` (u = tau - lo), not from launch: with times of hours and
    speeds of km/s, squares taken from launch would lose the answer to rounding."""
    a = vx * vx + vy * vy  # squared slant range Q(u) = a u^2 + 2 b u + c
    b = px * vx + py * vy
    c = px * px + py * py + h * h
    w = lo - tau_f  # >= 0: the interceptor has flown w seconds at u = 0
    s2 = speed * speed
    r2min = minr * minr
    r2max = maxr * maxr
    if _holds(0.0, a, b, c, w, s2, r2min, r2max):
        return lo
    uhi = hi - lo
    r0, r1 = _roots(s2 - a, 2.0 * (s2 * w - b), s2 * w * w - c)  # reach: s^2 (u + w)^2 = Q
    # Q is convex: on [0, uhi] its maximum is at an end and its minimum at an end or the vertex.
    # An envelope bound that holds on the whole leg has no root to look for (most shots)
    q_hi = (a * uhi + 2.0 * b) * uhi + c
    q_min = min(c, q_hi)
    if a > 0.0 and 0.0 < -b < a * uhi:
        q_min = min(q_min, c - b * b / a)
    r2, r3 = _roots(a, 2.0 * b, c - r2min) if q_min < r2min else (np.inf, np.inf)
    r4, r5 = _roots(a, 2.0 * b, c - r2max) if max(c, q_hi) > r2max else (np.inf, np.inf)
    start = 0.0
    while start < uhi:
        end = _after(start, r0, r1, r2, r3, r4, r5, uhi)
        # between two consecutive roots every condition keeps its truth value: test the middle
        mid = 0.5 * (start + end)
        if _holds(mid, a, b, c, w, s2, r2min, r2max):
            u = _past_root(start, mid, lo, a, b, c, w, s2, r2min, r2max)
            return lo + u if lo + u < flight_j else -1.0
        start = end
    return -1.0


@cached_njit()
def leg_table(vert_x, vert_y, vert_t):  # type: ignore[no-untyped-def]
    """The path vertices as one table, row v = (x, y, t, vx, vy): the position and time of
    vertex v and the velocity on the leg that starts there (0 where none does). One array for
    the hot loop to pass instead of three: numba counts a reference on every array a helper
    takes, an atomic operation each, and that cost as much as the solve itself."""
    n = vert_x.shape[0]
    legs = np.zeros((n, 5))
    for v in range(n):
        legs[v, 0] = vert_x[v]
        legs[v, 1] = vert_y[v]
        legs[v, 2] = vert_t[v]
        if v + 1 < n and vert_t[v + 1] > vert_t[v]:
            legs[v, 3] = (vert_x[v + 1] - vert_x[v]) / (vert_t[v + 1] - vert_t[v])
            legs[v, 4] = (vert_y[v + 1] - vert_y[v]) / (vert_t[v + 1] - vert_t[v])
    return legs


@cached_njit(inline="always")
def intercept_time(tau_f, bx, by, speed, minr, maxr, minalt, maxalt, flight_j, step_j, vmax_j,
                   ballistic, v_first, v_end, alt_m, apogee_m, release_m, legs):  # type: ignore[no-untyped-def]
    """Earliest tau_i >= tau_f (after launch) at which an interceptor (speed, envelope) fired from
    (bx, by) at tau_f meets a threat inside its envelope; -1 if there is none before impact. The
    threat's path is rows [v_first, v_end) of ``legs`` (see leg_table); scalars otherwise."""
    if not ballistic:
        if not minalt <= alt_m <= maxalt:
            return -1.0
        for v in range(v_first, v_end - 1):
            t0 = legs[v, 2]
            t1 = legs[v + 1, 2]
            if t1 <= tau_f or t1 <= t0:
                continue
            lo = max(tau_f, t0)
            hi = min(t1, flight_j)
            if lo >= flight_j:
                break
            vx = legs[v, 3]
            vy = legs[v, 4]
            tau = _earliest_on_leg(lo, hi, tau_f, legs[v, 0] + vx * (lo - t0) - bx, legs[v, 1] + vy * (lo - t0) - by,
                                   alt_m, vx, vy, speed, minr, maxr, flight_j)
            if tau >= 0.0:
                return tau
        return -1.0
    return _earliest_on_arc(tau_f, bx, by, speed, minr, maxr, minalt, maxalt, flight_j, step_j, vmax_j,
                            legs[v_first, 0], legs[v_first, 1], legs[v_first + 1, 0], legs[v_first + 1, 1],
                            legs[v_first + 1, 2], apogee_m, release_m)


@cached_njit()
def _earliest_on_arc(tau_f, bx, by, speed, minr, maxr, minalt, maxalt, flight_j, step_j, vmax_j,
                     x0, y0, x1, y1, arc_s, apogee_m, release_m):  # type: ignore[no-untyped-def]
    """A ballistic arc is no quadratic: step along it (never by less than the time the gap
    needs to close) and bisect where the rule turns true."""
    x, y, z = arc_position(tau_f, x0, y0, x1, y1, arc_s, apogee_m, release_m)
    d0 = np.sqrt((x - bx) ** 2 + (y - by) ** 2 + z * z)
    tau = tau_f + d0 / (speed + vmax_j)  # no intercept can come sooner than a head-on one
    prev = -1.0
    prev_gap = 0.0
    while tau < flight_j:
        ok, gap_m = _on_arc(tau, tau_f, bx, by, speed, minr, maxr, minalt, maxalt, x0, y0, x1, y1, arc_s, apogee_m, release_m)
        if ok:
            if prev < 0.0:
                return tau
            return _refine_on_arc(prev, prev_gap, tau, gap_m, tau_f, bx, by, speed, minr, maxr, minalt, maxalt,
                                  x0, y0, x1, y1, arc_s, apogee_m, release_m)
        prev = tau
        prev_gap = gap_m
        # the gap closes at most at speed + vmax: nothing before that can be feasible
        tau += max(step_j, gap_m / (speed + vmax_j))
    return -1.0


@cached_njit(inline="always")
def _refine_on_arc(lo, g_lo, hi, g_hi, tau_f, bx, by, speed, minr, maxr, minalt, maxalt, x0, y0, x1, y1, arc_s,
                   apogee_m, release_m):  # type: ignore[no-untyped-def]
    """The rule is false at lo and true at hi: narrow that to a microsecond, keeping hi a time
    where it is true. Where the reach gap (g_lo > 0 >= g_hi) is what closes, its zero is aimed
    at by the secant, then a step just past the estimate closes the bracket from the other side
    (two or three evaluations where halving took seventeen); otherwise, or if that stalls, halve."""
    tol = 1e-6
    step_past = 0  # after a secant step: which end it moved (+1 lo, -1 hi), to step past it
    for i in range(64):
        if hi - lo <= tol:
            break
        secant = False
        if step_past > 0:
            mid = lo + 0.5 * tol
        elif step_past < 0:
            mid = hi - 0.5 * tol
        else:
            mid = 0.5 * (lo + hi)
            if g_lo > 0.0 >= g_hi and i < 8:
                est = lo + g_lo * (hi - lo) / (g_lo - g_hi)
                if lo < est < hi:
                    mid = est
                    secant = True
        ok, g = _on_arc(mid, tau_f, bx, by, speed, minr, maxr, minalt, maxalt, x0, y0, x1, y1, arc_s, apogee_m, release_m)
        if ok:
            hi, g_hi = mid, g
        else:
            lo, g_lo = mid, g
        step_past = (-1 if ok else 1) if secant else 0
    return hi
