"""Probabilistic detection and tracking (docs/model.md; scenario ``mechanisms.detection``):
the scan's Swerling 1 detection probability against its formula, the time to a confirmed track
against the geometric (and M-in-a-row) distribution, decoy identification and lost network
updates against their geometric laws, the switch off changing nothing, and the SimPy model
agreeing replication for replication."""

from __future__ import annotations

import copy
import math

import numba
import numpy as np
import pytest

import simpy_model
from conftest import TEST_CATALOG, make_scenario, within_sigma
from shieldwall.engine.compile import compile_scenario
from shieldwall.engine.detection import (
    LEAST_UNIFORM,
    TAG_SCAN,
    fire_unit_tracks,
    link_lost_max,
    reference_snr,
    scan_draw,
    scan_pd,
    scan_stream,
    scan_uniform,
    scan_uniform_py,
    sensor_track,
    window_own_cover,
    with_pd_table,
)
from shieldwall.engine.records import Detection, Paths
from shieldwall.engine.runner import run

N_KEYS = 4000


@numba.njit
def _split_hash(key, tag, a, b, c):  # type: ignore[no-untyped-def]
    """As the scan loop calls it: the stream (a uint64 there) and then the scan's draw."""
    return scan_draw(scan_stream(key, tag, a, b), c)


def test_the_compiled_hash_is_the_plain_one_and_uniform() -> None:
    rng = np.random.default_rng(7)
    for key, a, b, c in rng.integers(0, 2**53, size=(200, 4)):
        assert scan_uniform(int(key), TAG_SCAN, int(a), int(b), int(c)) == scan_uniform_py(int(key), TAG_SCAN, int(a),
                                                                                         int(b), int(c))
        # the scan loop's split hash (a (threat, sensor)'s stream once, then one mix a scan): the same numbers
        assert _split_hash(int(key), TAG_SCAN, int(a), int(b), int(c)) == scan_uniform_py(
            int(key), TAG_SCAN, int(a), int(b), int(c))
    u = np.array([scan_uniform(11, TAG_SCAN, 3, 4, i) for i in range(20000)])
    assert 0.0 < u.min() and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 4 * math.sqrt(1 / 12 / len(u))
    assert np.histogram(u, bins=10, range=(0, 1))[0].min() > 1800  # 2000 expected per bin


def _hover(range_m: float, period_s: float, confirm: int, pd_ref: float, pfa: float, range_pd_m: float,
           rcs: float = 1.0) -> tuple[Detection, Paths]:
    """One sensor 1 km up at the origin and one threat that stays range_m away at its height (a
    path whose two vertices are the same point): every scan sees the same signal to noise."""
    paths = Paths(ballistic=np.zeros(1, bool), vertex_offset=np.array([0, 2]), vertex_x_m=np.array([range_m, range_m]),
                  vertex_y_m=np.zeros(2), vertex_t_s=np.array([0.0, 1e6]), altitude_m=np.full(1, 1000.0),
                  apogee_m=np.zeros(1), release_m=np.zeros(1))
    f, i = np.array, np.int64
    det = Detection(True, f([0.0]), f([0.0]), f([1000.0]), f([2 * range_m]), np.zeros(1, i), f([period_s]),
                    f([reference_snr(pd_ref, pfa)]), f([range_pd_m]), f([pfa]), np.array([confirm], i),
                    np.zeros((1, 1)), np.zeros((1, 1), i), np.zeros((1, 1), i), np.zeros((0, 0)),
                    np.zeros(1, i), np.zeros(1, i), f([0.0]), f([0.0]), f([rcs]), f([0.0]))
    return with_pd_table(det, paths, np.array([1e6])), paths


