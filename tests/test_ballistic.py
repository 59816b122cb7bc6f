"""Ballistic engagements (docs/model.md, Ballistic engagements; scenario ``mechanisms.ballistic``):
a fire unit's own track time before it can launch, a threat's terminal manoeuvre and penetration
aids lowering the kill probability. Closed forms with fixed seeds and 4-sigma bounds; the track
time against brute force; the switch off changes nothing."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import simpy_model
from conftest import TEST_CATALOG, make_scenario, within_sigma
from shieldwall.engine.compile import compile_scenario
from shieldwall.engine.runner import run
from shieldwall.errors import ScenarioError
from shieldwall.scenario.load import parse_scenario

N = 4000
RAID = [{"id": "b", "threat": "srbm", "count": 1, "launch": {"lat": 51.6, "lon": 30.52}, "target": "town"}]
RADAR_KM = 50.0  # short: the battery sees the missile late, inside its interceptor's reach
BATTERY = [{"id": "sam", "system": "bmd", "lat": 50.47, "lon": 30.52, "interceptors": {"abm": 8}}]


def _catalog(track_s: float | None = None, accel_itc: float | None = None, accel_thr: float | None = None,
             penaids: int | None = None, discrimination: float | None = None) -> dict:
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["interceptors"]["abm"] = {"speed_mps": 1500, "min_range_km": 1, "max_range_km": 60,
                                      "max_altitude_m": 30000, "pk": {"ballistic": 0.7, "drone": 0.7},
                                      "cost_usd": 4e6, "lateral_accel_g": accel_itc}
    catalog["systems"]["bmd"] = {"radar_range_km": RADAR_KM, "radar_height_m": 5, "fire_channels": 4, "launchers": 2,
                                 "rounds_per_launcher": 4, "reload_s": 900, "interceptors": ["abm"],
                                 "ballistic_track_time_s": track_s, "penaid_discrimination": discrimination}
    catalog["threats"]["srbm"] = {"class": "ballistic", "apogee_km": 40, "rcs_m2": 0.5, "cost_usd": 3e6,
                                  "terminal_manoeuvre_g": accel_thr, "penaids": penaids}
    for section in ("interceptors", "systems", "threats"):  # None: the field left out
        for entry in catalog[section].values():
            for key in [k for k, v in entry.items() if v is None]:
                del entry[key]
    return catalog


def _scenario(on: bool = True, raids: list | None = None, **catalog: object):  # type: ignore[no-untyped-def]
    return make_scenario(catalog=_catalog(**catalog), batteries=copy.deepcopy(BATTERY), raids=raids or RAID,
                         doctrine={"salvo": 1, "max_engagements": 1}, mechanisms={"ballistic": on})


@pytest.mark.parametrize(("accel_itc", "accel_thr", "penaids", "discrimination"),
                         [(40.0, 20.0, None, None), (None, 20.0, 2, 0.25), (90.0, 20.0, 3, None)])
def test_manoeuvre_and_penaids_scale_the_kill_probability(accel_itc, accel_thr, penaids, discrimination) -> None:  # type: ignore[no-untyped-def]
    """One missile, one shot: P(kill) = pk x min(1, a_i / (3 a_t)) / (1 + n (1 - d)); with the
    switch off, pk itself."""
    expected = 0.7 * (1.0 if accel_itc is None else min(1.0, accel_itc / (3.0 * accel_thr))) \
        / (1.0 + (penaids or 0) * (1.0 - (discrimination or 0.0)))
    params = dict(accel_itc=accel_itc, accel_thr=accel_thr, penaids=penaids, discrimination=discrimination)
    on = run(_scenario(True, **params), replications=N, seed=31)
    assert (on.rounds.sum(axis=(1, 2)) == 1).all()  # every replication engaged once
    assert within_sigma(on.killed[:, 0].mean(), expected, N), (on.killed[:, 0].mean(), expected)
    assert on.compiled.windows.pk == pytest.approx(expected)
    summary = on.summary()["ballistic"]
    assert summary["pk_factor"]["abm"]["srbm"] == pytest.approx(expected / 0.7)
    off = run(_scenario(False, **params), replications=N, seed=31)
    assert within_sigma(off.killed[:, 0].mean(), 0.7, N)
    assert "ballistic" not in off.summary()
    # same uniforms: a shot that kills at the lower pk kills at the higher one too
    assert (on.killed[:, 0] <= off.killed[:, 0]).all()


def _own_detection(compiled, j: int, bx: float, by: float) -> float:  # type: ignore[no-untyped-def]
    """First time after launch the battery's own radar (RADAR_KM vs 1 m2, mast 5 m) sees threat j,
    on a grid 20 times finer than the engine's path samples."""
    s = simpy_model.Static(compiled)
    flight, step = float(compiled.threats.flight_s[j]), float(compiled.threats.step_s[j])
    for tau in np.linspace(0.0, flight, int(math.ceil(flight / step)) * 20 + 1):
        x, y, z = simpy_model.position(s.paths[j], float(tau))
        ground = math.hypot(x - bx, y - by)
        if ground <= 4120.0 * (math.sqrt(5.0) + math.sqrt(max(z, 0.0))) and \
                math.hypot(ground, z - 5.0) <= 1000.0 * RADAR_KM * 0.5 ** 0.25:
            return float(tau)
    return math.inf


