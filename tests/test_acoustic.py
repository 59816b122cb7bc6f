"""Acoustic cueing (scenario ``acoustic_sensors`` under ``mechanisms.detection``; docs/model.md,
Acoustic cueing): the detection rate per km from the sensors' density, strip and probability; the
first detection's probability and place against the exponential law; who is heard (class,
altitude); the network's track from it; nothing changes without the switch; the SimPy model agrees
replication for replication; bad input is located."""

from __future__ import annotations

import copy
import math
import re

import numpy as np
import pytest

import simpy_model
from conftest import TEST_CATALOG, make_scenario, within_sigma
from shieldwall.engine.compile import compile_scenario
from shieldwall.engine.detection import (
    TAG_ACOUSTIC,
    fire_unit_tracks,
    link_lost_max,
    scan_uniform,
    window_own_cover,
)
from shieldwall.engine.runner import run
from shieldwall.errors import ScenarioError

SENSOR = {"detect_range_km": 2.0, "detect_probability": 0.6, "max_altitude_m": 2000, "classes": ["drone"],
          "report_latency_s": 7.0, "update_period_s": 5.0, "cost_usd": 500}
FIELD = {"id": "ears", "type": "mic", "lat": 50.80, "lon": 30.52, "radius_km": 10.0, "sensors": 40}


def _scenario(detection: bool = True, *, sensors: int = 40, altitude_m: float = 500.0, fields: list | None = None,
              sam_range_km: float = 6.0, **changes):  # type: ignore[no-untyped-def]
    """Drones flying due south from 51.2 N over the field's centre (50.80 N) to the town (50.45 N);
    the only radar is the battery's own at the town, short-sighted, so the network's first track
    over the field can only be acoustic."""
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["acoustic_sensors"] = {"mic": dict(SENSOR)}
    catalog["threats"]["test-drone"]["altitude_m"] = altitude_m
    catalog["systems"]["test-sam"].update(radar_range_km=sam_range_km, scan_period_s=2, confirm_scans=1)
    raids = [{"id": "w", "threat": "test-drone", "count": 6, "launch": {"lat": 51.2, "lon": 30.52, "spread_km": 0.01},
              "target": "town", "window_s": 600}]
    return make_scenario(catalog=catalog, raids=raids, mechanisms={"detection": detection},
                         acoustic_sensors=[dict(FIELD, sensors=sensors)] if fields is None else fields, **changes)


