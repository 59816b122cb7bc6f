"""Every mistake in a scenario file gets a located, analyst-readable message, all at once,
and the CLI turns them into exit status 2 without a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import shieldwall.scenario.checks as checks
from shieldwall.catalog.builtin import BUILTIN_PATH
from shieldwall.catalog.model import Catalog
from shieldwall.cli.main import app
from shieldwall.cli.validate_cmd import SCHEMA_PATH, schema_text
from shieldwall.errors import Problem, ScenarioError
from shieldwall.scenario.load import load_scenario, parse_scenario
from shieldwall.scenario.yaml_source import parse_yaml

VALID = """\
name: two-shot check
catalog:
  interceptors:
    test-missile: {speed_mps: 1000, min_range_km: 1, max_range_km: 40, max_altitude_m: 20000,
                   pk: {drone: 0.6, cruise: 0.6, ballistic: 0.6}, cost_usd: 1000000}
  systems:
    test-sam: {radar_range_km: 100, radar_height_m: 10, fire_channels: 4, launchers: 2,
               rounds_per_launcher: 4, reload_s: 600, interceptors: [test-missile]}
  threats:
    test-drone: {class: drone, speed_mps: 50, altitude_m: 500, cost_usd: 30000}
assets:
  - {id: town, lat: 50.45, lon: 30.52, value: 10}
batteries:
  - {id: sam-1, system: test-sam, lat: 50.45, lon: 30.52, interceptors: {test-missile: 8}}
raids:
  - {id: wave-1, threat: test-drone, count: 1, launch: {lat: 51.0, lon: 30.52}, target: town, time_s: 0}
doctrine:
  salvo: 2
  max_engagements: 1
"""

# Extra catalog entries some tests need, added under `catalog:` so line numbers below stay put.
BALLISTIC = "    test-bm: {class: ballistic, cost_usd: 1000000}\n"
OTHER_MISSILE = (
    "    other-missile: {speed_mps: 900, max_range_km: 20, max_altitude_m: 8000, pk: {drone: 0.5}}\n"
)


@pytest.fixture(autouse=True)
def _builtin_catalog_or_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    """The built-in catalog is written separately; until it exists, check against none."""
    if not BUILTIN_PATH.exists():
        monkeypatch.setattr(checks, "builtin_catalog", lambda: Catalog())


def variant(*edits: tuple[str, str], text: str = VALID) -> str:
    """VALID with each (old, new) replaced once; fails loudly if a test's anchor drifts."""
    for old, new in edits:
        assert text.count(old) == 1, f"anchor {old!r} must occur once"
        text = text.replace(old, new)
    return text


def position(text: str, needle: str, nth: int = 0, after: str = "") -> tuple[int, int]:
    """1-based (line, column) of the nth occurrence of ``needle`` after ``after``."""
    index = text.index(after) - 1 if after else -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    before = text[:index]
    return before.count("\n") + 1, index - before.rfind("\n")


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.yaml")
    assert info.value.file == "s.yaml"
    return info.value.problems


def one(problems: list[Problem], path: str) -> Problem:
    """The single problem at ``path`` (the failure shows them all)."""
    found = [p for p in problems if p.path == path]
    assert len(found) == 1, "\n".join(p.render("s.yaml") for p in problems)
    return found[0]


def at(problem: Problem) -> tuple[int | None, int | None]:
    return problem.line, problem.column


# --- the valid scenario -------------------------------------------------------------------------


def test_valid_scenario_loads_from_text_yaml_and_json(tmp_path: Path) -> None:
    scenario = parse_scenario(VALID)
    assert scenario.batteries[0].interceptors == {"test-missile": 8}
    assert scenario.catalog.threats["test-drone"].threat_class == "drone"
    assert scenario.doctrine.salvo == 2

    (tmp_path / "s.yaml").write_text(VALID, encoding="utf-8")
    assert load_scenario(tmp_path / "s.yaml") == scenario
    # JSON is YAML too; tabs are legal JSON indentation but not YAML's.
    (tmp_path / "s.json").write_text(json.dumps(yaml.safe_load(VALID), indent="\t"), encoding="utf-8")
    assert load_scenario(str(tmp_path / "s.json")) == scenario