@pytest.mark.parametrize("track_s", [5.0, 40.0])
def test_a_fire_unit_launches_only_after_its_own_track_time(track_s: float) -> None:
    """With a track time T the first fire time is the first one of the switch-off window that
    comes T after the battery's own radar saw the threat (brute force, up to a path step)."""
    raids = [{**RAID[0], "count": 3, "launch": {**RAID[0]["launch"], "spread_km": 20}}]
    off = compile_scenario(_scenario(False, raids=raids, track_s=track_s), 3)
    on = compile_scenario(_scenario(True, raids=raids, track_s=track_s), 3)
    bx, by = float(on.batteries.x_m[0]), float(on.batteries.y_m[0])
    delayed = 0
    for j in range(on.n_threats):
        w_off = range(off.windows.threat_offset[j], off.windows.threat_offset[j + 1])
        w_on = range(on.windows.threat_offset[j], on.windows.threat_offset[j + 1])
        assert len(w_off) == 1, j
        ready = _own_detection(on, j, bx, by) + track_s
        step = float(on.threats.step_s[j])
        tol = step * (1.0 + on.threats.vmax_mps[j] / 1500.0) + 1e-6
        open_off, close_off = float(off.windows.open_s[w_off[0]]), float(off.windows.close_s[w_off[0]])
        if ready > close_off + tol:
            assert not len(w_on)
            continue
        assert len(w_on) == 1
        open_on = float(on.windows.open_s[w_on[0]])
        assert open_on >= ready - 1e-9  # never before the track time is up (the engine sees no sooner)
        assert open_on <= max(open_off, ready) + step + tol, (j, open_on, open_off, ready)
        assert on.windows.close_s[w_on[0]] == close_off
        delayed += open_on > open_off + 1.0
    assert delayed  # the track time moved some window's opening    assert on.ballistic is not None and on.ballistic.track_time_s == {"sam": track_s}


def test_a_track_time_longer_than_the_flight_leaves_the_missile_unengaged() -> None:
    """A fire unit that cannot hold its track long enough never fires: the missile leaks, and
    the summary says no threat of its type was engageable."""
    result = run(_scenario(True, track_s=600.0), replications=20, seed=4)
    assert result.rounds.sum() == 0 and (result.leaked[:, 0] == 1).all()
    assert result.summary()["ballistic"]["engageable_fraction"] == {"srbm": 0.0}
    assert run(_scenario(False, track_s=600.0), replications=20, seed=4).rounds.sum() == 20


