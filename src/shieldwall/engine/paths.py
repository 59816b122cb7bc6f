"""Threat trajectories and the geometry computed once per run: track times and engagement
windows. Compiled with numba because both are loops over threats x sensors x path samples.

A path is stored as vertices (east_m, north_m) with the flight time at each vertex. Drones and
cruise missiles fly the polyline at constant altitude; a ballistic path has two vertices and a
parabolic altitude profile z(f) = 4 h f (1 - f) over the fraction f of ground range flown.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shieldwall.engine.geometry import HORIZON_M_PER_SQRT_M
from shieldwall.jit import cached_njit

G_MPS2 = 9.80665


@cached_njit(inline="always")
def arc_position(tau, x0, y0, x1, y1, flight_s, apogee_m, release_m):  # type: ignore[no-untyped-def]
    """(east_m, north_m, alt_m) on a ballistic arc, from scalars only: hot loops that step
    along an arc pay no reference counting for array arguments. ``release_m`` > 0: air-launched,
    the arc starts at that altitude (docs/model.md, Ballistic missiles)."""
    f = tau / flight_s
    if f < 0.0:
        f = 0.0
    elif f > 1.0:
        f = 1.0
    if release_m > 0.0:  # from the release point up to the apogee, then down to the ground
        t_down = np.sqrt(2.0 * apogee_m / G_MPS2)
        late = f * flight_s - (flight_s - t_down)  # time after the apogee
        return x0 + f * (x1 - x0), y0 + f * (y1 - y0), apogee_m - 0.5 * G_MPS2 * late * late
    return x0 + f * (x1 - x0), y0 + f * (y1 - y0), 4.0 * apogee_m * f * (1.0 - f)


@cached_njit(inline="always")
def position_of(j, tau, is_ball, vert_off, vert_x, vert_y, vert_t, th_alt, th_apogee, th_release):  # type: ignore[no-untyped-def]
    """(east_m, north_m, alt_m) of threat j at time tau_s after its launch."""
    o = vert_off[j]
    e = vert_off[j + 1]
    if is_ball[j]:
        return arc_position(tau, vert_x[o], vert_y[o], vert_x[o + 1], vert_y[o + 1], vert_t[o + 1], th_apogee[j],
                            th_release[j])
    if tau <= vert_t[o]:
        return vert_x[o], vert_y[o], th_alt[j]
    if tau >= vert_t[e - 1]:
        return vert_x[e - 1], vert_y[e - 1], th_alt[j]
    lo = o
    hi = e - 1
    while hi - lo > 1:  # largest lo with vert_t[lo] <= tau
        mid = (lo + hi) // 2
        if vert_t[mid] <= tau:
            lo = mid
        else:
            hi = mid
    span = vert_t[lo + 1] - vert_t[lo]
    f = 0.0 if span <= 0.0 else (tau - vert_t[lo]) / span
    x = vert_x[lo] + f * (vert_x[lo + 1] - vert_x[lo])
    y = vert_y[lo] + f * (vert_y[lo + 1] - vert_y[lo])
    return x, y, th_alt[j]


@cached_njit()
def position(j, tau, paths):  # type: ignore[no-untyped-def]
    """``position_of`` with the path arrays in their record (engine/records.py Paths), for code
    off the hot path."""
    return position_of(j, tau, paths.ballistic, paths.vertex_offset, paths.vertex_x_m, paths.vertex_y_m,
                       paths.vertex_t_s, paths.altitude_m, paths.apogee_m, paths.release_m)


@cached_njit()
def positions(threat, tau_s, paths):  # type: ignore[no-untyped-def]
    """[n, 3] positions of threats ``threat[i]`` at ``tau_s[i]`` after their launches."""
    out = np.empty((threat.shape[0], 3))
    for i in range(threat.shape[0]):
        out[i, 0], out[i, 1], out[i, 2] = position(threat[i], tau_s[i], paths)
    return out


TRACK_SAMPLE_M = 20_000.0  # replay tracks: a point every ~20 km between the path's vertices


def track_points(paths: Any, j: int, sample_m: float = TRACK_SAMPLE_M) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Threat j's path for drawing: its vertices and points every ``sample_m`` between them (east
    m, north m, seconds after launch). Straight in the engine's frame, so a map draws it as the
    engine flew it."""
    o, e = int(paths.vertex_offset[j]), int(paths.vertex_offset[j + 1])
    x, y, t = paths.vertex_x_m[o:e], paths.vertex_y_m[o:e], paths.vertex_t_s[o:e]
    px, py, pt = [x[:1]], [y[:1]], [t[:1]]
    for i in range(len(x) - 1):
        n = max(1, int(np.ceil(np.hypot(x[i + 1] - x[i], y[i + 1] - y[i]) / sample_m)))
        f = np.arange(1, n + 1) / n
        px.append(x[i] + f * (x[i + 1] - x[i]))
        py.append(y[i] + f * (y[i + 1] - y[i]))
        pt.append(t[i] + f * (t[i + 1] - t[i]))
    return np.concatenate(px), np.concatenate(py), np.concatenate(pt)