# --- shapes (pydantic) --------------------------------------------------------------------------


def test_unknown_key_suggests_the_close_one_at_its_line_and_column() -> None:
    text = variant(("{id: town, lat:", "{id: town, latt:"))
    problems = problems_of(text)
    # `lat` is also missing, but "did you mean `lat`?" already says so: one problem.
    assert len(problems) == 1
    problem = one(problems, "assets[0].latt")
    assert problem.message == "unknown key `latt`"
    assert problem.hint == "did you mean `lat`?"
    assert at(problem) == position(text, "latt")


def test_unknown_key_matches_aliases() -> None:
    text = variant(("{class: drone", "{clas: drone"))
    problem = one(problems_of(text), "catalog.threats.test-drone.clas")
    assert problem.hint == "did you mean `class`?"


def test_unknown_key_lists_allowed_keys_when_nothing_is_close() -> None:
    text = variant(("doctrine:\n", "weather: rain\ndoctrine:\n"))
    problem = one(problems_of(text), "weather")
    assert problem.message == "unknown key `weather`"
    assert problem.hint is not None and problem.hint.startswith("allowed keys: name, description, seed")
    assert at(problem) == position(text, "weather")


def test_wrong_type_says_expected_and_found_at_the_value() -> None:
    text = variant(("{test-missile: 8}", "{test-missile: many}"))
    problem = one(problems_of(text), "batteries[0].interceptors.test-missile")
    assert problem.message == "wrong type"
    assert problem.expected == "an integer from 0 to 1,000,000"
    assert problem.found == '"many"'
    assert at(problem) == position(text, "many")


def test_negative_count_is_out_of_range() -> None:
    text = variant(("count: 1,", "count: -1,"))
    problem = one(problems_of(text), "raids[0].count")
    assert (problem.message, problem.expected, problem.found) == ("out of range", "an integer from 1 to 100,000", "-1")
    assert at(problem) == position(text, "-1", after="count:")


def test_bad_literal_value_suggests_the_close_one() -> None:
    text = variant(("{class: drone", "{class: drones"))
    problem = one(problems_of(text), "catalog.threats.test-drone.class")
    assert problem.expected == "one of drone, cruise, ballistic"
    assert problem.hint == "did you mean `drone`?"


def test_missing_required_field_points_at_its_parent() -> None:
    text = variant(("launch: {lat: 51.0, lon: 30.52}", "launch: {lat: 51.0}"))
    problem = one(problems_of(text), "raids[0].launch.lon")
    assert problem.message == "missing required key `lon`"
    assert problem.expected == "a number from -180 to 180"
    assert at(problem) == position(text, "launch", after="wave-1")


def test_missing_top_level_field_and_empty_list() -> None:
    raid = VALID[VALID.index("  - {id: wave-1") : VALID.index("doctrine:")]
    problems = problems_of(variant(("name: two-shot check\n", ""), ("raids:\n" + raid, "raids: []\n")))
    assert len(problems) == 2
    assert one(problems, "name").message == "missing required key `name`"
    raids = one(problems, "raids")
    assert (raids.message, raids.expected) == ("too few entries", "at least 1 entry")


def test_union_error_is_one_problem_listing_the_accepted_forms() -> None:
    text = variant(("salvo: 2", "salvo: two"))
    problems = problems_of(text)
    assert len(problems) == 1
    problem = one(problems, "doctrine.salvo")
    assert problem.message == "not in an accepted form"
    assert problem.expected == ("an integer from 1 to 100, or a map of drone/cruise/ballistic to an integer "
                                "from 1 to 100")
    assert problem.found == '"two"'
    assert at(problem) == position(text, "two", after="salvo")


def test_union_given_as_mapping_reports_inside_that_form() -> None:
    text = variant(("salvo: 2", "salvo: {drne: 2, cruise: 0}"), ("target: town", "target: {knd: town}"))
    problems = problems_of(text)
    assert len(problems) == 3
    key = one(problems, "doctrine.salvo.drne")
    assert key.expected == "one of drone, cruise, ballistic" and key.hint == "did you mean `drone`?"
    assert one(problems, "doctrine.salvo.cruise").expected == "an integer from 1 to 100"
    assert one(problems, "raids[0].target.knd").hint == "did you mean `kind`?"


