"""Hazards along a threat's path: electronic warfare and area defences (docs/model.md).

Where many small things act on a threat over a stretch of its flight (jammers over a zone,
hundreds of mobile fire groups, interceptor-drone teams, aircraft on patrol), shieldwall does not
place each one: it turns them into a rate of events per second of flight while the threat is
inside a zone (a disc), from physical parameters per km flown times the threat's ground speed.
The time of the first event is then exp-distributed in the integrated rate:

    P(no event by tau) = exp(-integral_0^tau rate(s) ds)

so a replication draws it from one uniform u as the first tau with integral = -ln(u).

Compile works out, once per scenario, each threat's *segments*: the stretches of its flight (in
seconds after launch) between consecutive zone boundaries, each with its total rate and the zones
(their index and own rate) that make it. The kernel and the SimPy model walk the same segments
(``next_event``), so both draw the same event times from the same uniforms.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from shieldwall.engine.records import Hazards
from shieldwall.jit import cached_njit


def empty_hazards(n_threats: int) -> Hazards:
    return Hazards(np.zeros(n_threats + 1, np.int64), np.zeros(0), np.zeros(0), np.zeros(0),
                   np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0))


def disc_intervals(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray, cx: float, cy: float,
                   radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    """For straight legs from (x0, y0) to (x1, y1): the fractions [f_in, f_out] of each leg inside the
    disc (f_in > f_out where a leg misses it). The squared distance to the centre is a quadratic
    in the fraction, so the crossing points are its roots."""
    dx, dy = x1 - x0, y1 - y0
    px, py = x0 - cx, y0 - cy
    a = dx * dx + dy * dy
    b = 2.0 * (px * dx + py * dy)
    c = px * px + py * py - radius_m * radius_m
    disc = b * b - 4.0 * a * c
    inside = disc >= 0.0
    sq = np.sqrt(np.where(inside, disc, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        f_in = np.where(a > 0.0, (-b - sq) / (2.0 * a), np.where(c <= 0.0, 0.0, np.inf))
        f_out = np.where(a > 0.0, (-b + sq) / (2.0 * a), np.where(c <= 0.0, 1.0, -np.inf))
    f_in = np.where(inside, np.maximum(f_in, 0.0), np.inf)
    f_out = np.where(inside, np.minimum(f_out, 1.0), -np.inf)
    return f_in, f_out


def build_hazards(n_threats: int, pieces: list[tuple[int, float, float, int, float]]) -> Hazards:
    """Segments from the pieces (threat, t0_s, t1_s, zone, rate_per_s) where one zone acts on one
    threat: each threat's flight is cut at every piece's ends, and each cut carries the sum of
    the rates acting on all of it (zones in increasing index: a fixed order for the draws)."""
    by_threat: list[list[tuple[float, float, int, float]]] = [[] for _ in range(n_threats)]
    for j, t0, t1, z, rate in pieces:
        if t1 > t0 and rate > 0.0:
            by_threat[j].append((t0, t1, z, rate))
    off = np.zeros(n_threats + 1, np.int64)
    t0s: list[float] = []
    t1s: list[float] = []
    rates: list[float] = []
    zoff: list[int] = [0]
    zones: list[int] = []
    zrates: list[float] = []
    for j, items in enumerate(by_threat):
        cuts = sorted({t for t0, t1, _, _ in items for t in (t0, t1)})
        for a, b in zip(cuts[:-1], cuts[1:]):
            acting = sorted((z, rate) for t0, t1, z, rate in items if t0 <= a and b <= t1)
            if not acting:
                continue
            t0s.append(a)
            t1s.append(b)
            rates.append(float(sum(r for _, r in acting)))
            zones.extend(z for z, _ in acting)
            zrates.extend(r for _, r in acting)
            zoff.append(len(zones))
        off[j + 1] = len(t0s)
    return Hazards(off, np.array(t0s, float), np.array(t1s, float), np.array(rates, float),
                   np.array(zoff, np.int64), np.array(zones, np.int64), np.array(zrates, float))


@cached_njit(inline="always")
def next_event(seg_lo, seg_hi, tau_from, exposure, u_zone, t0_s, t1_s, rate_per_s, zone_offset, zone,
               zone_rate_per_s):  # type: ignore[no-untyped-def]
    """The first event after ``tau_from`` (seconds after launch) on segments [seg_lo, seg_hi) when
    the integrated rate from tau_from reaches ``exposure`` (= -ln u of a uniform), and the zone it
    comes from, chosen in proportion to the zones' rates at that moment with ``u_zone``: (tau,
    zone), or (inf, -1) if the threat's flight ends first."""
    acc = 0.0
    for s in range(seg_lo, seg_hi):
        a = t0_s[s]
        b = t1_s[s]
        if b <= tau_from:
            continue
        if a < tau_from:
            a = tau_from
        more = rate_per_s[s] * (b - a)
        if acc + more >= exposure:
            tau = a + (exposure - acc) / rate_per_s[s]
            pick = u_zone * rate_per_s[s]
            z = zone[zone_offset[s + 1] - 1]
            for e in range(zone_offset[s], zone_offset[s + 1]):
                pick -= zone_rate_per_s[e]
                if pick < 0.0:
                    z = zone[e]
                    break
            return tau, z
        acc += more
    return np.inf, -1