@pytest.mark.parametrize("range_km, rcs", [(60.0, 1.0), (45.0, 0.1), (80.0, 2.0)])
def test_pd_per_scan_is_swerling_1_from_the_radar_equation(range_km: float, rcs: float) -> None:
    """Pd = Pfa^(1/(1+SNR)), SNR = SNR_ref rcs (R_pd/R)^4, SNR_ref = ln Pfa / ln Pd_ref - 1; with
    one detection to confirm, the first scan detects with Pd."""
    pfa, pd_ref, r_pd = 1e-6, 0.9, 50_000.0
    snr = (math.log(pfa) / math.log(pd_ref) - 1.0) * rcs * (r_pd / (1000.0 * range_km)) ** 4
    pd = pfa ** (1.0 / (1.0 + snr))
    assert scan_pd(reference_snr(pd_ref, pfa), r_pd, 1.0, r_pd, pfa) == pytest.approx(pd_ref, rel=1e-12)
    assert scan_pd(reference_snr(pd_ref, pfa), r_pd, rcs, 1000.0 * range_km, pfa) == pytest.approx(pd, rel=1e-12)
    det, paths = _hover(1000.0 * range_km, 5.0, 1, pd_ref, pfa, r_pd, rcs)
    first = np.array([sensor_track(det, paths, 0, 0, 1e6, np.inf, key) for key in range(N_KEYS)])
    assert within_sigma(float(np.mean(first == 0.0)), pd, N_KEYS)


@pytest.mark.parametrize("confirm", [1, 2, 3])
def test_time_to_track_is_geometric_in_scans(confirm: int) -> None:
    """With Pd p per scan and M detections in a row to confirm, the scans N up to the track have
    mean (1 - p^M) / ((1 - p) p^M) (M = 1: geometric, P(N = n) = (1 - p)^(n-1) p)."""
    period = 4.0
    det, paths = _hover(70_000.0, period, confirm, 0.9, 1e-6, 50_000.0)
    p = float(scan_pd(det.sen_snr_ref[0], 50_000.0, 1.0, 70_000.0, 1e-6))
    n = np.array([sensor_track(det, paths, 0, 0, 1e6, np.inf, key) for key in range(N_KEYS)]) / period + 1
    mean = (1 - p ** confirm) / ((1 - p) * p ** confirm)
    var_bound = mean * mean * 4  # a loose bound on the variance of these waiting times
    assert abs(n.mean() - mean) < 4 * math.sqrt(var_bound / N_KEYS), (n.mean(), mean)
    assert n.min() == confirm
    if confirm == 1:
        for k in (1, 2, 3):
            assert within_sigma(float(np.mean(n == k)), (1 - p) ** (k - 1) * p, N_KEYS)


# a surveillance radar forms the network's track; the battery's own radar is short-sighted
RADARS = [{"id": "ew", "type": "ew", "lat": 50.45, "lon": 30.52}]


def _scenario(on: bool, **fields) -> object:  # type: ignore[no-untyped-def]
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["radars"] = {"ew": {"range_km": 60, "height_m": 20, "scan_period_s": 6, "confirm_scans": 2,
                                "reference_pd": 0.9}}
    catalog["systems"]["test-sam"].update(radar_range_km=15, scan_period_s=2, confirm_scans=1)
    catalog["systems"]["test-sam"].update(fields.pop("system", {}))
    catalog["threats"]["decoy"] = {"class": "drone", "speed_mps": 45, "altitude_m": 500, "decoy": True,
                                   **fields.pop("decoy", {})}
    raids = [{"id": "w", "threat": "test-drone", "count": 4, "launch": {"lat": 51.0, "lon": 30.52, "spread_km": 5},
              "target": "town", "window_s": 300, "decoys": {"threat": "decoy", "count": 4}}]
    return make_scenario(catalog=catalog, radars=RADARS, raids=raids, doctrine={"salvo": 1, "max_engagements": 2},
                         mechanisms={"detection": on}, **fields)


