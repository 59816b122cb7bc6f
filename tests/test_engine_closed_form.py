"""Statistical checks against closed forms, fixed seeds, 4-sigma bounds.

With N replications a proportion's standard error is sqrt(q(1-q)/N); a 4-sigma bound fails by
chance with probability ~6e-5 per check, and the seeds are fixed, so these cannot flicker."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from conftest import TEST_CATALOG, make_scenario, within_sigma
from shieldwall.engine.runner import run

N = 4000


@pytest.mark.parametrize(("salvo", "engagements", "pk"), [(1, 1, 0.7), (2, 1, 0.6), (2, 2, 0.5), (1, 3, 0.4)])
def test_leak_probability_is_one_minus_pk_to_the_shots(salvo: int, engagements: int, pk: float) -> None:
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["interceptors"]["test-missile"]["pk"] = {"drone": pk}
    scenario = make_scenario(catalog=catalog, doctrine={"salvo": salvo, "max_engagements": engagements})
    result = run(scenario, replications=N, seed=11)
    expected = (1.0 - pk) ** (salvo * engagements)
    leak = result.leaked[:, 0].mean()
    assert within_sigma(leak, expected, N), (leak, expected)
    # every engagement fires a full salvo until the threat dies: mean shots = s * E[engagements]
    expected_engagements = sum((1 - pk) ** (salvo * i) for i in range(engagements))
    assert abs(result.interceptors_fired[:, 0].mean() - salvo * expected_engagements) < 4 * salvo * 0.5 / np.sqrt(N) * engagements


@pytest.mark.parametrize(("pk_factor", "pk_used"), [(0.5, 0.3), (1.25, 0.75), (2.0, 1.0)])
def test_battery_pk_factor_scales_each_shot_and_caps_at_one(pk_factor: float, pk_used: float) -> None:
    """A battery's pk_factor multiplies the single-shot Pk (0.6 here) of what it fires, capped at
    1: a salvo of two leaks with probability (1 - min(1, 0.6 f))^2."""
    scenario = make_scenario(batteries=[{"id": "sam-1", "system": "test-sam", "lat": 50.45, "lon": 30.52,
                                         "interceptors": {"test-missile": 8}, "pk_factor": pk_factor}])
    result = run(scenario, replications=N, seed=12)
    expected = (1.0 - pk_used) ** 2
    leak = result.leaked[:, 0].mean()
    assert within_sigma(leak, expected, N), (leak, expected)
    assert result.compiled.windows.pk.tolist() == pytest.approx([pk_used] * len(result.compiled.windows.pk))


def test_ballistic_threat_two_shots() -> None:
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["interceptors"]["test-missile"].update(speed_mps=1500, pk={"ballistic": 0.5})
    catalog["threats"]["test-srbm"] = {"class": "ballistic", "apogee_km": 50, "cost_usd": 3e6}
    scenario = make_scenario(
        catalog=catalog,
        raids=[{"id": "b", "threat": "test-srbm", "count": 1, "launch": {"lat": 53.0, "lon": 30.52}, "target": "town"}],
        doctrine={"salvo": 2, "max_engagements": 1},
    )
    result = run(scenario, replications=N, seed=5)
    assert within_sigma(result.leaked[:, 0].mean(), 0.25, N)


def test_no_interceptors_everything_leaks() -> None:
    scenario = make_scenario(
        batteries=[{"id": "sam-1", "system": "test-sam", "lat": 50.45, "lon": 30.52, "interceptors": {"test-missile": 0}}],
        raids=[{"id": "w", "threat": "test-drone", "count": 7, "launch": {"lat": 51.0, "lon": 30.52, "spread_km": 5},
                "target": "town", "window_s": 300}],
    )
    result = run(scenario, replications=50, seed=1)
    assert (result.leaked[:, 0] == 7).all()
    assert result.interceptors_fired.sum() == 0


def _horizon_scenario(altitude_m: float):  # type: ignore[no-untyped-def]
    """A threat flying north-south 60 km west of the only radar; interceptors reach 80 km.
    At 50 m the 4/3-earth horizon of a 10 m radar is 4.12 (sqrt(10) + sqrt(50)) = 42 km."""
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["interceptors"]["test-missile"].update(max_range_km=80, pk={"drone": 0.9})
    catalog["systems"]["test-sam"]["radar_range_km"] = 150
    catalog["threats"]["test-drone"]["altitude_m"] = altitude_m
    return make_scenario(
        catalog=catalog,
        assets=[{"id": "town", "lat": 50.0, "lon": 30.0, "value": 10}],
        batteries=[{"id": "sam-1", "system": "test-sam", "lat": 50.0, "lon": 30.84, "interceptors": {"test-missile": 8}}],
        raids=[{"id": "w", "threat": "test-drone", "count": 1, "launch": {"lat": 50.8, "lon": 30.0}, "target": "town"}],
    )


def test_path_below_the_radar_horizon_leaks_and_high_path_does_not() -> None:
    low = run(_horizon_scenario(50.0), replications=500, seed=3)
    high = run(_horizon_scenario(5000.0), replications=500, seed=3)
    assert (low.leaked[:, 0] == 1).all()
    assert low.interceptors_fired.sum() == 0
    assert within_sigma(high.leaked[:, 0].mean(), 0.1 ** 2, 500)


def test_reliability_failures_expire() -> None:
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["threats"]["test-drone"]["reliability"] = 0.7
    scenario = make_scenario(catalog=catalog, batteries=[],
                             raids=[{"id": "w", "threat": "test-drone", "count": 10,
                                     "launch": {"lat": 51.0, "lon": 30.52}, "target": "town"}])
    result = run(scenario, replications=1000, seed=2)
    assert within_sigma(result.expired.mean() / 10, 0.3, 10_000)
    assert (result.expired + result.leaked == 10).all()


def test_value_lost_closed_form_without_defence() -> None:
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["threats"]["test-drone"]["damage"] = 0.2
    scenario = make_scenario(catalog=catalog, batteries=[],
                             raids=[{"id": "w", "threat": "test-drone", "count": 3,
                                     "launch": {"lat": 51.0, "lon": 30.52}, "target": "town"}])
    result = run(scenario, replications=20, seed=2)
    np.testing.assert_allclose(result.value_lost[:, 0], 10 * (1 - 0.8 ** 3))
    assert (result.hits[:, 0] == 3).all()


def test_decoys_draw_fire_but_do_no_damage() -> None:
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["threats"]["test-decoy"] = {"class": "drone", "speed_mps": 50, "altitude_m": 500, "decoy": True,
                                        "cost_usd": 10_000}
    scenario = make_scenario(catalog=catalog, raids=[
        {"id": "w", "threat": "test-decoy", "count": 6, "launch": {"lat": 51.0, "lon": 30.52}, "target": "town",
         "window_s": 600}])
    result = run(scenario, replications=200, seed=4)
    assert result.interceptors_fired.sum() > 0  # the battle manager cannot tell them apart
    assert result.leaked.sum() > 0
    assert (result.hits == 0).all() and (result.value_lost == 0).all()


def test_reload_time_limits_fire() -> None:
    """One launcher holding one round: a second simultaneous threat gets a shot only if the
    reload finishes while it is still in the envelope."""
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["interceptors"]["test-missile"]["pk"] = {"drone": 1.0}
    catalog["systems"]["test-sam"].update(launchers=1, rounds_per_launcher=1)
    raids = [{"id": "w", "threat": "test-drone", "count": 2, "launch": {"lat": 51.0, "lon": 30.52}, "target": "town"}]
    results = {}
    for reload_s in (60.0, 100_000.0):
        catalog["systems"]["test-sam"]["reload_s"] = reload_s
        scenario = make_scenario(catalog=copy.deepcopy(catalog), raids=raids, doctrine={"salvo": 1})
        results[reload_s] = run(scenario, replications=20, seed=1)
    assert (results[60.0].killed[:, 0] == 2).all()
    assert (results[100_000.0].killed[:, 0] == 1).all() and (results[100_000.0].leaked[:, 0] == 1).all()


def test_gun_ammunition_is_finite() -> None:
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["interceptors"]["test-gun"] = {"kind": "gun", "speed_mps": 1000, "max_range_km": 4, "max_altitude_m": 3000,
                                           "pk": {"drone": 1.0}, "cost_usd": 100, "rounds_per_shot": 24}
    catalog["systems"]["test-spaag"] = {"radar_range_km": 15, "radar_height_m": 5, "fire_channels": 1, "launchers": 1,
                                        "rounds_per_launcher": 640, "reload_s": 1e6, "interceptors": ["test-gun"]}
    scenario = make_scenario(
        catalog=catalog,
        batteries=[{"id": "gun-1", "system": "test-spaag", "lat": 50.45, "lon": 30.52, "interceptors": {"test-gun": 48}}],
        raids=[{"id": "w", "threat": "test-drone", "count": 5, "launch": {"lat": 51.0, "lon": 30.52}, "target": "town",
                "window_s": 1200}],
        doctrine={"salvo": 1})
    result = run(scenario, replications=30, seed=1)
    assert (result.interceptors_fired[:, 0] == 48).all()  # two bursts of 24 rounds, then empty
    assert (result.killed[:, 0] == 2).all() and (result.leaked[:, 0] == 3).all()


def test_battery_fires_on_tracks_of_its_network_only() -> None:
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["systems"]["test-sam"]["radar_range_km"] = 0.5  # its own radar sees nothing in time
    catalog["interceptors"]["test-missile"]["pk"] = {"drone": 1.0}
    catalog["radars"] = {"test-ew": {"range_km": 200, "height_m": 30}}
    outcomes = {}
    for network in ("main", "other"):
        scenario = make_scenario(catalog=copy.deepcopy(catalog), radars=[
            {"id": "ew-1", "type": "test-ew", "lat": 50.6, "lon": 30.6, "network": network}])
        outcomes[network] = run(scenario, replications=10, seed=1)
    assert (outcomes["main"].killed == 1).all()
    assert (outcomes["other"].leaked == 1).all()


def test_salvo_per_threat_class() -> None:
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["interceptors"]["test-missile"]["pk"] = {"drone": 0.5, "cruise": 0.5}
    catalog["threats"]["test-cm"] = {"class": "cruise", "speed_mps": 250, "altitude_m": 100, "cost_usd": 1e6}
    catalog["systems"]["test-sam"].update(rounds_per_launcher=20)
    raids = [{"id": "d", "threat": "test-drone", "count": 1, "launch": {"lat": 51.0, "lon": 30.52}, "target": "town"},
             {"id": "c", "threat": "test-cm", "count": 1, "launch": {"lat": 51.0, "lon": 30.52}, "target": "town",
              "time_s": 5000}]
    scenario = make_scenario(catalog=catalog, raids=raids, doctrine={"salvo": {"drone": 1, "cruise": 3}})
    result = run(scenario, replications=10, seed=1)
    assert (result.interceptors_fired[:, 0] == 4).all()
