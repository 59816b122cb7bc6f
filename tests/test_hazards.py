"""Electronic warfare and area defences (docs/model.md, Hazards along the path) against closed
forms, fixed seeds, 4-sigma bounds; their segments against brute-force integration."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from conftest import TEST_CATALOG, make_scenario, within_sigma
from shieldwall.engine.compile import compile_scenario
from shieldwall.engine.runner import run
from shieldwall.errors import ScenarioError
from shieldwall.scenario.load import parse_scenario

N = 4000
LAUNCH = {"lat": 51.0, "lon": 30.52}  # due north of the town (50.45, 30.52): a straight track south
AREA_KIND = {"kind": "mobile-fire-group", "reach_km": 2, "engage_probability": 0.5, "attempts_per_min": 600,
             "pk": {"drone": 0.3}, "max_altitude_m": 3000, "max_target_speed_mps": 200, "cost_usd": 500,
             "munitions_per_attempt": 20}


def _catalog(**drone: object) -> dict:
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["threats"]["test-drone"].update({"guidance": ["gnss", "ins"], **drone})
    catalog["area_defences"] = {"mfg": copy.deepcopy(AREA_KIND)}
    return catalog


def _raid(count: int = 1, **extra: object) -> list[dict]:
    return [{"id": "w", "threat": "test-drone", "count": count, "launch": LAUNCH, "target": "town", **extra}]


def _chord_km(scenario, zone_lat: float, zone_lon: float, radius_km: float) -> float:  # type: ignore[no-untyped-def]
    """Length of the straight track inside the disc, in the engine's frame."""
    c = compile_scenario(scenario, 0)
    x0, y0 = c.paths.vertex_x_m[0], c.paths.vertex_y_m[0]
    x1, y1 = c.paths.vertex_x_m[1], c.paths.vertex_y_m[1]
    cx, cy = c.frame.to_local(zone_lat, zone_lon)
    d = abs((x1 - x0) * (y0 - cy) - (x0 - cx) * (y1 - y0)) / math.hypot(x1 - x0, y1 - y0)  # track to centre
    return 2.0 * math.sqrt(max(radius_km ** 2 - (d / 1000.0) ** 2, 0.0))


@pytest.mark.parametrize(("lon", "resistance", "guidance"), [(30.52, 0.0, ["gnss", "ins"]), (30.60, 0.5, ["gnss"]),
                                                             (30.52, 0.0, ["ins"])])
def test_electronic_warfare_loses_a_threat_at_its_rate_per_km(lon: float, resistance: float, guidance: list) -> None:
    """No defence: a threat is lost with probability 1 - exp(-loss_per_km (1 - resistance) L),
    L its track inside the zone; diverted in divert_share of those; never if its guidance is not
    one the zone degrades."""
    zone = {"id": "ew", "lat": 50.75, "lon": lon, "radius_km": 12, "loss_per_km": 0.03, "divert_share": 0.25}
    scenario = make_scenario(catalog=_catalog(guidance=guidance, ew_resistance=resistance), batteries=[],
                             raids=_raid(), ew_zones=[zone])
    result = run(scenario, replications=N, seed=21)
    lost = (result.suppressed + result.diverted)[:, 0].mean()
    rate = 0.03 * (1.0 - resistance) if "gnss" in guidance else 0.0
    expected = 1.0 - math.exp(-rate * _chord_km(scenario, 50.75, lon, 12))
    assert within_sigma(lost, expected, N), (lost, expected)
    if expected > 0.1:
        share = result.diverted[:, 0].sum() / max(1, (result.suppressed + result.diverted)[:, 0].sum())
        assert abs(share - 0.25) < 4 * math.sqrt(0.25 * 0.75 / (expected * N)), share
    assert (result.launched[:, 0] == 1).all()
    summary = result.summary()
    assert summary["totals"]["neutralised_mean"] == pytest.approx(1.0 - result.leaked[:, 0].mean())


