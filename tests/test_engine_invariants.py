"""Conservation, saturation and reproducibility: properties every replication must keep."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest

from conftest import EXAMPLES, TEST_CATALOG, make_scenario
from shieldwall.engine.compile import compile_scenario
from shieldwall.engine.runner import CHUNK_SIZE, run, run_chunk
from shieldwall.scenario.load import load_scenario


@pytest.fixture(scope="module")
def city_result():  # type: ignore[no-untyped-def]
    return run(load_scenario(EXAMPLES / "city-defence.yaml"), replications=40, seed=9)


def test_every_threat_ends_exactly_once(city_result) -> None:  # type: ignore[no-untyped-def]
    r = city_result
    ended = r.killed + r.leaked + r.expired
    assert (ended == r.launched_by_type).all()
    events = r.events_frame()
    assert np.isfinite(events.time_s).all()
    # every shot is resolved once: a kill, a miss, or its target failing first
    outcomes = events[events.event.isin(["kill", "miss"])]
    assert len(outcomes) <= (events.event == "fire").sum()
    terminal = events[events.event.isin(["kill", "leak", "expire"])]
    assert sorted(terminal.threat) == list(range(r.compiled.n_threats))
    # every kill follows a shot at that threat, never precedes it
    first_fire = events[events.event == "fire"].groupby("threat").time_s.min()
    kills = events[events.event == "kill"].set_index("threat").time_s
    assert (kills > first_fire.reindex(kills.index)).all()


def test_interceptors_are_conserved(city_result) -> None:  # type: ignore[no-untyped-def]
    r = city_result
    stock = r.compiled.stock[None, :, :]
    assert (r.rounds <= stock).all()
    assert (r.rounds == stock - r.remaining).all()
    assert r.rounds.sum() > 0


def test_saturation_leakers_grow_with_raid_size() -> None:
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["systems"]["test-sam"].update(fire_channels=1, rounds_per_launcher=200)
    catalog["interceptors"]["test-missile"]["pk"] = {"drone": 0.9}
    catalog["threats"]["test-drone"]["speed_mps"] = 250
    means = []
    for count in (8, 16, 32, 64):
        scenario = make_scenario(
            catalog=copy.deepcopy(catalog),
            batteries=[{"id": "sam-1", "system": "test-sam", "lat": 50.45, "lon": 30.52,
                        "interceptors": {"test-missile": 400}}],
            raids=[{"id": "w", "threat": "test-drone", "count": count, "launch": {"lat": 51.0, "lon": 30.52},
                    "target": "town"}],
            doctrine={"salvo": 1, "max_engagements": 3})
        result = run(scenario, replications=200, seed=1)
        means.append(result.leaked.sum(axis=1).mean())
    assert all(a < b for a, b in zip(means, means[1:])), means
    assert means[0] < 0.1 and means[-1] > 0.5 * 64  # one channel: a big raid saturates it


def test_same_seed_same_bytes_different_seed_differs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    scenario = load_scenario(EXAMPLES / "small.yaml")
    run(scenario, replications=150, seed=42, out_dir=tmp_path / "a")
    run(scenario, replications=150, seed=42, out_dir=tmp_path / "b")
    run(scenario, replications=150, seed=43, out_dir=tmp_path / "c")
    a = (tmp_path / "a" / "summary.json").read_bytes()
    assert a == (tmp_path / "b" / "summary.json").read_bytes()
    assert a != (tmp_path / "c" / "summary.json").read_bytes()
    assert json.loads(a)["seed"] == 42


def test_results_do_not_depend_on_worker_count(tmp_path) -> None:  # type: ignore[no-untyped-def]
    scenario = load_scenario(EXAMPLES / "small.yaml")
    n = 2 * CHUNK_SIZE + 7
    one = run(scenario, replications=n, seed=5, workers=1, out_dir=tmp_path / "w1")
    two = run(scenario, replications=n, seed=5, workers=2, out_dir=tmp_path / "w2")
    # 5 workers on 3 chunks: every chunk is cut into pieces that different workers simulate
    run(scenario, replications=n, seed=5, workers=5, out_dir=tmp_path / "w5")
    for name in ("summary.json", "events.parquet", "replications/part-00000000.parquet"):
        assert (tmp_path / "w1" / name).read_bytes() == (tmp_path / "w2" / name).read_bytes(), name
        assert (tmp_path / "w1" / name).read_bytes() == (tmp_path / "w5" / name).read_bytes(), name
    pd.testing.assert_frame_equal(one.to_frame(), two.to_frame())
    shards = pd.read_parquet(tmp_path / "w2" / "replications")
    assert sorted(shards.replication) == list(range(n))
    # the first replications do not change when more are asked for: seeds belong to chunks
    fewer = run(scenario, replications=CHUNK_SIZE, seed=5)
    np.testing.assert_array_equal(fewer.leaked, one.leaked[:CHUNK_SIZE])


def test_the_runs_own_process_simulates_beside_its_workers(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With 2 workers the run's own process claims chunks the pool has not started and
    simulates them itself (it would otherwise only wait), and the results are the same as with
    one; also under a WTA policy, whose epochs leave the compiled kernel for Python while the
    kernel has released the GIL."""
    from shieldwall.engine import runner

    ran_here: list[int] = []  # the pieces this process simulated (forked workers fill their own copy)
    real = runner.run_chunk

    def recording(compiled, start, *args, **kwargs):  # type: ignore[no-untyped-def]
        ran_here.append(start)
        return real(compiled, start, *args, **kwargs)

    monkeypatch.setattr(runner, "run_chunk", recording)
    for doctrine in ({}, {"policy": "local-search"}):
        scenario = load_scenario(EXAMPLES / "small.yaml")
        if doctrine:
            scenario = scenario.model_copy(update={"doctrine": scenario.doctrine.model_copy(update=doctrine)})
        n = 3 * CHUNK_SIZE
        jobs = sum(len(runner._pieces(CHUNK_SIZE, runner._n_pieces(i, 3, 2))) for i in range(3))
        ran_here.clear()
        two = run(scenario, replications=n, seed=8, workers=2)
        assert 1 <= len(ran_here) < jobs, (len(ran_here), jobs)  # some pieces ran here, not all
        one = run(scenario, replications=n, seed=8, workers=1)
        for name in ("leaked", "killed", "rounds", "survive", "remaining"):
            np.testing.assert_array_equal(getattr(one, name), getattr(two, name), name)
        np.testing.assert_array_equal(one.leak_probability_by_threat, two.leak_probability_by_threat)