def test_bad_document_shape_and_bad_id() -> None:
    root = one(problems_of("- just\n- a list\n"), "")
    assert root.expected == "a mapping {name: ..., assets: ..., raids: ...}"
    text = variant(("{id: town,", "{id: 'old town',"))
    problem = one(problems_of(text), "assets[0].id")
    assert problem.message == "not a valid id"
    assert problem.found == '"old town"'


# --- YAML itself --------------------------------------------------------------------------------


def test_yaml_syntax_error_has_line_and_column() -> None:
    problem = one(problems_of("name: x\nassets:\n  - id: a\n   lat: 1\n"), "")
    assert problem.message.startswith("YAML syntax error:")
    assert at(problem) == (4, 4)
    assert "indentation" in (problem.hint or "")


def test_duplicate_key_names_both_lines() -> None:
    text = variant(("doctrine:\n  salvo: 2\n", "doctrine:\n  salvo: 2\n  salvo: 3\n"))
    problem = one(problems_of(text), "doctrine.salvo")
    first, second = position(text, "salvo")[0], position(text, "salvo", nth=1)[0]
    assert problem.message == f"duplicate key `salvo` (first at line {first}, again at line {second})"
    assert problem.line == second


def test_python_tags_are_refused_not_executed() -> None:
    problem = one(problems_of("name: !!python/object/apply:os.system [echo hacked]\n"), "")
    assert "constructor for the tag" in problem.message
    assert at(problem) == (1, 7)


def test_source_map_has_keys_values_and_falls_back_to_the_parent() -> None:
    source = parse_yaml("a:\n  - {b: 1}\n")
    assert source.data == {"a": [{"b": 1}]}
    assert source.source_map.locate(("a",), at_key=True) == (1, 1)
    assert source.source_map.locate(("a", 0, "b"), at_key=True) == (2, 6)
    assert source.source_map.locate(("a", 0, "b")) == (2, 9)
    assert source.source_map.locate(("a", 0, "missing", "deeper")) == (2, 5)


def test_unreadable_and_empty_files_are_problems_not_tracebacks(tmp_path: Path) -> None:
    cases = {tmp_path / "nope.yaml": "does not exist", tmp_path: "is a folder"}
    (tmp_path / "empty.yaml").write_text("# only a comment\n", encoding="utf-8")
    cases[tmp_path / "empty.yaml"] = "the file is empty"
    for path, words in cases.items():
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
        assert info.value.file == str(path)
        assert words in info.value.problems[0].message


# --- cross-field checks -------------------------------------------------------------------------


def test_unknown_system_suggests_and_lists_known_ones() -> None:
    close = one(problems_of(variant(("system: test-sam", "system: test-sma"))), "batteries[0].system")
    assert close.message == "unknown system `test-sma`"
    assert close.hint is not None and close.hint.startswith("did you mean `test-sam`? known systems:")
    far = one(problems_of(variant(("system: test-sam", "system: zzz"))), "batteries[0].system")
    assert far.hint is not None and far.hint.startswith("known systems:") and "test-sam" in far.hint


def test_interceptor_the_system_cannot_fire_says_what_it_fires() -> None:
    text = variant(
        ("  systems:", OTHER_MISSILE + "  systems:"),
        ("{test-missile: 8}", "{test-missile: 8, other-missile: 4}"),
    )
    problem = one(problems_of(text), "batteries[0].interceptors.other-missile")
    assert problem.message == "system `test-sam` cannot fire `other-missile`"
    assert problem.hint == "`test-sam` fires: test-missile"
    assert at(problem) == position(text, "other-missile", nth=1)


def test_unknown_interceptor_in_stock() -> None:
    text = variant(("{test-missile: 8}", "{test-missle: 8}"))
    problem = one(problems_of(text), "batteries[0].interceptors.test-missle")
    assert problem.message == "unknown interceptor `test-missle`"
    assert problem.hint is not None and "did you mean `test-missile`?" in problem.hint


