"""The raid model written the obvious way in SimPy: the engine's executable specification.

One process per threat, batteries as resources (fire channels are a ``simpy.Resource``, loaded
rounds per interceptor type a ``simpy.Container`` refilled by a reload process), interceptors as
processes, and a battle-manager process that re-examines every tracked threat at every decision
epoch. It follows docs/model.md rule for rule; where the engine fixes a detail the document leaves
open (epoch grid, tie-breaks, the intercept-time search: exact leg by leg on a polyline, stepped
and bisected on a ballistic arc), it does the same. Every mechanism of the engine goes in here
too, written for clarity, not speed.

Shared with the engine: the scenario loader and ``compile_scenario`` (static geometry: paths,
track times, engagement windows with their kill probabilities, parameters: tested on their own,
against brute force, in tests/test_oracle.py) and the random numbers (``draw_uniforms`` per chunk
of ``CHUNK_SIZE`` replications), so that both consume the same numbers and must agree
replication for replication. Everything that moves (time, launches, flights, decisions,
engagements, reloads, outcomes) is simulated here, in plain Python.

Used by tests/test_oracle.py (identical replications on every example and doctrine variant, and
on generated scenarios) and by benchmarks/simpy_baseline.py (the yardstick of the engine's speed).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import simpy
from simpy.events import NORMAL, Event

from shieldwall.engine.causes import (
    LEAK_HELD,
    LEAK_IDENTIFIED,
    LEAK_MAGAZINE_EMPTY,
    LEAK_MISSED,
    LEAK_NOT_DETECTED,
    LEAK_OUT_OF_REACH,
    LEAK_SATURATED,
)
from shieldwall.engine.compile import Compiled
from shieldwall.engine.detection import TAG_ACOUSTIC, TAG_IDENTIFY, TAG_LINK, TAG_SCAN, replication_key, scan_uniform_py
from shieldwall.engine.paths import G_MPS2
from shieldwall.engine.records import Outcomes, allocate_outcomes
from shieldwall.engine.results import ChunkResult, RaidResult
from shieldwall.engine.runner import CHUNK_SIZE, draw_uniforms
from shieldwall.policies import GREEDY_CODE, POLICY_BY_CODE
from shieldwall.wta.epoch import solve_epoch

EPS_S = 1e-6  # same tolerance as the engine: epochs land exactly on window edges
AREA = NORMAL + 1  # area-defence engagements at an epoch: after the intercepts landing then
LATE = NORMAL + 2  # priority of decision epochs: after everything else at the same instant
HELD = 1  # the cost weight held fire at it (for the cause of its leak)


# --------------------------------------------------------------------------------------------
# static data: the compiled scenario as plain Python values
# --------------------------------------------------------------------------------------------
class Static:
    """The compiled scenario's records (engine/records.py) as Python lists, fixed for the run."""

    def __init__(self, c: Compiled) -> None:
        th, paths, bat, itc, win, doc = c.threats, c.paths, c.batteries, c.interceptors, c.windows, c.doctrine
        self.n_thr = c.n_threats
        self.type = th.type.tolist()
        self.cls = th.cls.tolist()
        self.target = th.target.tolist()
        self.value = th.value_at_stake.tolist()  # value at stake as the battle manager sees it
        self.damage = th.damage.tolist()  # what a leak really destroys (decoys: 0)
        self.reliability = th.reliability.tolist()
        self.launch0 = th.launch_s.tolist()
        self.window = th.window_s.tolist()
        self.cost = th.cost_usd.tolist()
        self.flight = th.flight_s.tolist()
        self.step = th.step_s.tolist()
        self.vmax = th.vmax_mps.tolist()
        self.first_open = th.first_open_s.tolist()
        self.last_close = th.last_close_s.tolist()
        self.track = th.track_s.tolist()  # first time any network holds a track (inf: never)
        self.attack = th.attack_battery.tolist()  # the battery it attacks (-1: none): its target is that aimpoint
        self.attack_radar = th.attack_radar.tolist()  # the stand-alone radar it attacks (-1: none)
        self.n_radars = len(c.radar_ids)
        # attacks on sensors: the radars an attack can destroy and the fire-time rule's terms (None: none can be)
        self.losses = c.losses if c.losses is not None and c.losses.unit.shape[0] > 0 else None
        # paths: (ballistic?, xs, ys, ts, altitude, apogee, release altitude)
        self.paths = []
        for j in range(self.n_thr):
            o, e = int(paths.vertex_offset[j]), int(paths.vertex_offset[j + 1])
            self.paths.append((bool(paths.ballistic[j]), paths.vertex_x_m[o:e].tolist(),
                               paths.vertex_y_m[o:e].tolist(), paths.vertex_t_s[o:e].tolist(),
                               float(paths.altitude_m[j]), float(paths.apogee_m[j]), float(paths.release_m[j])))
        self.n_bat, self.n_itc = bat.launchers.shape
        self.bat_xy = list(zip(bat.x_m.tolist(), bat.y_m.tolist()))
        self.channels = bat.channels.tolist()
        self.reload_s = bat.reload_s.tolist()
        self.cap = bat.rounds_per_launcher.tolist()
        self.full = (bat.launchers * bat.rounds_per_launcher).tolist()
        self.stock = bat.stock.tolist()
        self.itc_speed = itc.speed_mps.tolist()
        self.itc_envelope = list(zip(itc.min_range_m.tolist(), itc.max_range_m.tolist(),
                                     itc.min_altitude_m.tolist(), itc.max_altitude_m.tolist()))
        self.itc_cost = itc.cost_usd.tolist()
        self.rps = itc.rounds_per_shot.tolist()
        # engagement windows per threat, in the compiled order: (index, b, k, open, close, pk of one shot)
        pk = win.pk.tolist()
        self.windows = [[(p, int(win.battery[p]), int(win.interceptor[p]), float(win.open_s[p]),
                          float(win.close_s[p]), pk[p])
                         for p in range(int(win.threat_offset[j]), int(win.threat_offset[j + 1]))]
                        for j in range(self.n_thr)]
        self.salvo = doc.salvo.tolist()
        self.max_eng = doc.max_engagements.tolist()
        self.dt, self.assess, self.cost_weight = doc.decision_interval_s, doc.assess_s, doc.cost_weight
        self.policy = POLICY_BY_CODE[doc.policy]
        self.epoch_time_limit_s = doc.epoch_time_limit_s
        self.n_types = len(c.threat_type_ids)
        self.n_assets = len(c.asset_ids)
        # hazards along the paths (electronic warfare, area defences): per threat, its segments as
        # (t0, t1, total rate, [(zone, rate), ...]) in time order
        self.ew = self._segments(c.ew)
        self.divert_share = c.ew_zones.divert_share.tolist()
        self.area = self._segments(c.area)
        self.detection = c.detection if c.detection is not None and c.detection.on else None
        # acoustic cueing: per (threat j, acoustic network k), row j * n_ac + k, its detection segments
        self.n_ac = len(self.detection.ac_net) if self.detection is not None else 0
        self.acoustic = self._segments(self.detection.ac_haz, self.n_thr * self.n_ac) if self.n_ac else []
        lay = c.area_layers
        self.n_layers = len(c.area_ids)
        self.layer = [dict(tokens_per_s=float(lay.tokens_per_s[a]), burst=float(lay.burst[a]), stock=int(lay.stock[a]),
                           munitions=int(lay.munitions_per_attempt[a]), pk=lay.pk[a].tolist(),
                           active=(float(lay.active_from_s[a]), float(lay.active_until_s[a])),
                           cue_net=int(lay.cue_net[a]), cue=lay.cue_s[:, a].tolist())
                      for a in range(self.n_layers)]

    def _segments(self, h: Any, rows: int | None = None) -> list[list[tuple[float, float, float, list[tuple[int, float]]]]]:
        return [[(float(h.t0_s[q]), float(h.t1_s[q]), float(h.rate_per_s[q]),
                  [(int(h.zone[e]), float(h.zone_rate_per_s[e])) for e in range(h.zone_offset[q], h.zone_offset[q + 1])])
                 for q in range(h.threat_offset[j], h.threat_offset[j + 1])]
                for j in range(self.n_thr if rows is None else rows)]


