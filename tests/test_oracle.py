"""The SimPy model (tests/simpy_model.py) is the engine's executable specification: both must
give identical replications, on every example and doctrine variant and on generated scenarios.
The geometry both share (engagement windows, track times) is checked against brute force."""

from __future__ import annotations

import copy
import json
import math
import sys

import numpy as np
import pytest

pytest.importorskip("simpy", reason="the SimPy model needs simpy (the 'test' extra)")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import simpy_model  # noqa: E402
from conftest import EXAMPLES, ROOT, TEST_CATALOG, make_scenario, within_sigma  # noqa: E402
from shieldwall.engine.compile import compile_scenario  # noqa: E402
from shieldwall.engine.runner import simulate  # noqa: E402
from shieldwall.scenario.load import load_scenario  # noqa: E402
from shieldwall.scenario.model import Scenario  # noqa: E402

# doctrine variants: salvo, shoot-look-shoot, decision grid, cost-weighted fire, WTA policies
VARIANTS: dict[str, dict] = {
    "as-written": {},
    "salvo-1-single": {"salvo": 1, "max_engagements": 1},
    "salvo-2-sls-3": {"salvo": 2, "max_engagements": 3},
    "slow-grid": {"decision_interval_s": 7, "assess_s": 25},
    "cost-weighted": {"cost_weight": 2e-6},
    "local-search": {"policy": "local-search"},
    "exact": {"policy": "exact", "epoch_time_limit_s": 5},
}
# replications per example and variant: the SimPy model takes ~7 ms (small), ~70 ms (city
# defence, 176 threats, guns and decoys) and ~0.4 s (massive raid) per replication
CASES = [("small.yaml", v, 48, 11) for v in VARIANTS] + \
        [("city-defence.yaml", v, 6, 12) for v in VARIANTS] + \
        [("massive-raid.yaml", v, 2, 13) for v in ("as-written", "salvo-2-sls-3")] + \
        [("attack-on-defence.yaml", v, 40, 14) for v in ("as-written", "salvo-2-sls-3", "local-search")]


def _variant(example: str, changes: dict) -> Scenario:
    scenario = load_scenario(EXAMPLES / example)
    if not changes:
        return scenario
    data = scenario.model_dump(by_alias=True, exclude_unset=True)
    data["doctrine"] = {**data.get("doctrine", {}), **changes}
    return Scenario.model_validate(data)


def _both(scenario: Scenario, replications: int, seed: int, **inputs):  # type: ignore[no-untyped-def]
    compiled = compile_scenario(scenario, seed)
    oracle = simpy_model.simulate(compiled, replications, seed, **inputs)
    engine = simulate(compiled, scenario, replications=replications, seed=seed, **inputs)
    return compiled, oracle, engine


def _assert_identical(oracle, engine) -> None:  # type: ignore[no-untyped-def]
    same = simpy_model.identical(oracle, engine)
    assert same.all(), f"replications that differ: {np.flatnonzero(~same).tolist()}"
    np.testing.assert_array_equal(oracle.leak_count_by_threat, engine.leak_count_by_threat)


@pytest.mark.parametrize("example, variant, replications, seed", CASES, ids=[f"{c[0][:-5]}-{c[1]}" for c in CASES])
def test_identical_replications_on_every_example_and_doctrine(example, variant, replications, seed) -> None:  # type: ignore[no-untyped-def]
    compiled, oracle, engine = _both(_variant(example, VARIANTS[variant]), replications, seed)
    _assert_identical(oracle, engine)
    assert oracle.rounds.sum() > 0  # the defence fired: the comparison is not between two empty runs