def test_area_defence_kills_at_its_poisson_rate_up_to_its_engagements() -> None:
    """Units spread over a disc of area A meet a threat at units x 2 reach x p / A per km: along a
    chord L, N ~ Poisson(mu) engagements (mu = that rate x L), at most AREA_ATTEMPTS of them,
    each killing with pk. So P(survive) = E[(1 - pk)^min(N, K)]."""
    from shieldwall.engine.records import AREA_ATTEMPTS

    area = {"id": "a", "type": "mfg", "lat": 50.72, "lon": 30.55, "radius_km": 15, "units": 40}
    scenario = make_scenario(catalog=_catalog(), batteries=[], raids=_raid(), area_defences=[area])
    result = run(scenario, replications=N, seed=22)
    mu = 40 * 2 * 2 * 0.5 / (math.pi * 15 ** 2) * _chord_km(scenario, 50.72, 30.55, 15)
    pois = [math.exp(-mu) * mu ** n / math.factorial(n) for n in range(AREA_ATTEMPTS)]
    survive = sum(p * 0.7 ** n for n, p in enumerate(pois)) + (1.0 - sum(pois)) * 0.7 ** AREA_ATTEMPTS
    assert mu > 1.0  # the test means something: several engagements are likely
    killed = result.area_killed[:, 0].mean()
    assert within_sigma(killed, 1.0 - survive, N), (killed, 1.0 - survive)
    # engagements: E[min(N, K) before the kill]; the munitions and costs follow from them
    assert (result.area_munitions[:, 0] == 20 * result.area_attempts[:, 0]).all()
    assert result.area_kills[:, 0].sum() == result.area_killed[:, 0].sum()
    summary = result.summary()["area_defences"]["a"]
    assert summary["cost_usd_mean"] == pytest.approx(500 * summary["munitions_mean"])


def test_area_defence_throughput_and_munitions_bound_its_engagements() -> None:
    """Fifty drones at once through one slow unit: it starts one engagement a minute (after the
    one it holds ready), however many it meets; with 3 munitions, at most 3 engagements."""
    catalog = _catalog()
    catalog["area_defences"]["mfg"].update(attempts_per_min=1.0, pk={"drone": 1e-9})  # engages, never kills
    dense = {"id": "a", "type": "mfg", "lat": 50.72, "lon": 30.52, "radius_km": 10, "units": 1}
    slow = make_scenario(catalog=copy.deepcopy(catalog), batteries=[], raids=_raid(50),
                         area_defences=[dict(dense)])
    result = run(slow, replications=50, seed=23)
    c = result.compiled
    inside_s = c.area.t1_s[0] - c.area.t0_s[0]  # every drone crosses together
    assert (result.area_attempts[:, 0] <= 1 + inside_s / 60.0 + 1).all()
    assert result.area_attempts[:, 0].max() >= 2
    short = make_scenario(catalog=catalog, batteries=[], raids=_raid(50),
                          area_defences=[{**dense, "units": 500, "stock": 60}])
    assert (run(short, replications=50, seed=24).area_attempts[:, 0] == 3).all()  # 60 rounds, 20 an engagement


def test_area_defence_engages_only_what_it_can_reach_and_only_while_in_place() -> None:
    """Above its ceiling, faster than it can engage, or before it is in place: no engagement."""
    area = {"id": "a", "type": "mfg", "lat": 50.72, "lon": 30.52, "radius_km": 15, "units": 60}
    for drone, extra in (({"altitude_m": 4000}, {}), ({"speed_mps": 250}, {}), ({}, {"active_from_s": 1e5})):
        scenario = make_scenario(catalog=_catalog(**drone), batteries=[], raids=_raid(5),
                                 area_defences=[{**area, **extra}])
        result = run(scenario, replications=20, seed=25)
        assert result.area_attempts.sum() == 0 and result.area_killed.sum() == 0, (drone, extra)