def test_launchers_must_be_stocked_and_within_the_system() -> None:
    text = variant(("{test-missile: 8}}", "{test-missile: 8}, launchers: {test-missile: 3, ghost: 1}}"))
    problems = problems_of(text)
    ghost = one(problems, "batteries[0].launchers.ghost")
    assert ghost.message == "launchers for `ghost`, which this battery does not stock"
    total = one(problems, "batteries[0].launchers")
    assert total.message == "4 launchers assigned, but `test-sam` has 2"
    assert total.expected == "at most 2 in total"


def test_waypoints_are_refused_for_ballistic_threats() -> None:
    text = variant(
        ("  threats:\n", "  threats:\n" + BALLISTIC),
        ("threat: test-drone,", "threat: test-bm, waypoints: [{lat: 50.8, lon: 30.6}],"),
    )
    problem = one(problems_of(text), "raids[0].waypoints")
    assert problem.message == "waypoints are not allowed for ballistic threats"
    assert at(problem) == position(text, "waypoints")


def test_unknown_target_kind_lists_the_kinds_present() -> None:
    text = variant(("target: town", "target: {kind: airfield}"))
    problem = one(problems_of(text), "raids[0].target.kind")
    assert problem.message == "no asset of kind `airfield`"
    assert problem.hint == "kinds present: generic"


def test_unknown_target_asset_threat_and_radar_type() -> None:
    text = variant(
        ("target: town", "target: twon, decoys: {threat: fake, count: 2}"),
        ("threat: test-drone", "threat: test-dron"),
        ("batteries:", "radars:\n  - {id: ew-1, type: big-radar, lat: 50, lon: 30}\nbatteries:"),
    )
    problems = problems_of(text)
    assert one(problems, "raids[0].target").hint == "did you mean `town`? known assets: town"
    assert one(problems, "raids[0].threat").message == "unknown threat `test-dron`"
    assert one(problems, "raids[0].decoys.threat").message == "unknown threat `fake`"
    assert one(problems, "radars[0].type").message == "unknown radar type `big-radar`"


def test_ids_are_unique_and_radars_do_not_reuse_battery_ids() -> None:
    text = variant(
        ("value: 10}\n", "value: 10}\n  - {id: town, lat: 50, lon: 30}\n"),
        ("batteries:", "radars:\n  - {id: sam-1, type: big-radar, lat: 50, lon: 30}\nbatteries:"),
        ("  threats:", "  radars:\n    big-radar: {range_km: 300}\n  threats:"),
    )
    problems = problems_of(text)
    assert len(problems) == 2
    duplicate = one(problems, "assets[1].id")
    assert duplicate.message == "duplicate asset id `town`"
    assert duplicate.hint == f"already used at line {position(text, 'town')[0]}; ids must be unique"
    assert one(problems, "radars[0].id").message == "radar id `sam-1` is also a battery id"


def test_catalog_entries_are_checked_against_each_other() -> None:
    text = variant(
        ("{class: drone, speed_mps: 50, altitude_m: 500,", "{class: drone, altitude_m: 500,"),
        ("pk: {drone: 0.6,", "pk: {drones: 0.6,"),
        ("min_range_km: 1,", "min_range_km: 40,"),
        ("interceptors: [test-missile]", "interceptors: [test-missile, ghost]"),
    )
    problems = problems_of(text)
    speed = one(problems, "catalog.threats.test-drone.speed_mps")
    assert speed.message == "missing required key `speed_mps` for a drone threat"
    assert at(speed) == position(text, "test-drone")
    pk = one(problems, "catalog.interceptors.test-missile.pk.drones")
    assert pk.message == "unknown threat class or threat `drones`"
    assert pk.hint is not None and pk.hint.startswith("did you mean `drone`?")
    envelope = one(problems, "catalog.interceptors.test-missile.min_range_km")
    assert envelope.message == "`min_range_km` (40) must be less than `max_range_km` (40)"
    system = one(problems, "catalog.systems.test-sam.interceptors[1]")
    assert system.message == "unknown interceptor `ghost`"


def test_unknown_policy() -> None:
    problem = one(problems_of(variant(("salvo: 2", "salvo: 2\n  policy: greedyy"))), "doctrine.policy")
    # the schema's enum comes from the policy registry: the error names every policy it knows
    assert problem.hint == "did you mean `greedy`?"
    assert problem.expected == "one of greedy, local-search, exact"


