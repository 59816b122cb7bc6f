"""The yardstick for the raid engine's speed: the same model, written the obvious way in SimPy.

    python benchmarks/simpy_baseline.py SCENARIO --replications N --seed S --out DIR [--compare]

This is what a Python analyst would write without shieldwall's engine: a discrete-event
simulation with one process per threat, batteries as resources (fire channels are a
``simpy.Resource``, loaded rounds per interceptor type a ``simpy.Container`` refilled by a reload
process), interceptors as processes, and a battle-manager process that decides on the grid of
decision epochs. It follows docs/model.md rule for rule; where the engine fixes a detail the
document leaves open (epoch grid, tie-breaks, the intercept-time search: exact leg by leg
on a polyline, stepped and bisected on a ballistic arc), it does the same.

Shared with the engine, and outside the timing: the scenario loader and
``compile_scenario`` (static geometry: paths, track times, engagement windows, parameters) and
the random numbers (``draw_uniforms`` per chunk of ``CHUNK_SIZE`` replications, seeded by
``SeedSequence(seed).spawn``), so that both consume the same numbers. Everything that moves
(time, launches, flights, decisions, engagements, reloads, outcomes) is simulated here, in plain
Python.

Writes ``DIR/summary.json`` with the fields of ``shieldwall run``'s summary, prints the wall and
CPU time of the simulation (CPU time is the steadier figure on a busy machine) and writes them
to ``DIR/timing.json`` (start-up, imports and the shared compile are not in them). ``--compare`` also runs the engine on the same scenario and seed and
prints the agreement (per threat type, 99 % intervals) and the share of identical replications.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import simpy
from simpy.events import NORMAL, Event

from shieldwall.engine.compile import Compiled, compile_scenario
from shieldwall.engine.results import mean_ci95
from shieldwall.engine.runner import CHUNK_SIZE, draw_uniforms
from shieldwall.scenario.load import load_scenario

EPS_S = 1e-6  # same tolerance as the engine: epochs land exactly on window edges
LATE = NORMAL + 1  # priority of decision epochs: after everything else at the same instant


# --------------------------------------------------------------------------------------------
# static data: the compiled scenario as plain Python values
# --------------------------------------------------------------------------------------------
class Static:
    """The compiled scenario unpacked into Python lists (fixed for the whole run)."""

    def __init__(self, c: Compiled) -> None:
        if len(c.doc) > 5 and c.doc[5] != 0:
            raise ValueError("the SimPy baseline implements the default 'greedy' policy only")
        (th_type, th_class, th_target, th_value, th_damage, th_rel, th_launch0, th_window, th_cost,
         flight, step, vmax, first_open, last_close) = c.thr[:14]
        is_ball, vert_off, vert_x, vert_y, vert_t, alt, apogee = c.geo[:7]
        self.n_thr = c.n_threats
        self.type = th_type.tolist()
        self.cls = th_class.tolist()
        self.target = th_target.tolist()
        self.value = th_value.tolist()  # value at stake as the battle manager sees it
        self.damage = th_damage.tolist()  # what a leak really destroys (decoys: 0)
        self.reliability = th_rel.tolist()
        self.launch0 = th_launch0.tolist()
        self.window = th_window.tolist()
        self.cost = th_cost.tolist()
        self.flight = flight.tolist()
        self.step = step.tolist()
        self.vmax = vmax.tolist()
        self.first_open = first_open.tolist()
        self.last_close = last_close.tolist()
        # paths: (ballistic?, xs, ys, ts, altitude, apogee)
        self.paths = []
        for j in range(self.n_thr):
            o, e = int(vert_off[j]), int(vert_off[j + 1])
            self.paths.append((bool(is_ball[j]), vert_x[o:e].tolist(), vert_y[o:e].tolist(),
                               vert_t[o:e].tolist(), float(alt[j]), float(apogee[j])))
        bat_x, bat_y, channels, reload_s, _stock, n_launch, cap = c.bat[:7]
        self.n_bat, self.n_itc = n_launch.shape
        self.bat_xy = list(zip(bat_x.tolist(), bat_y.tolist()))
        self.channels = channels.tolist()
        self.reload_s = reload_s.tolist()
        self.cap = cap.tolist()
        self.full = (n_launch * cap).tolist()
        self.stock = c.stock.tolist()
        speed, minr, maxr, minalt, maxalt, pk, itc_cost, rps = c.itc[:8]
        self.itc_speed = speed.tolist()
        self.itc_envelope = list(zip(minr.tolist(), maxr.tolist(), minalt.tolist(), maxalt.tolist()))
        self.pk = pk.tolist()  # [interceptor][threat type]
        self.itc_cost = itc_cost.tolist()
        self.rps = rps.tolist()
        # engagement windows per threat, in the compiled (scenario) order: (index, b, k, open, close)
        pair_off, pair_b, pair_k, pair_open, pair_close = c.pairs[:5]
        self.windows = [[(p, int(pair_b[p]), int(pair_k[p]), float(pair_open[p]), float(pair_close[p]))
                         for p in range(int(pair_off[j]), int(pair_off[j + 1]))] for j in range(self.n_thr)]
        salvo, max_eng, dt, assess, cost_w = c.doc[:5]
        self.salvo = salvo.tolist()
        self.max_eng = max_eng.tolist()
        self.dt, self.assess, self.cost_weight = float(dt), float(assess), float(cost_w)
        self.n_types = len(c.threat_type_ids)
        self.n_assets = len(c.asset_ids)


def position(path: tuple, tau: float) -> tuple[float, float, float]:
    """(east_m, north_m, alt_m) of a threat tau seconds after its launch (docs/model.md,
    Kinematics): a polyline at constant speed and altitude, or a vacuum parabola."""
    ballistic, xs, ys, ts, alt, apogee = path
    if ballistic:
        f = min(max(tau / ts[1], 0.0), 1.0)
        return xs[0] + f * (xs[1] - xs[0]), ys[0] + f * (ys[1] - ys[0]), 4.0 * apogee * f * (1.0 - f)
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
# one replication
# --------------------------------------------------------------------------------------------
class Raid:
    """One replication: a SimPy environment with its threats, batteries and battle manager."""

    def __init__(self, s: Static, u_launch: np.ndarray, u_rel: np.ndarray, u_kill: np.ndarray) -> None:
        self.s = s
        self.env = env = simpy.Environment()
        self.u_kill = u_kill.tolist()
        n = s.n_thr
        self.launch = [s.launch0[j] + u * s.window[j] for j, u in enumerate(u_launch.tolist())]
        self.fails_at = [math.inf] * n  # time after launch at which it fails (reliability)
        for j, u in enumerate(u_rel.tolist()):
            if u >= s.reliability[j]:
                self.fails_at[j] = s.flight[j] * (u - s.reliability[j]) / (1.0 - s.reliability[j])
        # threat state
        self.alive = [False] * n  # launched and not yet ended
        self.process: list[Any] = [None] * n
        self.engaged = [False] * n  # an interceptor is on its way
        self.next_ok = [-math.inf] * n  # kill assessment of the last miss done
        self.n_eng = [0] * n
        self.shots_used = [0] * n
        self.tracks: dict[int, None] = {}  # threats reported engageable to the battle manager
        # batteries: fire channels and loaded rounds are resources; reserves are plain counts
        self.channels = [simpy.Resource(env, capacity=c) for c in s.channels]
        self.loaded: dict[tuple[int, int], simpy.Container] = {}
        self.reserve: dict[tuple[int, int], int] = {}
        for b in range(s.n_bat):
            for k in range(s.n_itc):
                full, stock = s.full[b][k], s.stock[b][k]
                if full > 0 and stock > 0:
                    self.loaded[b, k] = simpy.Container(env, capacity=full, init=min(stock, full))
                    self.reserve[b, k] = stock - min(stock, full)
        self.reloading: set[tuple[int, int]] = set()
        # outcomes
        self.killed = [0] * s.n_types
        self.leaked = [0] * s.n_types
        self.expired = [0] * s.n_types
        self.rounds = [[0] * s.n_itc for _ in range(s.n_bat)]
        self.kills_by_battery = [0] * s.n_bat
        self.hits = [0] * s.n_assets
        self.survive = [1.0] * s.n_assets
        self.threat_cost_destroyed = 0.0

        self.wakeup: Event | None = None
        for j in range(n):
            self.process[j] = env.process(self.threat(j))
        self.done = env.all_of(self.process)
        env.process(self.battle_manager())

    def run(self) -> None:
        self.env.run(until=self.done)

    # -- processes ------------------------------------------------------------------------
    def threat(self, j: int):  # type: ignore[no-untyped-def]
        """Launch, fly, and end: leak at impact, fail in flight, or be shot down."""
        s, env = self.s, self.env
        yield env.timeout(self.launch[j])
        self.alive[j] = True
        if s.first_open[j] < math.inf:  # the first moment some battery could fire at it
            env.timeout(s.first_open[j]).callbacks.append(lambda _: self.report(j))
        fails = self.fails_at[j] < s.flight[j]
        try:
            yield env.timeout(self.fails_at[j] if fails else s.flight[j])
        except simpy.Interrupt:
            return  # shot down: the interceptor has recorded it
        self.end(j)
        if fails:
            self.expired[s.type[j]] += 1
        else:
            self.leaked[s.type[j]] += 1
            if s.damage[j] > 0.0:  # decoys do no damage
                a = s.target[j]
                self.hits[a] += 1
                self.survive[a] *= 1.0 - s.damage[j]

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
                elif self.next_ok[j] <= self.launch[j] + s.last_close[j]:
                    env.timeout(s.assess).callbacks.append(self.wake)
        self.wake()

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
            if rel > s.last_close[j] + EPS_S:
                gone.append(j)  # past its last engagement window: drop the track
                continue
            if rel < s.first_open[j] - EPS_S:
                continue
            engageable = True
            impact = self.launch[j] + s.flight[j]
            for p, b, k, w_open, w_close in s.windows[j]:
                if rel < w_open - EPS_S or rel > w_close + EPS_S:
                    continue
                if self.channels[b].count >= s.channels[b] or self.loaded[b, k].level < s.rps[k]:
                    continue
                n = min(s.salvo[cls], self.loaded[b, k].level // s.rps[k])
                pk = s.pk[k][s.type[j]]
                shot_cost = s.itc_cost[k] * s.rps[k] * n
                gain = s.value[j] * (1.0 - (1.0 - pk) ** n) - s.cost_weight * shot_cost
                if s.cost_weight > 0.0 and gain <= 0.0:
                    continue  # a shot that costs more than it saves is held
                candidates.append((-gain, impact, shot_cost, p, j, b, k))
        for j in gone:
            del self.tracks[j]
        # best gain first; ties: sooner impact, cheaper shot, scenario order
        candidates.sort()
        for _, _, _, _, j, b, k in candidates:
            if self.engaged[j] or self.channels[b].count >= s.channels[b] or self.loaded[b, k].level < s.rps[k]:
                continue
            tau_i = self.intercept_time(j, t - self.launch[j], b, k)
            if tau_i < 0.0:
                continue
            self.fire(j, b, k, self.launch[j] + tau_i)
        return engageable

    def fire(self, j: int, b: int, k: int, t_i: float) -> None:
        s = self.s
        n = min(s.salvo[s.cls[j]], self.loaded[b, k].level // s.rps[k])
        pk = s.pk[k][s.type[j]]
        first = self.shots_used[j]
        kill = any(u < pk for u in self.u_kill[j][first:first + n])  # shot m uses U_kill(j, m)
        self.shots_used[j] += n
        self.n_eng[j] += 1
        used = n * s.rps[k]
        if used > 0:
            self.loaded[b, k].get(used)
        self.rounds[b][k] += used
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
        ballistic, xs, ys, ts, alt, _ = path
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
def simulate(compiled: Compiled, replications: int, seed: int) -> dict[str, np.ndarray]:
    """Per-replication outcomes, same random numbers as the engine (same chunks and seeds)."""
    s = Static(compiled)
    out = {"killed": np.zeros((replications, s.n_types), np.int64),
           "leaked": np.zeros((replications, s.n_types), np.int64),
           "expired": np.zeros((replications, s.n_types), np.int64),
           "rounds": np.zeros((replications, s.n_bat, s.n_itc), np.int64),
           "kills_by_battery": np.zeros((replications, s.n_bat), np.int64),
           "hits": np.zeros((replications, s.n_assets), np.int64),
           "survive": np.ones((replications, s.n_assets)),
           "threat_cost_destroyed": np.zeros(replications),
           "remaining": np.zeros((replications, s.n_bat, s.n_itc), np.int64)}
    n_chunks = -(-replications // CHUNK_SIZE)
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(n_chunks)):
        start = i * CHUNK_SIZE
        n = min(CHUNK_SIZE, replications - start)
        u_launch, u_rel, u_kill = draw_uniforms(compiled, n, child)
        for r in range(n):
            raid = Raid(s, u_launch[r], u_rel[r], u_kill[r])
            raid.run()
            row = start + r
            out["killed"][row] = raid.killed
            out["leaked"][row] = raid.leaked
            out["expired"][row] = raid.expired
            out["rounds"][row] = raid.rounds
            out["kills_by_battery"][row] = raid.kills_by_battery
            out["hits"][row] = raid.hits
            out["survive"][row] = raid.survive
            out["threat_cost_destroyed"][row] = raid.threat_cost_destroyed
            for (b, k), container in raid.loaded.items():
                out["remaining"][row, b, k] = container.level + raid.reserve[b, k]
    return out


def _count(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def summary(compiled: Compiled, res: dict[str, np.ndarray], replications: int, seed: int) -> dict[str, Any]:
    """The fields of ``shieldwall run``'s summary.json."""
    c = compiled
    launched = (res["killed"] + res["leaked"] + res["expired"]).mean(axis=0)
    by_type: dict[str, Any] = {}
    for t, tid in enumerate(c.threat_type_ids):
        leaked, leaked_ci = mean_ci95(res["leaked"][:, t])
        killed, killed_ci = mean_ci95(res["killed"][:, t])
        by_type[tid] = {"class": c.threat_type_class[t], "launched": _count(launched[t]),
                        "intercepted_mean": killed, "intercepted_ci95": killed_ci,
                        "leaked_mean": leaked, "leaked_ci95": leaked_ci,
                        "expired_mean": float(res["expired"][:, t].mean()),
                        "leak_fraction": leaked / launched[t] if launched[t] else 0.0}
    fired = res["rounds"].sum(axis=1)
    interceptors: dict[str, Any] = {}
    for k, iid in enumerate(c.interceptor_ids):
        mean, ci = mean_ci95(fired[:, k])
        interceptors[iid] = {"fired_mean": mean, "fired_ci95": ci,
                             "cost_usd_mean": mean * float(c.interceptor_cost_usd[k]),
                             "stock": int(c.stock[:, k].sum()),
                             "remaining_mean": float(res["remaining"][:, :, k].sum(axis=1).mean())}
    value_lost = c.asset_value * (1.0 - res["survive"])
    assets: dict[str, Any] = {}
    for a, aid in enumerate(c.asset_ids):
        hits, hits_ci = mean_ci95(res["hits"][:, a])
        lost, lost_ci = mean_ci95(value_lost[:, a])
        assets[aid] = {"value": float(c.asset_value[a]), "hits_mean": hits, "hits_ci95": hits_ci,
                       "value_lost_mean": lost, "value_lost_ci95": lost_ci,
                       "p_hit": float((res["hits"][:, a] > 0).mean())}
    batteries = {bid: {"fired_mean": float(res["rounds"][:, b].sum(axis=1).mean()),
                       "kills_mean": float(res["kills_by_battery"][:, b].mean())}
                 for b, bid in enumerate(c.battery_ids)}
    leaked_total, leaked_total_ci = mean_ci95(res["leaked"].sum(axis=1))
    lost_total, lost_total_ci = mean_ci95(value_lost.sum(axis=1))
    cost, cost_ci = mean_ci95(fired @ c.interceptor_cost_usd)
    destroyed = float(res["threat_cost_destroyed"].mean())
    totals = {"launched": _count(launched.sum()),
              "intercepted_mean": float(res["killed"].sum(axis=1).mean()),
              "leaked_mean": leaked_total, "leaked_ci95": leaked_total_ci,
              "expired_mean": float(res["expired"].sum(axis=1).mean()),
              "value_lost_mean": lost_total, "value_lost_ci95": lost_total_ci,
              "interceptor_cost_usd_mean": cost, "interceptor_cost_usd_ci95": cost_ci,
              "threat_cost_destroyed_usd_mean": destroyed,
              "cost_exchange_ratio": cost / destroyed if destroyed > 0 else None}
    return {"scenario": c.name, "replications": int(replications), "seed": int(seed),
            "threats_by_type": by_type,
            "interceptors_fired": {iid: v["fired_mean"] for iid, v in interceptors.items()},
            "interceptors": interceptors, "batteries": batteries, "assets": assets, "totals": totals}


