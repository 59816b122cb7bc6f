"""Campaigns: the stock ledger, deliveries, the one-night identity with the raid simulator,
monotonicity in stock (common random numbers), the generator's masking, and the outputs."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from conftest import scenario_dict
from shieldwall.campaign import load_campaign, night_seed, run_campaign
from shieldwall.campaign.ledger import Ledger, LedgerError, pro_rata, split_by_weight
from shieldwall.engine.compile import _allocate, compile_scenario
from shieldwall.engine.runner import simulate
from shieldwall.scenario.model import Scenario

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

GENERATOR: dict[str, Any] = {
    "version": 1,
    "raid_probability": 0.8,
    "families": [{"id": "drones", "probability": 1.0, "mix": {"test-drone": 1.0},
                  "size": {"distribution": "negative-binomial", "n": 2.0, "p": 0.4, "max": 12}}],
}


def theatre_dict(**changes: Any) -> dict[str, Any]:
    """The two-shot scenario with three assets of one kind, so raids split over targets."""
    base = scenario_dict()
    base["assets"] = [{"id": "town", "lat": 50.45, "lon": 30.52, "value": 10, "kind": "city"},
                      {"id": "plant", "lat": 50.47, "lon": 30.55, "value": 5, "kind": "city"},
                      {"id": "depot", "lat": 50.43, "lon": 30.50, "value": 1, "kind": "city"}]
    base["raids"] = [{"id": "wave-1", "threat": "test-drone", "count": 3, "launch": {"lat": 51.0, "lon": 30.52},
                      "target": {"kind": "city"}, "window_s": 600}]
    base.update(changes)
    return base


def campaign_dict(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "test campaign", "start_date": "2025-01-01", "nights": 12, "seed": 5,
        "theatre": {"scenario": "theatre.yaml"},
        "generator": {"model": copy.deepcopy(GENERATOR)},
        "depots": [{"id": "central", "stock": {"test-missile": 10}}],
        "deliveries": [{"date": "2025-01-04", "interceptor": "test-missile", "quantity": 6, "to": "central"},
                       {"date": "2025-01-05", "interceptor": "test-missile", "quantity": 4, "to": "sam-1"},
                       {"date": "2025-01-06", "system": "test-sam", "source": "ally",
                        "battery": {"id": "sam-2", "system": "test-sam", "lat": 50.46, "lon": 30.53,
                                    "interceptors": {"test-missile": 4}}}],
        "production": [{"interceptor": "test-missile", "per_month": 15, "to": "central", "from": "2025-01-03"}],
    }
    base.update(changes)
    return base


def write_campaign(tmp_path: Path, campaign: dict[str, Any], theatre: dict[str, Any] | None = None,
                   name: str = "campaign.yaml") -> Path:
    (tmp_path / "theatre.yaml").write_text(yaml.safe_dump(theatre or theatre_dict(), sort_keys=False))
    path = tmp_path / name
    path.write_text(yaml.safe_dump(campaign, sort_keys=False))
    return path


def run_dict(tmp_path: Path, replications: int = 16, seed: int = 3, **changes: Any):  # type: ignore[no-untyped-def]
    path = write_campaign(tmp_path, campaign_dict(**changes), name=f"c{abs(hash(repr(changes))) % 10**8}.yaml")
    return run_campaign(load_campaign(path), replications=replications, seed=seed, keep_battery_ledger=True)


# --- the ledger ---------------------------------------------------------------------------------


def test_ledger_identity_every_night_every_replication(tmp_path: Path) -> None:
    r = run_dict(tmp_path, replications=24, nights=14)
    stock = r.stock
    for t in range(r.nights):
        expected = stock[t] - r.fired[t] + r.delivered[t] + r.produced[t]
        np.testing.assert_array_equal(stock[t + 1], expected, err_msg=f"night {t + 1}")
        battery = r.battery_stock[t] - r.fired[t] + r.delivered_to_batteries[t] + r.moved[t]
        np.testing.assert_array_equal(r.battery_stock[t + 1], battery)
        depot = r.depot_stock[t] + (r.delivered[t] - r.delivered_to_batteries[t]) + r.produced[t] - r.moved[t]
        np.testing.assert_array_equal(r.depot_stock[t + 1], depot)
    assert (r.battery_ledger >= 0).all() and (r.depot_stock >= 0).all()
    assert r.fired.sum() > 0 and r.moved.sum() > 0 and r.produced.sum() > 0
    # the per-battery ledger agrees with the interceptor totals
    np.testing.assert_array_equal(r.battery_ledger.sum(axis=2), r.battery_stock)
    # the new battery holds nothing before its delivery night (night 6 = index 5), then its load
    b = r.battery_ids.index("sam-2")
    assert (r.battery_ledger[:6, :, b] == 0).all()
    assert (r.battery_ledger[6, :, b] + r.fired[5][:, 0] >= 0).all()


def test_ledger_refuses_impossible_flows() -> None:
    ledger = Ledger(np.full((2, 1, 1), 3), np.full((2, 1, 1), 1))
    with pytest.raises(LedgerError):
        ledger.fire(np.full((2, 1, 1), 4))
    with pytest.raises(LedgerError):
        ledger.move(0, np.full((2, 1), 2))
    ledger.move(0, np.full((2, 1), 1))
    ledger.fire(np.full((2, 1, 1), 4))
    ledger.check()
    assert (ledger.battery == 0).all() and (ledger.depot == 0).all()


def test_pro_rata_shares_by_need() -> None:
    got = pro_rata(np.array([5, 100, 0]), np.array([[4, 6], [4, 6], [4, 6]]))
    np.testing.assert_array_equal(got, [[2, 3], [4, 6], [0, 0]])
    odd = pro_rata(np.array([3]), np.array([[1, 1, 1, 1]]))
    assert odd.sum() == 3 and odd.max() == 1


def test_top_up_shares_each_kind_as_its_own_pro_rata_move() -> None:
    """All kinds topped up at once equal one pro-rata move per kind, depots emptied in order."""
    rng = np.random.default_rng(3)
    battery, depot = rng.integers(0, 9, size=(50, 4, 3)), rng.integers(0, 12, size=(50, 2, 3))
    target = rng.integers(0, 9, size=(4, 3))
    target[:, 2] = 0  # a kind no battery is topped up with
    target[1] = 0  # a battery that is not there yet
    ledger = Ledger(battery, depot)
    ledger.top_up(target)
    ledger.check()
    one = Ledger(battery, depot)
    for k in range(2):
        need = np.maximum(target[None, :, k] - battery[:, :, k], 0)
        one.move(k, pro_rata(depot[:, :, k].sum(axis=1), need))
    np.testing.assert_array_equal(ledger.battery, one.battery)
    np.testing.assert_array_equal(ledger.depot, one.depot)
    np.testing.assert_array_equal(ledger.moved_out, one.moved_out)
    assert (ledger.battery[:, :, 2] == battery[:, :, 2]).all() and (ledger.battery[:, 1] == battery[:, 1]).all()
    full = ledger.battery[:, :, :2] >= target[None, :, :2]
    short = ledger.depot[:, :, :2].sum(axis=1) == 0  # [rep, kind]: the depots gave out
    assert (full | short[:, None, :]).all() and ledger.moved_in.sum() > 0


def test_production_is_whole_rounds_at_the_monthly_rate(tmp_path: Path) -> None:
    r = run_dict(tmp_path, replications=2, nights=40, deliveries=[], generator=None,
                 raids=[{"night": 1, "from_scenario": True}],
                 production=[{"interceptor": "test-missile", "per_month": 15, "to": "central", "from": "2025-01-01"}])
    assert r.produced.sum(axis=0)[0, 0] == int(np.floor(15 * 12 / 365.25 * 40))


# --- deliveries -----------------------------------------------------------------------------------


def test_a_delivery_changes_nothing_before_its_date(tmp_path: Path) -> None:
    late = [{"date": "2025-01-09", "interceptor": "test-missile", "quantity": 30, "to": "central"}]
    never = [{"date": "2026-01-01", "interceptor": "test-missile", "quantity": 30, "to": "central"}]
    base = run_dict(tmp_path, deliveries=[])
    with_late = run_dict(tmp_path, deliveries=late)
    with_never = run_dict(tmp_path, deliveries=never)
    before = slice(0, 8)  # nights 1-8, before 9 January
    for name in ("fired", "leaked", "killed", "launched", "value_lost"):
        np.testing.assert_array_equal(getattr(base, name)[before], getattr(with_late, name)[before], err_msg=name)
        np.testing.assert_array_equal(getattr(base, name), getattr(with_never, name), err_msg=name)
    np.testing.assert_array_equal(base.stock[:9], with_late.stock[:9])
    assert (with_late.delivered[8] == base.delivered[8] + 30).all()  # it arrives on its night


def test_without_deliveries_stock_runs_out_no_later(tmp_path: Path) -> None:
    common = dict(replications=40, nights=12, production=[], depots=[{"id": "central", "stock": {"test-missile": 2}}])
    with_d = run_dict(tmp_path, **common, deliveries=[
        {"date": "2025-01-03", "interceptor": "test-missile", "quantity": 16, "to": "central"},
        {"date": "2025-01-07", "interceptor": "test-missile", "quantity": 16, "to": "central"}])
    without = run_dict(tmp_path, **common, deliveries=[])

    def nights(r):  # type: ignore[no-untyped-def]
        d = r.depletion_nights()[:, 0]
        return np.where(d > 0, d, r.nights + 1)

    assert (without.depletion_nights()[:, 0] > 0).mean() > 0.5, "the test needs stocks that run out"
    assert nights(without).mean() <= nights(with_d).mean()
    assert np.median(nights(without)) <= np.median(nights(with_d))
    # same raids on both (common random numbers): the same threats are launched every night
    np.testing.assert_array_equal(with_d.launched, without.launched)


def test_more_stock_never_raises_leakers_in_expectation(tmp_path: Path) -> None:
    leaked = []
    for stock in (0, 6, 40):
        r = run_dict(tmp_path, replications=48, nights=10, deliveries=[], production=[],
                     depots=[{"id": "central", "stock": {"test-missile": stock}}])
        leaked.append(r.leaked.sum(axis=(0, 2)).astype(float))
    for less, more in zip(leaked, leaked[1:]):
        diff = more - less  # paired: same raids, same per-threat random numbers
        se = diff.std(ddof=1) / np.sqrt(len(diff)) if diff.std() > 0 else 0.0
        assert diff.mean() <= 2 * se + 1e-9
    assert leaked[2].mean() < leaked[0].mean()


# --- one night is the raid simulator -----------------------------------------------------------------


def test_one_night_campaign_equals_the_raid_simulator(tmp_path: Path) -> None:
    theatre = theatre_dict()
    theatre["raids"][0]["count"] = 6
    path = write_campaign(tmp_path, {"name": "one night", "start_date": "2025-01-01", "nights": 1, "seed": 11,
                                     "theatre": {"scenario": "theatre.yaml"},
                                     "raids": [{"night": 1, "from_scenario": True}]}, theatre)
    r = run_campaign(load_campaign(path), replications=40, seed=11)
    scenario = Scenario.model_validate(theatre)
    raid = simulate(compile_scenario(scenario, 11), scenario, replications=40, seed=night_seed(11, 0))
    np.testing.assert_array_equal(r.leaked[0], raid.leaked)
    np.testing.assert_array_equal(r.killed[0], raid.killed)
    np.testing.assert_array_equal(r.fired[0], raid.rounds.sum(axis=1))
    np.testing.assert_allclose(r.value_lost[0], raid.value_lost)
    np.testing.assert_allclose(r.interceptor_cost_usd[0], raid.interceptor_cost_usd)
    np.testing.assert_array_equal(r.stock[1], r.stock[0] - raid.rounds.sum(axis=1))


# --- the generator ---------------------------------------------------------------------------------


def test_generated_nights_keep_the_engines_target_split(tmp_path: Path) -> None:
    from shieldwall.campaign.run import _GeneratedRaid

    loaded = load_campaign(write_campaign(tmp_path, campaign_dict()))
    gen = _GeneratedRaid(loaded)
    counts = np.arange(13)[:, None]
    mask, cut = gen.present(counts)
    assert cut == 0
    compiled = compile_scenario(loaded.theatre.model_copy(update={"raids": gen.raids}), 0)
    assert compiled.n_threats == mask.shape[1]
    target = compiled.threats.target
    for n in range(13):
        per_asset = np.bincount(target[mask[n]], minlength=3)
        np.testing.assert_array_equal(per_asset, _allocate(n, np.array([10.0, 5.0, 1.0])))


def test_present_looks_up_what_the_split_gives() -> None:
    """``present`` reads each slot's share from a table built once; it must equal splitting the
    counts night by night (the definition), at every count up to the caps; counts above the caps
    are split and their excess reported as cut."""
    from shieldwall.campaign.run import _GeneratedRaid

    loaded = load_campaign(EXAMPLES / "campaign-winter.yaml")
    gen = _GeneratedRaid(loaded)
    rng = np.random.default_rng(5)
    caps = gen.caps
    counts = np.concatenate([np.zeros((1, len(caps)), np.int64), caps[None, :],
                             rng.integers(0, caps + 1, size=(400, len(caps)))])
    mask, cut = gen.present(counts)
    want, want_cut = gen.split_present(counts)
    np.testing.assert_array_equal(mask, want)
    assert cut == want_cut == 0 and mask.dtype == np.bool_ and mask[1].all() and not mask[0].any()
    over = counts[:3] + caps[None, :]  # twice the caps: a full block each, the rest cut
    mask, cut = gen.present(over)
    np.testing.assert_array_equal(mask, gen.split_present(over)[0])
    assert mask[1:].all() and cut > 0


def test_split_by_weight_matches_the_engine() -> None:
    w = np.array([45.0, 20.0, 30.0, 15.0])
    n = np.arange(60)
    got = split_by_weight(n, w)
    for i in n:
        np.testing.assert_array_equal(got[i], _allocate(int(i), w))


def test_generator_draws_and_caps() -> None:
    from shieldwall.campaign.generator import Generator
    from shieldwall.campaign.model import GeneratorModel

    gen = Generator(GeneratorModel.model_validate(GENERATOR), share=0.5)
    counts = gen.sample(np.random.default_rng(1), 20000)
    assert counts.shape == (20000, 1) and counts.max() <= gen.caps[0] <= 12
    raid = counts[:, 0] > 0
    assert 0.6 < raid.mean() < 0.8
    full = Generator(GeneratorModel.model_validate(GENERATOR)).sample(np.random.default_rng(1), 20000)
    assert abs(counts.mean() - 0.5 * full.mean()) < 0.1


# --- outputs ----------------------------------------------------------------------------------------


def test_campaign_json_and_parquet(tmp_path: Path) -> None:
    import json

    import pandas as pd

    r = run_dict(tmp_path, replications=6, nights=9)
    paths = r.write(tmp_path / "out")
    summary = json.loads(paths["json"].read_text())
    assert summary["nights"] == 9
    for k, bands in summary["stock_by_night"].items():
        assert len(bands) == 9 and set(bands[0]) == {"p5", "median", "p95"}
        assert all(b["p5"] <= b["median"] <= b["p95"] for b in bands)
    for k, dep in summary["depletion_night"].items():
        assert dep is None or {"p5", "median", "p95"} <= set(dep)
    for key in ("launched", "intercepted", "leaked", "value_lost", "interceptor_cost_usd", "cost_exchange_ratio"):
        assert key in summary["totals"]
    frame = pd.read_parquet(paths["parquet"])
    assert len(frame) == 6 * 9
    assert {"replication", "night", "date", "leaked", "stock/test-missile", "fired/test-missile"} <= set(frame.columns)
    row = frame[(frame.night == 3) & (frame.replication == 2)].iloc[0]
    assert row["stock/test-missile"] == r.stock[3, 2, 0]


def test_a_new_interceptor_type_changes_nothing_before_it_arrives(tmp_path: Path) -> None:
    theatre = theatre_dict()
    theatre["catalog"]["interceptors"]["test-missile-2"] = {**theatre["catalog"]["interceptors"]["test-missile"],
                                                            "pk": {"drone": 0.9}}
    theatre["catalog"]["systems"]["test-sam"]["interceptors"] = ["test-missile", "test-missile-2"]
    runs = []
    for deliveries in ([], [{"date": "2025-01-06", "interceptor": "test-missile-2", "quantity": 8, "to": "sam-1"}]):
        path = write_campaign(tmp_path, campaign_dict(deliveries=deliveries, production=[]), theatre,
                              name=f"n{len(deliveries)}.yaml")
        runs.append(run_campaign(load_campaign(path), replications=16, seed=2))
    without, with_new = runs
    k = with_new.interceptor_ids.index("test-missile")
    np.testing.assert_array_equal(without.leaked[:5], with_new.leaked[:5])
    np.testing.assert_array_equal(without.fired[:5, :, 0], with_new.fired[:5, :, k])
    assert with_new.fired[5:, :, with_new.interceptor_ids.index("test-missile-2")].sum() > 0


def test_inline_theatre_and_override(tmp_path: Path) -> None:
    theatre = theatre_dict()
    inline = {k: theatre[k] for k in ("catalog", "assets", "batteries", "doctrine")}
    route = {**theatre["raids"][0], "id": "route-1"}
    campaign = campaign_dict(theatre=inline, deliveries=[], generator={"model": copy.deepcopy(GENERATOR),
                                                                        "routes": [route]})
    path = tmp_path / "inline.yaml"
    path.write_text(yaml.safe_dump(campaign, sort_keys=False))
    r = run_campaign(load_campaign(path), replications=8, seed=1)
    assert r.launched.sum() > 0
    # the scenario file's doctrine replaced inline: salvo 1 instead of 2 fires fewer rounds
    write_campaign(tmp_path, campaign_dict(deliveries=[]))
    salvo1 = campaign_dict(deliveries=[], theatre={"scenario": "theatre.yaml", "doctrine": {"salvo": 1}})
    (tmp_path / "salvo1.yaml").write_text(yaml.safe_dump(salvo1, sort_keys=False))
    one = run_campaign(load_campaign(tmp_path / "salvo1.yaml"), replications=8, seed=1)
    two = run_campaign(load_campaign(tmp_path / "campaign.yaml"), replications=8, seed=1)
    np.testing.assert_array_equal(one.launched, two.launched)
    assert one.fired[:3].sum() < two.fired[:3].sum()


def test_damage_carries_over_and_batteries_go_out_of_action(tmp_path: Path) -> None:
    no_defence = theatre_dict(batteries=[])
    common = dict(nights=10, deliveries=[], production=[], depots=[])
    runs = {}
    for name, damage in (("none", None), ("kept", {"asset_repair_per_night": 0.0}),
                         ("repaired", {"asset_repair_per_night": 0.5})):
        path = write_campaign(tmp_path, {**campaign_dict(**common), **({"damage": damage} if damage else {})},
                              no_defence, name=f"{name}.yaml")
        runs[name] = run_campaign(load_campaign(path), replications=16, seed=3)
    values = np.array([10.0, 5.0, 1.0])
    lost = {k: r.value_lost.sum(axis=0) for k, r in runs.items()}  # [rep, asset] over the campaign
    assert (lost["kept"] <= values + 1e-9).all()  # what is destroyed stays destroyed
    assert (lost["none"] > values).any()  # without carry-over every night starts intact
    assert (lost["kept"] <= lost["repaired"] + 1e-9).all() and (lost["repaired"] <= lost["none"] + 1e-9).all()
    kept = runs["kept"].asset_condition
    assert (np.diff(kept, axis=0) <= 1e-12).all()
    np.testing.assert_allclose(kept[-1] * values, values - lost["kept"])
    # a battery put out of action after night 1 keeps its stock and fires nothing until repaired
    r = run_dict(tmp_path, replications=8, nights=6, deliveries=[], production=[],
                 damage={"battery_loss_per_night": 1.0, "battery_repair_nights": 3})
    assert (r.fired[1:4] == 0).all() and r.fired[0].sum() > 0 and r.fired[4].sum() > 0
    assert (r.batteries_out[0] == 1).all()
    np.testing.assert_array_equal(r.stock[1], r.stock[3])


def test_a_campaign_theatre_offers_every_scenario_section() -> None:
    """A section added to scenario files must reach campaigns: the theatre takes every one."""
    from shieldwall.campaign.load import THEATRE_SECTIONS
    from shieldwall.campaign.model import Theatre

    assert set(THEATRE_SECTIONS) == set(Theatre.model_fields) - {"scenario", "calibrated"}  # the two sources
    assert {"assets", "batteries", "catalog", "doctrine"} <= set(THEATRE_SECTIONS)


# --- workers -------------------------------------------------------------------------------------


def test_workers_give_identical_results_with_explicit_generated_and_damaged_nights(tmp_path: Path) -> None:
    """Each worker runs the whole campaign for a range of replications (one pool for the whole
    campaign); every random number is still drawn as for all of them, engine chunks included."""
    doc = campaign_dict(nights=6, raids=[{"night": 2, "from_scenario": True}],
                        damage={"asset_repair_per_night": 0.1, "battery_loss_per_night": 0.3,
                                "battery_repair_nights": 2})
    loaded = load_campaign(write_campaign(tmp_path, doc))
    one = run_campaign(loaded, replications=300, seed=4, workers=1, keep_battery_ledger=True)
    for workers in (2, 3):
        more = run_campaign(loaded, replications=300, seed=4, workers=workers, keep_battery_ledger=True)
        for name in one.PER_REPLICATION:
            np.testing.assert_array_equal(getattr(one, name), getattr(more, name), err_msg=f"{name}, {workers}")
        assert more.summary() == one.summary()
    assert one.launched[1].sum() > 0 and (one.batteries_out > 0).any()  # both kinds of night ran


def test_parallel_campaigns_fork_warm_workers_and_leave_no_thread(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Two parallel campaigns in a row (as compare, an allocation or the benchmark run them)
    both fork their workers: a pool thread left running by the first would make the second
    spawn cold ones, which import and load everything again. Spawned workers (Windows, macOS,
    a server's thread) give the same results, from compiles made once in this process."""
    import multiprocessing
    import threading

    from shieldwall import parallel as runner

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    doc = campaign_dict(nights=5, raids=[{"night": 3, "from_scenario": True}])
    loaded = load_campaign(write_campaign(tmp_path, doc))
    one = run_campaign(loaded, replications=40, seed=2)
    methods: list[str] = []
    real = runner.worker_context

    def spy():  # type: ignore[no-untyped-def]
        context = real()
        methods.append(context.get_start_method())
        return context

    monkeypatch.setattr(runner, "worker_context", spy)
    threads = threading.active_count()
    # alone, this process has no other thread and both runs fork; in the whole suite another test's
    # module may hold one (then both spawn): either way the first run must leave none behind
    expected = "fork" if threads == 1 else "spawn"
    for _ in range(2):
        assert run_campaign(loaded, replications=40, seed=2, workers=2).summary() == one.summary()
        assert threading.active_count() == threads
    assert methods == [expected, expected]
    monkeypatch.setattr(runner, "worker_context", lambda: multiprocessing.get_context("spawn"))
    spawned = run_campaign(loaded, replications=40, seed=2, workers=2)
    for name in one.PER_REPLICATION:
        if getattr(one, name) is not None:
            np.testing.assert_array_equal(getattr(one, name), getattr(spawned, name), err_msg=name)
    assert spawned.compiles == one.compiles == 2 and threading.active_count() == threads


