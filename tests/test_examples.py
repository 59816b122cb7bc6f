"""Every file in examples/ is a test: it validates, runs, and keeps the promises of its kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import EXAMPLES
from shieldwall.engine.runner import run
from shieldwall.scenario.load import load_scenario

import yaml

# raid scenarios; campaign files (with a `nights:` key) are run by the campaign tests
FILES = sorted(p for p in EXAMPLES.glob("*.yaml") if "nights" not in (yaml.safe_load(p.read_text()) or {}))


def _threat_count(scenario) -> int:  # type: ignore[no-untyped-def]
    return sum(r.count + (r.decoys.count if r.decoys else 0) for r in scenario.raids)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_example_runs(path: Path) -> None:
    scenario = load_scenario(path)
    result = run(scenario, replications=8, seed=1)
    summary = result.summary()
    assert summary["totals"]["launched"] == _threat_count(scenario)
    ended = result.killed + result.leaked + result.expired
    assert (ended.sum(axis=1) == summary["totals"]["launched"]).all()


def test_the_examples_the_issue_asks_for_exist() -> None:
    names = {p.stem for p in FILES}
    assert {"small", "city-defence", "massive-raid"} <= names
    small = (EXAMPLES / "small.yaml").read_text().splitlines()
    assert len(small) <= 60, "the newcomer's example must fit on one screen"
    massive = load_scenario(EXAMPLES / "massive-raid.yaml")
    assert _threat_count(massive) >= 600 and len(massive.batteries) >= 20 and len(massive.assets) >= 20
    city = load_scenario(EXAMPLES / "city-defence.yaml")
    systems = {b.system for b in city.batteries}
    assert {"patriot", "skynex", "iris-t-slm"} <= systems
    threats = {r.threat for r in city.raids} | {r.decoys.threat for r in city.raids if r.decoys}
    assert {"shahed-136", "gerbera-decoy", "kh-101", "kalibr", "iskander-m", "kn-23", "kinzhal"} <= threats


def test_demo_defence_makes_a_difference() -> None:
    """The demo's defence must matter: without batteries, far more leaks."""
    scenario = load_scenario(EXAMPLES / "city-defence.yaml")
    defended = run(scenario, replications=20, seed=2).leaked.sum(axis=1).mean()
    bare = run(scenario.model_copy(update={"batteries": []}), replications=20, seed=2).leaked.sum(axis=1).mean()
    launched = _threat_count(scenario)
    assert defended < 0.5 * bare and bare > 0.8 * launched
