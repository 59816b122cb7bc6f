"""Attacks on the defence (docs/model.md): a raid aimed at a battery ({battery: id}) destroys it
with probability the threat's damage (fraction) when one gets through; from then on the battery
fires no more. Closed forms at fixed seeds, the located error of an unknown battery, and the
campaign's repair nights."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import simpy_model
from conftest import TEST_CATALOG, make_scenario, scenario_dict, within_sigma
from shieldwall.engine.compile import compile_scenario
from shieldwall.engine.runner import CHUNK_SIZE, draw_uniforms, run
from shieldwall.errors import ScenarioError
from shieldwall.scenario.load import parse_scenario
from shieldwall.scenario.model import Scenario

RELIABILITY, DAMAGE = 0.8, 0.5


def _catalog() -> dict:
    """TEST_CATALOG with a cruise missile the test SAM cannot engage (its interceptor has no Pk
    against it): every attacker that does not fail in flight gets through."""
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["threats"]["test-cm"] = {"class": "cruise", "speed_mps": 250, "altitude_m": 50, "cost_usd": 1_000_000,
                                     "reliability": RELIABILITY, "damage": DAMAGE}
    catalog["threats"]["test-fast"] = {"class": "cruise", "speed_mps": 300, "altitude_m": 50,
                                       "cost_usd": 1_000_000, "reliability": 1.0, "damage": 1.0}
    return catalog


def _attacked(raids: list[dict], engage: list[str] | None = None) -> Scenario:
    battery = {"id": "sam-1", "system": "test-sam", "lat": 50.45, "lon": 30.60, "interceptors": {"test-missile": 8},
               "value": 5}
    if engage is not None:
        battery["engage"] = engage
    return make_scenario(catalog=_catalog(), batteries=[battery], raids=raids)


def _attack_raid(threat: str = "test-cm", count: int = 1, time_s: float = 0.0) -> dict:
    return {"id": "strike", "threat": threat, "count": count, "launch": {"lat": 50.0, "lon": 30.60},
            "target": {"battery": "sam-1"}, "time_s": time_s}


def test_one_attacker_destroys_its_battery_with_p_leak_times_damage() -> None:
    """One attacker the battery cannot engage: it leaks with its reliability R, then destroys the
    battery with probability d. P(lost) = R d = 0.4, within 4 standard errors at 4,000
    replications (+-0.031); the battery is lost exactly in the replications it leaked, at its impact."""
    scenario = _attacked([_attack_raid()], engage=["drone"])
    n = 4000
    result = run(scenario, replications=n, seed=7)
    lost = np.isfinite(result.battery_lost_s[:, 0])
    assert within_sigma(lost.mean(), RELIABILITY * DAMAGE, n)
    leaked = result.leaked.sum(axis=1) == 1
    assert not (lost & ~leaked).any()  # only a leaker destroys
    assert within_sigma(lost[leaked].mean(), DAMAGE, int(leaked.sum()))
    # the aimpoint is a target of its own: hit by every leaker, its value lost when destroyed
    assert result.compiled.asset_ids == ["town", "battery:sam-1"]
    np.testing.assert_array_equal(result.hits[:, 1], leaked)
    np.testing.assert_array_equal(result.value_lost[:, 1], np.where(lost, 5.0, 0.0))
    c = result.compiled
    impact = c.threats.launch_s[0] + c.threats.flight_s[0]
    assert np.allclose(result.battery_lost_s[lost, 0], impact)
    summary = result.summary()["attacks_on_defence"]
    assert summary["batteries"]["sam-1"]["attackers"] == 1
    assert summary["batteries_lost_mean"] == pytest.approx(lost.mean())
    low, high = summary["batteries_lost_ci95"]
    assert low < lost.mean() < high


def test_the_attack_uses_its_own_numbers_drawn_after_all_others() -> None:
    """The decision is U_attack(j) < damage: the lost replications are exactly those, and the
    other numbers are those of the same scenario aimed at an asset (drawn first, unmoved)."""
    scenario = _attacked([_attack_raid()], engage=["drone"])
    n = CHUNK_SIZE  # one chunk: its numbers come from the seed's first child
    result = run(scenario, replications=n, seed=3)
    c = compile_scenario(scenario, 3)
    u = draw_uniforms(c, n, np.random.SeedSequence(3).spawn(1)[0])
    assert u.attack.shape == (n, 1)
    leaked = result.leaked.sum(axis=1) == 1
    np.testing.assert_array_equal(np.isfinite(result.battery_lost_s[:, 0]), leaked & (u.attack[:, 0] < DAMAGE))
    at_asset = scenario.with_({"raids": [{**_attack_raid(), "target": "town"}]})
    plain = draw_uniforms(compile_scenario(at_asset, 3), n, np.random.SeedSequence(3).spawn(1)[0])
    assert plain.attack.shape == (n, 0)
    for name in ("launch", "reliability", "kill"):
        np.testing.assert_array_equal(getattr(u, name), getattr(plain, name))


def test_a_battery_lost_early_fires_no_more() -> None:
    """A sure attacker (reliability 1, damage 1) the battery cannot engage lands before the
    drones come in reach: the battery is lost in every replication and fires nothing, where the
    same raid aimed at the town leaves it to fire at every drone."""
    drones = {"id": "drones", "threat": "test-drone", "count": 6, "launch": {"lat": 51.0, "lon": 30.52},
              "target": "town", "time_s": 0, "window_s": 600}
    attacked = _attacked([_attack_raid("test-fast"), drones], engage=["drone"])
    spared = attacked.with_({"raids": [{**_attack_raid("test-fast"), "target": "town"}, drones]})
    c = compile_scenario(attacked, 1)
    strike = c.threats.launch_s[0] + c.threats.flight_s[0]
    assert strike < (c.threats.launch_s[1:] + c.threats.first_open_s[1:]).min()  # before any drone is in reach
    hit = run(attacked, replications=200, seed=1)
    free = run(spared, replications=200, seed=1)
    assert np.isfinite(hit.battery_lost_s).all()
    assert hit.rounds.sum() == 0 and free.rounds.sum(axis=(1, 2)).min() > 0
    assert hit.killed.sum() == 0


def test_a_battery_lost_mid_raid_fires_fewer_rounds() -> None:
    """Attackers landing mid-raid: in the replications that lose the battery it fires fewer rounds
    than in the same replications of the raid without the attack (common numbers for the drones)."""
    drones = {"id": "drones", "threat": "test-drone", "count": 8, "launch": {"lat": 51.0, "lon": 30.52},
              "target": "town", "time_s": 0, "window_s": 3000}
    attacked = _attacked([_attack_raid("test-cm", 2, time_s=1200), drones], engage=["drone"])
    spared = attacked.with_({"raids": [{**_attack_raid("test-cm", 2, time_s=1200), "target": "town"}, drones]})
    hit = run(attacked, replications=400, seed=2)
    free = run(spared, replications=400, seed=2)
    lost = np.isfinite(hit.battery_lost_s[:, 0])
    assert 0.3 < lost.mean() < 0.9
    fired_hit, fired_free = hit.rounds.sum(axis=(1, 2)), free.rounds.sum(axis=(1, 2))
    np.testing.assert_array_equal(fired_hit[~lost], fired_free[~lost])  # nothing else moved
    assert (fired_hit[lost] <= fired_free[lost]).all() and fired_hit[lost].mean() < fired_free[lost].mean()


def test_unknown_battery_is_a_located_error_with_suggestions() -> None:
    text = """\
