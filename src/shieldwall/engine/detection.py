"""Probabilistic detection and tracking (scenario ``mechanisms.detection``; docs/model.md,
Detection and tracking).

Geometry is fixed at compile time: when each threat first comes inside each sensor's coverage
(the rule and path sampling of every track, engine/paths.py ``track_times``). Per replication,
``fire_unit_tracks`` draws the scans from there on and gives the kernel, per (threat, battery),
the earliest time the battery holds a track it may fire on; the kernel then opens each
engagement window no sooner (and closes a decoy's once it is identified). The scans' random
numbers come from a counter-based hash of the replication's key (one uniform of the chunk's
stream, ``Uniforms.detect``) and the scan's (threat, sensor, number): a scan has the same number
however many scans the search looks at, so stopping a sensor's search early (once another
sensor of its network formed the track sooner) changes nothing, and the SimPy model, which
scans everything, consumes the same numbers.

Rules (per sensor s, threat j, scans at cover + i T_s while the flight lasts):
- inside coverage, Swerling 1: Pd = Pfa^(1 / (1 + SNR)), SNR = SNR_ref rcs (R_pd / R)^4, with
  SNR_ref = ln Pfa / ln Pd_ref - 1 (Pd_ref at R_pd against 1 m2); outside coverage no detection;
- a track is confirmed at the scan that completes ``confirm_scans`` detections in a row (a missed
  scan, or leaving coverage, starts the count again);
- a network holds a track from its first sensor's; a battery gets it after its C2 latency
  (mechanisms.c2) and its lost updates (G ~ geometric: P(G >= g) = L^g, an update per scan period
  of the sensor that formed it), and from its own radar at once: min(own, network + delay);
- a decoy with identify_probability p is identified at the K-th scan after its first track,
  P(K >= k) = (1 - p)^(k - 1), and is not engaged from then on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shieldwall.engine.hazards import next_event
from shieldwall.engine.paths import position_of, track_times
from shieldwall.engine.records import Detection, Paths
from shieldwall.engine.geometry import HORIZON_M_PER_SQRT_M
from shieldwall.jit import cached_njit

# the catalog's fields left out (assumptions, docs/model.md): a rotating search radar's period,
# the usual Pd at a quoted range, a usual design false-alarm rate, 2 detections in a row
DEFAULTS: dict[str, float] = {"scan_period_s": 10.0, "reference_pd": 0.9, "false_alarm_probability": 1e-6,
                              "confirm_scans": 2}
TAG_SCAN, TAG_LINK, TAG_IDENTIFY, TAG_ACOUSTIC = 1, 2, 3, 4  # the hash's streams
PD_SCANS = 16  # scans per (threat, sensor) whose detection probability compile works out once
_M64 = (1 << 64) - 1


def _mix_py(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def scan_uniform_py(key: int, tag: int, a: int, b: int, c: int) -> float:
    """``scan_uniform`` in plain Python (splitmix64's finaliser, chained): the reference the tests
    hold the compiled one to."""
    z = _mix_py((key + tag * 0x9E3779B97F4A7C15) & _M64)
    z = _mix_py(z ^ a)
    z = _mix_py(z ^ b)
    z = _mix_py(z ^ c)
    return ((z >> 11) + 0.5) * (1.0 / 9007199254740992.0)


@cached_njit(inline="always")
def _mix(z):  # type: ignore[no-untyped-def]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@cached_njit(inline="always")
def scan_uniform(key, tag, a, b, c):  # type: ignore[no-untyped-def]
    """A uniform in (0, 1) for (key, stream tag, a, b, c): scan c of sensor b at threat a."""
    z = _mix(np.uint64(key) + np.uint64(tag) * np.uint64(0x9E3779B97F4A7C15))
    z = _mix(z ^ np.uint64(a))
    z = _mix(z ^ np.uint64(b))
    z = _mix(z ^ np.uint64(c))
    return (np.float64(z >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)


@cached_njit(inline="always")
def scan_stream(key, tag, a, b):  # type: ignore[no-untyped-def]
    """The part of ``scan_uniform``'s hash that does not depend on c: a (threat, sensor)'s scans
    then cost one mix each instead of four (``scan_draw``; the same numbers)."""
    z = _mix(np.uint64(key) + np.uint64(tag) * np.uint64(0x9E3779B97F4A7C15))
    z = _mix(z ^ np.uint64(a))
    return _mix(z ^ np.uint64(b))


@cached_njit(inline="always")
def scan_draw(stream, c):  # type: ignore[no-untyped-def]
    """``scan_uniform(key, tag, a, b, c)`` from ``scan_stream(key, tag, a, b)``."""
    z = _mix(stream ^ np.uint64(c))
    return (np.float64(z >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)


def replication_key(u: float) -> int:
    """The scans' key of a replication, from its uniform of the chunk's stream."""
    return int(u * 9007199254740992.0)


@cached_njit(inline="always")
def scan_pd(snr_ref, range_pd_m, rcs_m2, range_m, pfa):  # type: ignore[no-untyped-def]
    """Swerling 1 detection probability of one scan at slant range ``range_m``."""
    snr = snr_ref * rcs_m2 * (range_pd_m / max(range_m, 1.0)) ** 4
    return pfa ** (1.0 / (1.0 + snr))


def reference_snr(reference_pd: float, pfa: float) -> float:
    """The SNR at which Swerling 1 gives ``reference_pd``: ln Pfa / ln Pd - 1."""
    return math.log(pfa) / math.log(reference_pd) - 1.0


@cached_njit()
def scan_probability(det, paths, j, s, tau):  # type: ignore[no-untyped-def]
    """Sensor s's detection probability of threat j at its scan at tau after launch (0 outside
    its coverage: beyond its range scaled by rcs^(1/4), or below its radar horizon). Not inlined:
    in the scan loop, its path code made every call ten times slower, even where the loop reads
    the compiled table instead (measured); called, it costs only where it runs."""
    x, y, z = position_of(j, tau, paths.ballistic, paths.vertex_offset, paths.vertex_x_m, paths.vertex_y_m,
                          paths.vertex_t_s, paths.altitude_m, paths.apogee_m, paths.release_m)
    dx = x - det.sen_x_m[s]
    dy = y - det.sen_y_m[s]
    ground = np.sqrt(dx * dx + dy * dy)
    dz = z - det.sen_h_m[s]
    slant = np.sqrt(ground * ground + dz * dz)
    if ground > HORIZON_M_PER_SQRT_M * (np.sqrt(det.sen_h_m[s]) + np.sqrt(max(z, 0.0))):
        return 0.0
    if slant > det.sen_range_m[s] * det.rcs_m2[j] ** 0.25:
        return 0.0
    return scan_pd(det.sen_snr_ref[s], det.sen_range_pd_m[s], det.rcs_m2[j], slant, det.sen_pfa[s])


@cached_njit(inline="always")
def _table_scans(j, s, flight_j, bound, key, cover_s, sen_scan_s, sen_confirm, pd_row, pd_first):  # type: ignore[no-untyped-def]
    """Sensor s's scans at threat j while the compiled table has their probability: (track time,
    detections in a row, next scan). A track, or the end (flight over, ``bound`` reached, never
    covered), returns next scan -1; else the scan loop goes on in ``_later_scans``. Inlined and
    given plain arrays only: with a record among its arguments (or a call that takes one) every
    call was ten times slower, even where nothing read it (measured)."""
    tau0 = cover_s[j, s]
    period = sen_scan_s[s]
    need = sen_confirm[s]
    row = pd_row[j, s]
    run = 0
    if row < 0:
        return np.inf, 0, -1
    stream = np.uint64(0)
    for i in range(PD_SCANS):
        tau = tau0 + i * period
        if tau >= bound or tau > flight_j:
            return np.inf, 0, -1
        if i == 0:  # the (threat, sensor)'s part of the hash, once its first scan is looked at
            stream = scan_stream(key, TAG_SCAN, j, s)
        if pd_first[row, i] > 0.0 and scan_draw(stream, i) < pd_first[row, i]:
            run += 1
            if run >= need:
                return tau, run, -1
        else:
            run = 0
    return np.inf, run, PD_SCANS


@cached_njit()
def _later_scans(det, paths, j, s, flight_j, bound, key, run, i):  # type: ignore[no-untyped-def]
    """The scan loop from scan i on, with ``run`` detections in a row so far (the rare track that
    needs more scans than the table holds)."""
    while True:
        tau = det.cover_s[j, s] + i * det.sen_scan_s[s]
        if tau >= bound or tau > flight_j:
            return np.inf
        pd = scan_probability(det, paths, j, s, tau)
        if pd > 0.0 and scan_uniform(key, TAG_SCAN, j, s, i) < pd:
            run += 1
            if run >= det.sen_confirm[s]:
                return tau
        else:
            run = 0
        i += 1


@cached_njit()
def sensor_track(det, paths, j, s, flight_j, bound, key):  # type: ignore[no-untyped-def]
    """When sensor s confirms a track on threat j (inf: never, or not before ``bound``): scans
    at cover + i T_s while the flight lasts; a scan detects if its uniform is below its Pd (0
    outside coverage); ``confirm_scans`` detections in a row confirm."""
    t, run, i = _table_scans(j, s, flight_j, bound, key, det.cover_s, det.sen_scan_s, det.sen_confirm, det.pd_row,
                             det.pd_first)
    if i < 0:
        return t
    return _later_scans(det, paths, j, s, flight_j, bound, key, run, i)


@cached_njit()
def _pd_table(det, paths, flight, rows_j, rows_s, out):  # type: ignore[no-untyped-def]
    """out[row, i]: the probability of scan i of sensor rows_s[row] at threat rows_j[row] (0 past
    the flight's end)."""
    for row in range(rows_j.shape[0]):
        j = rows_j[row]
        s = rows_s[row]
        for i in range(out.shape[1]):
            tau = det.cover_s[j, s] + i * det.sen_scan_s[s]
            out[row, i] = scan_probability(det, paths, j, s, tau) if tau <= flight[j] else 0.0


@cached_njit()
def fire_unit_tracks(det, paths, flight, key, present, pair_off, pair_b, own_cover_s, open_s, lost_max, trk, t_id,
                     t_any, t_net):  # type: ignore[no-untyped-def]
    """One replication's draws: trk [window] when the window's battery holds a track on its threat
    that it may fire on, t_id [threat] when a decoy is identified, t_any [threat] when a network
    first holds a track (all after launch; inf: never). Threats not ``present`` get inf (their
    windows are left as they were); tracks are worked out only for the batteries with an
    engagement window on the threat (windows pair_off, pair_b: the others are never read, and a
    replication of a big raid spent most of its time on them), once per (threat, battery), and
    written per window: the kernel reads them window by window (a [threat, battery] table of a
    national laydown is megabytes, read and written at scattered places). own_cover_s [window]:
    when the window's battery's own radar first covers its threat (``window_own_cover``): a
    search whose bound comes first finds nothing and is not started. t_net [threat, network]
    (width 0: not wanted) gets each network's first track (cued area defences).

    open_s [window] (the compiled openings; -inf: every track exact) and lost_max [battery]
    (``link_lost_max``): a window whose network track, with its battery's latency and the most
    updates a link's draw can lose, comes at or before its opening gets the track with no update
    lost, and neither the link's draw nor its own radar's search is worked out: the kernel reads
    a track only as max(opening, track), and any track at or before the opening gives the same
    window (a national raid's windows are nearly all such; their draws were a third of this
    function's time). A ballistic threat's tracks are all worked out (mechanisms.ballistic
    holds them for a track time).
    """
    cover_s, cover_order, sen_scan_s, sen_confirm, sen_net = (det.cover_s, det.cover_order, det.sen_scan_s,
                                                              det.sen_confirm, det.sen_net)
    pd_row, pd_first, bat_net, bat_sensor = det.pd_row, det.pd_first, det.bat_net, det.bat_sensor
    bat_latency_s, bat_link_loss, identify = det.bat_latency_s, det.bat_link_loss, det.identify
    ac, ac_net, ac_latency_s, ac_update_s = det.ac_haz, det.ac_net, det.ac_latency_s, det.ac_update_s
    bat_ball_s = det.bat_ballistic_track_s
    n_ball = bat_ball_s.shape[0]
    n_thr, n_sen = cover_s.shape
    n_bat = bat_sensor.shape[0]
    n_ac = ac_net.shape[0]
    n_net = 0
    for s in range(n_sen):
        n_net = max(n_net, sen_net[s] + 1)
    for k in range(n_ac):
        n_net = max(n_net, ac_net[k] + 1)
    net_t = np.empty(n_net)
    net_scan = np.empty(n_net)
    done = np.full(n_bat, -1, np.int64)  # the threat whose track battery b has: each once per threat
    bat_trk = np.empty(n_bat)  # battery b's track on threat done[b]
    ball_done = np.full(n_bat if n_ball else 0, -1, np.int64)  # the same, for the ballistic track time
    for j in range(n_thr):
        t_id[j] = np.inf
        t_any[j] = np.inf
        for net in range(t_net.shape[1]):
            t_net[j, net] = np.inf
        if not present[j]:
            continue
        net_t[:] = np.inf
        net_scan[:] = 0.0
        for k in range(n_ac):  # acoustic cueing first: its tracks bound the radars' search
            row = j * n_ac + k
            if ac.threat_offset[row] == ac.threat_offset[row + 1]:
                continue
            tau, z = next_event(ac.threat_offset[row], ac.threat_offset[row + 1], 0.0,
                                -np.log(scan_uniform(key, TAG_ACOUSTIC, j, k, 0)),
                                scan_uniform(key, TAG_ACOUSTIC, j, k, 1), ac.t0_s, ac.t1_s, ac.rate_per_s,
                                ac.zone_offset, ac.zone, ac.zone_rate_per_s)
            if tau < np.inf and tau + ac_latency_s[z] <= flight[j] and tau + ac_latency_s[z] < net_t[ac_net[k]]:
                net_t[ac_net[k]] = tau + ac_latency_s[z]
                net_scan[ac_net[k]] = ac_update_s[z]
        latest = np.inf  # the latest of the networks' tracks so far (acoustic ones included)
        if n_ac and n_net:
            latest = net_t[0]
            for other in range(1, n_net):
                latest = max(latest, net_t[other])
        for q in range(n_sen):  # soonest in coverage first: a later one can only beat a bound
            s = cover_order[j, q]
            if s < 0 or cover_s[j, s] >= latest:  # this and every later sensor: no network's track sooner
                break
            net = sen_net[s]
            if cover_s[j, s] >= net_t[net]:
                continue
            t, run, i = _table_scans(j, s, flight[j], net_t[net], key, cover_s, sen_scan_s, sen_confirm, pd_row,
                                     pd_first)
            if i >= 0:
                t = _later_scans(det, paths, j, s, flight[j], net_t[net], key, run, i)
            if t < net_t[net]:
                net_t[net] = t
                net_scan[net] = sen_scan_s[s]
                latest = net_t[0]
                for other in range(1, n_net):
                    latest = max(latest, net_t[other])
        scan_any = 0.0
        for net in range(min(n_net, t_net.shape[1])):
            t_net[j, net] = net_t[net]
        for net in range(n_net):
            if net_t[net] < t_any[j]:
                t_any[j] = net_t[net]
                scan_any = net_scan[net]
        ball_j = n_ball > 0 and paths.ballistic[j]
        exact = False  # some window's track worked out below (once per battery, in bat_trk)
        for p in range(pair_off[j], pair_off[j + 1]):
            b = pair_b[p]
            net = bat_net[b]
            tn = net_t[net]
            delay = bat_latency_s[b]
            loss = bat_link_loss[b]
            if tn + (delay + lost_max[b] * net_scan[net]) <= open_s[p] and loss < 1.0 and not ball_j:
                trk[p] = tn + delay  # it moves no window, whatever the draws (docstring)
                continue
            exact = True
            if done[b] == j:
                continue
            done[b] = j
            bat_trk[b] = np.inf
            if tn == np.inf:
                continue
            s = bat_sensor[b]
            own = np.inf
            scanned = delay > 0.0 and loss < 1.0
            if scanned and own_cover_s[p] < tn + delay:
                # its own radar's track before the network's could reach it with no update lost:
                # then no loss can matter (a lost update only delays the network's), and the
                # link's hash is not worked out (the same track time as the search to the later bound)
                own, run, i = _table_scans(j, s, flight[j], tn + delay, key, cover_s, sen_scan_s, sen_confirm,
                                           pd_row, pd_first)
                if i >= 0:
                    own = _later_scans(det, paths, j, s, flight[j], tn + delay, key, run, i)
                if own < np.inf:
                    bat_trk[b] = own
                    continue
            base = delay
            if loss >= 1.0:
                delay = np.inf
            elif loss > 0.0:
                u = scan_uniform(key, TAG_LINK, j, b, 0)
                if u <= loss:  # at least one update lost (G >= 1 iff u <= L): a logarithm only then
                    delay += np.floor(np.log(u) / np.log(loss)) * net_scan[net]
            if delay > 0.0:
                if (not scanned or delay != base) and own_cover_s[p] < tn + delay:  # search to the later bound
                    own, run, i = _table_scans(j, s, flight[j], tn + delay, key, cover_s, sen_scan_s, sen_confirm,
                                               pd_row, pd_first)
                    if i >= 0:
                        own = _later_scans(det, paths, j, s, flight[j], tn + delay, key, run, i)
                bat_trk[b] = min(own, tn + delay)
            else:
                bat_trk[b] = tn
        if ball_j:
            for p in range(pair_off[j], pair_off[j + 1]):
                b = pair_b[p]
                if ball_done[b] == j:
                    continue
                ball_done[b] = j
                if bat_ball_s[b] > 0.0 and bat_trk[b] < np.inf:
                    # mechanisms.ballistic: its own radar's drawn track, held for the system's track time
                    s = bat_sensor[b]
                    own, run, i = _table_scans(j, s, flight[j], np.inf, key, cover_s, sen_scan_s, sen_confirm,
                                               pd_row, pd_first)
                    if i >= 0:
                        own = _later_scans(det, paths, j, s, flight[j], np.inf, key, run, i)
                    bat_trk[b] = max(bat_trk[b], own + bat_ball_s[b])
        if exact:
            for p in range(pair_off[j], pair_off[j + 1]):
                if done[pair_b[p]] == j:
                    trk[p] = bat_trk[pair_b[p]]
        p = identify[j]
        if p > 0.0 and t_any[j] < np.inf:
            k = 1.0
            if p < 1.0:
                k += np.floor(np.log(scan_uniform(key, TAG_IDENTIFY, j, 0, 0)) / np.log(1.0 - p))
            t_id[j] = t_any[j] + k * scan_any


@cached_njit()
def window_own_cover(det, pair_j, pair_b):  # type: ignore[no-untyped-def]
    """Per window: when its battery's own radar first covers its threat (det.cover_s, inf: never),
    read once per chunk in window order instead of at scattered places of a [threat, sensor]
    table per replication."""
    out = np.empty(pair_j.shape[0])
    for p in range(pair_j.shape[0]):
        out[p] = det.cover_s[pair_j[p], det.bat_sensor[pair_b[p]]]
    return out


# a link's uniform is ((z >> 11) + 0.5) / 2^53 (scan_draw): never below this
LEAST_UNIFORM = 0.5 / 9007199254740992.0


@cached_njit()
def link_lost_max(bat_link_loss):  # type: ignore[no-untyped-def]
    """Per battery: the most updates its link's draw can lose, floor(ln u / ln L) at the least
    uniform the hash gives (the count only grows as u falls, and the floating-point steps keep
    that order), plus one against rounding; 0 where nothing is lost (L = 0, or L = 1: no
    network track at all)."""
    out = np.zeros(bat_link_loss.shape[0])
    for b in range(bat_link_loss.shape[0]):
        loss = bat_link_loss[b]
        if 0.0 < loss < 1.0:
            out[b] = np.floor(np.log(LEAST_UNIFORM) / np.log(loss)) + 1.0
    return out


def no_detection(n_thr: int) -> Detection:
    """The record when the switch is off: every array empty (one compiled kernel signature)."""
    f, i = np.zeros(0), np.zeros(0, np.int64)
    return Detection(False, f, f, f, f, i, f, f, f, f, i, np.zeros((n_thr, 0)), np.zeros((n_thr, 0), np.int64),
                     np.zeros((n_thr, 0), np.int64), np.zeros((0, PD_SCANS)), i, i, f, f, f, f)


@dataclass
class DetectionEffects:
    """What ``mechanisms.detection`` used, for the summary: each sensor's scan parameters, the
    batteries' link loss, the decoy types' identification probability."""

    sensors: dict[str, dict[str, float]] = field(default_factory=dict)
    link_loss_probability: dict[str, float] = field(default_factory=dict)
    identify_probability: dict[str, float] = field(default_factory=dict)
    acoustic: dict[str, dict[str, Any]] = field(default_factory=dict)  # field id -> network, sensors, rates

    def summary(self) -> dict[str, Any]:
        out = {"sensors": self.sensors, "link_loss_probability": self.link_loss_probability,
               "identify_probability": self.identify_probability}
        return {**out, "acoustic": self.acoustic} if self.acoustic else out


def build_detection(sensor_ids: list[str], sensor_params: list[Any], sensors: tuple, paths: Paths,
                    flight: np.ndarray, step: np.ndarray, rcs: np.ndarray, n_bat: int, bat_latency_s: np.ndarray,
                    bat_link_loss: np.ndarray, identify: np.ndarray, effects: DetectionEffects) -> Detection:
    """The compiled record: ``sensors`` as compile's (x, y, height, range, network) with the
    batteries' own radars first (sensor b is battery b's); ``sensor_params`` the catalog entries
    (systems, then radar types) whose scan fields apply, defaults where left out."""
    x, y, h, range_m, net = sensors
    n_sen = len(sensor_ids)

    def value(obj: Any, name: str) -> float:
        v = getattr(obj, name)
        return float(DEFAULTS[name] if v is None else v)

    period = np.array([value(p, "scan_period_s") for p in sensor_params], float)
    ref_pd = np.array([value(p, "reference_pd") for p in sensor_params], float)
    pfa = np.array([value(p, "false_alarm_probability") for p in sensor_params], float)
    confirm = np.array([value(p, "confirm_scans") for p in sensor_params], np.int64)
    range_pd = np.array([1000.0 * p.range_pd_km if p.range_pd_km is not None else r
                         for p, r in zip(sensor_params, range_m)], float)
    snr_ref = np.array([reference_snr(d, f) for d, f in zip(ref_pd, pfa)], float)
    cover = track_times(paths, flight, step, rcs, x, y, h, range_m, np.arange(n_sen, dtype=np.int64), n_sen)
    order = np.argsort(cover, axis=1, kind="stable").astype(np.int64)
    order[np.take_along_axis(cover, order, axis=1) == np.inf] = -1
    for i, sid in enumerate(sensor_ids):
        effects.sensors[sid] = {"scan_period_s": float(period[i]), "reference_pd": float(ref_pd[i]),
                                "range_pd_km": float(range_pd[i]) / 1000.0, "false_alarm_probability": float(pfa[i]),
                                "confirm_scans": int(confirm[i])}
    det = Detection(True, np.asarray(x, float), np.asarray(y, float), np.asarray(h, float),
                    np.asarray(range_m, float), np.asarray(net, np.int64), period, snr_ref, range_pd, pfa, confirm,
                    np.ascontiguousarray(cover), np.ascontiguousarray(order), np.zeros(cover.shape, np.int64),
                    np.zeros((0, PD_SCANS)), np.arange(n_bat, dtype=np.int64), np.asarray(net[:n_bat], np.int64),
                    np.asarray(bat_latency_s, float), np.asarray(bat_link_loss, float), np.asarray(rcs, float),
                    np.asarray(identify, float))
    return with_pd_table(det, paths, flight)


def with_pd_table(det: Detection, paths: Paths, flight: np.ndarray) -> Detection:
    """The record with its table of the first PD_SCANS scans' probabilities, one row per
    (threat, sensor) that ever covers it (the others' pd_row -1)."""
    rows_j, rows_s = np.nonzero(np.isfinite(det.cover_s))
    pd_row = np.full(det.cover_s.shape, -1, np.int64)
    pd_row[rows_j, rows_s] = np.arange(len(rows_j))
    det = det._replace(pd_row=pd_row, pd_first=np.zeros((len(rows_j), PD_SCANS)))
    _pd_table(det, paths, flight, rows_j.astype(np.int64), rows_s.astype(np.int64), det.pd_first)
    return det