def test_segments_integrate_the_rate_like_brute_force() -> None:
    """Each threat's segments carry, between consecutive zone boundaries, the sum of the rates of
    the zones it is inside: integrating rate x dt on a fine grid along the path (position
    sampled, membership tested point by point) gives the same exposure."""
    zones = [{"id": f"z{i}", "lat": 50.6 + 0.08 * i, "lon": 30.45 + 0.05 * i, "radius_km": 9 + 3 * i,
              "loss_per_km": 0.01 * (i + 1)} for i in range(3)]
    raids = [{"id": "w", "threat": "test-drone", "count": 3, "launch": {"lat": 51.0, "lon": 30.3, "spread_km": 8},
              "target": "town", "waypoints": [{"lat": 50.7, "lon": 30.7}], "window_s": 60}]
    scenario = make_scenario(catalog=_catalog(), batteries=[], raids=raids, ew_zones=zones)
    c = compile_scenario(scenario, 5)
    h = c.ew
    for j in range(c.n_threats):
        o, e = c.paths.vertex_offset[j], c.paths.vertex_offset[j + 1]
        ts = np.linspace(0.0, c.threats.flight_s[j], 40_001)
        xs = np.interp(ts, c.paths.vertex_t_s[o:e], c.paths.vertex_x_m[o:e])
        ys = np.interp(ts, c.paths.vertex_t_s[o:e], c.paths.vertex_y_m[o:e])
        rate = np.zeros_like(ts)
        for z in zones:
            cx, cy = c.frame.to_local(z["lat"], z["lon"])
            inside = np.hypot(xs - cx, ys - cy) <= 1000.0 * z["radius_km"]
            rate += np.where(inside, z["loss_per_km"] * 50.0 / 1000.0, 0.0)  # per km x 50 m/s
        brute = float(np.sum(0.5 * (rate[1:] + rate[:-1]) * np.diff(ts)))
        segs = range(h.threat_offset[j], h.threat_offset[j + 1])
        exact = float(sum(h.rate_per_s[s] * (h.t1_s[s] - h.t0_s[s]) for s in segs))
        assert brute > 0.1 and exact == pytest.approx(brute, rel=2e-3), (j, exact, brute)
        for s in segs:  # each segment's zones add up to its rate
            zsum = h.zone_rate_per_s[h.zone_offset[s]:h.zone_offset[s + 1]].sum()
            assert zsum == pytest.approx(h.rate_per_s[s])


def test_mistakes_in_the_new_sections_are_located() -> None:
    text = """
name: bad
catalog:
  area_defences:
    mfg: {kind: mobile-fire-group, reach_km: 2, engage_probability: 0.5, attempts_per_min: 2,
          pk: {dron: 0.3}, max_altitude_m: 3000, max_target_speed_mps: 200}
assets: [{id: town, lat: 50.45, lon: 30.52}]
raids: [{id: w, threat: shahed-136, count: 1, launch: {lat: 51, lon: 30.5}, target: town}]
ew_zones: [{id: e, lat: 50.7, lon: 30.5, radius_km: 10, loss_per_km: -1, affects: [gps]}]
area_defences: [{id: a, type: mgf, lat: 50.7, lon: 30.5, radius_km: 10, units: 4,
                 active_from_s: 600, active_until_s: 60}]
"""
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "bad.yaml")
    found = {p.path: p for p in err.value.problems}
    assert "ew_zones[0].loss_per_km" in found and "ew_zones[0].affects[0]" in found
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text.replace("loss_per_km: -1, affects: [gps]", "loss_per_km: 0.01"), "bad.yaml")
    found = {p.path: p for p in err.value.problems}
    assert found["area_defences[0].type"].hint.startswith("did you mean `mfg`")
    assert "area_defences[0].active_until_s" in found
    assert "catalog.area_defences.mfg.pk.dron" in found
    assert all(p.line for p in err.value.problems)