def test_per_replication_stock_overrides_the_scenario() -> None:
    """A campaign hands each replication its own leftover stock."""
    scenario = make_scenario(raids=[{"id": "w", "threat": "test-drone", "count": 3,
                                     "launch": {"lat": 51.0, "lon": 30.52}, "target": "town", "window_s": 900}])
    stock = np.zeros((40, 1, 1), np.int64)
    stock[::2] = 8  # even replications armed, odd ones empty
    result = run(scenario, replications=40, seed=1, stock=stock)
    assert (result.leaked[1::2, 0] == 3).all() and (result.rounds[1::2] == 0).all()
    assert result.rounds[::2].sum() > 0
    assert (result.rounds == result.initial_stock - result.remaining).all()
    with pytest.raises(ValueError):
        run(scenario, replications=40, seed=1, stock=np.zeros((39, 1, 1)))


def test_masked_threats_do_not_exist_and_keep_the_others_random_numbers() -> None:
    scenario = make_scenario(raids=[{"id": "w", "threat": "test-drone", "count": 4,
                                     "launch": {"lat": 51.0, "lon": 30.52}, "target": "town", "window_s": 3000}])
    full = run(scenario, replications=60, seed=3)
    present = np.ones((60, 4), bool)
    present[:, 3] = False
    present[::3, 2] = False
    masked = run(scenario, replications=60, seed=3, present=present)
    assert (masked.launched.sum(axis=1) == present.sum(axis=1)).all()
    assert masked.summary()["totals"]["launched"] == present.sum() / 60
    events = masked.events_frame()
    assert set(events.threat) == {0, 1}  # replication 0 had threats 2 and 3 masked
    assert (full.launched.sum(axis=1) == 4).all()


