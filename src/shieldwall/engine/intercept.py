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
from numba import njit

from shieldwall.engine.paths import position_of


@njit(cache=True, inline="always")
def _feasible(j, tau, tau_f, bx, by, speed, minr, maxr, minalt, maxalt,
              is_ball, vert_off, vert_x, vert_y, vert_t, th_alt, th_apogee):  # type: ignore[no-untyped-def]
    """The rule itself, evaluated at one time: what every returned intercept time satisfies."""
    x, y, z = position_of(j, tau, is_ball, vert_off, vert_x, vert_y, vert_t, th_alt, th_apogee)
    d = np.sqrt((x - bx) ** 2 + (y - by) ** 2 + z * z)
    return (tau - tau_f) * speed >= d and minr <= d <= maxr and minalt <= z <= maxalt


@njit(cache=True, inline="always")
def _roots(qa, qb, qc, lo, hi, out, n):  # type: ignore[no-untyped-def]
    """Append the real roots of qa u^2 + qb u + qc inside [lo, hi] to ``out``."""
    if qa == 0.0:
        if qb != 0.0:
            u = -qc / qb
            if lo <= u <= hi:
                out[n] = u
                n += 1
        return n
    disc = qb * qb - 4.0 * qa * qc
    if disc < 0.0:
        return n
    sq = np.sqrt(disc)
    q = -0.5 * (qb + sq) if qb >= 0.0 else -0.5 * (qb - sq)  # no cancellation
    u1 = q / qa
    u2 = qc / q if q != 0.0 else u1
    if lo <= u1 <= hi:
        out[n] = u1
        n += 1
    if lo <= u2 <= hi:
        out[n] = u2
        n += 1
    return n


@njit(cache=True, inline="always")
def _earliest_on_leg(lo, hi, tau_f, px, py, h, vx, vy, speed, minr, maxr, flight_j, cand):  # type: ignore[no-untyped-def]
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
    if s2 * w * w >= c and r2min <= c <= r2max:
        return lo
    uhi = hi - lo
    n = _roots(s2 - a, 2.0 * (s2 * w - b), s2 * w * w - c, 0.0, uhi, cand, 0)  # reach: s^2 (u + w)^2 = Q
    n = _roots(a, 2.0 * b, c - r2min, 0.0, uhi, cand, n)
    n = _roots(a, 2.0 * b, c - r2max, 0.0, uhi, cand, n)
    for i in range(1, n):  # a handful: insertion sort
        x = cand[i]
        m = i
        while m > 0 and cand[m - 1] > x:
            cand[m] = cand[m - 1]
            m -= 1
        cand[m] = x
    cand[n] = uhi
    for i in range(n):
        # between two consecutive roots every condition keeps its truth value: test the middle
        u = 0.5 * (cand[i] + cand[i + 1])
        q = (a * u + 2.0 * b) * u + c
        if cand[i + 1] <= cand[i] or not (s2 * (u + w) * (u + w) >= q and r2min <= q <= r2max):
            continue
        # the feasible stretch starts at the root, exact up to rounding: step past it
        u = cand[i]
        step_s = 1e-12 * max(1.0, lo)
        while u < 0.5 * (cand[i] + cand[i + 1]):
            q = (a * u + 2.0 * b) * u + c
            if s2 * (u + w) * (u + w) >= q and r2min <= q <= r2max:
                break
            u = cand[i] + step_s
            step_s *= 10.0
        return lo + u if lo + u < flight_j else -1.0
    return -1.0


@njit(cache=True)
def intercept_time(j, tau_f, bx, by, speed, minr, maxr, minalt, maxalt, flight_j, step_j, vmax_j,
                   is_ball, vert_off, vert_x, vert_y, vert_t, th_alt, th_apogee):  # type: ignore[no-untyped-def]
    """Earliest tau_i >= tau_f (after launch) at which an interceptor (speed, envelope) fired from
    (bx, by) at tau_f meets threat j inside its envelope; -1 if there is none before impact."""
    if not is_ball[j]:
        if not minalt <= th_alt[j] <= maxalt:
            return -1.0
        cand = np.empty(8)
        for v in range(vert_off[j], vert_off[j + 1] - 1):
            t0 = vert_t[v]
            t1 = vert_t[v + 1]
            if t1 <= tau_f or t1 <= t0:
                continue
            lo = max(tau_f, t0)
            hi = min(t1, flight_j)
            if lo >= flight_j:
                break
            vx = (vert_x[v + 1] - vert_x[v]) / (t1 - t0)
            vy = (vert_y[v + 1] - vert_y[v]) / (t1 - t0)
            tau = _earliest_on_leg(lo, hi, tau_f, vert_x[v] + vx * (lo - t0) - bx, vert_y[v] + vy * (lo - t0) - by,
                                   th_alt[j], vx, vy, speed, minr, maxr, flight_j, cand)
            if tau >= 0.0:
                return tau
        return -1.0
    x, y, z = position_of(j, tau_f, is_ball, vert_off, vert_x, vert_y, vert_t, th_alt, th_apogee)
    d0 = np.sqrt((x - bx) ** 2 + (y - by) ** 2 + z * z)
    start = tau_f + d0 / (speed + vmax_j)  # no intercept can come sooner than a head-on one
    tau = start
    prev = -1.0
    while tau < flight_j:
        x, y, z = position_of(j, tau, is_ball, vert_off, vert_x, vert_y, vert_t, th_alt, th_apogee)
        d = np.sqrt((x - bx) ** 2 + (y - by) ** 2 + z * z)
        gap_m = d - (tau - tau_f) * speed  # > 0: the interceptor cannot be there yet
        if gap_m <= 0.0 and minr <= d <= maxr and minalt <= z <= maxalt:
            if prev < 0.0:
                return tau
            lo, hi = prev, tau
            while hi - lo > 1e-6:  # "reachable and inside the envelope" turns true in between
                mid = 0.5 * (lo + hi)
                if _feasible(j, mid, tau_f, bx, by, speed, minr, maxr, minalt, maxalt,
                             is_ball, vert_off, vert_x, vert_y, vert_t, th_alt, th_apogee):
                    hi = mid
                else:
                    lo = mid
            return hi  # always a point that is reachable and inside the envelope
        prev = tau
        # the gap closes at most at speed + vmax: nothing before that can be feasible
        tau += max(step_j, gap_m / (speed + vmax_j))
    return -1.0