def test_identical_with_stocks_and_threats_per_replication() -> None:
    """What a campaign night gives the engine: each replication's own stocks (some batteries dry)
    and its own subset of the raid."""
    scenario = load_scenario(EXAMPLES / "city-defence.yaml")
    compiled = compile_scenario(scenario, 5)
    rng = np.random.default_rng(0)
    n = 6
    stock = (compiled.stock[None] * rng.uniform(0.0, 1.0, (n, *compiled.stock.shape))).astype(np.int64)
    present = rng.random((n, compiled.n_threats)) < 0.7
    _, oracle, engine = _both(scenario, n, 5, stock=stock, present=present)
    _assert_identical(oracle, engine)
    assert (oracle.killed + oracle.leaked + oracle.expired).sum(axis=1).tolist() == present.sum(axis=1).tolist()


@pytest.mark.parametrize("example, replications", [("city-defence.yaml", 6), ("massive-raid.yaml", 2)])
def test_identical_with_every_mechanism_on(example: str, replications: int) -> None:
    """The examples with detection (the built-in catalog's scan fields, Gerbera identification,
    link loss), C2 latency and ballistic engagements all on; a campaign night's stocks and
    subset of the raid too."""
    scenario = load_scenario(EXAMPLES / example).with_(
        {"mechanisms.detection": True, "mechanisms.c2": True, "mechanisms.ballistic": True})
    compiled, oracle, engine = _both(scenario, replications, 21)
    _assert_identical(oracle, engine)
    assert oracle.rounds.sum() > 0
    rng = np.random.default_rng(1)
    present = rng.random((replications, compiled.n_threats)) < 0.7
    _, oracle, engine = _both(scenario, replications, 22, present=present)
    _assert_identical(oracle, engine)


def test_two_shot_closed_form() -> None:
    """One drone, one salvo of two shots at Pk 0.6: it leaks with probability 0.4^2."""
    n = 2000
    _, oracle, engine = _both(make_scenario(), n, 3)
    _assert_identical(oracle, engine)
    assert within_sigma(oracle.leaked[:, 0].mean(), (1.0 - 0.6) ** 2, n)
    assert (oracle.rounds.sum(axis=(1, 2)) == 2).all()  # one engagement, a full salvo of two


# -- generated scenarios -------------------------------------------------------------------------
def _catalog() -> dict:
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["interceptors"]["gun-burst"] = {"kind": "gun", "speed_mps": 1100, "max_range_km": 4,
                                            "max_altitude_m": 3000, "pk": {"drone": 0.5, "cruise": 0.3},
                                            "cost_usd": 500, "rounds_per_shot": 12}
    catalog["interceptors"]["long"] = {"speed_mps": 1500, "min_range_km": 3, "max_range_km": 90,
                                       "max_altitude_m": 30000, "pk": {"cruise": 0.8, "ballistic": 0.5, "drone": 0.7},
                                       "cost_usd": 3e6, "lateral_accel_g": 30}
    catalog["systems"]["gun"] = {"radar_range_km": 15, "fire_channels": 1, "launchers": 1,
                                 "rounds_per_launcher": 60, "reload_s": 300, "interceptors": ["gun-burst"]}
    catalog["systems"]["area"] = {"radar_range_km": 150, "radar_height_m": 20, "fire_channels": 3, "launchers": 2,
                                  "rounds_per_launcher": 4, "reload_s": 900, "interceptors": ["long"],
                                  "ballistic_track_time_s": 12, "penaid_discrimination": 0.4,
                                  "track_latency_s": 20}
    catalog["threats"]["cm"] = {"class": "cruise", "speed_mps": 240, "altitude_m": 80, "cost_usd": 1e6,
                                "reliability": 0.9}
    catalog["threats"]["srbm"] = {"class": "ballistic", "apogee_km": 40, "cost_usd": 3e6, "rcs_m2": 0.2,
                                  "terminal_manoeuvre_g": 15, "penaids": 2}
    catalog["threats"]["alcm"] = {"class": "ballistic", "apogee_km": 30, "cost_usd": 1e7, "rcs_m2": 0.3,
                                  "launch_altitude_m": 14000}  # air-launched (mechanisms.ballistic)
    catalog["threats"]["decoy"] = {"class": "drone", "speed_mps": 45, "altitude_m": 400, "decoy": True,
                                   "guidance": ["gnss"]}
    catalog["threats"]["test-drone"]["guidance"] = ["gnss", "ins"]
    # scan parameters (they act only under mechanisms.detection; test-sam keeps the defaults)
    catalog["systems"]["area"].update(scan_period_s=4, confirm_scans=2, reference_pd=0.8, link_loss_probability=0.3)
    catalog["systems"]["gun"].update(scan_period_s=1, confirm_scans=1, range_pd_km=8)
    catalog["threats"]["decoy"]["identify_probability"] = 0.3
    catalog["threats"]["cm"].update(guidance=["ins", "tercom", "gnss"], ew_resistance=0.6, ins_drift_m_per_km=2.0)
    catalog["threats"]["test-drone"]["ins_drift_m_per_km"] = 4.0  # GNSS denial under mechanisms.ins
    catalog["radars"] = {"test-ew": {"range_km": 150, "height_m": 15}}  # sees farther than the batteries
    # a fire unit that reaches farther than its own radar sees: it needs its network's tracks
    catalog["systems"]["short-eye"] = {**catalog["systems"]["area"], "radar_range_km": 4, "radar_height_m": 5}
    catalog["area_defences"] = {
        "mfg": {"kind": "mobile-fire-group", "reach_km": 2, "engage_probability": 0.6, "attempts_per_min": 1.5,
                "munitions_per_attempt": 30, "pk": {"drone": 0.35}, "max_altitude_m": 2500,
                "max_target_speed_mps": 120, "cost_usd": 15},
        "jets": {"kind": "aviation", "reach_km": 25, "engage_probability": 0.3, "attempts_per_min": 0.5,
                 "pk": {"drone": 0.7, "cruise": 0.6}, "max_altitude_m": 12000, "max_target_speed_mps": 400,
                 "cost_usd": 400000}}
    return catalog


