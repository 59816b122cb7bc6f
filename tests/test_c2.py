"""Command and control (docs/model.md; scenario ``mechanisms.c2``): a fire unit gets its
network's tracks ``track_latency_s`` late, its own radar's at once. Against brute force: each
window opens at the first fire time of the switch-off windows that comes after min(network track
+ latency, own detection); the switch off changes nothing."""

from __future__ import annotations

import copy

import pytest

import simpy_model
from conftest import TEST_CATALOG, make_scenario
from shieldwall.engine.compile import compile_scenario
from shieldwall.engine.runner import run

# a surveillance radar beside the battery sees the drones at 30 km, 5 km before its interceptors
# reach them (25 km) and 10 km (200 s) before the battery's own 20 km radar
RADARS = [{"id": "ew", "type": "ew", "lat": 50.45, "lon": 30.52}]
RAIDS = [{"id": "w", "threat": "test-drone", "count": 3, "launch": {"lat": 51.2, "lon": 30.52, "spread_km": 5},
          "target": "town", "window_s": 120}]


def _scenario(on: bool, latency_s: float | None):  # type: ignore[no-untyped-def]
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["radars"] = {"ew": {"range_km": 30, "height_m": 20}}
    catalog["interceptors"]["test-missile"]["max_range_km"] = 25
    catalog["systems"]["test-sam"]["radar_range_km"] = 20
    if latency_s is not None:
        catalog["systems"]["test-sam"]["track_latency_s"] = latency_s
    return make_scenario(catalog=catalog, radars=RADARS, raids=RAIDS, doctrine={"salvo": 1, "max_engagements": 2},
                         mechanisms={"c2": on})


@pytest.mark.parametrize("latency_s", [150.0, 600.0])  # the latency, then the own radar, binds
def test_a_fire_unit_fires_on_its_network_track_after_the_latency(latency_s: float) -> None:
    off = compile_scenario(_scenario(False, latency_s), 2)
    on = compile_scenario(_scenario(True, latency_s), 2)
    own = compile_scenario(_scenario(False, latency_s).with_(radars=[]), 2)  # the battery's radar alone
    moved = 0
    for j in range(on.n_threats):
        net, mine = float(off.threats.track_s[j]), float(own.threats.track_s[j])
        assert net < mine  # the surveillance radar sees it first
        ready = min(net + latency_s, mine)
        step = float(on.threats.step_s[j])
        w = range(on.windows.threat_offset[j], on.windows.threat_offset[j + 1])
        w_off = range(off.windows.threat_offset[j], off.windows.threat_offset[j + 1])
        assert len(w) == len(w_off) == 1
        o_on, o_off = float(on.windows.open_s[w[0]]), float(off.windows.open_s[w_off[0]])
        assert o_on >= ready - 1e-9 and o_on <= max(o_off, ready) + 2 * step, (j, o_on, o_off, ready)
        assert on.windows.close_s[w[0]] == off.windows.close_s[w_off[0]]
        moved += o_on > o_off + step
    assert moved  # the latency mattered
    assert on.c2 is not None and on.c2.track_latency_s == {"sam-1": latency_s}


def test_latency_delays_the_first_shot_and_the_oracle_agrees() -> None:
    """With a long latency the battery fires on its own radar's track: its first shot comes
    later (the replay log of replication 0, same launch times); the SimPy model gives the same
    replications."""
    slow = run(_scenario(True, 600.0), replications=64, seed=3)
    fast = run(_scenario(False, 600.0), replications=64, seed=3)
    first = [r.events_frame().query("event == 'fire'")["time_s"].min() for r in (slow, fast)]
    assert first[0] > first[1] + 60.0, first  # 5 km of a 50 m/s flight: ~100 s later
    assert slow.summary()["c2"] == {"track_latency_s": {"sam-1": 600.0}} and "c2" not in fast.summary()
    assert simpy_model.identical(simpy_model.simulate(slow.compiled, 64, 3), slow).all()


def test_the_switch_on_without_latencies_changes_nothing() -> None:
    on = run(_scenario(True, None), replications=32, seed=5)
    off = run(_scenario(False, None), replications=32, seed=5)
    assert simpy_model.identical(on, off).all() and on.killed.sum() > 0
