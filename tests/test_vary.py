"""Validated variations (``with_``) and partial catalog overrides: a value set by path is checked
as a file's value is, with the same located errors; an override of a built-in entry changes the
numbers it names and keeps the rest."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from shieldwall.campaign.load import load_campaign
from shieldwall.catalog.builtin import builtin_catalog
from shieldwall.cli.main import app
from shieldwall.cli.validate_cmd import scenario_schema
from shieldwall.engine.runner import run
from shieldwall.errors import ScenarioError
from shieldwall.scenario.load import load_scenario, parse_scenario
from shieldwall.scenario.vary import parse_path

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT / "examples" / "city-defence.yaml"
SMALL = ROOT / "examples" / "small.yaml"


@pytest.fixture(scope="module")
def city():
    return load_scenario(CITY)


def _error(fn, *args) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        fn(*args)
    return info.value


def test_parse_path_reads_ids_positions_and_quoted_keys() -> None:
    assert parse_path("batteries[patriot-1].interceptors.pac3-mse") == [
        ("key", "batteries"), ("select", "patriot-1"), ("key", "interceptors"), ("key", "pac3-mse")]
    assert parse_path('raids[0].waypoints[1].lat') == [
        ("key", "raids"), ("select", 0), ("key", "waypoints"), ("select", 1), ("key", "lat")]
    assert parse_path('catalog.interceptors["my.missile"].pk') == [
        ("key", "catalog"), ("key", "interceptors"), ("select", "my.missile"), ("key", "pk")]
    with pytest.raises(ValueError):
        parse_path("[0].lat")


def test_with_sets_values_by_id_and_runs_like_the_same_file(city, tmp_path: Path) -> None:
    varied = city.with_({"batteries[patriot-1].interceptors.pac3-mse": 4, "raids[kh-101-wave].count": 20})
    assert varied.batteries[0].interceptors == {"pac3-mse": 4, "pac2-gem-t": 24}
    assert city.batteries[0].interceptors["pac3-mse"] == 48  # the original is untouched
    text = CITY.read_text(encoding="utf-8").replace("interceptors: {pac3-mse: 48, pac2-gem-t: 24}",
                                                     "interceptors: {pac3-mse: 4, pac2-gem-t: 24}", 1)
    text = text.replace("threat: kh-101\n    count: 16", "threat: kh-101\n    count: 20")
    from_file = parse_scenario(text, "edited.yaml")
    assert from_file == varied
    a, b = run(varied, replications=64, seed=3), run(from_file, replications=64, seed=3)
    assert np.array_equal(a.leaked, b.leaked) and np.array_equal(a.rounds, b.rounds)


def test_with_rejects_what_a_file_would_with_id_located_errors(city) -> None:
    error = _error(city.with_, {"batteries[patriot-1].lat": 123})
    (problem,) = error.problems
    assert problem.path == "batteries[patriot-1].lat"
    assert problem.message == "out of range" and problem.expected == "a number from -90 to 90"
    assert "variation of city-defence" in str(error)

    error = _error(city.with_, {"batteries[patriot-9].lat": 49.0, "raids[kalibr-wave].threat": "kalibrr"})
    paths = {p.path: p for p in error.problems}
    assert "did you mean `patriot-2`?" in paths["batteries[patriot-9].lat"].hint
    # the cross-field checks run too: an unknown threat id, located by the raid's id
    error = _error(city.with_, {"raids[kalibr-wave].threat": "kalibrr"})
    assert error.problems[0].path == "raids[kalibr-wave].threat"
    assert "did you mean `kalibr`?" in error.problems[0].hint
    error = _error(city.with_, {"batteries[iris-1].latt": 1.0})
    assert error.problems[0].path == "batteries[iris-1].latt" and "did you mean `lat`?" in error.problems[0].hint


def test_with_catalog_path_is_a_partial_override(city) -> None:
    varied = city.with_({"catalog.interceptors.iris-t.pk.drone": 0.7})
    builtin = builtin_catalog().interceptors["iris-t"]
    entry = varied.catalog.interceptors["iris-t"]
    assert entry.pk["drone"] == 0.7
    assert entry.pk["cruise"] == builtin.pk["cruise"] and entry.max_range_km == builtin.max_range_km
    assert "override" in entry.sources["pk"]
    error = _error(city.with_, {"catalog.interceptors.iris-t.pk.drone": 1.5})
    assert error.problems[0].path == "catalog.interceptors.iris-t.pk.drone"


def test_campaign_with_reaches_the_theatre_scenario_and_checks_references() -> None:
    loaded = load_campaign(ROOT / "examples" / "campaign-winter.yaml")
    varied = loaded.with_({"theatre.batteries[patriot-2].interceptors.pac3-mse": 10, "deliveries[0].quantity": 5})
    assert {b.id: b.interceptors.get("pac3-mse") for b in varied.theatre.batteries}["patriot-2"] == 10
    assert varied.campaign.deliveries[0].quantity == 5
    assert len(varied.theatre.raids) == len(loaded.theatre.raids)  # routes still come from the scenario
    error = _error(loaded.with_, {"deliveries[0].to": "centrl"})
    assert error.problems[0].path == "deliveries[0].to" and "did you mean `central`?" in error.problems[0].hint
    error = _error(loaded.with_, {"theatre.batteries[patriot-1].lat": 123})
    assert error.problems[0].path == "theatre.batteries[patriot-1].lat"
    assert loaded.campaign.with_({"nights": 3}).nights == 3
    assert _error(loaded.campaign.with_, {"nights": 0}).problems[0].path == "nights"


OVERRIDE = """\
name: override
catalog:
  interceptors:
    pac3-mse: {pk: {ballistic: 0.6}}
