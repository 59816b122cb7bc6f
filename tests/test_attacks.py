"""Attacks on the defence (docs/model.md): a raid aimed at a battery ({battery: id}) destroys it
with probability the threat's damage (fraction) when one gets through; from then on the battery
fires no more. Closed forms at fixed seeds, the located error of an unknown battery, and the
campaign's repair nights."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import yaml

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


# --- attacks on sensors: a stand-alone radar, and an attacked battery's own radar ----------------


def _sensor_scenario(attack: str, drone_time_s: float, **changes) -> Scenario:  # type: ignore[no-untyped-def]
    """sam-1 sees only 8 km with its own radar and fires to 40 km on its network's tracks; its
    network's long-range sensor (a stand-alone radar ew-1, or the radar of a second battery far-1
    that engages nothing) is struck by a sure attacker (reliability 1, damage 1) at ~150 s; one
    drone is launched at ``drone_time_s``. ``attack``: "radar", "battery" or "town" (spared)."""
    catalog = _catalog()
    catalog["systems"]["test-sam"]["radar_range_km"] = 8
    catalog["systems"]["long-eye"] = {**catalog["systems"]["test-sam"], "radar_range_km": 200}
    catalog["radars"] = {"test-ew": {"range_km": 200, "height_m": 10}}
    sam = {"id": "sam-1", "system": "test-sam", "lat": 50.45, "lon": 30.52, "interceptors": {"test-missile": 8},
           "engage": ["drone"]}
    batteries, radars = [sam], []
    if attack == "battery":
        batteries.append({"id": "far-1", "system": "long-eye", "lat": 50.40, "lon": 30.60,
                          "interceptors": {"test-missile": 1}, "engage": ["ballistic"]})
    else:
        radars.append({"id": "ew-1", "type": "test-ew", "lat": 50.40, "lon": 30.60})
    target = {"radar": {"radar": "ew-1"}, "battery": {"battery": "far-1"}, "town": "town"}[attack]
    strike = {"id": "strike", "threat": "test-fast", "count": 1, "launch": {"lat": 50.0, "lon": 30.60},
              "target": target}
    drone = {"id": "drone", "threat": "test-drone", "count": 1, "launch": {"lat": 51.0, "lon": 30.52},
             "target": "town", "time_s": drone_time_s}
    return make_scenario(catalog=catalog, batteries=batteries, radars=radars, raids=[strike, drone],
                         doctrine={"salvo": 1, "max_engagements": 1, "decision_interval_s": 2}, **changes)


def _first_fire_s(scenario: Scenario, n: int = 16) -> np.ndarray:
    """Each replication's first fire time (nan: none)."""
    result = run(scenario, replications=n, seed=5, engagements=n)
    fires = result.engagements_frame().groupby("replication").time_s.min()
    return fires.reindex(range(n)).to_numpy()


def _epoch_at_or_after(t: float, dt: float = 2.0) -> float:
    return math.ceil(t / dt - 1e-9) * dt


@pytest.mark.parametrize("attack", ["radar", "battery"])
def test_a_sensor_lost_before_a_threat_is_tracked_leaves_the_battery_its_own_radar(attack: str) -> None:
    """The long-range sensor is destroyed at ~150 s (every replication); a drone launched at 600 s
    is then tracked by sam-1's own radar only (8 km): its window opens no sooner than that track
    (docs/model.md, Attacks on the defence), so the first shot is at the first decision epoch at or
    after launch + max(window opens, own track), where with the sensor spared it is at the first
    epoch at or after launch + window opens (its network's early track)."""
    hit = _sensor_scenario(attack, 600.0)
    c = compile_scenario(hit, 5)
    assert c.losses.unit.tolist() == ([1] if attack == "radar" else [1])  # sensor 1: ew-1, or far-1's radar
    strike = c.threats.launch_s[0] + c.threats.flight_s[0]
    assert strike < 600.0
    (p,) = range(c.windows.threat_offset[1], c.windows.threat_offset[2])  # the drone's one window (sam-1)
    own = c.losses.fixed_s[1, 0]  # sam-1's own radar: the network's only sensor left
    assert c.windows.open_s[p] < own < c.windows.close_s[p]
    assert c.losses.at_risk[p]  # the kernel looks at it (windows that can never lose their track it does not)
    fired = _first_fire_s(hit)
    np.testing.assert_array_equal(fired, _epoch_at_or_after(600.0 + own))
    spared = _first_fire_s(_sensor_scenario("town", 600.0) if attack == "radar" else
                           hit.with_({"raids": [{**hit.raids[0].model_dump(), "target": "town"},
                                                hit.raids[1].model_dump()]}))
    np.testing.assert_array_equal(spared, _epoch_at_or_after(600.0 + c.windows.open_s[p]))
    assert (spared < fired).all()