def first_event(segments: list, tau_from: float, u_time: float, u_zone: float) -> tuple[float, int]:
    """docs/model.md, Hazards: the first event after tau_from where the rate integrated from
    tau_from reaches -ln(u_time); its zone chosen in proportion to the zones' rates there (u_zone).
    (inf, -1) if the flight ends first."""
    target = -math.log(u_time)
    acc = 0.0
    for t0, t1, rate, zones in segments:
        if t1 <= tau_from:
            continue
        t0 = max(t0, tau_from)
        if acc + rate * (t1 - t0) >= target:
            pick = u_zone * rate
            zone = zones[-1][0]
            for z, zone_rate in zones:
                pick -= zone_rate
                if pick < 0.0:
                    zone = z
                    break
            return t0 + (target - acc) / rate, zone
        acc += rate * (t1 - t0)
    return math.inf, -1


def epoch_of(time_s: float, dt: float) -> int:
    """The first decision epoch k (at k * dt) that sees something happening at time_s."""
    k = max(int((time_s - EPS_S) * (1.0 / dt)), 0)
    while k * dt + EPS_S < time_s:
        k += 1
    while k > 0 and (k - 1) * dt + EPS_S >= time_s:
        k -= 1
    return k


def position(path: tuple, tau: float) -> tuple[float, float, float]:
    """(east_m, north_m, alt_m) of a threat tau seconds after its launch (docs/model.md,
    Kinematics): a polyline at constant speed and altitude, or a vacuum parabola (from the ground,
    or air-launched: from the release altitude up to the apogee and down)."""
    ballistic, xs, ys, ts, alt, apogee, release = path
    if ballistic:
        f = min(max(tau / ts[1], 0.0), 1.0)
        x, y = xs[0] + f * (xs[1] - xs[0]), ys[0] + f * (ys[1] - ys[0])
        if release > 0.0:
            late = f * ts[1] - (ts[1] - math.sqrt(2.0 * apogee / G_MPS2))  # time after the apogee
            return x, y, apogee - 0.5 * G_MPS2 * late * late
        return x, y, 4.0 * apogee * f * (1.0 - f)
    if tau <= ts[0]:
        return xs[0], ys[0], alt
    if tau >= ts[-1]:
        return xs[-1], ys[-1], alt
    i = 0
    while ts[i + 1] <= tau:  # a handful of vertices: a linear scan is plenty
        i += 1
    span = ts[i + 1] - ts[i]
    f = 0.0 if span <= 0.0 else (tau - ts[i]) / span
    return xs[i] + f * (xs[i + 1] - xs[i]), ys[i] + f * (ys[i + 1] - ys[i]), alt


# --------------------------------------------------------------------------------------------
# intercept times (docs/model.md, Engagement feasibility): the engine's search, in plain Python
# --------------------------------------------------------------------------------------------
def _roots(qa: float, qb: float, qc: float) -> tuple[float, float]:
    """The real roots of qa u^2 + qb u + qc (inf where there is none), computed without
    cancellation."""
    if qa == 0.0:
        return (-qc / qb, math.inf) if qb != 0.0 else (math.inf, math.inf)
    disc = qb * qb - 4.0 * qa * qc
    if disc < 0.0:
        return math.inf, math.inf
    sq = math.sqrt(disc)
    q = -0.5 * (qb + sq) if qb >= 0.0 else -0.5 * (qb - sq)
    return q / qa, (qc / q if q != 0.0 else q / qa)


def _first_after(u: float, roots: tuple[float, ...], end: float) -> float:
    """The first of the roots after u, else end."""
    best = end
    for r in roots:
        if u < r < best:
            best = r
    return best