name: attack
catalog:
  interceptors:
    test-missile: {speed_mps: 1000, max_range_km: 40, max_altitude_m: 20000, pk: {drone: 0.6}}
  systems:
    test-sam: {radar_range_km: 100, radar_height_m: 10, fire_channels: 4, launchers: 2,
               rounds_per_launcher: 4, reload_s: 600, interceptors: [test-missile]}
  threats:
    test-drone: {class: drone, speed_mps: 50, altitude_m: 500}
assets:
  - {id: town, lat: 50.45, lon: 30.52}
batteries:
  - {id: sam-1, system: test-sam, lat: 50.45, lon: 30.52, interceptors: {test-missile: 8}}
raids:
  - {id: w, threat: test-drone, count: 1, launch: {lat: 51.0, lon: 30.52}, target: {battery: sam-2}}
"""
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.yaml")
    (problem,) = info.value.problems
    assert problem.path == "raids[0].target.battery"
    assert problem.message == "unknown battery `sam-2`"
    assert problem.hint == "did you mean `sam-1`? known batteries: sam-1"
    assert problem.line == 15


# --- campaigns: a battery lost in a night's raid is out of action for attack_repair_nights ----------


def _attack_campaign(tmp_path, threat: str, repair: int | None, **changes):  # type: ignore[no-untyped-def]
    from test_campaign import campaign_dict, theatre_dict, write_campaign

    from shieldwall.campaign import load_campaign

    theatre = theatre_dict(catalog=_catalog())
    theatre["batteries"][0]["engage"] = ["drone"]  # it cannot engage the attacker
    strike = {**_attack_raid(threat), "target": {"battery": "sam-1"}}
    drones = {**theatre["raids"][0], "id": "night-2-drones"}
    doc = campaign_dict(nights=8, deliveries=[], production=[], depots=[],
                        raids=[{"night": 2, "raids": [strike, drones]}],
                        **({} if repair is None else {"damage": {"attack_repair_nights": repair}}), **changes)
    return load_campaign(write_campaign(tmp_path, doc, theatre))


def test_a_battery_lost_on_night_t_is_out_for_exactly_the_repair_nights(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A sure attacker (reliability 1, damage 1) on night 2 (t = 1): the battery is out of action
    on nights t + 1 .. t + 3 (it fires nothing, keeps its stock) and back on night t + 4."""
    from shieldwall.campaign import run_campaign

    r = run_campaign(_attack_campaign(tmp_path, "test-fast", 3), replications=40, seed=2)
    out = r.batteries_out  # [night, rep] batteries out of action after each night
    assert (out[0] == 0).all() and (out[1:4] == 1).all() and (out[4:] == 0).all()
    assert (r.fired[2:5] == 0).all()
    np.testing.assert_array_equal(r.stock[2], r.stock[5])  # kept its stock while out
    assert r.fired[5:].sum() > 0  # and fires again once back
    assert r.value_lost.shape[2] == 3  # the theatre's assets: the battery is not one