# Sub-pieces per electronic-warfare segment under mechanisms.ins: the hit probability after denial
# changes along a segment (the distance still to fly shrinks), and is taken at each sub-piece's middle.
INS_SUBPIECES = 8


def ins_hit_probability(drift_m_per_km: np.ndarray | float, distance_km: np.ndarray | float,
                        radius_m: np.ndarray | float) -> np.ndarray:
    """Probability that a threat denied GNSS ``distance_km`` before its target still lands within
    ``radius_m`` of it, flying on on its inertial navigation: its miss is circular normal with a
    circular error probable CEP = drift x distance (half the misses within CEP), so

        P(hit) = P(miss <= R) = 1 - 2^(-(R / CEP)^2)          (1 where CEP = 0)."""
    cep = np.asarray(drift_m_per_km, float) * np.asarray(distance_km, float)
    with np.errstate(divide="ignore"):
        ratio = np.where(cep > 0.0, np.asarray(radius_m, float) / np.where(cep > 0.0, cep, 1.0), np.inf)
    return -np.expm1(-np.log(2.0) * ratio * ratio)


def deny_then_drift(hz: Hazards, affected: np.ndarray, hit_probability: Callable[[np.ndarray, np.ndarray], np.ndarray],
                    pieces: int = INS_SUBPIECES) -> Hazards:
    """Electronic-warfare segments under mechanisms.ins (docs/model.md): a zone's events are GNSS
    denials; the first one leaves the threat on its inertial navigation for the rest of its flight,
    and it is lost (suppressed or diverted) only with 1 - p, p = ``hit_probability(threat,
    tau)`` its chance to hit anyway when denied at tau. Later events change nothing (it is already
    denied). The loss time then has sub-density f(t) = h(t) exp(-H(t)) (1 - p(t)) (H: the
    integrated denial rate), so it is the first event of the rate g = f / (1 - F): each ``affected``
    threat's segments are cut in ``pieces`` and each piece gets the constant rate that keeps
    P(not lost by its end) exact for p held at the piece's middle. The zone an event comes from
    keeps its share of the rate. Threats not ``affected`` keep their segments unchanged, so
    the kernel and the SimPy model draw from the result as from any segments."""
    n_thr = len(hz.threat_offset) - 1
    n_seg = len(hz.t0_s)
    if n_seg == 0 or not affected.any():
        return hz
    seg_threat = np.repeat(np.arange(n_thr), np.diff(hz.threat_offset))
    count = np.where(affected[seg_threat], pieces, 1)
    seg = np.repeat(np.arange(n_seg), count)  # [piece] its segment
    first = np.cumsum(count) - count
    k = np.arange(len(seg)) - first[seg]
    span = (hz.t1_s - hz.t0_s)[seg] / count[seg]
    a = hz.t0_s[seg] + k * span
    b = np.where(k == count[seg] - 1, hz.t1_s[seg], a + span)
    h = hz.rate_per_s[seg]
    j = seg_threat[seg]
    hd = h * (b - a)
    # per threat: integrated denial rate H and loss probability F at each piece's end (grouped cumsums)
    start = hz.threat_offset[:-1][j]  # the threat's first segment ...
    p_first = first[start]  # ... and first piece
    c = np.cumsum(hd)
    h_end = c - (c[p_first] - hd[p_first])
    on = affected[j]
    p = np.where(on, hit_probability(j, 0.5 * (a + b)), 0.0)
    f = (1.0 - p) * (np.exp(-(h_end - hd)) - np.exp(-h_end))
    cf = np.cumsum(f)
    f_end = cf - (cf[p_first] - f[p_first])
    q_a = 1.0 - (f_end - f)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(on, -np.log1p(-f / q_a) / (b - a), h)
    g = np.where(np.isfinite(g), g, 0.0)
    keep = g > 0.0
    # zones of each kept piece: its segment's, each rate scaled by g / h
    nz = np.diff(hz.zone_offset)[seg][keep]
    zoff = np.zeros(len(nz) + 1, np.int64)
    zoff[1:] = np.cumsum(nz)
    owner = np.repeat(np.arange(len(nz)), nz)
    src = hz.zone_offset[seg[keep]][owner] + (np.arange(len(owner)) - zoff[owner])
    scale = (g / h)[keep][owner]
    off = np.searchsorted(j[keep], np.arange(n_thr + 1)).astype(np.int64)
    return Hazards(off, a[keep], b[keep], g[keep], zoff, hz.zone[src].copy(), hz.zone_rate_per_s[src] * scale)