def earliest_on_leg(lo: float, hi: float, tau_f: float, px: float, py: float, h: float, vx: float, vy: float,
                    speed: float, minr: float, maxr: float, flight: float) -> float:
    """Earliest feasible time in [lo, hi] on a straight leg; -1 if none. (px, py): the threat at
    ``lo`` relative to the battery, (vx, vy): its velocity, h: its altitude.

    The squared slant range is a quadratic in time and every condition of the rule a quadratic
    inequality, so the answer is ``lo`` or a root. Time is counted from ``lo`` (u = tau - lo):
    squares of times counted from launch would lose the answer to rounding."""
    a = vx * vx + vy * vy  # squared slant range Q(u) = a u^2 + 2 b u + c
    b = px * vx + py * vy
    c = px * px + py * py + h * h
    w = lo - tau_f  # >= 0: the interceptor has flown w seconds at u = 0
    s2 = speed * speed
    r2min, r2max = minr * minr, maxr * maxr

    def holds(u: float) -> bool:
        """Reachable (speed (u + w) >= range) and inside the range envelope."""
        q = (a * u + 2.0 * b) * u + c
        return s2 * (u + w) * (u + w) >= q and r2min <= q <= r2max

    def past_root(u: float, until: float) -> float:
        """A root is exact up to rounding: the first point a few ulps on where the rule holds
        (or ``until``, where it is known to)."""
        step_s = 1e-12 * max(1.0, lo)
        x = u
        while x < until and not holds(x):
            x = u + step_s
            step_s *= 10.0
        return min(x, until)

    if holds(0.0):
        return lo
    u_hi = hi - lo
    reach = _roots(s2 - a, 2.0 * (s2 * w - b), s2 * w * w - c)  # s^2 (u + w)^2 = Q(u)
    roots = reach + _roots(a, 2.0 * b, c - r2min) + _roots(a, 2.0 * b, c - r2max)
    start = 0.0
    while start < u_hi:
        end = _first_after(start, roots, u_hi)
        mid = 0.5 * (start + end)  # between consecutive roots no condition changes: test the middle
        if holds(mid):
            u = past_root(start, mid)
            return lo + u if lo + u < flight else -1.0
        start = end
    return -1.0


def earliest_on_arc(path: tuple, tau_f: float, bx: float, by: float, speed: float,
                    envelope: tuple[float, float, float, float], flight: float, step: float, vmax: float) -> float:
    """Earliest feasible time on a ballistic arc, which is no quadratic: step along it from the
    head-on bound (never by less than the time the gap needs to close) and bisect where the rule
    turns true; -1 if none before impact."""
    minr, maxr, minalt, maxalt = envelope
    closing = speed + vmax  # the gap closes at most this fast

    def slant(tau: float) -> tuple[float, float]:
        x, y, z = position(path, tau)
        return math.sqrt((x - bx) * (x - bx) + (y - by) * (y - by) + z * z), z

    def rule(tau: float) -> tuple[bool, float]:
        """(feasible, gap_m): gap_m > 0 while the interceptor cannot be there yet."""
        d, z = slant(tau)
        gap_m = d - (tau - tau_f) * speed
        return gap_m <= 0.0 and minr <= d <= maxr and minalt <= z <= maxalt, gap_m

    tau = tau_f + slant(tau_f)[0] / closing  # no intercept can come sooner than a head-on one
    prev = -1.0
    while tau < flight:
        ok, gap_m = rule(tau)
        if ok:
            if prev < 0.0:
                return tau
            lo, hi = prev, tau
            while hi - lo > 1e-6:  # the rule turns true in between
                mid = 0.5 * (lo + hi)
                if rule(mid)[0]:
                    hi = mid
                else:
                    lo = mid
            return hi
        prev = tau
        tau += max(step, gap_m / closing)
    return -1.0


def epoch_of(time_s: float, dt: float) -> int:
    """The first decision epoch k (at k * dt) at or after time_s, as the engine finds it (a first
    guess by 1 / dt, made exact by comparisons: the same floating-point steps give the same k)."""
    per_dt = 1.0 / dt
    k = max(int((time_s - EPS_S) * per_dt), 0)
    while k * dt + EPS_S < time_s:
        k += 1
    while k > 0 and (k - 1) * dt + EPS_S >= time_s:
        k -= 1
    return k


def timeout_at(env: simpy.Environment, when: float, priority: int = NORMAL) -> Event:
    """An event at the absolute time ``when`` (``env.timeout`` takes a delay, and
    ``now + (when - now)`` can miss ``when`` by a rounding step)."""
    delay = max(when - env.now, 0.0)
    while env.now + delay < when:
        delay = math.nextafter(delay, math.inf)
    event = Event(env)
    event._ok = True  # a timeout, but with a chosen priority: what simpy.Timeout does inside
    event._value = None
    env.schedule(event, priority, delay)
    return event


# --------------------------------------------------------------------------------------------
# detection and tracking (docs/model.md): every scan of every sensor, drawn from the same numbers
# --------------------------------------------------------------------------------------------
def sensor_track(s: Static, key: int, j: int, q: int) -> float:
    """When sensor q confirms a track on threat j: scans every scan period from its entry into
    coverage; inside coverage a scan detects with Swerling 1's Pd = Pfa^(1/(1+SNR)),
    SNR = SNR_ref rcs (R_pd/R)^4; confirm_scans detections in a row confirm; inf: never."""
    d = s.detection
    tau0, period, need = float(d.cover_s[j, q]), float(d.sen_scan_s[q]), int(d.sen_confirm[q])
    if tau0 == math.inf:
        return math.inf
    rcs, h = float(d.rcs_m2[j]), float(d.sen_h_m[q])
    run, i = 0, 0
    while tau0 + i * period <= s.flight[j]:
        tau = tau0 + i * period
        x, y, z = position(s.paths[j], tau)
        ground = math.hypot(x - float(d.sen_x_m[q]), y - float(d.sen_y_m[q]))
        slant = math.sqrt(ground * ground + (z - h) ** 2)
        covered = ground <= 4120.0 * (math.sqrt(h) + math.sqrt(max(z, 0.0))) and slant <= float(d.sen_range_m[q]) * rcs ** 0.25
        if covered:
            snr = float(d.sen_snr_ref[q]) * rcs * (float(d.sen_range_pd_m[q]) / max(slant, 1.0)) ** 4
            detected = scan_uniform_py(key, TAG_SCAN, j, q, i) < float(d.sen_pfa[q]) ** (1.0 / (1.0 + snr))
            run = run + 1 if detected else 0
            if run >= need:
                return tau
        else:
            run = 0
        i += 1
    return math.inf


