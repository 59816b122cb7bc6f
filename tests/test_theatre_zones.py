"""Theatre files carry electronic-warfare zones and area defences (docs/theatre.md): placement
relative to a region, located errors, and ``backtest rates`` counting their outcomes against a
closed form."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from pyproj import Geod

from shieldwall.backtest.rates import RatesRun, plan_rates, summarise
from shieldwall.errors import ScenarioError
from shieldwall.scenario.record import read_record
from shieldwall.scenario.theatre import load_theatre
from test_backtest import RATES_ROWS, THEATRE, write_record, write_theatre

GNSS = THEATRE.replace("reliability: 1.0}", "reliability: 1.0, guidance: [gnss], ew_resistance: 0.0}")
ZONES = """
ew_zones:
  - {id: south-ew, region: south, radius_km: 50, loss_per_km: 0.02, divert_share: 0.25}
  - {id: sea-ew, lat: 46.0, lon: 31.0, radius_km: 5, loss_per_km: 0.001}
area_defences:
  - {id: north-mfg, type: mobile-fire-group, region: north, bearing_deg: 90, distance_km: 30, radius_km: 20, units: 4}
"""


def test_zones_are_placed_and_passed_to_the_scenario(tmp_path: Path) -> None:
    theatre = load_theatre(write_theatre(tmp_path, text=GNSS + ZONES))
    ew = theatre.ew_zones()
    assert [(z.id, z.lat, z.lon, z.loss_per_km, z.divert_share) for z in ew] == [
        ("south-ew", 48.0, 30.0, 0.02, 0.25), ("sea-ew", 46.0, 31.0, 0.001, 0.0)]
    (mfg,) = theatre.area_defences()
    _, _, dist_m = Geod(ellps="WGS84").inv(30.0, 50.0, mfg.lon, mfg.lat)
    assert abs(dist_m - 30_000) < 1 and mfg.lon > 30.3 and abs(mfg.lat - 50.0) < 0.01  # 30 km east
    plan = plan_rates(read_record(write_record(tmp_path, RATES_ROWS)), theatre)
    built = plan.scenario()
    assert [z.id for z in built.ew_zones] == ["south-ew", "sea-ew"] and built.area_defences[0].units == 4


@pytest.mark.parametrize("zone, path, words", [
    ("{id: z, region: sout, radius_km: 5, loss_per_km: 0.1}", "ew_zones[0].region", "did you mean `south`"),
    ("{id: z, region: south, lat: 48, radius_km: 5, loss_per_km: 0.1}", "ew_zones[0].lat", "not both"),
    ("{id: z, lat: 48, radius_km: 5, loss_per_km: 0.1}", "ew_zones[0]", "needs `region`"),
    ("{id: z, lat: 48, lon: 30, distance_km: 3, radius_km: 5, loss_per_km: 0.1}", "ew_zones[0].distance_km", "region"),
    ("{id: z, region: south, radius_km: 5, loss_per_km: 0.1, strenght: 2}", "ew_zones[0].strenght", "strenght"),
])
def test_zone_errors_are_located(tmp_path: Path, zone: str, path: str, words: str) -> None:
    with pytest.raises(ScenarioError) as err:
        load_theatre(write_theatre(tmp_path, text=THEATRE + f"ew_zones:\n  - {zone}\n"))
    problem = err.value.problems[0]
    assert problem.path == path and problem.line == THEATRE.count("\n") + 2
    assert words in f"{problem.message} {problem.hint or ''}"


def test_area_defence_errors_are_located(tmp_path: Path) -> None:
    text = THEATRE + ("area_defences:\n  - {id: a, type: mobile-fire-grup, region: north, radius_km: 5, units: 2}\n"
                      "  - {id: a, type: aviation-patrol, region: north, radius_km: 5, units: 2}\n")
    with pytest.raises(ScenarioError) as err:
        load_theatre(write_theatre(tmp_path, text=text))
    located = {(p.path, p.line) for p in err.value.problems}
    assert ("area_defences[1].id", THEATRE.count("\n") + 3) in located  # duplicate id
    text = text.replace("id: a, type: aviation", "id: b, type: aviation")
    with pytest.raises(ScenarioError) as err:
        load_theatre(write_theatre(tmp_path, text=text))
    (problem,) = err.value.problems
    assert problem.path == "area_defences[0].type" and problem.line == THEATRE.count("\n") + 2


def test_rates_count_electronic_warfare_against_the_closed_form(tmp_path: Path) -> None:
    """Drones fly straight from the launch area to the centre of a 50 km zone losing them at
    0.02 per km inside: P(lost) = 1 - exp(-0.02 x 50), counted as not reaching the goal (a
    quarter of them diverted), never as destroyed; no zone, no loss."""
    record = read_record(write_record(tmp_path, RATES_ROWS))
    run = RatesRun.compile(plan_rates(record, load_theatre(write_theatre(tmp_path, text=GNSS + ZONES.split(
        "area_defences")[0]))))
    outcome = run.simulate(replications=60, seed=3)
    bins = summarise(run, outcome)["by_size"]["Shahed-136/131"]
    south = next(b for b in bins if b["bin"] == "50-150")  # the 60 drones on Southtown only
    expected = 1 - math.exp(-0.02 * 50)
    sd = math.sqrt(expected * (1 - expected) / (60 * 60))
    assert abs(south["simulated"]["suppressed"]["mean"] - expected) < 5 * sd
    assert south["simulated"]["destroyed"]["mean"] == 0.0
    assert south["simulated"]["neutralised"]["mean"] == south["simulated"]["suppressed"]["mean"]
    diverted = outcome["diverted"].sum() / (outcome["suppressed"].sum() + outcome["diverted"].sum())
    assert abs(diverted - 0.25) < 0.06
    bare = RatesRun.compile(plan_rates(record, load_theatre(write_theatre(tmp_path, text=GNSS))))
    assert summarise(bare, bare.simulate(replications=4, seed=3))["by_size"]["Shahed-136/131"][1]["simulated"][
        "suppressed"]["mean"] == 0.0


def test_default_theatre_has_notional_zones() -> None:
    theatre = load_theatre()
    regions = {r.id for r in theatre.model.regions}
    assert {z.region for z in theatre.model.ew_zones} == regions
    kinds = {a.type for a in theatre.model.area_defences}
    assert kinds == {"mobile-fire-group", "interceptor-drone", "aviation-patrol"}
