"""The engagement table over all replications and the resource timelines within the night
(engine/engagements.py): both must account exactly for what the per-replication outcomes say."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import EXAMPLES
from shieldwall.engine.engagements import TIMELINE_QUANTITIES
from shieldwall.engine.runner import run
from shieldwall.scenario.load import load_scenario


@pytest.fixture(scope="module")
def city():  # type: ignore[no-untyped-def]
    return run(load_scenario(EXAMPLES / "city-defence.yaml"), replications=130, seed=21)


def test_engagements_account_for_every_round_and_kill_of_every_replication(city) -> None:  # type: ignore[no-untyped-def]
    frame = city.engagements_frame()
    c = city.compiled
    assert sorted(frame.replication.unique()) == list(range(130))  # every replication, over two chunks
    rounds = np.zeros_like(city.rounds)
    np.add.at(rounds, (frame.replication, [c.battery_ids.index(b) for b in frame.battery],
                       [c.interceptor_ids.index(k) for k in frame.interceptor]), frame.rounds)
    assert (rounds == city.rounds).all()
    kills = frame[frame.result == "kill"]
    per_battery = np.zeros_like(city.kills_by_battery)
    np.add.at(per_battery, (kills.replication, [c.battery_ids.index(b) for b in kills.battery]), 1)
    assert (per_battery == city.kills_by_battery).all()
    assert (frame.end_s >= frame.time_s).all()
    # a kill ends the threat: at most one per threat and replication
    assert not kills.duplicated(["replication", "threat"]).any()
    # the table by battery x interceptor x threat type x asset: means per replication
    table = city.engagement_table()
    for (b, k), rows in table.groupby(["battery", "interceptor"]):
        assert rows.rounds.sum() == pytest.approx(city.rounds[:, c.battery_ids.index(b), c.interceptor_ids.index(k)].mean())
    summary = city.summary()
    nested = summary["engagements"]["by_battery"]
    assert sum(v["kills_mean"] for by_k in nested.values() for by_t in by_k.values() for v in by_t.values()) == \
        pytest.approx(city.killed.sum(axis=1).mean())


def test_timelines_end_where_the_outcomes_end(city) -> None:  # type: ignore[no-untyped-def]
    tl = city.timelines()
    c = city.compiled
    assert tl.time_s[0] == 0.0 and tl.time_s[-1] >= c.horizon_s
    for i, (b, k) in enumerate(tl.pairs):
        left = city.remaining[:, b, k]
        np.testing.assert_allclose(tl.rounds_left[:, i, -1], np.percentile(left, [5, 50, 95]))
        assert (tl.rounds_left[:, i, 0] == c.stock[b, k]).all()
        assert (np.diff(tl.rounds_left[1, i]) <= 0).all()  # rounds only go down
        full = c.batteries.launchers[b, k] * c.batteries.rounds_per_launcher[b, k]
        assert (tl.rounds_loaded[:, i] <= min(full, c.stock[b, k])).all()
    assert (tl.channels_busy[:, :, 0] == 0).all() and (tl.channels_busy[:, :, -1] == 0).all()
    assert (tl.channels_busy[2] <= c.batteries.channels[:, None]).all()
    assert tl.channels_busy[2].max() >= 1
    frame = city.timelines_frame()
    assert set(frame.quantity) == set(TIMELINE_QUANTITIES)
    assert frame[frame.quantity == "channels_busy"].interceptor.isna().all()


def test_a_sample_of_replications_and_more_workers_change_nothing_but_what_is_logged() -> None:
    scenario = load_scenario(EXAMPLES / "small.yaml")
    whole = run(scenario, replications=300, seed=4)
    sample = run(scenario, replications=300, seed=4, engagements=10)
    parallel = run(scenario, replications=300, seed=4, workers=2)
    none = run(scenario, replications=300, seed=4, engagements=0)
    for other in (sample, parallel, none):
        assert (other.rounds == whole.rounds).all() and (other.leak_cause == whole.leak_cause).all()
    assert sample.engagements_frame().replication.max() == 9
    assert sample.summary()["engagements"]["replications"] == 10
    pd.testing.assert_frame_equal(parallel.engagements_frame(), whole.engagements_frame())
    assert "engagements" not in none.summary()
    head = whole.engagements_frame()
    pd.testing.assert_frame_equal(sample.engagements_frame().reset_index(drop=True),
                                  head[head.replication < 10].reset_index(drop=True))


def test_labelled_outcomes(city) -> None:  # type: ignore[no-untyped-def]
    rounds = city.outcome_frame("rounds")
    assert rounds.index.names == ["replication", "battery", "interceptor"]
    by_pair = rounds.groupby(["battery", "interceptor"]).mean()
    c = city.compiled
    assert by_pair[("patriot-1", "pac3-mse")] == pytest.approx(
        city.rounds[:, c.battery_ids.index("patriot-1"), c.interceptor_ids.index("pac3-mse")].mean())
    with pytest.raises(KeyError, match="outcomes:"):
        city.outcome_frame("nonsense")


def test_a_run_folder_holds_the_engagement_table_and_timelines(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "run"
    result = run(load_scenario(EXAMPLES / "small.yaml"), replications=50, seed=1, out_dir=out)
    table = pd.read_parquet(out / "engagements.parquet")
    assert len(table) == len(result.engagements_frame()) > 0
    assert set(table.columns) >= {"replication", "battery", "interceptor", "threat_type", "asset", "shots", "result"}
    assert len(pd.read_parquet(out / "timelines.parquet")) > 0


def test_an_engagement_whose_threat_is_lost_in_flight_ends_there() -> None:
    """A salvo in flight when its threat is lost to electronic warfare or shot down by an area
    defence ends with that loss (it had no end row and the table raised before); a failure in
    flight stays "threat failed", and a loss after the threat's last salvo is no engagement."""
    from shieldwall.engine.engagements import RESULTS, from_log
    from shieldwall.engine.kernel import EV_AREA_KILL, EV_DIVERT, EV_EXPIRE, EV_FIRE, EV_MISS, EV_SUPPRESS
    from shieldwall.engine.records import LoggedRows

    # (replication, time, kind, threat, battery): threat 0 fired at, area-killed; threat 1 fired
    # at, suppressed; threat 2 missed, then diverted with nothing in flight; threat 3 fails
    rows = [(0, 10.0, EV_FIRE, 0, 1), (0, 12.0, EV_AREA_KILL, 0, 5), (0, 20.0, EV_FIRE, 1, 2),
            (0, 25.0, EV_SUPPRESS, 1, -1), (0, 30.0, EV_FIRE, 2, 1), (0, 35.0, EV_MISS, 2, 1),
            (0, 40.0, EV_DIVERT, 2, -1), (0, 50.0, EV_FIRE, 3, 0), (0, 55.0, EV_EXPIRE, 3, -1)]
    rep, t, kind, thr, bat = (np.array(c) for c in zip(*rows))
    log = LoggedRows(rep.astype(np.int64), t.astype(float), kind.astype(np.int64), thr.astype(np.int64),
                     bat.astype(np.int64), np.zeros(len(rows), np.int64), np.ones(len(rows), np.int64))
    engagements, _ = from_log(log)
    got = {int(j): (RESULTS[r], float(e)) for j, r, e in zip(engagements.threat, engagements.result, engagements.end_s)}
    assert got == {0: ("threat lost", 12.0), 1: ("threat lost", 25.0), 2: ("miss", 35.0), 3: ("threat failed", 55.0)}
