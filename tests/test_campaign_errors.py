"""Bad campaign and generator files: every mistake is located (file:line:column, field path),
says what was expected and found, exits with status 2 and never shows a traceback."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from shieldwall.campaign import load_campaign
from shieldwall.cli.main import app
from shieldwall.errors import ScenarioError
from test_campaign import GENERATOR, campaign_dict, theatre_dict

GOOD = """\
name: errors
start_date: 2025-01-01
nights: 10
theatre:
  scenario: theatre.yaml
generator:
  file: gen.yaml
depots:
  - id: central
    stock: {test-missile: 4}
deliveries:
  - {date: 2025-01-03, interceptor: test-missile, quantity: 4, to: central}
  - {date: 2025-01-05, interceptor: test-missile, quantity: 4, to: sam-1}
"""


def _write(tmp_path: Path, text: str, generator: dict | None = None) -> Path:
    (tmp_path / "theatre.yaml").write_text(yaml.safe_dump(theatre_dict(), sort_keys=False))
    (tmp_path / "gen.yaml").write_text(yaml.safe_dump(generator or GENERATOR, sort_keys=False))
    path = tmp_path / "campaign.yaml"
    path.write_text(text)
    return path


def _problems(tmp_path: Path, text: str, generator: dict | None = None) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_campaign(_write(tmp_path, text, generator))
    return info.value


def test_the_good_file_loads(tmp_path: Path) -> None:
    loaded = load_campaign(_write(tmp_path, GOOD))
    assert loaded.nights == 10 and loaded.generator is not None


def test_dates_out_of_order(tmp_path: Path) -> None:
    text = GOOD.replace("2025-01-05, interceptor", "2025-01-02, interceptor")
    err = _problems(tmp_path, text)
    (p,) = err.problems
    assert (p.line, p.column, p.path) == (13, 12, "deliveries[1].date")
    assert "out of order" in p.message and "2025-01-02" in p.message


def test_unknown_interceptor_lists_the_known_ones(tmp_path: Path) -> None:
    err = _problems(tmp_path, GOOD.replace("interceptor: test-missile, quantity: 4, to: sam-1",
                                           "interceptor: test-missle, quantity: 4, to: sam-1"))
    (p,) = err.problems
    assert p.path == "deliveries[1].interceptor" and p.line == 13
    assert "unknown interceptor `test-missle`" in p.message
    assert "did you mean `test-missile`" in p.hint and "pac3-mse" in p.hint


def test_unknown_destination_and_system(tmp_path: Path) -> None:
    text = GOOD.replace("to: central}", "to: centrl}") + (
        "  - {date: 2025-01-06, system: patriott, battery: {id: p, system: patriot, lat: 50, lon: 30, "
        "interceptors: {pac3-mse: 4}}}\n")
    err = _problems(tmp_path, text)
    paths = {p.path: p for p in err.problems}
    assert "did you mean `central`" in paths["deliveries[0].to"].hint
    assert "unknown system `patriott`" in paths["deliveries[2].system"].message


def test_negative_quantity(tmp_path: Path) -> None:
    err = _problems(tmp_path, GOOD.replace("quantity: 4, to: central", "quantity: -4, to: central"))
    (p,) = err.problems
    assert (p.path, p.message, p.found, p.line) == ("deliveries[0].quantity", "out of range", "-4", 12)
    assert p.expected == "an integer from 1 to 1,000,000"
    err = _problems(tmp_path, GOOD.replace("{test-missile: 4}", "{test-missile: -1}"))
    assert err.problems[0].path == "depots[0].stock.test-missile"


def test_generator_file_of_the_wrong_version(tmp_path: Path) -> None:
    generator = {**copy.deepcopy(GENERATOR), "version": 2}
    err = _problems(tmp_path, GOOD, generator)
    assert err.file.endswith("gen.yaml")
    (p,) = err.problems
    assert p.path == "version" and p.line == 1 and "unsupported generator version 2" in p.message
    assert p.expected == "1"


def test_generator_threat_without_a_route(tmp_path: Path) -> None:
    generator = copy.deepcopy(GENERATOR)
    generator["families"][0]["mix"] = {"test-drone": 0.5, "shahed-136": 0.5}
    err = _problems(tmp_path, GOOD, generator)
    (p,) = err.problems
    assert p.path == "generator" and "shahed-136" in p.message and "generator.routes" in p.hint


def test_raid_nights_outside_and_out_of_order(tmp_path: Path) -> None:
    text = GOOD + "raids:\n  - {night: 4, from_scenario: true}\n  - {night: 2, from_scenario: true}\n" \
                  "  - {date: 2025-03-01, from_scenario: true}\n"
    err = _problems(tmp_path, text)
    messages = {p.path: p.message for p in err.problems}
    assert "out of order" in messages["raids[1].night"]
    assert messages["raids[2].date"] == "outside the campaign"


def test_bad_raid_in_a_campaign_is_located_in_the_campaign(tmp_path: Path) -> None:
    text = GOOD + ("raids:\n  - night: 2\n    raids:\n      - {id: r, threat: test-drone, count: 2, "
                   "launch: {lat: 51, lon: 30.5}, target: nowhere}\n")
    err = _problems(tmp_path, text)
    (p,) = err.problems
    assert p.path == "raids[0].raids[0].target" and p.line == 17 and "unknown asset `nowhere`" in p.message


def test_typo_in_a_key_and_in_the_theatre(tmp_path: Path) -> None:
    err = _problems(tmp_path, GOOD.replace("nights: 10", "nigths: 10"))
    assert any("did you mean `nights`" in (p.hint or "") for p in err.problems)
    text = GOOD.replace("  scenario: theatre.yaml", "  scenario: theatre.yaml\n  batteries:\n"
                        "    - {id: b, system: test-samm, lat: 50, lon: 30, interceptors: {test-missile: 2}}")
    err = _problems(tmp_path, text)
    (p,) = err.problems
    assert p.path == "theatre.batteries[0].system" and p.line == 7 and "did you mean `test-sam`" in p.hint


def test_missing_scenario_file(tmp_path: Path) -> None:
    err = _problems(tmp_path, GOOD.replace("theatre.yaml", "nope.yaml"))
    (p,) = err.problems
    assert p.path == "theatre.scenario" and p.line == 5 and "not found" in p.message


@pytest.mark.parametrize("args", [["campaign"], ["compare"]])
def test_cli_exits_2_without_a_traceback(tmp_path: Path, args: list[str]) -> None:
    path = _write(tmp_path, GOOD.replace("quantity: 4, to: central", "quantity: -4, to: central"))
    files = [str(path)] if args == ["campaign"] else [str(path), str(path)]
    result = CliRunner().invoke(app, [*args, *files, "-n", "2"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert f"{path}:12:" in result.output and "deliveries[0].quantity" in result.output


def test_compare_needs_two_of_a_kind(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    result = CliRunner().invoke(app, ["compare", str(path), str(tmp_path / "theatre.yaml"), "-n", "2"])
    assert result.exit_code == 2 and "two campaigns or two raid scenarios" in result.output


def test_campaign_dict_helper_is_valid(tmp_path: Path) -> None:
    (tmp_path / "theatre.yaml").write_text(yaml.safe_dump(theatre_dict()))
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(campaign_dict()))
    assert load_campaign(tmp_path / "c.yaml").campaign.nights == 12


def test_bad_route_is_located_in_the_campaign(tmp_path: Path) -> None:
    text = GOOD.replace("  file: gen.yaml", "  file: gen.yaml\n  routes:\n"
                        "    - {id: r, threat: test-drone, count: 1, launch: {lat: 51, lon: 30.5}, target: {kind: cty}}")
    err = _problems(tmp_path, text)
    (p,) = err.problems
    assert p.path == "generator.routes[0].target.kind" and p.line == 9 and "did you mean `city`" in p.hint