def _draws(compiled, n: int):  # type: ignore[no-untyped-def]
    """fire_unit_tracks over n replication keys: trk [n, threat, battery], t_id, t_any [n, threat]."""
    n_thr, n_bat = compiled.n_threats, len(compiled.battery_ids)
    trk, t_id, t_any = np.empty((n, n_thr, n_bat)), np.empty((n, n_thr)), np.empty((n, n_thr))
    present = np.ones(n_thr, np.bool_)
    every = np.arange(n_thr + 1) * n_bat  # every battery of every threat, as if each had a window
    batteries = np.tile(np.arange(n_bat), n_thr)
    own_cover = window_own_cover(compiled.detection, np.repeat(np.arange(n_thr), n_bat), batteries)
    exact = np.full(n_thr * n_bat, -np.inf)  # no opening to stop at: every track worked out
    lost_max = link_lost_max(compiled.detection.bat_link_loss)
    for key in range(n):
        fire_unit_tracks(compiled.detection, compiled.paths, compiled.threats.flight_s, key, present, every,
                         batteries, own_cover, exact, lost_max, trk[key].reshape(-1), t_id[key],
                         t_any[key], np.zeros((n_thr, 0)))  # window j * n_bat + b
    return trk, t_id, t_any


def test_a_decoy_is_identified_after_a_geometric_number_of_scans() -> None:
    p = 0.3
    c = compile_scenario(_scenario(True, decoy={"identify_probability": p}), 1)
    _, t_id, t_any = _draws(c, 1000)
    decoy = np.asarray(c.threat_type_decoy)[c.threat_type]
    assert np.isinf(t_id[:, ~decoy]).all()
    k = ((t_id[:, decoy] - t_any[:, decoy]) / 6.0).ravel()  # scans of the network's radar after the track
    assert np.allclose(k, np.round(k)) and k.min() == 1
    assert abs(k.mean() - 1 / p) < 4 * math.sqrt((1 - p) / p**2 / k.size)
    assert within_sigma(float(np.mean(k == 1)), p, k.size)


@pytest.mark.parametrize("loss", [0.2, 0.6])
def test_lost_network_updates_delay_a_fire_unit_geometrically(loss: float) -> None:
    """A fire unit gets the network's track after G lost updates, P(G >= g) = L^g, an update per
    scan of the radar that formed it, unless its own radar tracks first: min(own, net + G T)."""
    c = compile_scenario(_scenario(True, system={"link_loss_probability": loss}), 1)
    trk, _, t_any = _draws(c, 500)
    own = np.array([[sensor_track(c.detection, c.paths, j, 0, c.threats.flight_s[j], np.inf, key)
                     for j in range(c.n_threats)] for key in range(500)])
    late = own > t_any  # rows where the own radar did not beat the network
    g = ((trk[:, :, 0] - t_any) / 6.0)
    assert (trk[:, :, 0] == np.minimum(own, t_any + np.round(g) * 6.0)).all()
    delivered = g[late & (trk[:, :, 0] < own)]
    assert np.allclose(delivered, np.round(delivered))
    # G is censored where the own radar came first; check P(G = 0) = 1 - L on all rows it can be read
    readable = late & (own > t_any + 6.0)
    assert within_sigma(float(np.mean(g[readable] == 0)), 1 - loss, int(readable.sum()))


