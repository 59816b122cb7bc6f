"""`shieldwall allocate`: the chosen split is never worse than either baseline on the
optimisation's random numbers, reruns give the same split, the verification runs on other
random numbers with paired intervals, and mistakes in the file are located."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from shieldwall.cli.main import app
from shieldwall.errors import ScenarioError
from shieldwall.sweep.allocate import Evaluator, allocate, baselines, defended_value, load_allocation, neighbours, split
from shieldwall.sweep.backends import InlineBackend

ROOT = Path(__file__).resolve().parents[1]

ALLOCATION = """\
base: campaign.yaml
interceptor: pac3-mse
recipients: [patriot-east, patriot-central, patriot-west]
tranches:
  - {date: 2024-12-03, quantity: 100}
  - {date: 2024-12-10, quantity: 50}
block: 25
replications: 8
verify_replications: 16
seed: 3
max_evaluations: 60
"""


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    text = (ROOT / "examples" / "campaign-three-cities.yaml").read_text(encoding="utf-8")
    text = text.replace("nights: 121", "nights: 14").replace("scenario: three-cities.yaml",
                                                             f"scenario: {ROOT / 'examples' / 'three-cities.yaml'}")
    (tmp_path / "campaign.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "allocation.yaml").write_text(ALLOCATION, encoding="utf-8")
    return tmp_path


def load_error(folder: Path, text: str, name: str = "bad.yaml") -> str:
    """What loading ``text`` as an allocation file in ``folder`` reports."""
    (folder / name).write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_allocation(folder / name)
    return str(info.value)


def test_split_keeps_the_total_in_blocks_near_the_weights() -> None:
    assert split(250, np.ones(3), 25).tolist() == [100, 75, 75]
    assert split(250, np.array([1.0, 0.0, 3.0]), 25).tolist() == [75, 0, 175]
    assert split(100, np.zeros(2), 50).tolist() == [50, 50]  # no weights: even


def test_defended_value_counts_the_assets_within_reach() -> None:
    loaded = load_allocation(ROOT / "examples" / "sweeps" / "allocation-pac3.yaml")
    assert defended_value(loaded).tolist() == [100.0, 180.0, 280.0]  # each city's assets, 40 km PAC-3 reach


def test_allocation_is_reproducible_and_no_worse_than_the_baselines_on_its_sample(folder: Path) -> None:
    loaded = load_allocation(folder / "allocation.yaml")
    first = allocate(loaded, InlineBackend())
    again = allocate(load_allocation(folder / "allocation.yaml"), InlineBackend())
    assert first["allocation"] == again["allocation"] and first["verification"] == again["verification"]
    chosen = np.array([[row[r] for r in loaded.spec.recipients] for row in first["allocation"].values()])
    assert chosen.sum(axis=1).tolist() == [100, 50] and (chosen % 25 == 0).all() and (chosen >= 0).all()
    runs = Evaluator(loaded, InlineBackend()).run([chosen, *baselines(loaded).values()], replications=8, seed=3)
    means = [float(np.mean(r["value_lost"])) for r in runs]
    assert means[0] == pytest.approx(first["optimisation"]["objective_mean"])
    assert means[0] <= min(means[1:])
    # a local optimum of the sample: no exchange of one block improves it
    assert first["optimisation"]["search"] == "exchange" and first["optimisation"]["stopped"] == "no better exchange"
    moves = list(neighbours(loaded, chosen, loaded.block))
    assert len(moves) == sum(2 * (chosen[t] > 0).sum() for t in range(2))  # 3 recipients: 2 ways out of each
    runs = Evaluator(loaded, InlineBackend()).run([m.allocation for m in moves], replications=8, seed=3)
    assert min(float(np.mean(r["value_lost"])) for r in runs) >= means[0]
    v = first["verification"]
    assert v["seed"] != loaded.spec.seed and v["replications"] == 16
    for name in ("even", "value-proportional"):
        d = v["differences"][f"chosen - {name}"]["value_lost"]
        assert d["difference_mean"] == pytest.approx(v["options"]["chosen"]["value_lost"] - v["options"][name]["value_lost"])
        assert v["beats"][name] == (d["difference_ci95"][1] < 0)


def test_cli_allocate_writes_json_and_locates_mistakes(folder: Path) -> None:
    out = folder / "allocation.json"
    result = CliRunner().invoke(app, ["allocate", str(folder / "allocation.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert sum(data["totals_by_recipient"].values()) == 150
    assert "Checked on fresh random numbers" in result.output
    bad = ALLOCATION.replace("patriot-west]", "patriot-wset]").replace("quantity: 50}", "quantity: 60}")
    (folder / "bad.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_allocation(folder / "bad.yaml")
    lines = {p.line: p.message for p in info.value.problems}
    assert "unknown battery or depot `patriot-wset`" in lines[3]
    assert "not a multiple of the block" in lines[6]
    result = CliRunner().invoke(app, ["allocate", str(folder / "bad.yaml")])
    assert result.exit_code == 2 and "bad.yaml:3:" in result.output


# -- regions ----------------------------------------------------------------------------------------

EAST_2 = """
deliveries:                    # a second Patriot battery in the east, there from the first night
  - date: 2024-12-01
    system: patriot
    battery: {id: patriot-east-2, system: patriot, lat: 49.60, lon: 35.20, interceptors: {pac3-mse: 48},
              engage: [cruise, ballistic]}