def test_every_intercept_point_is_inside_its_envelope(city_result) -> None:  # type: ignore[no-untyped-def]
    """docs/model.md: an engagement is feasible only if the predicted intercept point lies in
    the interceptor's envelope; check every kill and miss of replication 0 against it."""
    from shieldwall.catalog.builtin import builtin_catalog

    r = city_result
    catalog = r.scenario.catalog.merged_over(builtin_catalog())
    xy = np.column_stack([r.compiled.batteries.x_m, r.compiled.batteries.y_m])
    events = r.events_frame()
    checked = 0
    for threat, group in events.groupby("threat"):
        shot = None
        for ev in group.itertuples():
            if ev.event == "fire":
                shot = ev
            elif ev.event in ("kill", "miss"):
                kind = catalog.interceptors[shot.interceptor]
                b = r.compiled.battery_ids.index(shot.battery)
                d_m = np.sqrt((ev.east_m - xy[b, 0]) ** 2 + (ev.north_m - xy[b, 1]) ** 2 + ev.alt_m ** 2)
                assert 1000 * kind.min_range_km - 1 <= d_m <= 1000 * kind.max_range_km + 1, (threat, d_m)
                assert kind.min_altitude_m - 1 <= ev.alt_m <= kind.max_altitude_m + 1
                assert ev.time_s > shot.time_s
                checked += 1
    assert checked > 50


def test_a_battery_that_ran_dry_costs_no_more_decision_epochs() -> None:
    """Threats whose only battery has fired its last round leak without the battle manager
    running for each of them (it used to look at every window opening on a dry battery), and
    an intercept that lands with nothing waiting for its channel needs no decision either."""
    def chunk(rounds: int):  # type: ignore[no-untyped-def]
        scenario = make_scenario(
            batteries=[{"id": "sam-1", "system": "test-sam", "lat": 50.45, "lon": 30.52,
                        "interceptors": {"test-missile": rounds}}],
            raids=[{"id": "w", "threat": "test-drone", "count": 60, "launch": {"lat": 51.0, "lon": 30.52},
                    "target": "town", "window_s": 3600}],
            doctrine={"salvo": 1, "max_engagements": 1})
        return run_chunk(compile_scenario(scenario, 3), 0, 32, np.random.SeedSequence(3), False)

    dry, stocked = chunk(1), chunk(8)
    assert (dry.outcomes.rounds.sum(axis=(1, 2)) == 1).all()  # one shot, then nothing left to fire
    assert (dry.outcomes.leaked.sum(axis=1) >= 59).all()
    assert dry.epochs / 32 <= 2, dry.epochs / 32  # the shot, and little else
    # while the battery still has rounds, every shot is a decision (two arrivals may share one)
    assert (stocked.outcomes.rounds.sum(axis=(1, 2)) == 8).all()
    assert stocked.epochs / 32 >= 7