def test_ins_hit_probability_is_the_circular_normal_share_within_the_radius() -> None:
    """Half the misses fall within the CEP (R = CEP: 0.5); a circular normal miss with
    sigma = CEP / sqrt(2 ln 2) per axis falls within R with 1 - 2^(-(R / CEP)^2) (brute force)."""
    from shieldwall.engine.hazards import ins_hit_probability

    assert ins_hit_probability(2.0, 50.0, 100.0) == pytest.approx(0.5)
    assert ins_hit_probability(0.0, 50.0, 100.0) == 1.0 and ins_hit_probability(2.0, 0.0, 100.0) == 1.0
    rng = np.random.default_rng(3)
    cep = 0.2 * 120.0  # a ballistic missile's INS over 120 km
    miss = np.hypot(*rng.normal(0.0, cep / math.sqrt(2.0 * math.log(2.0)), (2, 200_000)))
    for radius in (10.0, 24.0, 40.0):
        assert (miss <= radius).mean() == pytest.approx(float(ins_hit_probability(0.2, 120.0, radius)), abs=0.005)
    assert float(ins_hit_probability(50.0, 30.0, 100.0)) < 0.005  # a drone's INS over 30 km: 1.5 km CEP


def _ins_case(drift: float | None, ins: bool = True, radius_m: float = 100.0):  # type: ignore[no-untyped-def]
    zone = {"id": "ew", "lat": 50.75, "lon": 30.52, "radius_km": 12, "loss_per_km": 0.05, "divert_share": 0.25}
    drone = {} if drift is None else {"ins_drift_m_per_km": drift}
    return make_scenario(catalog=_catalog(**drone), batteries=[], raids=_raid(), ew_zones=[zone],
                         assets=[{"id": "town", "lat": 50.45, "lon": 30.52, "value": 10, "radius_m": radius_m}],
                         mechanisms={"ins": ins})


def _ins_lost_closed_form(scenario, drift: float, radius_m: float) -> float:  # type: ignore[no-untyped-def]
    """P(lost) = integral over the chord of lambda exp(-lambda x) (1 - p_hit(D_in - x)) dx, x the km
    flown in the zone, D_in the km still to fly at its edge (first denial decides)."""
    from scipy.integrate import quad

    from shieldwall.engine.hazards import ins_hit_probability

    c = compile_scenario(scenario, 0)
    x0, y0, x1, y1 = c.paths.vertex_x_m[0], c.paths.vertex_y_m[0], c.paths.vertex_x_m[-1], c.paths.vertex_y_m[-1]
    length_km = math.hypot(x1 - x0, y1 - y0) / 1000.0
    cx, cy = c.frame.to_local(50.75, 30.52)
    along_km = ((cx - x0) * (x1 - x0) + (cy - y0) * (y1 - y0)) / math.hypot(x1 - x0, y1 - y0) / 1000.0
    chord = _chord_km(scenario, 50.75, 30.52, 12)
    to_go_in = length_km - (along_km - chord / 2.0)
    lam = 0.05
    value, _ = quad(lambda x: lam * math.exp(-lam * x) * (1.0 - float(ins_hit_probability(drift, to_go_in - x,
                                                                                            radius_m))), 0.0, chord)
    return value


def test_ins_a_denied_threat_is_lost_only_when_its_inertial_miss_exceeds_the_target() -> None:
    """mechanisms.ins: the first GNSS denial in the zone decides; lost with 1 - p_hit(distance to
    go). The compiled segments give that probability up to the sub-pieces' midpoint rule, the
    engine draws it within 4 sigma; the diverted share of the lost is the zone's."""
    drift, radius = 3.0, 100.0  # CEP 63-135 m over the 21-45 km still to fly: p_hit 0.82 .. 0.32
    scenario = _ins_case(drift)
    expected = _ins_lost_closed_form(scenario, drift, radius)
    plain = 1.0 - math.exp(-0.05 * _chord_km(scenario, 50.75, 30.52, 12))
    assert 0.1 < expected < plain - 0.2  # the mechanism matters here
    c = compile_scenario(scenario, 0)
    compiled = 1.0 - math.exp(-float(np.sum(c.ew.rate_per_s * (c.ew.t1_s - c.ew.t0_s))))
    assert compiled == pytest.approx(expected, abs=0.003)
    n = 8000
    result = run(scenario, replications=n, seed=31)
    lost = (result.suppressed + result.diverted)[:, 0]
    assert within_sigma(lost.mean(), expected, n), (lost.mean(), expected)
    assert (result.leaked[:, 0] == 1 - lost).all()  # the rest fly on and arrive
    share = result.diverted[:, 0].sum() / lost.sum()
    assert abs(share - 0.25) < 4 * math.sqrt(0.25 * 0.75 / lost.sum()), share


