"""A campaign on the trend generator: dated draws, no cap, what-if knobs (and their errors)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from shieldwall.campaign.load import load_campaign
from shieldwall.campaign.run import run_campaign
from shieldwall.errors import ScenarioError

WINTER = (ROOT / "examples" / "campaign-winter.yaml").read_text(encoding="utf-8")


def _campaign(tmp_path: Path, text: str) -> Path:
    (tmp_path / "city-defence.yaml").write_text((ROOT / "examples" / "city-defence.yaml").read_text(), encoding="utf-8")
    path = tmp_path / "campaign.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_what_if_sets_the_drones_per_month(tmp_path: Path) -> None:
    text = WINTER.replace("nights: 121", "nights: 12").replace(
        "  share: 0.25                           # notional: this city's area takes a quarter of each raid",
        "  share: 0.25\n  what_if:\n    drones: {per_month: 3000, growth_per_month: 0.0}")
    loaded = load_campaign(_campaign(tmp_path, text))
    assert loaded.generator.is_trend and loaded.generator.what_if["drones"].per_month == 3000
    result = run_campaign(loaded, replications=40, seed=3)
    k = result.threat_ids.index("shahed-136")
    per_night = result.launched[:, :, k].mean()
    # expected: 3000 / 30.4375 a night, a quarter of them on this city (+ decoys of the routes)
    expected = 3000 / 30.4375 * 0.25
    assert 0.75 * expected < per_night < 1.3 * expected
    again = run_campaign(loaded, replications=40, seed=3)
    assert np.array_equal(again.launched, result.launched)


def test_what_if_needs_a_trend_generator_and_a_known_family(tmp_path: Path) -> None:
    text = WINTER.replace("builtin: raids-2022-2024-trend", "builtin: raids-2022-2024").replace(
        "  share: 0.25                           # notional: this city's area takes a quarter of each raid",
        "  share: 0.25\n  what_if:\n    drones: {per_month: 3000}")
    with pytest.raises(ScenarioError, match="what_if needs a trend generator"):
        load_campaign(_campaign(tmp_path, text))
    text = WINTER.replace(
        "  share: 0.25                           # notional: this city's area takes a quarter of each raid",
        "  share: 0.25\n  what_if:\n    drone: {per_month: 3000}")
    with pytest.raises(ScenarioError) as err:
        load_campaign(_campaign(tmp_path, text))
    assert "unknown family `drone`" in str(err.value) and "drones" in str(err.value)