@pytest.mark.skipif(not BUILTIN_PATH.exists(), reason="built-in catalog not written yet")
def test_unknown_system_suggests_built_in_ids() -> None:
    problem = one(problems_of(variant(("system: test-sam", "system: patriott"))), "batteries[0].system")
    assert problem.hint is not None and problem.hint.startswith("did you mean `patriot`?")


# --- all at once --------------------------------------------------------------------------------


def test_all_problems_are_reported_at_once_in_file_order() -> None:
    text = variant(
        ("salvo: 2", "salvo: two"),
        ("{id: town, lat:", "{id: town, latt:"),
        ("count: 1,", "count: -1,"),
        ("{test-missile: 8}", "{test-missile: many}"),
    )
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "bad.yaml")
    lines = [p.line for p in info.value.problems]
    assert lines == sorted(lines) and len(lines) == 4
    rendered = str(info.value).splitlines()
    assert rendered[0] == "bad.yaml: 4 problems found"
    assert [line for line in rendered if not line.startswith("    ")][1:] == [
        f"bad.yaml:{p.line}:{p.column}: {p.path}: {p.message}" for p in info.value.problems
    ]


def test_semantic_problems_are_reported_together() -> None:
    text = variant(("system: test-sam", "system: zzz"), ("target: town", "target: {kind: airfield}"))
    assert [p.path for p in problems_of(text)] == ["batteries[0].system", "raids[0].target.kind"]


# --- the command line ---------------------------------------------------------------------------

BAD = variant(("{id: town, lat:", "{id: town, latt:"))
BAD_LINE = position(BAD, "latt")[0]


def test_cli_validate_ok(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(VALID, encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        f"ok: {path} is valid — 1 asset, 0 radars, 1 battery, 1 raid (1 threat incl. decoys)"
    )


def test_cli_validate_bad_exits_2_with_located_message(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:{BAD_LINE}:" in result.output
    assert "did you mean `lat`?" in result.output
    assert "Traceback" not in result.output
    missing = CliRunner().invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_real_process_validate_bad_exits_2_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "shieldwall", "validate", "bad.yaml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"bad.yaml:{BAD_LINE}:" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


# --- the JSON Schema ----------------------------------------------------------------------------


def test_committed_schema_is_up_to_date() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "regenerate with: shieldwall schema -o src/shieldwall/schema/scenario.schema.json"
    )


def test_cli_schema_prints_and_writes_the_same_schema(tmp_path: Path) -> None:
    printed = CliRunner().invoke(app, ["schema"])
    assert printed.exit_code == 0
    schema = json.loads(printed.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"] == "shieldwall scenario"
    assert "class" in schema["$defs"]["ThreatType"]["properties"]
    out = tmp_path / "scenario.schema.json"
    assert CliRunner().invoke(app, ["schema", "--out", str(out)]).exit_code == 0
    assert out.read_text(encoding="utf-8") == printed.stdout


def test_the_documented_bounds_are_the_bounds() -> None:
    """docs/scenario.md, campaign.md and wta.md write out src/shieldwall/limits.py: every bound there."""
    from conftest import ROOT
    from shieldwall import limits

    docs = "".join((ROOT / "docs" / name).read_text(encoding="utf-8") for name in ("scenario.md", "campaign.md",
                                                                                 "wta.md"))
    skip = {"MAX_SEED", "MAX_WTA_FILE_BYTES", "MAX_RECORD_FILE_BYTES", "MAX_FILE_BYTES", "MAX_NB_N",
            "MAX_EPOCH_TIME_LIMIT_S", "MIN_DECISION_INTERVAL_S", "MIN_RCS_M2", "MAX_ASSET_VALUE", "MAX_COST_USD",
            "MAX_COST_WEIGHT", "MIN_SPEED_MPS"}  # written as 2^63 - 1, 4 MiB, 1e12 ... in the docs
    for name in dir(limits):
        value = getattr(limits, name)
        if name.isupper() and name not in skip and isinstance(value, (int, float)):
            assert f"{int(value):,}" in docs, f"{name} = {value} is not in the docs"