def _first_tracks(compiled, n: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """t_any [key, threat]: when a network first holds a track, over n replication keys."""
    n_thr, n_bat = compiled.n_threats, len(compiled.battery_ids)
    trk, t_id, t_any = np.empty(n_thr * n_bat), np.empty(n_thr), np.empty((n, n_thr))
    every, batteries = np.arange(n_thr + 1) * n_bat, np.tile(np.arange(n_bat), n_thr)
    own_cover = window_own_cover(compiled.detection, np.repeat(np.arange(n_thr), n_bat), batteries)
    for key in range(n):
        fire_unit_tracks(compiled.detection, compiled.paths, compiled.threats.flight_s, key, np.ones(n_thr, np.bool_),
                         every, batteries, own_cover, np.full(n_thr * n_bat, -np.inf),
                         link_lost_max(compiled.detection.bat_link_loss), trk, t_id, t_any[key], np.zeros((n_thr, 0)))
    return t_any


def test_the_rate_per_km_is_density_times_strip_times_probability() -> None:
    """rate per km = sensors * 2 sqrt(r^2 - h^2) * p / (pi R^2), per second times the ground speed;
    a threat crossing the disc through its centre is exposed over 2R."""
    c = compile_scenario(_scenario(), 1)
    det = c.detection
    per_km = 40 * 2 * math.sqrt(2.0**2 - 0.5**2) * 0.6 / (math.pi * 10.0**2)
    assert len(det.ac_net) == 1 and det.ac_latency_s.tolist() == [7.0] and det.ac_update_s.tolist() == [5.0]
    for j in range(c.n_threats):
        lo, hi = det.ac_haz.threat_offset[j], det.ac_haz.threat_offset[j + 1]
        assert hi - lo == 1
        speed_kmps = float(c.threats.vmax_mps[j]) / 1000.0  # a drone flies level at one speed
        exposure_km = det.ac_haz.rate_per_s[lo] * (det.ac_haz.t1_s[lo] - det.ac_haz.t0_s[lo]) / per_km
        assert exposure_km == pytest.approx(20.0, rel=2e-3)  # the chord through the centre
        assert det.ac_haz.rate_per_s[lo] / per_km == pytest.approx(speed_kmps, rel=2e-3)
    assert c.detection_effects.summary()["acoustic"]["ears"]["detections_per_km"]["test-drone"] == \
        pytest.approx(per_km, rel=1e-12)


@pytest.mark.parametrize("sensors", [10, 40])
def test_the_first_detection_follows_the_exponential_law_over_the_field(sensors: int) -> None:
    """P(heard while crossing) = 1 - exp(-lambda L); given heard, the distance flown inside before it
    is exponential truncated at L: mean 1/lambda - L e^(-lambda L) / (1 - e^(-lambda L)). The track
    comes report_latency_s after the detection."""
    c = compile_scenario(_scenario(sensors=sensors), 1)
    det = c.detection
    lam_km = sensors * 2 * math.sqrt(2.0**2 - 0.5**2) * 0.6 / (math.pi * 10.0**2)
    n = 1500
    t_any = _first_tracks(c, n)
    for j in range(c.n_threats):
        lo = det.ac_haz.threat_offset[j]
        t_in, t_out = float(det.ac_haz.t0_s[lo]), float(det.ac_haz.t1_s[lo])
        speed = 20.0 / (t_out - t_in)  # km per s
        heard = t_any[:, j] < t_out + 7.0
        p = 1.0 - math.exp(-lam_km * 20.0)
        assert within_sigma(float(heard.mean()), p, n)
        flown = (t_any[heard, j] - 7.0 - t_in) * speed
        assert flown.min() >= 0.0 and flown.max() <= 20.0 + 1e-9
        mean = 1 / lam_km - 20.0 * math.exp(-lam_km * 20.0) / (1 - math.exp(-lam_km * 20.0))
        assert abs(flown.mean() - mean) < 4 * (20.0 / math.sqrt(12)) / math.sqrt(heard.sum()), (flown.mean(), mean)


def test_the_draws_are_the_hash_of_the_threat_and_network() -> None:
    """The first detection uses scan_uniform(key, TAG_ACOUSTIC, j, k, 0): -ln u of exposure."""
    c = compile_scenario(_scenario(), 1)
    det = c.detection
    t_any = _first_tracks(c, 50)
    lo = det.ac_haz.threat_offset[0]
    rate, t_in, t_out = float(det.ac_haz.rate_per_s[lo]), float(det.ac_haz.t0_s[lo]), float(det.ac_haz.t1_s[lo])
    for key in range(50):
        tau = t_in - math.log(scan_uniform(key, TAG_ACOUSTIC, 0, 0, 0)) / rate
        if tau <= t_out:
            assert t_any[key, 0] == pytest.approx(tau + 7.0, rel=1e-12)


@pytest.mark.parametrize("change", [{"altitude_m": 2500.0}, {"altitude_m": 2100.0}])
def test_threats_above_the_ceiling_or_beyond_the_slant_range_are_not_heard(change: dict) -> None:
    c = compile_scenario(_scenario(**change), 1)
    assert c.detection.ac_haz.threat_offset[-1] == 0  # no segment for any threat


def test_classes_it_does_not_know_are_not_heard() -> None:
    sc = _scenario()
    sc = sc.with_({"catalog.acoustic_sensors.mic.classes": ["cruise"]})
    assert compile_scenario(sc, 1).detection.ac_haz.threat_offset[-1] == 0


def test_without_the_detection_switch_the_fields_change_nothing() -> None:
    with_fields = run(_scenario(False), replications=64, seed=4)
    without = run(_scenario(False, fields=[]), replications=64, seed=4)
    assert simpy_model.identical(with_fields, without).all()
    assert "detection" not in with_fields.summary()


def test_acoustic_tracks_let_a_battery_engage_what_its_radar_sees_too_late_and_the_oracle_agrees() -> None:
    """The battery's radar (1.5 km) tracks the drones about when they arrive: without the field most
    leak untracked in time; the field's network track lets it fire from its engagement window on.
    The SimPy model draws the same detections and agrees replication for replication."""
    base = dict(sam_range_km=1.5, assets=[{"id": "town", "lat": 50.45, "lon": 30.52, "value": 10}])
    heard = run(_scenario(sensors=400, **base), replications=96, seed=11)
    deaf = run(_scenario(fields=[], **base), replications=96, seed=11)
    assert heard.summary()["totals"]["intercepted_mean"] > deaf.summary()["totals"]["intercepted_mean"] + 0.5
    assert "acoustic" in heard.summary()["detection"]
    for res in (heard, deaf):
        assert simpy_model.identical(simpy_model.simulate(res.compiled, 96, 11), res).all()


def test_two_networks_each_get_their_own_detections_and_the_oracle_agrees() -> None:
    fields = [dict(FIELD, id="a", network="main", sensors=30),
              dict(FIELD, id="b", network="other", sensors=60, lat=50.70, radius_km=8.0)]
    sc = _scenario(fields=fields)
    c = compile_scenario(sc, 1)
    assert sorted(c.detection.ac_net.tolist()) == [0, 1]
    res = run(sc, replications=64, seed=5)
    assert simpy_model.identical(simpy_model.simulate(res.compiled, 64, 5), res).all()


@pytest.mark.parametrize("field, message", [
    ({"type": "mik"}, "mic"),
    ({"sensors": 0}, "sensors"),
    ({"radius_km": -1}, "radius_km"),
])
def test_bad_fields_are_located(field: dict, message: str) -> None:
    import yaml

    from shieldwall.scenario.load import parse_scenario

    with pytest.raises(ScenarioError) as err:
        data = _scenario().model_dump(mode="json", by_alias=True, exclude_none=True)
        data["acoustic_sensors"] = [dict(FIELD, **field)]
        parse_scenario(yaml.safe_dump(data), "s.yaml")
    text = str(err.value)
    assert re.search(r"s\.yaml:\d+:\d+: acoustic_sensors\[0\]", text) and message in text, text


def test_fields_without_the_detection_switch_are_warned_about() -> None:
    """validate, run and the editor show it: the fields would silently change nothing."""
    from shieldwall.scenario.checks import scenario_warnings

    warned = [w for w in scenario_warnings(_scenario(False)) if "acoustic" in w.message]
    assert len(warned) == 1 and warned[0].path == "acoustic_sensors" and "detection" in (warned[0].hint or "")
    assert not [w for w in scenario_warnings(_scenario(True)) if "acoustic" in w.message]


def test_a_ballistic_threat_in_the_raid_is_never_heard_even_by_a_sensor_told_its_class() -> None:
    """A ballistic type has no cruise altitude (it flies an arc): no acoustic segment, no error
    (a campaign on the winter example with a field and detection on failed here)."""
    catalog_fields = {"catalog.acoustic_sensors.mic.classes": ["drone", "ballistic"]}
    sc = _scenario().with_(catalog_fields)
    raids = [*[r.model_dump(mode="json", exclude_none=True) for r in sc.raids],
             {"id": "b", "threat": "iskander-m", "count": 2, "launch": {"lat": 51.6, "lon": 30.52}, "target": "town"}]
    sc = sc.with_(raids=raids)
    c = compile_scenario(sc, 1)
    ballistic = np.asarray([c.threat_type_class[t] == "ballistic" for t in c.threat_type])
    rows = np.arange(c.n_threats)[ballistic]
    assert len(rows) == 2
    assert all(c.detection.ac_haz.threat_offset[j] == c.detection.ac_haz.threat_offset[j + 1] for j in rows)
    res = run(sc, replications=16, seed=1)
    assert simpy_model.identical(simpy_model.simulate(res.compiled, 16, 1), res).all()