assets:
  - {id: town, lat: 50.45, lon: 30.52, value: 10}
batteries:
  - {id: p-1, system: patriot, lat: 50.45, lon: 30.52, interceptors: {pac3-mse: 8}}
raids:
  - {id: wave-1, threat: iskander-m, count: 2, launch: {lat: 51.5, lon: 32.0}, target: town}
"""


def test_partial_override_in_a_file_keeps_the_rest_of_the_builtin_entry(tmp_path: Path) -> None:
    scenario = parse_scenario(OVERRIDE, "override.yaml")
    entry, builtin = scenario.catalog.interceptors["pac3-mse"], builtin_catalog().interceptors["pac3-mse"]
    assert entry.pk["ballistic"] == 0.6 and builtin.pk["ballistic"] != 0.6
    assert entry.model_dump(exclude={"pk", "sources"}) == builtin.model_dump(exclude={"pk", "sources"})
    assert {k: v for k, v in entry.pk.items() if k != "ballistic"} == \
        {k: v for k, v in builtin.pk.items() if k != "ballistic"}
    path = tmp_path / "override.yaml"
    path.write_text(OVERRIDE, encoding="utf-8")
    assert CliRunner().invoke(app, ["validate", str(path)]).exit_code == 0
    path.write_text(OVERRIDE.replace("ballistic: 0.6", "ballistic: 1.6").replace("{pk:", "{spd_mps: 3, pk:"),
                    encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "override.yaml:4:" in result.output and "catalog.interceptors.pac3-mse.pk.ballistic" in result.output
    assert "unknown key `spd_mps`" in result.output and "did you mean `speed_mps`?" in result.output


def test_schema_accepts_partial_builtin_entries_and_full_new_ones() -> None:
    schema = scenario_schema()
    interceptors = schema["$defs"]["Catalog"]["properties"]["interceptors"]
    assert interceptors["properties"]["pac3-mse"] == {"$ref": "#/$defs/InterceptorTypeOverride"}
    assert "required" not in schema["$defs"]["InterceptorTypeOverride"]
    assert "speed_mps" in schema["$defs"]["InterceptorType"]["required"]
    (pattern,) = interceptors["patternProperties"]
    assert re.match(pattern, "pac3-mse") is None and re.match(pattern, "pac3-mse-b")
    assert json.dumps(schema)  # serialisable


def test_no_public_run_takes_unvalidated_values(city) -> None:
    """``model_copy(update=...)`` and ``model_construct`` check nothing; every way into a run
    checks again (``engine.compile.compile_scenario`` and ``run_campaign``), with the located
    error a file would give, before anything is simulated."""
    import dataclasses

    from shieldwall import run as public_run
    from shieldwall.campaign import run_campaign
    from shieldwall.engine.compile import compile_scenario
    from shieldwall.scenario.model import Battery

    patriot = next(b for b in city.batteries if b.id == "patriot-1")
    moved = city.model_copy(update={"batteries": [patriot.model_copy(update={"lat": 123}),
                                                  *(b for b in city.batteries if b.id != "patriot-1")]})
    for call in (lambda: public_run(moved, replications=4), lambda: run(moved, replications=4),
                 lambda: compile_scenario(moved, 1)):
        with pytest.raises(ScenarioError, match=r"batteries\[patriot-1\].lat: out of range"):
            call()
    ghost = city.model_copy(update={"batteries": [Battery.model_construct(**{**patriot.model_dump(), "system": "thaad-x"})]})
    with pytest.raises(ScenarioError, match="unknown system `thaad-x`"):  # a cross-check, not only shapes
        run(ghost, replications=4)
    winter = load_campaign(ROOT / "examples" / "campaign-winter.yaml")
    first = winter.campaign.deliveries[0]
    broken = winter.campaign.model_copy(update={"deliveries": [first.model_copy(update={"quantity": -80}),
                                                               *winter.campaign.deliveries[1:]]})
    with pytest.raises(ScenarioError, match=r"deliveries\[0\].quantity: out of range"):
        run_campaign(dataclasses.replace(winter, campaign=broken), replications=2)
    elsewhere = winter.campaign.model_copy(update={"deliveries": [first.model_copy(update={"to": "nowhere"})]})
    with pytest.raises(ScenarioError, match="unknown depot or battery `nowhere`"):
        run_campaign(dataclasses.replace(winter, campaign=elsewhere), replications=2)