def test_a_track_formed_before_the_radar_is_lost_is_kept() -> None:
    """A drone launched at 0 s is tracked by ew-1 (200 km) at once, before the strike at ~150 s:
    the network holds that track, so the battery fires as early as with the radar spared."""
    hit = _sensor_scenario("radar", 0.0)
    c = compile_scenario(hit, 5)
    assert c.losses.track_s[1, 0] < c.threats.launch_s[0] + c.threats.flight_s[0]
    np.testing.assert_array_equal(_first_fire_s(hit), _first_fire_s(_sensor_scenario("town", 0.0)))


def test_radar_losses_in_results_summary_and_event_log() -> None:
    """P(radar lost) = R d for one attacker (R = 0.8, d = 0.5: 0.4 within 4 standard errors at
    2,000 replications); summary.json's attacks_on_defence gains the radars, the event log a
    radar-lost row at the attacker's impact; a raid on batteries only keeps its summary keys."""
    hit = _sensor_scenario("radar", 600.0).with_({"raids[strike].threat": "test-cm"})
    n = 2000
    result = run(hit, replications=n, seed=3)
    lost = np.isfinite(result.radar_lost_s[:, 0])
    assert within_sigma(lost.mean(), RELIABILITY * DAMAGE, n)
    assert result.compiled.asset_ids == ["town", "radar:ew-1"]
    summary = result.summary()["attacks_on_defence"]
    assert summary["radars"]["ew-1"]["attackers"] == 1
    assert summary["radars"]["ew-1"]["p_lost"] == pytest.approx(lost.mean())
    assert summary["radars_lost_mean"] == pytest.approx(lost.mean())
    np.testing.assert_array_equal(result.value_lost[:, 1], np.where(lost, 1.0, 0.0))  # the radar's value (1)
    sure = run(_sensor_scenario("radar", 600.0), replications=2, seed=1)
    events = sure.events_frame()
    row = events[events.event == "radar-lost"]
    assert len(row) == 1 and row.battery.iloc[0] == "ew-1"
    assert row.time_s.iloc[0] == pytest.approx(float(sure.radar_lost_s[0, 0]))
    from shieldwall.report.replay import replay_data
    from shieldwall.report.tables import attacks_table

    scenario = _sensor_scenario("radar", 600.0)
    assert replay_data(scenario, events, None)["lost"] == [
        {"t": round(float(sure.radar_lost_s[0, 0]), 1), "radar": "ew-1", "threat": 0, "type": "test-fast"}]
    table = attacks_table(sure.summary())
    assert table is not None and table.rows[0][:2] == ["radar:ew-1", "1"]
    assert table.total[-1][0] == "radars lost per raid"
    on_battery = run(_sensor_scenario("battery", 600.0), replications=2, seed=1).summary()["attacks_on_defence"]
    assert "radars" not in on_battery and set(on_battery["batteries"]) == {"far-1"}


def test_radar_attacks_agree_with_the_simpy_model_under_c2_and_ballistic() -> None:
    """A radar struck mid-raid (the attacker can fail: R = 0.8, d = 0.5) while drones come in over
    a long window to a depot sam-1's own radar never sees, with mechanisms.c2 and ballistic on:
    the engine and the SimPy model agree replication for replication (a drone launched after the
    loss is not engaged; one tracked before it is)."""
    depot = {"id": "depot", "lat": 50.45, "lon": 30.70, "value": 10}  # ~13 km east: sam-1's own radar never sees
    scenario = _sensor_scenario("radar", 0.0).with_({  # a drone flying there
        "assets": [*scenario_dict()["assets"], depot],
        "raids[strike].threat": "test-cm", "raids[strike].time_s": 300,
        "raids[drone].count": 6, "raids[drone].window_s": 1500, "raids[drone].target": "depot",
        "catalog.systems.test-sam.track_latency_s": 30, "mechanisms": {"c2": True, "ballistic": True}})
    result = run(scenario, replications=48, seed=9)
    lost = np.isfinite(result.radar_lost_s[:, 0])
    assert lost.any() and not lost.all()
    assert simpy_model.identical(simpy_model.simulate(result.compiled, 48, 9), result).all()
    # and the loss shows: fewer drones engaged where the radar was lost (each one is engaged once otherwise)
    fired = result.rounds.sum(axis=(1, 2))
    assert (fired[~lost] == 6).all() and (fired[lost] < 6).all()