"""

REGIONS = """\
base: campaign.yaml
interceptor: pac3-mse
regions:
  - {id: east, assets: {kind: east}}                 # the batteries defending the eastern assets
  - {id: central, recipients: [patriot-central]}
  - {id: west, assets: [west-centre, west-industry]}
within_region: stock
tranches:
  - {date: 2024-12-02, quantity: 100}
block: 25
replications: 6
verify_replications: 12
seed: 4
"""


@pytest.fixture()
def regions_folder(folder: Path) -> Path:
    text = (folder / "campaign.yaml").read_text(encoding="utf-8").replace("nights: 14", "nights: 6")
    (folder / "campaign.yaml").write_text(text + EAST_2, encoding="utf-8")
    (folder / "regions.yaml").write_text(REGIONS, encoding="utf-8")
    return folder


def test_regions_group_batteries_and_assets_and_a_rule_splits_within_them(regions_folder: Path) -> None:
    from shieldwall.sweep.allocate import per_recipient, region_totals

    loaded = load_allocation(regions_folder / "regions.yaml")
    regions = loaded.regions
    assert loaded.arms == ["east", "central", "west"] and loaded.by_region
    members = {rid: [loaded.recipients[i] for i in m] for rid, m in zip(regions.ids, regions.members)}
    assert members == {"east": ["patriot-east", "patriot-east-2"], "central": ["patriot-central"],
                       "west": ["patriot-west"]}
    assets = [a.id for a in loaded.base.theatre.assets]
    owned = {rid: [assets[i] for i in idx] for rid, idx in zip(regions.ids, regions.assets)}
    # central's assets are those nearest its battery within PAC-3 reach (40 km)
    assert owned == {"east": ["east-centre", "east-power"], "central": ["central-centre", "central-power"],
                     "west": ["west-centre", "west-industry"]} and regions.outside == []
    assert regions.value.tolist() == [100.0, 180.0, 280.0]
    x = np.array([[100, 0, 0]])  # all to the east: split by starting stock, 16 : 48, in blocks of 25
    assert per_recipient(loaded, x).tolist() == [[25, 75, 0, 0]]
    assert region_totals(loaded, x) == {"east": 100, "central": 0, "west": 0}
    for rule, east in (("even", [50, 50]), ("value", [50, 50])):
        (regions_folder / "rule.yaml").write_text(REGIONS.replace("within_region: stock", f"within_region: {rule}"))
        assert per_recipient(load_allocation(regions_folder / "rule.yaml"), x).tolist()[0][:2] == east
    b = baselines(loaded)  # over regions: even, and by the value of each region's assets
    assert b["even"].tolist() == [[50, 25, 25]] and b["value-proportional"].tolist() == [[25, 25, 50]]
    (regions_folder / "opt.yaml").write_text(REGIONS.replace("within_region: stock", "within_region: optimise"))
    optimised = load_allocation(regions_folder / "opt.yaml")  # regions only group the results
    assert optimised.arms == optimised.recipients and not optimised.by_region


def test_region_mistakes_are_located(regions_folder: Path) -> None:
    bad = REGIONS.replace("assets: [west-centre, west-industry]", "assets: [west-centre, east-power, wset-industry]")
    bad = bad.replace("recipients: [patriot-central]", "recipients: [patriot-central], assets: [central-power]")
    text = load_error(regions_folder, bad)
    assert "bad.yaml:5:" in text and "give exactly one of `recipients` or `assets`" in text
    assert "bad.yaml:6:50: regions[2].assets[2]: unknown asset `wset-industry`" in text
    assert "bad.yaml:6:38: regions[2].assets[1]: asset `east-power` is also in region `east`" in text
    listed = load_error(regions_folder, "recipients: [patriot-east, patriot-central]\n" + REGIONS)
    assert re.search(r"bad.yaml:7:\d+: regions\[2\]: region `west` has no recipient", listed)  # none listed defends it
    twice = load_error(regions_folder, REGIONS.replace("assets: {kind: east}", "recipients: [patriot-east, patriot-central]"))
    assert re.search(r"bad.yaml:5:\d+: regions\[1\].recipients\[0\]: `patriot-central` is in two regions", twice)


def test_per_region_results_add_up_to_the_whole_and_the_search_is_exact_when_it_can_be(regions_folder: Path) -> None:
    loaded = load_allocation(regions_folder / "regions.yaml")
    result = allocate(loaded, InlineBackend())
    opt = result["optimisation"]
    assert opt["search"] == "exhaustive" and opt["evaluations"] == 15  # 4 blocks over 3 regions: C(6, 2)
    from shieldwall.sweep.allocate import all_allocations

    every = list(all_allocations(loaded))
    means = [float(np.mean(r["value_lost"])) for r in Evaluator(loaded, InlineBackend()).run(every, replications=6, seed=4)]
    assert opt["objective_mean"] == min(means)  # the SAA optimum, found exactly
    v = result["verification"]
    assert set(v["regions"]) == {"east", "central", "west"}
    for name in ("chosen", "even", "value-proportional"):
        parts = [v["regions"][r]["value_lost"][name]["mean"] for r in v["regions"]]
        assert sum(parts) == pytest.approx(v["options"][name]["value_lost"])
        assert sum(result["regions"]["totals"][name].values()) == 100
    for name in ("even", "value-proportional"):
        parts = [v["regions"][r]["differences"][f"chosen - {name}"]["difference_mean"] for r in v["regions"]]
        assert sum(parts) == pytest.approx(v["differences"][f"chosen - {name}"]["value_lost"]["difference_mean"])
    for r in v["regions"].values():
        lo, hi = r["value_lost"]["chosen"]["ci95"]
        assert lo <= r["value_lost"]["chosen"]["mean"] <= hi


# -- new batteries over candidate sites --------------------------------------------------------------

SITES = """\
base: campaign.yaml
batteries:                     # each new battery: a Patriot with 16 PAC-3 MSE on arrival
  system: patriot
  interceptors: {pac3-mse: 16}
  engage: [cruise, ballistic]