# --------------------------------------------------------------------------------------------
# comparison with the engine (--compare)
# --------------------------------------------------------------------------------------------
def agree(x: np.ndarray, y: np.ndarray, z: float = 2.58, tol: float = 1e-9) -> tuple[bool, float, float]:
    """Do two samples' means agree within z combined standard errors? (ok, difference, bound)"""
    x, y = np.asarray(x, float), np.asarray(y, float)
    se2 = x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y) if min(len(x), len(y)) > 1 else 0.0
    diff = float(x.mean() - y.mean())
    bound = z * math.sqrt(se2) + tol
    return abs(diff) <= bound, diff, bound


def identical(a: dict[str, np.ndarray], b: Any) -> np.ndarray:
    """Replications whose outcome counts (per type, per battery and type, per asset) match."""
    same = np.ones(a["killed"].shape[0], bool)
    for name in ("killed", "leaked", "expired", "rounds", "hits"):
        x, y = a[name], np.asarray(getattr(b, name))
        same &= (x.reshape(len(x), -1) == y.reshape(len(y), -1)).all(axis=1)
    return same


def compare(compiled: Compiled, scenario: Any, res: dict[str, np.ndarray], replications: int, seed: int,
            baseline_s: float, baseline_cpu: float) -> bool:
    from shieldwall.engine.runner import simulate as engine_simulate

    engine_simulate(compiled, scenario, replications=1, seed=seed)  # numba compile / cache load
    t0, c0 = time.perf_counter(), time.process_time()
    eng = engine_simulate(compiled, scenario, replications=replications, seed=seed)
    engine_s, engine_cpu = time.perf_counter() - t0, time.process_time() - c0
    ok_all = True
    print(f"{'threat type':<16}{'baseline leaked':>16}{'engine leaked':>15}{'diff':>9}{'99% bound':>11}  ok")
    for t, tid in enumerate(compiled.threat_type_ids):
        ok, diff, bound = agree(res["leaked"][:, t], eng.leaked[:, t])
        ok_all &= ok
        print(f"{tid:<16}{res['leaked'][:, t].mean():>16.3f}{eng.leaked[:, t].mean():>15.3f}"
              f"{diff:>9.3f}{bound:>11.3f}  {'yes' if ok else 'NO'}")
    for k, iid in enumerate(compiled.interceptor_ids):
        ok, diff, bound = agree(res["rounds"][:, :, k].sum(axis=1), eng.rounds[:, :, k].sum(axis=1))
        ok_all &= ok
        print(f"fired {iid:<10}{res['rounds'][:, :, k].sum(axis=1).mean():>16.3f}"
              f"{eng.rounds[:, :, k].sum(axis=1).mean():>15.3f}{diff:>9.3f}{bound:>11.3f}  {'yes' if ok else 'NO'}")
    same = identical(res, eng)
    print(f"identical replications: {int(same.sum())} of {replications} ({same.mean():.1%})")
    print(f"engine: {engine_s:.3f} s ({engine_s / replications * 1e3:.3f} ms per replication; "
          f"CPU {engine_cpu:.3f} s); baseline / engine = {baseline_s / engine_s:.0f}x wall, "
          f"{baseline_cpu / engine_cpu:.0f}x CPU")
    return ok_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", type=Path)
    parser.add_argument("--replications", "-n", type=int, default=100)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--compare", action="store_true", help="also run the engine and compare")
    args = parser.parse_args(argv)
    if args.replications < 1:
        parser.error("--replications must be at least 1")

    scenario = load_scenario(args.scenario)
    if scenario.doctrine.policy != "greedy":
        parser.error(f"the SimPy baseline implements the greedy policy only, not {scenario.doctrine.policy!r}")
    seed = args.seed if args.seed is not None else (scenario.seed if scenario.seed is not None else 0)
    compiled = compile_scenario(scenario, seed)  # static geometry: shared, not timed

    t0, c0 = time.perf_counter(), time.process_time()
    res = simulate(compiled, args.replications, seed)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(
        json.dumps(summary(compiled, res, args.replications, seed), indent=2) + "\n", encoding="utf-8")
    timing = {"replications": args.replications, "threats": compiled.n_threats, "simulation_s": elapsed,
              "simulation_cpu_s": cpu, "seconds_per_replication": elapsed / args.replications}
    (args.out / "timing.json").write_text(json.dumps(timing, indent=2) + "\n", encoding="utf-8")
    print(f"simpy baseline: {compiled.name}, {compiled.n_threats} threats, {args.replications} replications: "
          f"{elapsed:.3f} s simulation ({elapsed / args.replications:.4f} s per replication; "
          f"CPU {cpu:.3f} s, {cpu / args.replications:.4f} s per replication)")
    print(f"wrote {args.out / 'summary.json'}, {args.out / 'timing.json'}")
    if args.compare:
        return 0 if compare(compiled, scenario, res, args.replications, seed, elapsed, cpu) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