@st.composite
def small_scenarios(draw, sensor_attacks: bool = False):  # type: ignore[no-untyped-def]
    """A few assets, batteries and raids around one town, with any doctrine; ``sensor_attacks``:
    with stand-alone radars, detection off, and a raid on a radar and perhaps one on a battery."""
    near = st.floats(-0.15, 0.15, allow_nan=False)
    n_assets = draw(st.integers(1, 3))
    assets = [{"id": f"a{i}", "lat": 50.45 + draw(near), "lon": 30.52 + draw(near),
               "value": draw(st.sampled_from([1, 5, 10]))} for i in range(n_assets)]
    batteries = []
    for i in range(draw(st.integers(1 if sensor_attacks else 0, 3))):
        system = draw(st.sampled_from(["short-eye", "short-eye", "short-eye", "test-sam"] if sensor_attacks
                                      else ["test-sam", "gun", "area"]))
        itc = {"test-sam": "test-missile", "gun": "gun-burst", "area": "long", "short-eye": "long"}[system]
        batteries.append({"id": f"b{i}", "system": system, "lat": 50.45 + draw(near), "lon": 30.52 + draw(near),
                          "interceptors": {itc: draw(st.integers(0, 40 if system == "gun" else 10))},
                          "pk_factor": draw(st.sampled_from([1.0, 1.0, 0.7, 1.3]))})
        if sensor_attacks:  # two networks (a sensor lost matters to its own only); most let cruise missiles by
            batteries[-1]["network"] = draw(st.sampled_from(["main", "west"]))
            if draw(st.integers(0, 2)) > 0:
                batteries[-1]["engage"] = ["drone", "ballistic"]
    raids = []
    for i in range(draw(st.integers(1, 3))):
        threat = draw(st.sampled_from(["test-drone", "cm", "srbm", "alcm"]))
        raid = {"id": f"r{i}", "threat": threat, "count": draw(st.integers(1, 6)),
                "launch": {"lat": 50.45 + draw(st.floats(0.4, 1.5)), "lon": 30.52 + draw(near),
                           "spread_km": draw(st.sampled_from([0, 5]))},
                "target": assets[draw(st.integers(0, n_assets - 1))]["id"],
                "time_s": draw(st.sampled_from([0, 60] + ([900, 1800] if sensor_attacks else []))),
                "window_s": draw(st.sampled_from([0, 120, 600]))}
        if threat not in ("srbm", "alcm") and draw(st.booleans()):
            raid["waypoints"] = [{"lat": 50.45 + draw(st.floats(0.2, 0.4)), "lon": 30.52 + draw(near)}]
        if threat == "test-drone" and draw(st.booleans()):
            raid["decoys"] = {"threat": "decoy", "count": draw(st.integers(1, 3))}
        if batteries and draw(st.integers(0, 2)) == 0:  # an attack on the defence
            raid["target"] = {"battery": batteries[draw(st.integers(0, len(batteries) - 1))]["id"]}
        raids.append(raid)
    doctrine = {"salvo": {c: draw(st.integers(1, 3)) for c in ("drone", "cruise", "ballistic")},
                "max_engagements": draw(st.integers(1, 3)),
                "decision_interval_s": draw(st.sampled_from([1, 2, 5])), "assess_s": draw(st.sampled_from([0, 4, 15])),
                "cost_weight": draw(st.sampled_from([0.0, 0.0, 1e-6])),
                "policy": draw(st.sampled_from(["greedy", "greedy", "local-search"]))}
    ew = [{"id": f"ew{i}", "lat": 50.45 + draw(st.floats(0.1, 0.8)), "lon": 30.52 + draw(near),
           "radius_km": draw(st.sampled_from([5, 15, 40])), "loss_per_km": draw(st.sampled_from([0.005, 0.03])),
           "divert_share": draw(st.sampled_from([0.0, 0.4]))} for i in range(draw(st.integers(0, 2)))]
    area = [{"id": f"ad{i}", "type": draw(st.sampled_from(["mfg", "jets"])), "lat": 50.45 + draw(st.floats(0.0, 0.8)),
             "lon": 30.52 + draw(near), "radius_km": draw(st.sampled_from([8, 20])), "units": draw(st.integers(1, 30)),
             "stock": draw(st.sampled_from([None, 90, 2000])),
             "active_from_s": draw(st.sampled_from([0, 0, 300]))} for i in range(draw(st.integers(0, 2)))]
    mechanisms = {"ballistic": draw(st.booleans()), "c2": draw(st.booleans()), "detection": draw(st.booleans()),
                  "ins": draw(st.booleans())}
    # stand-alone radars between the launches and the town (drawn last: the examples before them
    # keep their draws), and without detection an attack on one (docs/model.md, Attacks on the defence)
    if sensor_attacks:
        mechanisms["detection"] = False
    radars = [{"id": f"ew{i}", "type": "test-ew", "lat": 50.45 + draw(st.floats(0.1, 0.6)), "lon": 30.52 + draw(near)}
              for i in range(draw(st.integers(1 if sensor_attacks else 0, 2)))]
    for radar in radars if sensor_attacks else []:
        radar["network"] = draw(st.sampled_from(["main", "west"]))
    if sensor_attacks:  # a strike at a sensor early in the night, before most raids come in
        aim = draw(st.integers(0, len(radars) + len(batteries) - 1))
        target = {"radar": radars[aim]["id"]} if aim < len(radars) else {"battery": batteries[aim - len(radars)]["id"]}
        raids.append({"id": "strike", "threat": "cm", "count": draw(st.integers(1, 3)), "target": target,
                      "launch": {"lat": 50.45 + draw(st.floats(0.2, 0.9)), "lon": 30.52 + draw(near)}})
    elif radars and not mechanisms["detection"] and draw(st.booleans()):
        raids[draw(st.integers(0, len(raids) - 1))]["target"] = {"radar": radars[draw(st.integers(0, len(radars) - 1))]["id"]}
    if any(unit.get("network", "main") == "main" for unit in [*batteries, *radars]):
        for zone in area:  # dispatched on the network's tracks (docs/model.md, Area defences cued by a network)
            zone["cued"] = draw(st.booleans())
    return make_scenario(catalog=_catalog(), assets=assets, batteries=batteries, raids=raids, doctrine=doctrine,
                         ew_zones=ew, area_defences=area, mechanisms=mechanisms, radars=radars)


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=small_scenarios(), seed=st.integers(0, 2**31))
def test_generated_scenarios_give_identical_replications(scenario: Scenario, seed: int) -> None:
    _, oracle, engine = _both(scenario, 6, seed)
    _assert_identical(oracle, engine)