@cached_njit()
def _segment_distance(px, py, ax, ay, bx, by):  # type: ignore[no-untyped-def]
    dx = bx - ax
    dy = by - ay
    den = dx * dx + dy * dy
    f = 0.0 if den <= 0.0 else ((px - ax) * dx + (py - ay) * dy) / den
    f = min(1.0, max(0.0, f))
    qx = ax + f * dx - px
    qy = ay + f * dy - py
    return np.sqrt(qx * qx + qy * qy)


@cached_njit()
def min_ground_distance(j, px, py, paths):  # type: ignore[no-untyped-def]
    """Closest ground distance from a point to threat j's ground track: a cheap pre-filter."""
    vert_off, vert_x, vert_y = paths.vertex_offset, paths.vertex_x_m, paths.vertex_y_m
    best = np.inf
    for v in range(vert_off[j], vert_off[j + 1] - 1):
        d = _segment_distance(px, py, vert_x[v], vert_y[v], vert_x[v + 1], vert_y[v + 1])
        best = min(best, d)
    if vert_off[j + 1] - vert_off[j] == 1:
        v = vert_off[j]
        best = np.sqrt((px - vert_x[v]) ** 2 + (py - vert_y[v]) ** 2)
    return best


@cached_njit()
def ground_stride(j, step_s, paths):  # type: ignore[no-untyped-def]
    """At least the ground distance between two consecutive samples of threat j's path on its
    grid of ``step_s``: its fastest leg's ground speed times the step, a millionth and a
    millimetre above it so that rounding never makes it short. From a sample d metres (on the
    ground) beyond a reach, the path cannot be back in reach for d / stride samples: the
    geometry loops below jump over those, and give exactly what looking at every sample gives
    (tests/test_geometry.py), at a fraction of the cost on long paths (a 250 m grid over
    hundreds of km against reaches of tens of km: a campaign's compiles spent seconds here)."""
    o = paths.vertex_offset[j]
    e = paths.vertex_offset[j + 1]
    vx, vy, vt = paths.vertex_x_m, paths.vertex_y_m, paths.vertex_t_s
    speed = 0.0
    for v in range(o, e - 1):  # a ballistic arc: one leg, flown at an even ground speed
        dt = vt[v + 1] - vt[v]
        if dt > 0.0:
            speed = max(speed, np.sqrt((vx[v + 1] - vx[v]) ** 2 + (vy[v + 1] - vy[v]) ** 2) / dt)
    return speed * step_s * (1.0 + 1e-6) + 1e-3


@cached_njit()
def track_times(paths, flight_s, step_s, rcs_m2, sen_x, sen_y, sen_h, sen_range_m, sen_net, n_net):  # type: ignore[no-untyped-def]
    """First time after launch at which each network holds a track on each threat (inf: never).

    A sensor detects when the slant range is inside its range scaled by rcs^(1/4) and the
    ground range inside the 4/3-earth radar horizon. Samples where no sensor of a network
    without a track yet can be in range are jumped over (``ground_stride``)."""
    n_thr = flight_s.shape[0]
    out = np.full((n_thr, n_net), np.inf)
    for j in range(n_thr):
        scale = rcs_m2[j] ** 0.25
        found = 0
        n_steps = int(np.ceil(flight_s[j] / step_s[j])) + 1
        stride = ground_stride(j, step_s[j], paths)
        i = 0
        while i < n_steps:
            tau = min(i * step_s[j], flight_s[j])
            x, y, z = position(j, tau, paths)
            jump = n_steps  # samples before a sensor can be in range
            for s in range(sen_x.shape[0]):
                net = sen_net[s]
                if out[j, net] < np.inf:
                    continue
                dx = x - sen_x[s]
                dy = y - sen_y[s]
                ground = np.sqrt(dx * dx + dy * dy)
                # beyond its range on the ground (a billionth above rounding), the slant range is too
                jump = min(jump, int(max(0.0, ground - sen_range_m[s] * scale * (1.0 + 1e-9)) / stride))
                horizon = HORIZON_M_PER_SQRT_M * (np.sqrt(sen_h[s]) + np.sqrt(max(z, 0.0)))
                if ground > horizon:
                    continue
                dz = z - sen_h[s]
                if np.sqrt(ground * ground + dz * dz) <= sen_range_m[s] * scale:
                    out[j, net] = tau
                    found += 1
            if found == n_net:
                break
            i += max(1, jump)
    return out