def test_a_channel_freed_by_a_landing_fires_at_the_window_waiting_for_it() -> None:
    """One fire channel, two drones on the same track at the same time: the second waits for
    the channel, and the first intercept's landing is a decision epoch that fires at it (an
    engine that skipped that landing as "quiet" would let the second drone through)."""
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["systems"]["test-sam"].update(fire_channels=1)
    catalog["interceptors"]["test-missile"]["pk"] = {"drone": 1.0}
    scenario = make_scenario(
        catalog=catalog,
        raids=[{"id": "w", "threat": "test-drone", "count": 2, "launch": {"lat": 51.0, "lon": 30.52},
                "target": "town", "window_s": 0}],
        doctrine={"salvo": 1, "max_engagements": 1})
    result = run(scenario, replications=5, seed=2)
    assert (result.killed[:, 0] == 2).all(), result.killed
    events = result.events_frame()
    fires = events[events.event == "fire"].sort_values("time_s")
    kills = events[events.event == "kill"].sort_values("time_s")
    assert len(fires) == 2 and fires.time_s.iloc[1] > fires.time_s.iloc[0]
    # the second shot goes at the first decision epoch that sees the first one land
    dt = scenario.doctrine.decision_interval_s
    assert kills.time_s.iloc[0] <= fires.time_s.iloc[1] < kills.time_s.iloc[0] + dt + 1e-6


def test_the_sort_for_a_crowded_epoch_orders_candidates_as_the_greedy_rule_says() -> None:
    """An epoch with more than 48 candidates is ordered by stable argsorts instead of the
    in-loop insertion sort: best gain first (key 0 is -gain), then sooner impact, cheaper shot,
    scenario order. Ties on every key are the case that would show a wrong tie-break."""
    from shieldwall.engine.kernel import _sorted_by_keys

    rng = np.random.default_rng(4)
    n = 200
    c_key = np.stack([rng.integers(0, 4, n).astype(float), rng.integers(0, 3, n).astype(float),
                      rng.integers(0, 2, n).astype(float)])
    c_p = rng.permutation(n).astype(np.int64)
    expected = sorted(range(n), key=lambda c: (c_key[0, c], c_key[1, c], c_key[2, c], c_p[c]))
    assert _sorted_by_keys(n, c_p, c_key).tolist() == expected


@pytest.mark.parametrize("rows", [(0, CHUNK_SIZE), (0, 1), (5, 77), (CHUNK_SIZE - 1, CHUNK_SIZE)])
def test_a_piece_of_a_chunk_draws_the_same_numbers_as_those_rows_of_the_whole(rows) -> None:  # type: ignore[no-untyped-def]
    """Workers may simulate pieces of a chunk: a piece's random numbers must be the whole
    chunk's rows, or results would depend on the number of workers."""
    from shieldwall.engine.runner import draw_uniforms

    compiled = compile_scenario(load_scenario(EXAMPLES / "small.yaml"), 1)
    seed = np.random.SeedSequence(9)
    lo, hi = rows
    whole = draw_uniforms(compiled, CHUNK_SIZE, seed)
    piece = draw_uniforms(compiled, CHUNK_SIZE, seed, rows)
    for w, p in zip(whole, piece):
        np.testing.assert_array_equal(w[lo:hi], p)


def test_pieces_cover_a_chunks_rows_once() -> None:
    from shieldwall.engine.runner import _n_pieces, _pieces

    for n, k in [(128, 4), (16, 8), (3, 8), (1, 2)]:
        pieces = _pieces(n, k)
        assert len(pieces) == min(n, k) and all(lo < hi for lo, hi in pieces)
        assert [r for lo, hi in pieces for r in range(lo, hi)] == list(range(n))
    assert [_n_pieces(i, 10, 1) for i in range(10)] == [1] * 10
    assert [_n_pieces(i, 10, 2) for i in range(10)] == [1] * 8 + [4, 4]  # the last chunks, in quarters
    assert _n_pieces(0, 1, 4) == 8  # one chunk, four workers