def test_a_track_that_cannot_move_a_window_is_not_worked_out_and_moves_none() -> None:
    """fire_unit_tracks with the windows' openings (as the kernel calls it): a window whose
    network track, with its battery's latency and the most updates a link's draw can lose, comes
    at or before its opening gets the track with none lost; it then opens as with the exact track
    (the kernel reads max(opening, track)); the others get the exact one. The most lost
    updates: at the least uniform the hash gives, plus one. Here the network's track comes ~6-110
    s after launch, the windows open at ~335-505 s, the radar that formed it scans every 6 s:
    with L = 0.2 at most 24 updates are lost (144 s), and the shortcut is taken; with L = 0.6,
    74 (444 s), and never."""
    shortcut = {}
    for loss in (0.2, 0.6):
        assert link_lost_max(np.array([0.0, loss, 1.0])).tolist() == [
            0.0, math.floor(math.log(LEAST_UNIFORM) / math.log(loss)) + 1.0, 0.0]
        c = compile_scenario(_scenario(True, system={"link_loss_probability": loss}), 1)
        w = c.windows
        own_cover = window_own_cover(c.detection, w.threat, w.battery)
        lost_max = link_lost_max(c.detection.bat_link_loss)
        n_thr, n_win = c.n_threats, w.battery.shape[0]
        shortcut[loss] = 0
        for key in range(300):
            out = {}
            for name, opening in (("fast", w.open_s), ("exact", np.full(n_win, -np.inf))):
                trk, t_id, t_any = np.empty(n_win), np.empty(n_thr), np.empty(n_thr)
                fire_unit_tracks(c.detection, c.paths, c.threats.flight_s, key, np.ones(n_thr, np.bool_),
                                 w.threat_offset, w.battery, own_cover, opening, lost_max, trk, t_id, t_any,
                                 np.zeros((n_thr, 0)))
                out[name] = trk, t_id, t_any
            (fast, id_f, any_f), (exact, id_e, any_e) = out["fast"], out["exact"]
            assert np.array_equal(id_f, id_e) and np.array_equal(any_f, any_e)
            assert np.array_equal(np.maximum(w.open_s, fast), np.maximum(w.open_s, exact))
            late = exact > w.open_s
            assert np.array_equal(fast[late], exact[late])
            shortcut[loss] += int((fast != exact).sum())
    assert shortcut[0.2] > 100 and shortcut[0.6] == 0


def test_the_switch_off_changes_nothing_and_the_fields_only_act_under_it() -> None:
    off = run(_scenario(False, decoy={"identify_probability": 0.5}, system={"link_loss_probability": 0.5}),
              replications=64, seed=4)
    plain = run(_scenario(False), replications=64, seed=4)
    assert simpy_model.identical(off, plain).all()
    assert "detection" not in off.summary()


def test_detection_delays_fire_identified_decoys_are_let_through_and_the_oracle_agrees() -> None:
    on_none = run(_scenario(True), replications=128, seed=9)
    on_id = run(_scenario(True, decoy={"identify_probability": 0.9}), replications=128, seed=9)
    off = run(_scenario(False), replications=128, seed=9)
    decoy = [i for i, d in enumerate(on_id.compiled.threat_type_decoy) if d][0]
    # decoys identified at the radar's first scans after the track are mostly not shot at
    assert on_id.killed[:, decoy].sum() < 0.5 * on_none.killed[:, decoy].sum()
    first = [r.events_frame().query("event == 'fire'")["time_s"].min() for r in (on_none, off)]
    assert first[0] >= first[1]  # a track comes no sooner than coverage
    block = on_id.summary()["detection"]
    assert block["identify_probability"] == {"decoy": 0.9} and block["sensors"]["ew"]["scan_period_s"] == 6.0
    for res in (on_none, on_id):
        assert simpy_model.identical(simpy_model.simulate(res.compiled, 128, 9), res).all()


def test_a_threat_never_tracked_leaks_as_not_detected() -> None:
    """A radar that almost never sees the drone (Pd per scan ~1e-6 far beyond its reference range)
    leaves it untracked: its leak cause is not_detected in the engine and the SimPy model."""
    sc = _scenario(True, system={"range_pd_km": 0.1, "radar_range_km": 15})
    sc = sc.with_({"catalog.radars.ew.range_pd_km": 0.1})
    res = run(sc, replications=16, seed=2)
    assert res.summary()["leak_causes"]["test-drone"]["not_detected"] == pytest.approx(4.0)
    assert simpy_model.identical(simpy_model.simulate(res.compiled, 16, 2), res).all()


