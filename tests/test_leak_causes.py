"""Why threats leak (engine/causes.py): each cause in a scenario built to produce it, with its
count known in closed form, the per-replication record summed into summary.json's
``leak_causes`` by threat type, asset and battery, and the SimPy model giving the same causes
(tests/test_oracle.py compares ``leak_cause`` and ``leak_battery`` replication by replication)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from conftest import TEST_CATALOG, make_scenario, within_sigma
from shieldwall.engine.causes import CAUSE_BY_ID, CAUSE_IDS, LEAK_CAUSES, NO_BATTERY
from shieldwall.engine.runner import run

N = 2000


def _causes(result) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return result.summary()["totals"]["leak_causes"]


def test_the_registry_is_one_table_with_codes_in_order() -> None:
    assert [c.code for c in LEAK_CAUSES] == list(range(len(LEAK_CAUSES)))
    assert len(set(CAUSE_IDS)) == len(CAUSE_IDS)


def test_engaged_threats_that_survive_leak_as_missed_with_their_battery() -> None:
    """The two-shot check: one salvo of two at Pk 0.6 leaks with probability 0.4^2, always as a miss
    of the only battery."""
    result = run(make_scenario(), replications=N, seed=3)
    causes = _causes(result)
    assert within_sigma(causes["missed"], 0.16, N)
    assert causes["missed"] == pytest.approx(result.leaked.mean())
    assert sum(v for k, v in causes.items() if k != "missed") == 0.0
    leaked = result.leak_cause >= 0
    assert (result.leak_battery[leaked] == 0).all() and (result.leak_cause[~leaked] == -1).all()
    assert result.summary()["leak_causes_by_battery"]["sam-1"]["missed"] == pytest.approx(causes["missed"])


def test_a_raid_no_sensor_sees_leaks_as_not_detected_one_out_of_reach_as_out_of_reach() -> None:
    """No battery at all: undetected. A radar that sees the drone but a battery too far: out of reach."""
    unseen = run(make_scenario(batteries=[]), replications=8, seed=1)
    assert _causes(unseen)["not_detected"] == 1.0
    far = run(make_scenario(batteries=[{"id": "sam-1", "system": "test-sam", "lat": 50.45, "lon": 29.5,
                                        "interceptors": {"test-missile": 8}}]), replications=8, seed=1)
    assert _causes(far)["out_of_reach"] == 1.0
    assert (far.leak_battery == -1).all()
    assert far.summary()["leak_causes_by_battery"][NO_BATTERY]["out_of_reach"] == 1.0


def test_a_magazine_that_runs_dry_lets_the_rest_through_as_magazine_empty() -> None:
    """Five drones, two rounds at Pk 1: two die, three leak because the magazine is empty, in
    every replication, pinned on the battery; drones launched 10 minutes apart or all at once."""
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["interceptors"]["test-missile"]["pk"] = {"drone": 1.0}
    battery = [{"id": "sam-1", "system": "test-sam", "lat": 50.45, "lon": 30.52, "interceptors": {"test-missile": 2}}]
    spaced = [{"id": f"w{i}", "threat": "test-drone", "count": 1, "launch": {"lat": 51.0, "lon": 30.52},
               "target": "town", "time_s": 600 * i} for i in range(5)]
    together = [{"id": "w", "threat": "test-drone", "count": 5, "launch": {"lat": 51.0, "lon": 30.52},
                 "target": "town"}]
    for raids in (spaced, together):
        result = run(make_scenario(catalog=catalog, batteries=battery, raids=raids,
                                   doctrine={"salvo": 1, "max_engagements": 1}), replications=16, seed=2)
        assert (result.leaked.sum(axis=1) == 3).all()
        assert _causes(result) == {**{c: 0.0 for c in CAUSE_IDS}, "magazine_empty": 3.0}
        assert (result.leak_battery[result.leak_cause >= 0] == 0).all()
        assert np.isfinite(result.dry_s[:, 0, 0]).all()  # it ran dry during the night


def test_one_fire_channel_against_a_simultaneous_raid_is_saturated() -> None:
    """Twelve drones at once against one fire channel with ample rounds, Pk 1, one engagement
    each: the channel kills about one every 8 s in a one-minute window, the rest fly through
    while it is busy."""
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["interceptors"]["test-missile"].update(pk={"drone": 1.0}, max_range_km=3, min_range_km=0.1, speed_mps=300)
    catalog["systems"]["test-sam"].update(fire_channels=1)
    raids = [{"id": "w", "threat": "test-drone", "count": 12, "launch": {"lat": 51.0, "lon": 30.52}, "target": "town"}]
    battery = [{"id": "sam-1", "system": "test-sam", "lat": 50.45, "lon": 30.52, "interceptors": {"test-missile": 40}}]
    result = run(make_scenario(catalog=catalog, raids=raids, batteries=battery,
                               doctrine={"salvo": 1, "max_engagements": 1}), replications=16, seed=4)
    causes = _causes(result)
    assert causes["saturated"] > 0 and causes["saturated"] == pytest.approx(result.leaked.sum(axis=1).mean())
    assert causes["saturated"] + result.killed.sum(axis=1).mean() == 12
    assert result.rounds.sum(axis=(1, 2)).max() < 12 < result.compiled.stock.sum()  # rounds were left
    assert np.isinf(result.dry_s).all()


def test_fire_held_by_the_doctrine_is_held() -> None:
    """A cost weight that makes every shot cost more than the town is worth: nothing fires."""
    result = run(make_scenario(doctrine={"salvo": 2, "max_engagements": 1, "cost_weight": 1.0}),
                 replications=8, seed=5)
    assert result.rounds.sum() == 0
    assert _causes(result)["held"] == 1.0


def test_leak_causes_add_up_to_the_leakers_by_type_asset_and_battery() -> None:
    from conftest import EXAMPLES

    result = run(EXAMPLES / "massive-raid.yaml", replications=24, seed=9)
    s = result.summary()
    for tid, row in s["threats_by_type"].items():
        assert sum(s["leak_causes"][tid].values()) == pytest.approx(row["leaked_mean"])
    total = result.leaked.sum(axis=1).mean()
    for key in ("leak_causes_by_asset", "leak_causes_by_battery"):
        assert sum(sum(v.values()) for v in s[key].values()) == pytest.approx(total)
    assert sum(s["totals"]["leak_causes"].values()) == pytest.approx(total)
    assert set(s["leak_causes_by_battery"]) == {NO_BATTERY, *result.compiled.battery_ids}
    # a big raid saturates or empties some batteries: more than one cause appears
    assert sum(v > 0 for v in s["totals"]["leak_causes"].values()) >= 2
    frame = result.leak_causes_frame()
    assert len(frame) == result.leaked.sum()
    assert set(frame.cause) <= set(CAUSE_IDS)
    by_type = frame.groupby("threat_type").size() / result.replications
    for tid, mean in by_type.items():
        assert mean == pytest.approx(s["threats_by_type"][tid]["leaked_mean"])
    assert CAUSE_BY_ID["magazine_empty"].label == "magazine empty"