def test_the_switch_on_changes_nothing_where_no_field_applies() -> None:
    """Drones against a battery without a track time: the same replications with the switch on
    as off (the summary only gains its ``ballistic`` block)."""
    drones = [{"id": "w", "threat": "test-drone", "count": 4, "launch": {"lat": 51.0, "lon": 30.52},
               "target": "town", "window_s": 300}]
    on = run(_scenario(True, raids=drones, accel_itc=10.0), replications=64, seed=9)
    off = run(_scenario(False, raids=drones, accel_itc=10.0), replications=64, seed=9)
    assert simpy_model.identical(on, off).all() and on.killed.sum() > 0


def test_mistakes_in_the_ballistic_fields_are_located() -> None:
    text = """
name: bad
catalog:
  threats:
    m: {class: ballistic, apogee_km: 40, penaids: -1, terminal_manoeuvre_g: 500}
  systems:
    s: {radar_range_km: 100, fire_channels: 1, launchers: 1, rounds_per_launcher: 4, reload_s: 60,
        interceptors: [pac3-mse], ballistic_track_time_s: -3, penaid_discrimination: 2}
assets: [{id: town, lat: 50.45, lon: 30.52}]
raids: [{id: w, threat: m, count: 1, launch: {lat: 51, lon: 30.5}, target: town}]
mechanisms: {balistic: true}
"""
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "bad.yaml")
    found = {p.path: p for p in err.value.problems}
    for path in ("catalog.threats.m.penaids", "catalog.threats.m.terminal_manoeuvre_g",
                 "catalog.systems.s.ballistic_track_time_s", "catalog.systems.s.penaid_discrimination",
                 "mechanisms.balistic"):
        assert path in found, (path, sorted(found))
    assert "ballistic" in found["mechanisms.balistic"].hint
    assert all(p.line for p in err.value.problems)


def _air_launched(on: bool, release_m: float = 15000.0, count: int = 2):  # type: ignore[no-untyped-def]
    catalog = _catalog()
    catalog["threats"]["alcm"] = {"class": "ballistic", "apogee_km": 40, "rcs_m2": 0.5, "cost_usd": 1e7,
                                  "launch_altitude_m": release_m}
    raids = [{"id": "k", "threat": "alcm", "count": count, "launch": {"lat": 51.6, "lon": 30.52, "spread_km": 10},
              "target": "town", "window_s": 60}]
    return make_scenario(catalog=catalog, batteries=copy.deepcopy(BATTERY), raids=raids,
                         doctrine={"salvo": 1, "max_engagements": 2}, mechanisms={"ballistic": on})


def test_an_air_launched_arc_starts_at_its_release_altitude() -> None:
    """Released at h0 with apogee h: up for sqrt(2 (h - h0) / g), down for sqrt(2 h / g); the
    altitude h - g (t - t_up)^2 / 2 is h0 at release, h at the apogee, 0 at impact (vacuum
    parabola, docs/model.md). With the switch off it flies the ground-launched arc."""
    from shieldwall.engine.paths import G_MPS2, position

    h, h0 = 40_000.0, 15_000.0
    c = compile_scenario(_air_launched(True), 1)
    t_up, t_down = math.sqrt(2.0 * (h - h0) / G_MPS2), math.sqrt(2.0 * h / G_MPS2)
    assert c.threats.flight_s == pytest.approx(t_up + t_down)
    for tau, z in ((0.0, h0), (t_up, h), (t_up + t_down, 0.0), (t_up + 30.0, h - 0.5 * G_MPS2 * 900.0)):
        assert position(0, tau, c.paths)[2] == pytest.approx(z, abs=1e-6), tau
    assert c.paths.release_m.tolist() == [h0, h0]
    off = compile_scenario(_air_launched(False), 1)
    assert off.threats.flight_s == pytest.approx(2.0 * t_down) and off.paths.release_m.tolist() == [0.0, 0.0]