def test_the_generator_caps_are_scipy_stats_binomial_quantiles() -> None:
    """The caps' quantile is scipy.stats.binom.ppf's own (without importing scipy.stats): the
    same numbers, bit for bit, over sizes, shares (0 and 1 included) and tails."""
    from scipy import stats

    from shieldwall.campaign.generator import CAP_TAIL, binomial_quantile

    rng = np.random.default_rng(4)
    p = np.concatenate([[0.0, 1.0, 1e-12, 0.5, 1.0 - 1e-12], rng.uniform(0.0, 1.0, 200), rng.uniform(0.0, 0.01, 100)])
    for n in (0, 1, 2, 7, 40, 250, 1_000, 12_345):
        for q in (1.0 - CAP_TAIL, 0.5, 1e-6, 0.999):
            got, expected = binomial_quantile(q, n, p), np.asarray(stats.binom.ppf(q, n, p), float)
            assert np.array_equal(got, expected), (n, q)


def test_nights_parquet_holds_to_frame_and_the_write_imports_no_pandas(tmp_path: Path) -> None:
    """nights.parquet, written from the arrays (no pandas), reads back as ``to_frame()``: same
    columns, types (dates to the millisecond, as pandas wrote them) and values; in a fresh
    process a campaign's load, run and write import neither pandas nor scipy.stats."""
    import subprocess
    import sys

    import pandas as pd

    from shieldwall.arrow import numeric_table

    examples = Path(__file__).resolve().parents[1] / "examples"
    result = run_campaign(load_campaign(examples / "campaign-winter.yaml"), replications=3, seed=2)
    result.write(tmp_path / "run")
    back = pd.read_parquet(tmp_path / "run" / "nights.parquet")
    frame = result.to_frame()
    assert list(back.columns) == list(frame.columns) and (back.dtypes == frame.dtypes).all()
    assert back.equals(frame)
    with pytest.raises(ValueError, match="numeric"):
        numeric_table({"name": np.array(["a"], object)})
    code = ("import sys; from shieldwall.campaign import load_campaign, run_campaign; "
            f"run_campaign(load_campaign({str(examples / 'campaign-winter.yaml')!r}), replications=2, seed=1)"
            f".write({str(tmp_path / 'fresh')!r}); print('pandas' in sys.modules, 'scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_a_campaign_runs_with_a_calibrated_theatres_values(tmp_path: Path) -> None:
    from shieldwall.errors import ScenarioError
    from shieldwall.scenario.theatre import load_theatre

    calibrated = {"version": 1, "kind": "theatre", "name": "fitted", "mechanisms": {"ballistic": True},
                  "catalog": {"threats": {"shahed-136": {"reliability": 0.5}}},
                  "regions": [{"id": "r", "lat": 50.0, "lon": 30.0, "assets": [{"id": "a", "lat": 50.0, "lon": 30.0}]}],
                  "launch_areas": [{"id": "l", "lat": 51.0, "lon": 31.0}]}
    theatre = theatre_dict()
    theatre["catalog"]["threats"]["test-drone"]["reliability"] = 0.9
    calibrated["catalog"]["threats"]["test-drone"] = {**theatre["catalog"]["threats"]["test-drone"], "reliability": 0.1}
    write_campaign(tmp_path, campaign_dict(), theatre)
    (tmp_path / "fitted.yaml").write_text(yaml.safe_dump(calibrated, sort_keys=False))
    path = tmp_path / "with.yaml"
    path.write_text(yaml.safe_dump(campaign_dict(theatre={"scenario": "theatre.yaml", "calibrated": "fitted.yaml"})))
    loaded = load_campaign(path)
    # the fitted entry is used, the scenario's own entry wins over the fitted one, the switches come along
    assert loaded.catalog.threats["shahed-136"].reliability == 0.5
    assert loaded.catalog.threats["test-drone"].reliability == 0.9 and loaded.theatre.mechanisms.ballistic
    plain = load_campaign(write_campaign(tmp_path, campaign_dict(), theatre))
    assert plain.catalog.threats["shahed-136"].reliability != 0.5 and not plain.theatre.mechanisms.ballistic
    # the shipped one by name
    path.write_text(yaml.safe_dump(campaign_dict(theatre={"scenario": "theatre.yaml", "calibrated": "ukraine-notional"})))
    shipped = load_theatre().model
    assert load_campaign(path).catalog.threats["shahed-136"] == shipped.catalog.threats["shahed-136"]
    path.write_text(yaml.safe_dump(campaign_dict(theatre={"scenario": "theatre.yaml", "calibrated": "nowhere.yaml"})))
    with pytest.raises(ScenarioError) as err:
        load_campaign(path)
    assert "theatre.calibrated" in str(err.value) and "nowhere.yaml" in str(err.value)