@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=small_scenarios(sensor_attacks=True), seed=st.integers(0, 2**31))
def test_generated_attacks_on_sensors_give_identical_replications(scenario: Scenario, seed: int) -> None:
    """Raids on stand-alone radars (and batteries, whose radars feed their network): windows that
    lose their track when a sensor is destroyed (docs/model.md, Attacks on the defence)."""
    _, oracle, engine = _both(scenario, 8, seed)
    _assert_identical(oracle, engine)


# -- the shared geometry, against brute force ---------------------------------------------------
def _brute_scenario() -> Scenario:
    catalog = _catalog()
    return make_scenario(
        catalog=catalog,
        assets=[{"id": "town", "lat": 50.45, "lon": 30.52, "value": 10}],
        batteries=[{"id": "near", "system": "test-sam", "lat": 50.47, "lon": 30.50, "interceptors": {"test-missile": 8}},
                   {"id": "gun", "system": "gun", "lat": 50.43, "lon": 30.55, "interceptors": {"gun-burst": 60}},
                   {"id": "area", "system": "area", "lat": 50.30, "lon": 30.70, "interceptors": {"long": 8}}],
        raids=[{"id": "d", "threat": "test-drone", "count": 2, "launch": {"lat": 51.0, "lon": 30.40},
                "target": "town", "waypoints": [{"lat": 50.7, "lon": 30.9}]},
               {"id": "c", "threat": "cm", "count": 1, "launch": {"lat": 51.3, "lon": 31.2}, "target": "town"},
               {"id": "b", "threat": "srbm", "count": 1, "launch": {"lat": 51.6, "lon": 30.1}, "target": "town"}],
    )