def _decoys_only(p: float):  # type: ignore[no-untyped-def]
    """Six decoys against one battery whose radar detects at every scan (Pd ~ 1, one detection to
    confirm), identified with probability p a scan."""
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["systems"]["test-sam"].update(radar_range_km=30, scan_period_s=5, confirm_scans=1, reference_pd=0.99,
                                          range_pd_km=10_000, fire_channels=8)
    catalog["interceptors"]["test-missile"]["max_range_km"] = 28  # its window opens ~16 s after the track
    catalog["threats"]["decoy"] = {"class": "drone", "speed_mps": 45, "altitude_m": 500, "decoy": True,
                                   "identify_probability": p}
    raids = [{"id": "d", "threat": "decoy", "count": 6, "launch": {"lat": 51.0, "lon": 30.52, "spread_km": 8},
              "target": "town"}]
    return make_scenario(catalog=catalog, raids=raids, doctrine={"salvo": 1, "max_engagements": 1,
                                                                 "decision_interval_s": 2},
                         batteries=[{"id": "sam-1", "system": "test-sam", "lat": 50.45, "lon": 30.52,
                                     "interceptors": {"test-missile": 100}}],
                         mechanisms={"detection": True})


@pytest.mark.parametrize("p", [0.0, 0.7])
def test_a_decoy_let_through_because_it_was_identified_leaks_as_identified(p: float) -> None:
    """engine/causes.py: a decoy its network identified before its window, never engaged, leaks as
    `identified` (it was `out_of_reach`); engaged ones that got through were missed. Every decoy
    leaks (damage 0, nothing kills it but an interceptor), so identified + missed = the leakers.
    The SimPy model gives each leaker the same cause."""
    n = 200
    res = run(_decoys_only(p), replications=n, seed=5, engagements=0)
    engaged = res.rounds.sum(axis=(1, 2))  # one round per engaged decoy
    causes = res.summary()["leak_causes"]["decoy"]
    assert causes["out_of_reach"] == 0.0
    assert causes["identified"] == pytest.approx(float(np.mean(res.compiled.n_threats - engaged)))
    assert (causes["identified"] > 0.5) == (p > 0)
    assert simpy_model.identical(simpy_model.simulate(res.compiled, n, 5), res).all()


@pytest.mark.parametrize("p", [0.0, 0.3, 0.7])
def test_a_decoy_is_engaged_only_if_not_identified_before_the_first_epoch_in_its_window(p: float) -> None:
    """Decoys alone, one battery whose radar detects at every scan (Pd ~ 1, one detection to
    confirm): its track comes at the first scan in coverage T_c, the decoy is identified at
    T_c + K T, P(K >= k) = (1 - p)^(k-1). It is engaged iff the first decision epoch e0 in its
    window comes no later: P(engaged) = (1 - p)^(k0 - 1), k0 = max(1, ceil((e0 - T_c) / T))."""
    sc = _decoys_only(p)
    n = 400
    res = run(sc, replications=n, seed=3, engagements=0)
    c = res.compiled
    expected = []
    for j in range(c.n_threats):
        w = range(c.windows.threat_offset[j], c.windows.threat_offset[j + 1])
        assert len(w) == 1
        t_c = float(c.detection.cover_s[j, 0])
        e0 = math.ceil(float(c.windows.open_s[w[0]]) / 2.0 - 1e-9) * 2.0  # launched at 0: epochs at 2 s steps
        assert e0 <= c.windows.close_s[w[0]]
        k0 = max(1, math.ceil((e0 - t_c) / 5.0 - 1e-9))
        expected.append((1 - p) ** (k0 - 1))
    assert p == 0.0 or min(expected) < 1.0  # identification can come first
    engaged = res.rounds.sum(axis=(1, 2))  # one round per engaged decoy
    mean = float(np.mean(expected)) * c.n_threats
    sd = math.sqrt(sum(q * (1 - q) for q in expected) / n)
    assert abs(engaged.mean() - mean) <= 4 * sd + 1e-9, (engaged.mean(), mean)
    if p == 0.0:
        assert (engaged == c.n_threats).all()