@cached_njit()
def engagement_windows(paths, flight_s, step_s, th_type, th_class, fire_from,  # type: ignore[no-untyped-def]
                       bat_x, bat_y, bat_has, bat_engage,
                       itc_speed, itc_minr, itc_maxr, itc_minalt, itc_maxalt, itc_pk):
    """Fire-time windows (relative to launch) per (threat, battery, interceptor type).

    On the path's time grid, an intercept at tau_i is feasible when the point is inside the
    envelope; it needs firing at tau_f = tau_i - slant_range / speed, which must come no sooner
    than ``fire_from`` [threat, battery] (the battery's network's track, or later: compile's
    ``fire_from``). Consecutive feasible samples form one window [min tau_f, max tau_f].
    A sample whose ground distance exceeds the reach is infeasible (its slant range is longer
    still) and closes a window; the samples after it that cannot be back in reach are jumped
    over (``ground_stride``)."""
    n_thr = flight_s.shape[0]
    n_bat, n_itc = bat_has.shape
    cap = 16
    out_j = np.empty(cap, np.int64)
    out_b = np.empty(cap, np.int64)
    out_k = np.empty(cap, np.int64)
    out_open = np.empty(cap)
    out_close = np.empty(cap)
    n = 0
    for j in range(n_thr):
        n_steps = int(np.ceil(flight_s[j] / step_s[j])) + 1
        stride = ground_stride(j, step_s[j], paths)
        for b in range(n_bat):
            if not bat_engage[b, th_class[j]]:
                continue
            t_track = fire_from[j, b]
            if t_track == np.inf:
                continue
            near = min_ground_distance(j, bat_x[b], bat_y[b], paths)
            for k in range(n_itc):
                if not bat_has[b, k] or itc_pk[k, th_type[j]] <= 0.0 or near > itc_maxr[k]:
                    continue
                lo = np.inf
                hi = -np.inf
                i = 0
                while i < n_steps - 1:  # the last sample is the impact itself
                    tau = min(i * step_s[j], flight_s[j])
                    x, y, z = position(j, tau, paths)
                    dx = x - bat_x[b]
                    dy = y - bat_y[b]
                    ground2 = dx * dx + dy * dy
                    ground = np.sqrt(ground2)
                    after = i + 1
                    tau_f = 0.0
                    if ground > itc_maxr[k]:  # out of reach, and so are the samples before it can be back
                        ok = False
                        after = i + max(1, int(min((ground - itc_maxr[k]) / stride, n_steps)))
                    else:
                        d = np.sqrt(ground2 + z * z)
                        tau_f = tau - d / itc_speed[k]
                        ok = (itc_minr[k] <= d <= itc_maxr[k] and itc_minalt[k] <= z <= itc_maxalt[k]
                              and tau_f >= t_track and tau_f >= 0.0)
                    if ok:
                        lo = min(lo, tau_f)
                        hi = max(hi, tau_f)
                    if (not ok or i == n_steps - 2) and lo <= hi:
                        if n == cap:
                            cap *= 2
                            out_j = _grow(out_j, cap)
                            out_b = _grow(out_b, cap)
                            out_k = _grow(out_k, cap)
                            out_open = _grow(out_open, cap)
                            out_close = _grow(out_close, cap)
                        out_j[n] = j
                        out_b[n] = b
                        out_k[n] = k
                        out_open[n] = lo
                        out_close[n] = hi
                        n += 1
                        lo = np.inf
                        hi = -np.inf
                    i = after
    return out_j[:n].copy(), out_b[:n].copy(), out_k[:n].copy(), out_open[:n].copy(), out_close[:n].copy()


@cached_njit()
def _grow(a, cap):  # type: ignore[no-untyped-def]
    out = np.empty(cap, a.dtype)
    out[: a.shape[0]] = a
    return out