def _sensors(scenario: Scenario, compiled):  # type: ignore[no-untyped-def]
    from shieldwall.catalog.builtin import builtin_catalog

    catalog = scenario.catalog.merged_over(builtin_catalog())
    return [(float(compiled.batteries.x_m[b]), float(compiled.batteries.y_m[b]), catalog.systems[bat.system].radar_height_m,
             1000.0 * catalog.systems[bat.system].radar_range_km) for b, bat in enumerate(scenario.batteries)]


def _fine_grid(compiled, j: int, per_step: int = 20) -> np.ndarray:  # type: ignore[no-untyped-def]
    flight, step = float(compiled.threats.flight_s[j]), float(compiled.threats.step_s[j])
    return np.linspace(0.0, flight, int(math.ceil(flight / step)) * per_step + 1)


def test_track_times_against_brute_force() -> None:
    """The first time any radar of the (one) network sees each threat: slant range within the
    radar's range scaled by rcs^(1/4), ground range within the 4/3-earth horizon, on a grid 20
    times finer than the engine's path samples. The engine samples every step, so it may see a
    threat up to one step later, never sooner."""
    scenario = _brute_scenario()
    compiled = compile_scenario(scenario, 1)
    s = simpy_model.Static(compiled)
    rcs = {"test-drone": 1.0, "cm": 1.0, "srbm": 0.2}
    for j in range(compiled.n_threats):
        scale = rcs[compiled.threat_type_ids[compiled.threat_type[j]]] ** 0.25
        first = math.inf
        for tau in _fine_grid(compiled, j):
            x, y, z = simpy_model.position(s.paths[j], float(tau))
            for sx, sy, sh, rng in _sensors(scenario, compiled):
                ground = math.hypot(x - sx, y - sy)
                if ground <= 4120.0 * (math.sqrt(sh) + math.sqrt(max(z, 0.0))) and \
                        math.hypot(ground, z - sh) <= rng * scale:
                    first = min(first, float(tau))
            if first < math.inf:
                break
        engine = float(compiled.threats.track_s[j])
        assert first < math.inf, j
        assert first - 1e-9 <= engine <= first + compiled.threats.step_s[j] + 1e-9, (j, first, engine)