def test_more_battery_interceptor_pairs_than_the_engine_holds_is_a_clear_error(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The event code has room for 65,536 (battery, interceptor) pairs: a scenario beyond that
    is told so when it is compiled, not failed inside the kernel."""
    import shieldwall.engine.compile as compile_module
    from shieldwall.errors import UsageError

    scenario = make_scenario()
    compile_scenario(scenario, 1)  # within the limit
    monkeypatch.setattr(compile_module, "MAX_BATTERY_INTERCEPTOR_PAIRS", 0)
    with pytest.raises(UsageError, match=r"1 batteries x 1 interceptor types is more than the engine's 0"):
        compile_scenario(scenario, 1)


def test_a_threat_waiting_on_a_battery_that_runs_dry_moves_on_to_its_next_window() -> None:
    """Two drones on one track, 30 s apart; a forward battery with one round sees them first,
    a battery at the town later. The second drone's next window is on the forward battery when
    that battery fires its only round at the first drone: the engine moves it on to the town's
    battery at once (an engine that lost it would let it through, one that kept it waiting on
    the dry battery would fire late). It is fired at in the first epoch of its next window."""
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["interceptors"]["test-missile"]["pk"] = {"drone": 1.0}
    scenario = make_scenario(
        catalog=catalog,
        batteries=[{"id": "forward", "system": "test-sam", "lat": 50.60, "lon": 30.52,
                    "interceptors": {"test-missile": 1}},
                   {"id": "town-sam", "system": "test-sam", "lat": 50.45, "lon": 30.52,
                    "interceptors": {"test-missile": 8}}],
        raids=[{"id": "first", "threat": "test-drone", "count": 1, "launch": {"lat": 51.0, "lon": 30.52},
                "target": "town", "time_s": 0},
               {"id": "second", "threat": "test-drone", "count": 1, "launch": {"lat": 51.0, "lon": 30.52},
                "target": "town", "time_s": 30}],
        doctrine={"salvo": 1, "max_engagements": 1})
    result = run(scenario, replications=3, seed=5)
    assert (result.killed[:, 0] == 2).all(), result.killed
    fires = result.events_frame().query("event == 'fire'").set_index("threat")
    assert fires.battery.to_dict() == {0: "forward", 1: "town-sam"}
    # the forward battery's window opens first for both, and it ran dry before the second's
    c = result.compiled
    pair_off, pair_b, pair_open = c.windows.threat_offset, c.windows.battery, c.windows.open_s
    forward, town = (c.battery_ids.index(b) for b in ("forward", "town-sam"))
    opens = {b: min(float(pair_open[p]) for p in range(pair_off[1], pair_off[2]) if pair_b[p] == b)
             for b in (forward, town)}  # (the forward one has a second window past its minimum range)
    launch_s = 30.0
    assert opens[forward] < opens[town]
    assert fires.time_s[0] < launch_s + opens[forward]
    dt = scenario.doctrine.decision_interval_s
    assert launch_s + opens[town] - 1e-6 <= fires.time_s[1] < launch_s + opens[town] + dt


def test_the_kernel_has_one_compiled_signature() -> None:
    """Every way into the kernel (a run, a campaign night with its own stocks and masked
    threats, a WTA policy, a read-only stock from broadcast_to) gives it the same array types:
    a second signature would mean another full compile (~25 s) in every fresh process."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(f"""
        import numpy as np
        from shieldwall.engine.compile import compile_scenario
        from shieldwall.engine.kernel import simulate_chunk
        from shieldwall.engine.runner import run, simulate
        from shieldwall.campaign import load_campaign, run_campaign
        from shieldwall.scenario.load import load_scenario
        from shieldwall.scenario.model import Scenario
        small = load_scenario({str(EXAMPLES / 'small.yaml')!r})
        run(small, replications=3, seed=1)
        c = compile_scenario(small, 2)
        stock = np.broadcast_to(c.stock, (3, *c.stock.shape))
        simulate(c, small, replications=3, seed=2, stock=stock, present=np.ones((3, c.n_threats), bool)[:, ::1],
                 log_events=False)
        data = small.model_dump(by_alias=True, exclude_unset=True)
        data["doctrine"] = {{**data.get("doctrine", {{}}), "policy": "local-search"}}
        run(Scenario.model_validate(data), replications=2, seed=3)
        run_campaign(load_campaign({str(EXAMPLES / 'campaign-winter.yaml')!r}), replications=2, seed=1)
        print(len(simulate_chunk.signatures))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "1", out.stdout