def drawn_tracks(s: Static, key: int, j: int) -> tuple[list[float], float, float, dict[int, float]]:
    """Threat j's tracks in one replication: per battery when it may fire (min(own radar, network
    + C2 latency + lost updates)), when a decoy is identified, when a network first holds it, and
    when each network does."""
    d = s.detection
    n_sen = d.cover_s.shape[1]
    net_t: dict[int, tuple[float, float]] = {}  # network -> (its track, scan period of the sensor that formed it)
    for k in range(s.n_ac):  # acoustic cueing: its first detection, reported after the field's latency
        tau, z = first_event(s.acoustic[j * s.n_ac + k], 0.0, scan_uniform_py(key, TAG_ACOUSTIC, j, k, 0),
                             scan_uniform_py(key, TAG_ACOUSTIC, j, k, 1))
        t = tau + float(d.ac_latency_s[z]) if z >= 0 else math.inf
        net = int(d.ac_net[k])
        if t <= s.flight[j] and t < net_t.get(net, (math.inf, 0.0))[0]:
            net_t[net] = (t, float(d.ac_update_s[z]))
    for q in sorted(range(n_sen), key=lambda q: (float(d.cover_s[j, q]), q)):  # ties: soonest in coverage
        t = sensor_track(s, key, j, q)
        net = int(d.sen_net[q])
        if t < net_t.get(net, (math.inf, 0.0))[0]:
            net_t[net] = (t, float(d.sen_scan_s[q]))
    first, first_scan = min([v for _, v in sorted(net_t.items())] + [(math.inf, 0.0)], key=lambda v: v[0])
    fire = []
    for b in range(s.n_bat):
        tn, scan = net_t.get(int(d.bat_net[b]), (math.inf, 0.0))
        loss = float(d.bat_link_loss[b])
        lost = 0.0
        if tn < math.inf and 0.0 < loss < 1.0:  # updates lost before one arrives: P(G >= g) = loss^g
            u = scan_uniform_py(key, TAG_LINK, j, b, 0)
            lost = math.floor(math.log(u) / math.log(loss)) if u <= loss else 0
        delay = math.inf if loss >= 1.0 else float(d.bat_latency_s[b]) + lost * scan
        own = sensor_track(s, key, j, int(d.bat_sensor[b]))
        fire.append(min(own, tn + delay) if tn < math.inf else math.inf)
        if len(d.bat_ballistic_track_s) and s.paths[j][0] and d.bat_ballistic_track_s[b] > 0.0:
            fire[b] = max(fire[b], own + float(d.bat_ballistic_track_s[b]))  # held by its own radar that long
    p = float(d.identify[j])
    identified = math.inf
    if p > 0.0 and first < math.inf:  # the K-th scan after the first track, P(K >= k) = (1 - p)^(k - 1)
        k = 1 if p >= 1.0 else 1 + math.floor(math.log(scan_uniform_py(key, TAG_IDENTIFY, j, 0, 0)) / math.log(1.0 - p))
        identified = first + k * first_scan
    return fire, identified, first, {net: t for net, (t, _) in net_t.items()}