def test_engagement_windows_against_brute_force() -> None:
    """docs/model.md, Engagement feasibility: a shot fired at tau_f (after the track, after
    launch) can meet the threat at tau_i inside the envelope when the interceptor covers the slant
    range d by then: tau_f = tau_i - d / speed. On a fine grid of tau_i, the fire times that work
    for each (threat, battery, interceptor) must fall inside the compiled windows, and each
    window's ends must be such fire times, both up to the engine's sampling of the path (one
    step, stretched by how fast tau_f moves with tau_i)."""
    scenario = _brute_scenario()
    compiled = compile_scenario(scenario, 1)
    s = simpy_model.Static(compiled)
    win, itc = compiled.windows, compiled.interceptors
    checked = 0
    for j in range(compiled.n_threats):
        track = float(compiled.threats.track_s[j])
        for b, (bx, by, _, _) in enumerate(_sensors(scenario, compiled)):
            for k in range(len(compiled.interceptor_ids)):
                rows = [p for p in range(win.threat_offset[j], win.threat_offset[j + 1])
                        if win.battery[p] == b and win.interceptor[p] == k]
                if compiled.stock[b, k] == 0:
                    assert not rows
                    continue
                speed = float(itc.speed_mps[k])
                tol = compiled.threats.step_s[j] * (1.0 + compiled.threats.vmax_mps[j] / speed) + 1e-6
                fire = []
                grid = _fine_grid(compiled, j)
                for tau_i in grid[:-1]:  # the impact itself is not an intercept
                    x, y, z = simpy_model.position(s.paths[j], float(tau_i))
                    d = math.sqrt((x - bx) ** 2 + (y - by) ** 2 + z * z)
                    tau_f = tau_i - d / speed
                    if (itc.min_range_m[k] <= d <= itc.max_range_m[k]
                            and itc.min_altitude_m[k] <= z <= itc.max_altitude_m[k]
                            and itc.pk[k, compiled.threat_type[j]] > 0 and tau_f >= track and tau_f >= 0.0):
                        fire.append(tau_f)
                fire = np.array(fire)
                if not len(fire):
                    assert not rows, (j, b, k)
                    continue
                assert rows, (j, b, k)
                for p in rows:  # window ends are fire times that work
                    for end in (win.open_s[p], win.close_s[p]):
                        assert np.min(np.abs(fire - end)) <= tol, (j, b, k, end)
                opens, closes = win.open_s[rows], win.close_s[rows]
                inside = ((fire[:, None] >= opens[None] - tol) & (fire[:, None] <= closes[None] + tol)).any(axis=1)
                assert inside.all(), (j, b, k, fire[~inside][:3])
                checked += 1
    assert checked >= 6


def test_baseline_command_line_writes_the_run_summary_fields(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location("simpy_baseline", ROOT / "benchmarks" / "simpy_baseline.py")
    assert spec is not None and spec.loader is not None
    baseline = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = baseline
    spec.loader.exec_module(baseline)
    path = EXAMPLES / "small.yaml"
    assert baseline.main([str(path), "--replications", "5", "--seed", "2", "--out", str(tmp_path), "--compare"]) == 0
    assert "identical replications: 5 of 5" in capsys.readouterr().out
    ours = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    compiled = compile_scenario(load_scenario(path), 2)
    engine = simulate(compiled, load_scenario(path), replications=5, seed=2).summary()
    assert ours == engine  # identical replications give the identical summary