sites:                         # notional candidates
  - {id: site-east, lat: 49.45, lon: 35.00}
  - {id: site-central, lat: 49.10, lon: 31.00}
  - {id: site-west, lat: 49.35, lon: 26.60}
tranches:
  - {date: 2024-12-03, quantity: 1}
regions:
  - {id: east, assets: {kind: east}}
  - {id: west, assets: {kind: west}}
replications: 6
verify_replications: 12
seed: 2
"""


def test_site_baselines_follow_their_rules() -> None:
    from types import SimpleNamespace

    from shieldwall.sweep.sites import Site, nearest_value, spread

    assets = [SimpleNamespace(lat=50.0, lon=30.0, value=10.0), SimpleNamespace(lat=50.0, lon=31.0, value=5.0)]
    sites = [Site(id=f"s{i}", lat=50.0, lon=lon) for i, lon in enumerate((30.05, 30.9, 29.0, 32.0))]
    # the most valuable asset takes its nearest site, then the next asset, then round again
    assert nearest_value(sites, assets, 3, 1) == [0, 1, 2]
    assert nearest_value(sites, assets, 3, 2) == [0, 1, 0]
    # nearest the value-weighted centre (lon 30.33) first, then each time the farthest from those taken
    assert spread(sites, assets, 3, 1) == [0, 3, 2]


def test_batteries_over_sites_best_of_all_sites_on_common_random_numbers(folder: Path) -> None:
    text = (folder / "campaign.yaml").read_text(encoding="utf-8").replace("nights: 14", "nights: 6")
    (folder / "campaign.yaml").write_text(text, encoding="utf-8")
    (folder / "sites.yaml").write_text(SITES, encoding="utf-8")
    out = folder / "sites.json"
    cli = CliRunner().invoke(app, ["allocate", str(folder / "sites.yaml"), "--out", str(out)])
    assert cli.exit_code == 0, cli.output
    assert "Chosen sites of 1 new patriot battery" in cli.output and "Per region" in cli.output
    result = json.loads(out.read_text())
    loaded = load_allocation(folder / "sites.yaml")
    assert result["optimisation"]["search"] == "exhaustive" and result["optimisation"]["evaluations"] == 3
    one_each = [np.eye(3, dtype=np.int64)[[s]] for s in range(3)]
    means = [float(np.mean(r["value_lost"])) for r in Evaluator(loaded, InlineBackend()).run(one_each, replications=6,
                                                                                             seed=2)]
    best = int(np.argmin(means))
    assert result["placed"] == [{"date": "2024-12-03", "site": loaded.arms[best], "batteries": 1}]
    assert result["optimisation"]["objective_mean"] == means[best]
    # the baselines: nearest the most valuable assets (the west's 280), and the site nearest the centre
    assert result["baselines"]["nearest-value"]["2024-12-03"]["site-west"] == 1
    assert result["baselines"]["spread"]["2024-12-03"]["site-central"] == 1
    v = result["verification"]
    for name in ("nearest-value", "spread"):
        d = v["differences"][f"chosen - {name}"]["value_lost"]
        assert v["beats"][name] == (d["difference_ci95"][1] < 0)
    totals = result["regions"]["totals"]["chosen"]  # site-central defends neither region's assets
    assert totals == ({"east": 0, "west": 0, "(outside the regions)": 1} if best == 1 else
                      {"east": int(best == 0), "west": int(best == 2)})


def test_site_mistakes_are_located(folder: Path) -> None:
    bad = (SITES.replace("lat: 49.10", "lat: 123").replace("{pac3-mse: 16}", "{pac3-mse: 16, iris-t: 8}")
           .replace("id: site-west", "id: patriot-west").replace("quantity: 1}", "quantity: 4}"))
    text = load_error(folder, bad)
    assert "bad.yaml:8:" in text and "sites[1].lat: out of range" in text  # the shapes first
    bad = bad.replace("lat: 123", "lat: 49.10")
    text = load_error(folder, bad)
    assert "bad.yaml:9:" in text and "battery id `patriot-west` is already used" in text
    assert "bad.yaml:11:" in text and "4 batteries but room for 3" in text
    text = load_error(folder, bad.replace("id: patriot-west", "id: site-west").replace("quantity: 4}", "quantity: 1}"))
    assert re.search(r"bad.yaml:4:\d+: batteries.interceptors.iris-t: system `patriot` cannot fire `iris-t`", text)
    assert text.count("cannot fire") == 1  # the template's problem, once, at the template


# -- delivery nights ------------------------------------------------------------------------------------

def test_tranches_arrive_for_the_raid_of_their_night(folder: Path) -> None:
    """A tranche dated D is in stock for the raid of D's night: units on the recipient, a new
    battery in the theatre (and firing) from that night, not before."""
    from shieldwall.campaign import run_campaign
    from shieldwall.sweep.allocate import variant

    loaded = load_allocation(folder / "allocation.yaml")  # tranches 2024-12-03 (100) and 2024-12-10 (50)
    x = np.array([[100, 0, 0], [0, 0, 50]])
    result = run_campaign(variant(loaded, x), replications=4, seed=1, keep_battery_ledger=True)
    east, west = result.battery_ids.index("patriot-east"), result.battery_ids.index("patriot-west")
    k = result.interceptor_ids.index("pac3-mse")
    delivered = result.delivered_to_batteries[:, 0, k]
    assert delivered[2] == 100 and delivered[9] == 50 and delivered.sum() == 150  # nights 3 and 10 (0-based 2, 9)
    ledger = result.battery_ledger  # [night + 1, rep, battery, interceptor], end of each night
    fired = result.fired[:, :, k]
    assert (ledger[3, :, east, k] + fired[2] >= 100).all()  # the 100 were there for night 3's raid
    assert (ledger[9, :, west, k] <= 16).all() and (ledger[10, :, west, k] >= 50).all()
    (folder / "sites.yaml").write_text(SITES.replace("2024-12-03", "2024-12-05"), encoding="utf-8")
    sites = load_allocation(folder / "sites.yaml")
    result = run_campaign(variant(sites, np.array([[0, 0, 1]])), replications=4, seed=1, keep_battery_ledger=True)
    new = result.battery_ids.index("site-west")
    assert (result.battery_ledger[:5, :, new, k] == 0).all()  # nights 1-4: not there
    assert (result.battery_ledger[5, :, new, k] + result.fired[4, :, k] >= 16).all()
    text = load_error(folder, ALLOCATION.replace("2024-12-10", "2024-12-03"))
    assert re.search(r"bad.yaml:6:\d+: tranches\[1\].date: not after the tranche before", text)


def test_the_search_space_keeps_every_rule_and_the_budget(folder: Path) -> None:
    """Every allocation the searches may try keeps each tranche's total and each site's room;
    the exchange's neighbourhood is cut to the budget, in its fixed order."""
    from shieldwall.sweep.allocate import SampleObjective, all_allocations, count_allocations

    two = SITES.replace("  - {id: site-west, lat: 49.35, lon: 26.60}\n", "").replace(
        "  - {date: 2024-12-03, quantity: 1}", "  - {date: 2024-12-03, quantity: 2}\n  - {date: 2024-12-05, quantity: 1}")
    (folder / "two.yaml").write_text(two + "max_per_site: 2\n", encoding="utf-8")
    loaded = load_allocation(folder / "two.yaml")
    every = [a.tolist() for a in all_allocations(loaded)]
    assert every == [[[2, 0], [0, 1]], [[1, 1], [1, 0]], [[1, 1], [0, 1]], [[0, 2], [1, 0]]]
    assert count_allocations(loaded, 2) == 3  # counted only up to the limit + 1
    x = np.array([[1, 1], [1, 0]])
    moves = list(neighbours(loaded, x, 1))
    # east's room is full, so nothing moves to it: the two moves to the centre, and the swap of dates
    assert [m.allocation.tolist() for m in moves] == [[[0, 2], [1, 0]], [[1, 1], [0, 1]], [[2, 0], [0, 1]]]
    assert moves[2].text == "site-central takes 2024-12-05 and site-east 2024-12-03"
    (folder / "many.yaml").write_text(ALLOCATION.replace("max_evaluations: 60", "max_evaluations: 5"))
    units = load_allocation(folder / "many.yaml")
    f = SampleObjective(units, Evaluator(units, InlineBackend()), None)
    f.cache[b"seen"] = 1.0
    start = baselines(units)["even"]
    batch = f.within_budget(neighbours(units, start, 25), lambda m: m.allocation)
    assert len(batch) == 4 == units.spec.max_evaluations - 1  # the first four of the twelve
    assert [m.allocation.tolist() for m in batch] == [m.allocation.tolist() for m in neighbours(units, start, 25)][:4]