# --------------------------------------------------------------------------------------------
# one replication
# --------------------------------------------------------------------------------------------
class Raid:
    """One replication: a SimPy environment with its threats, batteries and battle manager."""

    def __init__(self, s: Static, u_launch: np.ndarray, u_rel: np.ndarray, u_kill: np.ndarray,
                 stock: list[list[int]] | None = None, present: list[bool] | None = None,
                 u_ew: np.ndarray | None = None, u_area: np.ndarray | None = None,
                 u_detect: np.ndarray | None = None, u_attack: np.ndarray | None = None,
                 radars_out: list[bool] | None = None) -> None:
        """One replication's raid; ``stock`` [battery][interceptor] replaces the scenario's rounds
        (a campaign night starts from last night's), ``present`` [threat] leaves threats out."""
        self.s = s
        self.env = env = simpy.Environment()
        self.u_kill = u_kill.tolist()
        n = s.n_thr
        self.launch = [s.launch0[j] + u * s.window[j] for j, u in enumerate(u_launch.tolist())]
        self.fails_at = [math.inf] * n  # time after launch at which it ends in flight
        self.fails_as = ["expired"] * n  # how: failure, or lost or diverted by electronic warfare
        for j, u in enumerate(u_rel.tolist()):
            if u >= s.reliability[j]:
                self.fails_at[j] = s.flight[j] * (u - s.reliability[j]) / (1.0 - s.reliability[j])
            if s.ew[j]:  # electronic warfare (docs/model.md): lost where its exposure reaches -ln u
                tau, zone = first_event(s.ew[j], 0.0, float(u_ew[j, 0]), float(u_ew[j, 1]))
                if tau < self.fails_at[j]:
                    self.fails_at[j] = tau
                    self.fails_as[j] = "diverted" if u_ew[j, 2] < s.divert_share[zone] else "suppressed"
        self.u_area = u_area
        self.u_attack = u_attack
        # the threats' windows: as compiled, or under detection this replication's (each opens no
        # sooner than its battery's track, a decoy's closes when it is identified; never open: gone)
        self.windows, self.first_open, self.last_close, self.track = s.windows, s.first_open, s.last_close, s.track
        self.identified = [math.inf] * n  # when each decoy is identified (detection only)
        # when each network first holds each threat: geometric (the compiled cue times are read
        # per area defence instead), or under detection this replication's drawn tracks
        self.net_track: list[dict[int, float]] = [{} for _ in range(n)]
        if s.detection is not None:
            key = replication_key(float(u_detect[0]))
            self.windows, self.first_open, self.last_close, self.track = [], [], [], []
            self.identified = []
            for j in range(n):
                fire, identified, first, by_net = (drawn_tracks(s, key, j) if present is None or present[j]
                                                   else ([math.inf] * s.n_bat, math.inf, math.inf, {}))
                self.net_track[j] = by_net
                mine = [(p, b, k, max(o, fire[b]), min(c, identified), pk) for p, b, k, o, c, pk in s.windows[j]]
                mine = [w for w in mine if w[3] <= w[4]]
                self.windows.append(mine)
                self.first_open.append(min([w[3] for w in mine], default=math.inf))
                self.last_close.append(max([w[4] for w in mine], default=-math.inf))
                self.track.append(first)
                self.identified.append(identified)
        # area defences: each one's free units (a token bucket of engagements) and munitions
        self.tokens = [lay["burst"] for lay in s.layer]
        self.tokens_t = [-math.inf] * s.n_layers
        self.munitions = [lay["stock"] for lay in s.layer]
        self.area_pending: dict[int, list[tuple[float, int, int, int]]] = {}  # epoch -> (time, threat, zone, n)
        # threat state
        self.alive = [False] * n  # launched and not yet ended
        self.process: list[Any] = [None] * n
        self.engaged = [False] * n  # an interceptor is on its way
        self.next_ok = [-math.inf] * n  # kill assessment of the last miss done
        self.n_eng = [0] * n
        self.shots_used = [0] * n
        self.met = [0] * n  # HELD: the cost weight held fire at it
        self.last_battery = [-1] * n  # the battery of its latest engagement
        self.tracks: dict[int, None] = {}  # threats reported engageable to the battle manager
        # batteries: fire channels and loaded rounds are resources; reserves are plain counts
        self.channels = [simpy.Resource(env, capacity=c) for c in s.channels]
        self.loaded: dict[tuple[int, int], simpy.Container] = {}
        self.reserve: dict[tuple[int, int], int] = {}
        stock = s.stock if stock is None else stock
        for b in range(s.n_bat):
            for k in range(s.n_itc):
                full, rounds = s.full[b][k], int(stock[b][k])
                self.reserve[b, k] = rounds - min(rounds, full)
                if full > 0:
                    self.loaded[b, k] = simpy.Container(env, capacity=full, init=min(rounds, full))
        self.reloading: set[tuple[int, int]] = set()
        # attacks on the defence: when each battery was destroyed (inf: not); a lost one fires no more
        self.battery_lost_s = [math.inf] * s.n_bat
        self.radar_lost_s = [math.inf] * s.n_radars
        self.radar_out = radars_out or [False] * s.n_radars  # a campaign's: destroyed on an earlier night
        # when each (battery, interceptor) ran out (fewer rounds than one shot): -inf if at the start
        self.dry_at = {(b, k): (-math.inf if int(stock[b][k]) < s.rps[k] else math.inf)
                       for b in range(s.n_bat) for k in range(s.n_itc)}
        # outcomes
        self.killed = [0] * s.n_types
        self.leaked = [0] * s.n_types
        self.expired = [0] * s.n_types
        self.rounds = [[0] * s.n_itc for _ in range(s.n_bat)]
        self.kills_by_battery = [0] * s.n_bat
        self.hits = [0] * s.n_assets
        self.survive = [1.0] * s.n_assets
        self.threat_cost_destroyed = 0.0
        self.leaked_threat = np.zeros(n)  # leaks per threat
        self.ended = {"suppressed": [0] * s.n_types, "diverted": [0] * s.n_types, "area_killed": [0] * s.n_types}
        self.area_attempts = [0] * s.n_layers
        self.area_kills = [0] * s.n_layers
        self.leak_cause = [-1] * n  # engine/causes.py code of each leaker
        self.leak_battery = [-1] * n

        self.wakeup: Event | None = None
        for j in range(n):
            if present is None or present[j]:
                self.process[j] = env.process(self.threat(j))
        self.done = env.all_of([p for p in self.process if p is not None])
        env.process(self.battle_manager())

    def run(self) -> None:
        self.env.run(until=self.done)

    # -- processes ------------------------------------------------------------------------
    def threat(self, j: int):  # type: ignore[no-untyped-def]
        """Launch, fly, and end: leak at impact, fail in flight, or be shot down."""
        s, env = self.s, self.env
        yield env.timeout(self.launch[j])
        self.alive[j] = True
        if self.first_open[j] < math.inf:  # the first moment some battery could fire at it
            env.timeout(self.first_open[j]).callbacks.append(lambda _: self.report(j))
        if s.area[j]:
            self.next_area(j, 0.0, 0)
        fails = self.fails_at[j] < s.flight[j]
        try:
            yield env.timeout(self.fails_at[j] if fails else s.flight[j])
        except simpy.Interrupt:
            return  # shot down: the interceptor or the area defence has recorded it
        self.end(j)
        if fails and self.fails_as[j] == "expired":
            self.expired[s.type[j]] += 1
        elif fails:
            self.ended[self.fails_as[j]][s.type[j]] += 1
        else:
            self.leaked[s.type[j]] += 1
            self.leaked_threat[j] += 1.0
            self.leak_cause[j], self.leak_battery[j] = self.why_leaked(j)
            a, b, radar = s.target[j], s.attack[j], s.attack_radar[j]
            if s.damage[j] > 0.0:  # decoys do no damage
                self.hits[a] += 1
                if b < 0 and radar < 0:
                    self.survive[a] *= 1.0 - s.damage[j]
            # an attack on a battery (docs/model.md, Attacks on the defence): destroyed if
            # U_attack(j) < its damage fraction, at this instant (before this instant's decisions)
            if b >= 0 and self.battery_lost_s[b] == math.inf and self.u_attack[j] < s.damage[j]:
                self.battery_lost_s[b] = env.now
                self.survive[a] = 0.0
            # a stand-alone radar: the same draw and rule; from then on it forms no tracks
            if radar >= 0 and self.radar_lost_s[radar] == math.inf and self.u_attack[j] < s.damage[j]:
                self.radar_lost_s[radar] = env.now
                self.survive[a] = 0.0

    def holds_track(self, j: int, b: int, p: int, rel: float) -> bool:
        """Attacks on sensors (docs/model.md, Attacks on the defence): whether battery b holds a
        track on threat j it may fire on through window p, ``rel`` after launch. Its network's
        track is the first one any of its radars formed while not yet destroyed; the fire-time
        rule (mechanisms.c2's latency and own radar, mechanisms.ballistic's own track time) applies
        to that track."""
        s, losses = self.s, self.s.losses
        if losses is None:
            return True
        net = int(losses.bat_net[b])
        track = float(losses.fixed_s[j, net])
        for q, unit in enumerate(losses.unit.tolist()):
            if int(losses.net[q]) != net:
                continue
            if unit < s.n_bat:
                lost_at = self.battery_lost_s[unit]
            else:
                lost_at = -math.inf if self.radar_out[unit - s.n_bat] else self.radar_lost_s[unit - s.n_bat]
            formed = float(losses.track_s[j, q])
            if self.launch[j] + formed <= lost_at:
                track = min(track, formed)
        fire_from = max(min(track + float(losses.bat_latency_s[b]), float(losses.own_s[p])), float(losses.floor_s[p]))
        return rel >= fire_from - EPS_S

    def interceptor(self, j: int, b: int, req: Any, t_i: float, kill: bool):  # type: ignore[no-untyped-def]
        """Fly to the intercept point; holds the battery's fire channel until then."""
        s, env = self.s, self.env
        yield timeout_at(env, t_i)
        self.channels[b].release(req)
        self.engaged[j] = False
        if self.alive[j]:  # else it failed in flight before the intercept: the rounds are wasted
            if kill:
                self.end(j)
                self.killed[s.type[j]] += 1
                self.kills_by_battery[b] += 1
                self.threat_cost_destroyed += s.cost[j]
                self.process[j].interrupt("killed")
            else:
                self.next_ok[j] = t_i + s.assess  # kill assessment before the next try
                if self.n_eng[j] >= s.max_eng[s.cls[j]]:
                    self.tracks.pop(j, None)  # no engagements left: the battle manager lets it go
                elif self.next_ok[j] <= self.launch[j] + self.last_close[j]:
                    env.timeout(s.assess).callbacks.append(self.wake)
        self.wake()

    def next_area(self, j: int, tau_from: float, n: int, after_epoch: int = -1) -> None:
        """Schedule threat j's area-defence engagement number n (docs/model.md, Area defences):
        it is taken at the decision epoch that first sees it, after that epoch's intercepts."""
        s = self.s
        if n >= self.u_area.shape[1]:
            return
        tau, zone = first_event(s.area[j], tau_from, float(self.u_area[j, n, 0]), float(self.u_area[j, n, 1]))
        if tau >= self.fails_at[j]:  # it ends (or leaves every zone) first
            return
        at = self.launch[j] + tau
        k = max(epoch_of(at, s.dt), after_epoch + 1)
        if k not in self.area_pending:
            self.area_pending[k] = []
            timeout_at(self.env, k * s.dt, AREA).callbacks.append(lambda _, k=k: self.area_epoch(k))
        self.area_pending[k].append((at, j, zone, n))

    def area_epoch(self, k: int) -> None:
        """The epoch's area-defence engagements, in order of time then threat: one happens if the
        threat still flies at this epoch (intercepts landing by then came first), the area
        defence is in place, one of its units is free (a token
        bucket: tokens_per_s, at most one per unit) and it has the munitions."""
        s = self.s
        for at, j, a, n in sorted(self.area_pending.pop(k)):
            if not self.alive[j]:
                continue
            lay = s.layer[a]
            engaged = False
            # cued by its network (docs/model.md, Area defences cued by a network): it acts on
            # the threat only from its network's first track on
            cued_from = -math.inf
            if lay["cue_net"] >= 0:
                track = (self.net_track[j].get(lay["cue_net"], math.inf) if s.detection is not None
                         else lay["cue"][j])
                cued_from = self.launch[j] + track
            if lay["active"][0] <= at <= lay["active"][1] and at >= cued_from:
                self.tokens[a] = min(lay["burst"], self.tokens[a] + lay["tokens_per_s"] * (at - self.tokens_t[a]))
                self.tokens_t[a] = at
                if self.tokens[a] >= 1.0 and self.munitions[a] >= lay["munitions"]:
                    self.tokens[a] -= 1.0
                    self.munitions[a] -= lay["munitions"]
                    self.area_attempts[a] += 1
                    engaged = True
            if engaged and self.u_area[j, n, 2] < lay["pk"][s.type[j]]:
                self.end(j)
                self.ended["area_killed"][s.type[j]] += 1
                self.area_kills[a] += 1
                self.threat_cost_destroyed += s.cost[j]
                self.process[j].interrupt("area defence")
                continue
            self.next_area(j, at - self.launch[j], n + 1, k)

    def reload(self, b: int, k: int):  # type: ignore[no-untyped-def]
        """One reload at a time per (battery, type), each adds one launcher's worth."""
        s, env = self.s, self.env
        loaded = self.loaded[b, k]
        while True:
            yield env.timeout(s.reload_s[b])
            add = min(s.cap[b][k], self.reserve[b, k], s.full[b][k] - loaded.level)
            if add > 0:
                loaded.put(add)
                self.reserve[b, k] -= add
            if not (loaded.level < s.full[b][k] and self.reserve[b, k] > 0):
                break
        self.reloading.discard((b, k))

    def battle_manager(self):  # type: ignore[no-untyped-def]
        """Decide at the epochs k * decision_interval_s while some threat is engageable; when
        none is, sleep until something can change (a window opens, an engagement or a kill
        assessment ends) and resume at the next epoch."""
        env, dt = self.env, self.s.dt
        k = -1
        while True:
            self.wakeup = env.event()
            yield self.wakeup
            self.wakeup = None
            k = max(k + 1, math.ceil(env.now / dt - EPS_S))
            while True:
                yield timeout_at(env, k * dt, LATE)  # after all else that happens at that instant
                if not self.decide(k * dt):
                    break
                k += 1

    # -- helpers --------------------------------------------------------------------------
    def report(self, j: int) -> None:
        if self.alive[j]:
            self.tracks[j] = None
            self.wake()

    def wake(self, _event: Any = None) -> None:
        if self.wakeup is not None and not self.wakeup.triggered:
            self.wakeup.succeed()

    def end(self, j: int) -> None:
        self.alive[j] = False
        self.tracks.pop(j, None)

    def decide(self, t: float) -> bool:
        """Greedy maximum marginal return over all feasible (threat, battery, interceptor).
        Returns whether any threat was engageable (then the next epoch is needed)."""
        s = self.s
        candidates = []
        engageable = False
        gone = []
        for j in self.tracks:
            cls = s.cls[j]
            if self.engaged[j] or t < self.next_ok[j] - EPS_S or self.n_eng[j] >= s.max_eng[cls]:
                continue
            rel = t - self.launch[j]
            if rel > self.last_close[j] + EPS_S:
                gone.append(j)  # past its last engagement window: drop the track
                continue
            if rel < self.first_open[j] - EPS_S:
                continue
            engageable = True
            impact = self.launch[j] + s.flight[j]
            for p, b, k, w_open, w_close, pk in self.windows[j]:
                if rel < w_open - EPS_S or rel > w_close + EPS_S:
                    continue
                if self.battery_lost_s[b] < math.inf:
                    continue  # destroyed by an attack: it fires no more
                if not self.holds_track(j, b, p, rel):
                    continue  # its track came through a radar an attack destroyed
                if self.dry_at[b, k] <= t:
                    continue  # the battery has run out of this interceptor
                if self.channels[b].count >= s.channels[b] or self.loaded[b, k].level < s.rps[k]:
                    continue
                n = min(s.salvo[cls], self.loaded[b, k].level // s.rps[k])
                shot_cost = s.itc_cost[k] * s.rps[k] * n
                gain = s.value[j] * (1.0 - (1.0 - pk) ** n) - s.cost_weight * shot_cost
                if s.cost_weight > 0.0 and gain <= 0.0:
                    self.met[j] |= HELD
                    continue  # a shot that costs more than it saves is held
                candidates.append((-gain, impact, shot_cost, p, j, b, k, pk))
        for j in gone:
            del self.tracks[j]
        # best gain first; ties: sooner impact, cheaper shot, scenario order
        candidates.sort()
        if s.policy.code != GREEDY_CODE and len(candidates) > 1:
            candidates = [candidates[i] for i in self.policy_choice(candidates)]
        for _, _, _, _, j, b, k, pk in candidates:
            if self.engaged[j] or self.channels[b].count >= s.channels[b] or self.loaded[b, k].level < s.rps[k]:
                continue
            tau_i = self.intercept_time(j, t - self.launch[j], b, k)
            if tau_i < 0.0:
                continue
            self.fire(j, b, k, pk, self.launch[j] + tau_i)
        return engageable

    def why_leaked(self, j: int) -> tuple[int, int]:
        """(cause, battery) of leaker j: engine/causes.py's rule; a decoy out of reach because its
        network identified it before its last compiled window closed: identified."""
        cause, battery = self._why_leaked(j)
        if cause == LEAK_OUT_OF_REACH and self.identified[j] < self.s.last_close[j]:
            return LEAK_IDENTIFIED, -1
        return cause, battery

    def _why_leaked(self, j: int) -> tuple[int, int]:
        """engine/causes.py's rule 1-7, first match wins. Never engaged, it could have been
        engaged at every decision epoch inside a window of its."""
        s = self.s
        if self.n_eng[j] > 0:
            return LEAK_MISSED, self.last_battery[j]
        windows = sorted(self.windows[j], key=lambda w: w[3])  # in the order they open (ties: compiled order)
        if not windows:
            return (LEAK_NOT_DETECTED if self.track[j] == math.inf else LEAK_OUT_OF_REACH), -1
        t0 = self.launch[j]
        first = windows[0][1]
        held = s.max_eng[s.cls[j]] == 0 or bool(self.met[j] & HELD)
        for _, b, k, w_open, w_close, _ in windows:  # a decision epoch in the window while the battery had rounds
            t_epoch = epoch_of(t0 + w_open, s.dt) * s.dt
            if t_epoch <= t0 + w_close + EPS_S and t_epoch < self.dry_at[b, k]:
                return (LEAK_HELD if held else LEAK_SATURATED), b
        if held:
            return LEAK_HELD, first
        dry = next((b for _, b, k, _, w_close, _ in windows if self.dry_at[b, k] <= t0 + w_close + EPS_S), -1)
        if dry >= 0:
            return LEAK_MAGAZINE_EMPTY, dry
        return LEAK_OUT_OF_REACH, first

    def policy_choice(self, candidates: list[tuple]) -> list[int]:
        """The candidates (in greedy order) a WTA policy fires: its epoch algorithm's choice of
        at most one per threat within each battery's free channels and each pool's loaded rounds
        (docs/model.md, Other policies)."""
        s = self.s
        used = [min(s.salvo[s.cls[j]], self.level(b, k) // s.rps[k]) * s.rps[k] for _, _, _, _, j, b, k, _ in candidates]
        chosen = solve_epoch(
            s.policy.epoch_algorithm, np.array([-c[0] for c in candidates]), np.array([c[4] for c in candidates]),
            np.array([c[5] for c in candidates]), np.array([c[5] * s.n_itc + c[6] for c in candidates]),
            np.array(used), np.array([0 if self.battery_lost_s[b] < math.inf else s.channels[b] - self.channels[b].count
                                      for b in range(s.n_bat)]),
            np.array([self.level(b, k) for b in range(s.n_bat) for k in range(s.n_itc)]),
            time_limit_s=s.epoch_time_limit_s)
        return [int(i) for i in chosen]

    def level(self, b: int, k: int) -> int:
        """Loaded rounds of interceptor k at battery b."""
        container = self.loaded.get((b, k))
        return int(container.level) if container is not None else 0

    def fire(self, j: int, b: int, k: int, pk: float, t_i: float) -> None:
        """Shot m at threat j kills if U_kill(j, m) < pk, the window's single-shot kill probability."""
        s = self.s
        n = min(s.salvo[s.cls[j]], self.loaded[b, k].level // s.rps[k])
        first = self.shots_used[j]
        kill = any(u < pk for u in self.u_kill[j][first:first + n])  # shot m uses U_kill(j, m)
        self.shots_used[j] += n
        self.n_eng[j] += 1
        self.last_battery[j] = b
        used = n * s.rps[k]
        if used > 0:
            self.loaded[b, k].get(used)
        self.rounds[b][k] += used
        if self.level(b, k) + self.reserve[b, k] < s.rps[k] and self.dry_at[b, k] == math.inf:
            self.dry_at[b, k] = self.env.now
        req = self.channels[b].request()
        self.engaged[j] = True
        if (b, k) not in self.reloading and self.reserve[b, k] > 0:
            self.reloading.add((b, k))
            self.env.process(self.reload(b, k))
        self.env.process(self.interceptor(j, b, req, t_i, kill))

    def intercept_time(self, j: int, tau_f: float, b: int, k: int) -> float:
        """Earliest time after launch at which interceptor k fired from battery b at tau_f meets
        threat j inside its envelope (docs/model.md, Engagement feasibility); -1 if none before
        impact. Exact leg by leg on a polyline; stepped and bisected on a ballistic arc."""
        s = self.s
        path, (bx, by), speed = s.paths[j], s.bat_xy[b], s.itc_speed[k]
        minr, maxr, minalt, maxalt = s.itc_envelope[k]
        flight = s.flight[j]
        ballistic, xs, ys, ts, alt, _, _ = path
        if ballistic:
            return earliest_on_arc(path, tau_f, bx, by, speed, s.itc_envelope[k], flight, s.step[j], s.vmax[j])
        if not minalt <= alt <= maxalt:  # constant altitude: outside the envelope means never
            return -1.0
        for i in range(len(ts) - 1):
            t0, t1 = ts[i], ts[i + 1]
            if t1 <= tau_f or t1 <= t0:
                continue
            lo = max(tau_f, t0)
            if lo >= flight:
                break
            vx = (xs[i + 1] - xs[i]) / (t1 - t0)
            vy = (ys[i + 1] - ys[i]) / (t1 - t0)
            tau = earliest_on_leg(lo, min(t1, flight), tau_f, xs[i] + vx * (lo - t0) - bx,
                                  ys[i] + vy * (lo - t0) - by, alt, vx, vy, speed, minr, maxr, flight)
            if tau >= 0.0:
                return tau
        return -1.0


# --------------------------------------------------------------------------------------------
# Monte Carlo
# --------------------------------------------------------------------------------------------
def simulate(compiled: Compiled, replications: int, seed: int, stock: np.ndarray | None = None,
             present: np.ndarray | None = None, radars_out: np.ndarray | None = None) -> Outcomes:
    """Per-replication outcomes (engine/records.py OUTCOMES), same random numbers as the engine
    (same chunks and seeds); ``stock`` [rep, battery, interceptor], ``present`` [rep, threat] and
    ``radars_out`` [rep, radar] as in ``engine.runner.simulate``."""
    s = Static(compiled)
    out = allocate_outcomes(compiled.sizes(), replications)
    n_chunks = -(-replications // CHUNK_SIZE)
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(n_chunks)):
        start = i * CHUNK_SIZE
        n = min(CHUNK_SIZE, replications - start)
        u = draw_uniforms(compiled, n, child)
        for r in range(n):
            row = start + r
            raid = Raid(s, u.launch[r], u.reliability[r], u.kill[r],
                        None if stock is None else stock[row].tolist(), None if present is None else present[row].tolist(),
                        u.ew[r], u.area[r], u.detect[r], u.attack[r],
                        None if radars_out is None else [bool(x) for x in radars_out[row]])
            raid.run()
            out.killed[row] = raid.killed
            out.leaked[row] = raid.leaked
            out.expired[row] = raid.expired
            out.rounds[row] = raid.rounds
            out.kills_by_battery[row] = raid.kills_by_battery
            out.hits[row] = raid.hits
            out.survive[row] = raid.survive
            out.threat_cost_destroyed[row] = raid.threat_cost_destroyed
            for name, counts in raid.ended.items():
                getattr(out, name)[row] = counts
            out.area_attempts[row] = raid.area_attempts
            out.area_kills[row] = raid.area_kills
            out.leak_count_by_threat[:] += raid.leaked_threat
            out.leak_cause[row] = raid.leak_cause
            out.leak_battery[row] = raid.leak_battery
            out.battery_lost_s[row] = raid.battery_lost_s
            out.radar_lost_s[row] = raid.radar_lost_s
            for (b, k), reserve in raid.reserve.items():
                out.remaining[row, b, k] = raid.level(b, k) + reserve
                out.dry_s[row, b, k] = raid.dry_at[b, k]
    return out


def result(compiled: Compiled, scenario: Any, outcomes: Outcomes, seed: int) -> RaidResult:
    """The oracle's outcomes as a run's results: the same summary.json fields and views."""
    res = RaidResult(compiled, scenario, seed, int(outcomes.killed.shape[0]))
    res.add(ChunkResult(0, outcomes))
    res.finish()
    return res


def identical(a: Any, b: Any) -> np.ndarray:
    """[replication] whether two runs' outcomes (Outcomes or RaidResult) agree exactly in every
    per-replication array (engine/records.py OUTCOMES) of that replication."""
    from shieldwall.engine.records import PER_REPLICATION

    same = np.ones(np.asarray(a.killed).shape[0], bool)
    for name in PER_REPLICATION:
        x, y = np.asarray(getattr(a, name)), np.asarray(getattr(b, name))
        same &= (x.reshape(len(x), -1) == y.reshape(len(y), -1)).all(axis=1)
    return same