def test_ins_a_ballistic_grade_ins_arrives_and_no_drift_or_switch_off_changes_nothing() -> None:
    """A missile-grade INS (0.2 m per km) denied 45 km out misses by ~9 m CEP: it arrives. A type
    without ins_drift_m_per_km is lost as without the mechanism, and with the switch off results
    are byte-identical to a catalog without the parameter."""
    assert run(_ins_case(0.2), replications=2000, seed=32).leaked[:, 0].mean() > 0.999
    off = run(_ins_case(None, ins=False), replications=2000, seed=33)
    for other in (_ins_case(3.0, ins=False), _ins_case(None, ins=True)):
        again = run(other, replications=2000, seed=33)
        for field in ("leaked", "suppressed", "diverted", "expired"):
            assert np.array_equal(getattr(off, field), getattr(again, field)), field
    assert off.suppressed[:, 0].mean() + off.diverted[:, 0].mean() > 0.5


def test_a_uniform_below_the_quiet_bound_never_gives_a_first_event() -> None:
    """The kernel's shortcut (kernel._quiet_below): below the bound next_event from launch finds no
    event, checked on random segments at uniforms just under it; just above exp(-exposure) by more
    than the margin, it finds one (the bound is tight, not merely safe)."""
    from shieldwall.engine.hazards import build_hazards, next_event
    from shieldwall.engine.kernel import QUIET_MARGIN, _quiet_below

    rng = np.random.default_rng(18)
    pieces = []
    for j in range(200):
        for z in range(int(rng.integers(0, 4))):
            t0 = float(rng.uniform(-50.0, 2000.0))
            pieces.append((j, t0, t0 + float(rng.uniform(1.0, 3000.0)), z, float(rng.uniform(1e-5, 2e-3))))
    h = build_hazards(200, pieces)
    quiet = _quiet_below(h.threat_offset, h.t0_s, h.t1_s, h.rate_per_s)
    checked = 0
    for j in range(200):
        lo, hi = int(h.threat_offset[j]), int(h.threat_offset[j + 1])
        if lo == hi:
            assert quiet[j] == 0.0
            continue
        total = float(np.sum(h.rate_per_s[lo:hi] * (h.t1_s[lo:hi] - np.maximum(h.t0_s[lo:hi], 0.0))))
        assert quiet[j] == pytest.approx(math.exp(-total) * (1 - QUIET_MARGIN), rel=1e-12)
        for u in (quiet[j] * (1 - 1e-15), quiet[j] * 0.5, float(np.nextafter(quiet[j], 0.0))):
            tau, z = next_event(lo, hi, 0.0, -math.log(u), 0.5, h.t0_s, h.t1_s, h.rate_per_s, h.zone_offset,
                                h.zone, h.zone_rate_per_s)
            assert tau == math.inf and z == -1
        above = math.exp(-total) * (1 + 1e-6)
        if above < 1.0:
            tau, _ = next_event(lo, hi, 0.0, -math.log(above), 0.5, h.t0_s, h.t1_s, h.rate_per_s, h.zone_offset,
                                h.zone, h.zone_rate_per_s)
            assert tau < math.inf
        checked += 1
    assert checked > 100


# --- area defences cued by a network (docs/model.md, Area defences cued by a network) ------------