def test_unknown_radar_and_a_radar_attack_under_detection_are_located_errors() -> None:
    base = scenario_dict(radars=[{"id": "ew-1", "type": "ew-radar", "lat": 50.5, "lon": 30.5}])
    base["raids"][0]["target"] = {"radar": "ew-2"}
    with pytest.raises(ScenarioError) as info:
        parse_scenario(yaml.safe_dump(base), "s.yaml")
    (problem,) = info.value.problems
    assert problem.path == "raids[0].target.radar"
    assert problem.message == "unknown radar `ew-2`"
    assert problem.hint == "did you mean `ew-1`? known radars: ew-1"
    base["raids"][0]["target"] = {"radar": "ew-1"}
    base["mechanisms"] = {"detection": True}
    with pytest.raises(ScenarioError) as info:
        parse_scenario(yaml.safe_dump(base), "s.yaml")
    (problem,) = info.value.problems
    assert problem.path == "raids[0].target.radar"
    assert "mechanisms.detection" in problem.message


def _radar_campaign(tmp_path, repair: int, target: dict | str):  # type: ignore[no-untyped-def]
    """sam-1 (own radar 8 km) defends a depot ~13 km east that only ew-1 (200 km) lets it see:
    generated drone nights at the depot; on night 2 a sure attacker strikes ``target``."""
    from test_campaign import campaign_dict, write_campaign

    from shieldwall.campaign import load_campaign

    scenario = _sensor_scenario("radar", 0.0)
    theatre = scenario.model_dump(mode="json", exclude_unset=True)
    theatre["assets"].append({"id": "depot", "lat": 50.45, "lon": 30.70, "value": 10, "kind": "far"})
    theatre["raids"] = [{"id": "wave-1", "threat": "test-drone", "count": 3, "launch": {"lat": 51.0, "lon": 30.52},
                         "target": {"kind": "far"}, "window_s": 600}]
    strike = {"id": "strike", "threat": "test-fast", "count": 1, "launch": {"lat": 50.0, "lon": 30.60},
              "target": target}
    drones = {**theatre["raids"][0], "id": "night-2-drones", "time_s": 600}
    doc = campaign_dict(nights=8, deliveries=[], production=[], depots=[],
                        raids=[{"night": 2, "raids": [strike, drones]}], damage={"attack_repair_nights": repair})
    tmp_path.mkdir()
    return load_campaign(write_campaign(tmp_path, doc, theatre))


def test_a_radar_lost_on_night_t_is_out_for_exactly_the_repair_nights(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A sure attacker destroys ew-1 on night 2 (t = 1) before its drones come: sam-1 can see
    nothing at the depot without it, so it fires nothing that night and on nights t + 1 .. t + 3,
    and fires again once the radar is back (night t + 4 on); spared, it fires on those nights."""
    from shieldwall.campaign import run_campaign

    hit = run_campaign(_radar_campaign(tmp_path / "hit", 3, {"radar": "ew-1"}), replications=24, seed=2)
    spared = run_campaign(_radar_campaign(tmp_path / "spared", 3, "town"), replications=24, seed=2)
    fired_hit, fired_spared = hit.fired.sum(axis=tuple(range(2, hit.fired.ndim))), \
        spared.fired.sum(axis=tuple(range(2, spared.fired.ndim)))  # [night, rep]
    assert (fired_hit[1:5] == 0).all()
    assert fired_spared[1:5].sum() > 0
    np.testing.assert_array_equal(fired_hit[:1], fired_spared[:1])  # before the strike: the same
    assert fired_hit[5:].sum() > 0


def test_radars_out_before_the_night_agree_with_the_simpy_model() -> None:
    """A campaign's radar out of action (radars_out) forms no tracks from the start of the night;
    the engine and the SimPy model agree replication for replication, and the replications with
    the radar out fire no more than those with it in action."""
    from shieldwall.engine.runner import simulate

    depot = {"id": "depot", "lat": 50.45, "lon": 30.70, "value": 10}
    scenario = _sensor_scenario("town", 0.0).with_({
        "assets": [*scenario_dict()["assets"], depot], "raids[drone].count": 4, "raids[drone].window_s": 900,
        "raids[drone].target": "depot"})
    compiled = compile_scenario(scenario, 4, losable_radars={"ew-1"})
    assert compiled.losses.unit.tolist() == [1]  # ew-1 kept apart though no raid attacks it
    out = np.arange(40) % 2 == 0
    engine = simulate(compiled, scenario, replications=40, seed=4, radars_out=out[:, None])
    oracle = simpy_model.simulate(compiled, 40, 4, radars_out=out[:, None])
    assert simpy_model.identical(oracle, engine).all()
    fired = engine.rounds.sum(axis=(1, 2))
    assert (fired[out] == 0).all() and (fired[~out] > 0).all()
    plain = simulate(compile_scenario(scenario, 4), scenario, replications=40, seed=4)
    assert simpy_model.identical(plain, engine)[~out].all()  # in action: as without the option