def test_engine_and_simpy_model_agree_on_air_launched_missiles() -> None:
    result = run(_air_launched(True, count=3), replications=24, seed=6)
    oracle = simpy_model.simulate(result.compiled, 24, 6)
    assert simpy_model.identical(oracle, result).all()
    assert result.killed.sum() > 0 and result.rounds.sum() > result.killed.sum()  # hits and misses both happen


def test_air_launch_is_for_ballistic_threats_below_their_apogee() -> None:
    text = """
name: bad
catalog:
  threats:
    m: {class: ballistic, apogee_km: 10, launch_altitude_m: 15000}
    d: {class: drone, speed_mps: 50, altitude_m: 100, launch_altitude_m: 3000}
assets: [{id: town, lat: 50.45, lon: 30.52}]
raids: [{id: w, threat: m, count: 1, launch: {lat: 51, lon: 30.5}, target: town}]
"""
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "bad.yaml")
    found = {p.path for p in err.value.problems}
    assert {"catalog.threats.m.apogee_km", "catalog.threats.d.launch_altitude_m"} <= found, found


def test_with_detection_the_track_time_counts_from_the_drawn_own_track() -> None:
    """mechanisms.ballistic and detection together: the fire unit launches at a ballistic threat
    only once its own radar's drawn track (scans, Swerling 1, confirm_scans in a row) has been held
    for the track time T: its fire time is own + T (never sooner than its network's track, which
    its own radar is part of), inf where its radar never tracks it. The SimPy model agrees."""
    from shieldwall.engine.detection import fire_unit_tracks, link_lost_max, sensor_track, window_own_cover

    catalog = _catalog(track_s=12.0)
    catalog["systems"]["bmd"].update(scan_period_s=3.0, confirm_scans=2, range_pd_km=35.0)
    raids = [{"id": "b", "threat": "srbm", "count": 3, "launch": {"lat": 51.6, "lon": 30.52, "spread_km": 20},
              "target": "town", "window_s": 120}]
    sc = make_scenario(catalog=catalog, batteries=copy.deepcopy(BATTERY), raids=raids,
                       doctrine={"salvo": 1, "max_engagements": 1}, mechanisms={"ballistic": True, "detection": True})
    c = compile_scenario(sc, 1)
    assert c.detection.bat_ballistic_track_s.tolist() == [12.0]
    n_thr = c.n_threats
    trk, t_id, t_any = np.empty(n_thr), np.empty(n_thr), np.empty(n_thr)  # one window per threat (one battery)
    pair_off, pair_b = np.arange(n_thr + 1, dtype=np.int64), np.zeros(n_thr, np.int64)
    own_cover = window_own_cover(c.detection, np.arange(n_thr, dtype=np.int64), pair_b)
    tracked = 0
    for key in range(300):
        fire_unit_tracks(c.detection, c.paths, c.threats.flight_s, key, np.ones(n_thr, np.bool_), pair_off, pair_b,
                         own_cover, np.full(n_thr, -np.inf), link_lost_max(c.detection.bat_link_loss), trk, t_id, t_any,
                         np.zeros((n_thr, 0)))
        for j in range(n_thr):
            own = sensor_track(c.detection, c.paths, j, 0, c.threats.flight_s[j], np.inf, key)
            assert trk[j] == own + 12.0 or (own == np.inf and trk[j] == np.inf)
            tracked += own < np.inf
    assert tracked > 100  # the rule was exercised
    res = run(sc, replications=96, seed=8)
    assert simpy_model.identical(simpy_model.simulate(res.compiled, 96, 8), res).all()
    plain = run(sc.with_(mechanisms={"ballistic": True, "detection": False}), replications=96, seed=8)
    assert res.rounds.sum() <= plain.rounds.sum()  # the drawn track comes no sooner than coverage