def _cued(cued: bool, **changes: object):  # type: ignore[no-untyped-def]
    """A drone flies due south through a mobile-fire-group disc (lat 50.72, 15 km: ~30 km of its
    track); a stand-alone radar at the town with a 30 km range first tracks it halfway through.
    Kill probability 1: the first engagement kills."""
    catalog = _catalog()
    catalog["area_defences"]["mfg"]["pk"] = {"drone": 1.0}
    catalog["radars"] = {"short-ew": {"range_km": 30, "height_m": 10}}
    area = {"id": "a", "type": "mfg", "lat": 50.72, "lon": 30.52, "radius_km": 15, "units": 10, "cued": cued}
    return make_scenario(catalog=catalog, batteries=[], raids=_raid(), area_defences=[area],
                         radars=[{"id": "ew", "type": "short-ew", "lat": 50.45, "lon": 30.52}], **changes)


def test_a_cued_area_defence_acts_only_on_the_path_after_the_track() -> None:
    """P(killed) = 1 - exp(-h L): h = units x 2 reach x p / A per km, L the km flown inside the disc
    after its network's first track (cued), or all of the chord (not cued); 4 standard errors at
    4,000 replications. The cue time is the radar's geometric track (mechanisms.detection off)."""
    rate_km = 10 * 2 * 2 * 0.5 / (math.pi * 15 ** 2)
    for cued in (True, False):
        scenario = _cued(cued)
        c = compile_scenario(scenario, 0)
        t0, t1 = float(c.area.t0_s[0]), float(c.area.t1_s[-1])  # inside the disc, after launch
        speed_kmps = 50 / 1000.0
        cue = float(c.area_layers.cue_s[0, 0])
        if cued:
            assert t0 < cue < t1  # the track comes halfway: the test tells the two apart
            length = speed_kmps * (t1 - cue)
        else:
            assert c.area_layers.cue_net.tolist() == [-1]
            length = speed_kmps * (t1 - t0)
        assert length == pytest.approx(_chord_km(scenario, 50.72, 30.52, 15) * (0.5 if cued else 1.0), rel=0.05)
        result = run(scenario, replications=N, seed=31)
        assert result.summary()["area_defences"]["a"].get("cued_by") == ("main" if cued else None)
        expected = 1.0 - math.exp(-rate_km * length)
        assert within_sigma(result.area_killed[:, 0].mean(), expected, N), (cued, result.area_killed.mean(), expected)


def test_a_cued_area_defence_under_detection_waits_for_the_drawn_track_and_the_oracle_agrees() -> None:
    """Under mechanisms.detection the cue is the network's drawn track (radar scans, acoustic
    detections): never sooner than the geometric one, so no more kills than that bound gives;
    the engine and the SimPy model agree replication for replication."""
    import simpy_model

    scenario = _cued(True, mechanisms={"detection": True})
    result = run(scenario, replications=400, seed=32)
    geometric = run(_cued(True), replications=400, seed=32)
    assert result.area_killed.mean() <= geometric.area_killed.mean() + 4 * math.sqrt(0.25 / 400)
    assert simpy_model.identical(simpy_model.simulate(result.compiled, 400, 32), result).all()
    # an acoustic field over the disc's northern half cues the group sooner (the fire groups' main
    # use): more kills; engine and SimPy model agree here too
    field = {"id": "ac", "type": "acoustic-node", "lat": 50.80, "lon": 30.52, "radius_km": 12, "sensors": 60}
    heard = run(_cued(True, mechanisms={"detection": True}, acoustic_sensors=[field]), replications=400, seed=32)
    assert heard.area_killed.mean() > result.area_killed.mean() + 0.05
    assert simpy_model.identical(simpy_model.simulate(heard.compiled, 400, 32), heard).all()


def test_a_cued_area_defence_needs_a_network_that_something_feeds() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(__import__("yaml").safe_dump(_cued(True).model_dump(mode="json", exclude_unset=True) | {
            "area_defences": [{"id": "a", "type": "mfg", "lat": 50.72, "lon": 30.52, "radius_km": 15, "units": 10,
                               "cued": True, "network": "mian"}]}), "s.yaml")
    (problem,) = info.value.problems
    assert problem.path == "area_defences[0].network"
    assert problem.message == "unknown network `mian`"
    assert problem.hint.startswith("did you mean `main`?")