def test_campaign_attacks_give_identical_results_whatever_the_workers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Losses drawn per replication (P = R d = 0.4 here) carry over identically in 1 or 2 workers."""
    from shieldwall.campaign import run_campaign

    loaded = _attack_campaign(tmp_path, "test-cm", 2)
    one = run_campaign(loaded, replications=150, seed=4, workers=1)
    two = run_campaign(loaded, replications=150, seed=4, workers=2)
    for name in one.PER_REPLICATION:
        if getattr(one, name) is not None:
            np.testing.assert_array_equal(getattr(one, name), getattr(two, name), err_msg=name)
    lost = one.batteries_out[1] == 1
    assert within_sigma(lost.mean(), RELIABILITY * DAMAGE, 150)
    assert (one.batteries_out[3][lost] == 0).all()  # back after 2 nights


def test_a_generator_route_cannot_attack_a_battery(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from test_campaign import campaign_dict, theatre_dict, write_campaign

    from shieldwall.campaign import load_campaign

    route = {**_attack_raid("test-drone"), "id": "route-1", "threat": "test-drone"}
    with pytest.raises(ScenarioError) as info:
        load_campaign(write_campaign(tmp_path, campaign_dict(generator={"model": copy.deepcopy(
            __import__("test_campaign").GENERATOR), "routes": [route]}), theatre_dict()))
    problem = next(p for p in info.value.problems if p.path == "generator.routes[0].target")
    assert problem.message == "a generator route cannot attack a battery"


def test_the_replay_shows_the_battery_lost() -> None:
    """Replication 0's event log has the loss (event battery-lost, the battery, at the attacker's
    impact, after its leak) and the replay data carries it; a run without attacks has neither."""
    from shieldwall.report.replay import replay_data

    scenario = _attacked([_attack_raid("test-fast")], engage=["drone"])
    result = run(scenario, replications=4, seed=1)
    events = result.events_frame()
    lost = events[events.event == "battery-lost"]
    assert len(lost) == 1 and lost.battery.iloc[0] == "sam-1"
    assert lost.time_s.iloc[0] == pytest.approx(float(result.battery_lost_s[0, 0]))
    assert list(events.event[events.threat == 0])[-2:] == ["leak", "battery-lost"]
    data = replay_data(scenario, events, None)
    assert data["lost"] == [{"t": round(float(result.battery_lost_s[0, 0]), 1), "battery": "sam-1", "threat": 0,
                             "type": "test-fast"}]
    spared = run(scenario.with_({"raids": [{**_attack_raid("test-fast"), "target": "town"}]}), replications=4, seed=1)
    assert "battery-lost" not in set(spared.events_frame().event)
    assert "lost" not in replay_data(scenario, spared.events_frame(), None)


def test_a_campaign_with_attacks_reports_batteries_out_without_a_damage_section(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Without `damage:` the default attack_repair_nights (14) applies and campaign.json shows the
    batteries out of action; a sure attacker on night 2 keeps the battery out to the end (8 nights)."""
    from shieldwall.campaign import run_campaign

    loaded = _attack_campaign(tmp_path, "test-fast", None)
    assert loaded.campaign.damage is None
    r = run_campaign(loaded, replications=10, seed=1)
    assert r.summary()["damage"]["batteries_out_mean"] == [0.0] + [1.0] * 7
    assert (r.to_frame()["batteries_out"] == np.repeat([0] + [1] * 7, 10)).all()


def test_a_jammed_attacker_misses_a_battery_by_its_inertial_drift_and_the_oracle_agrees() -> None:
    """mechanisms.ins with an attack on a battery (found by the oracle's generated scenarios: the
    attacked battery is a target of its own, with no radius of its own): the battery's aimpoint
    takes the assets' default radius (100 m), the jammed attacker flies on and misses by its drift,
    and the engine and the SimPy model agree."""
    from shieldwall.scenario.model import Asset

    scenario = _attacked([_attack_raid(count=6)], engage=["drone"]).with_({
        "ew_zones": [{"id": "jam", "lat": 50.2, "lon": 30.60, "radius_km": 30, "loss_per_km": 0.05}],
        "catalog.threats.test-cm.guidance": ["ins", "gnss"], "catalog.threats.test-cm.ins_drift_m_per_km": 20.0,
        "mechanisms": {"ins": True}})
    compiled = compile_scenario(scenario, 1)
    assert compiled.asset_ids[-1] == "battery:sam-1"
    result = run(scenario, replications=64, seed=2)
    assert simpy_model.identical(simpy_model.simulate(result.compiled, 64, 2), result).all()
    assert Asset.model_fields["radius_m"].default == 100.0
