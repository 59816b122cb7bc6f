"""`shieldwall allocate`: the chosen split is never worse than either baseline on the
optimisation's random numbers, reruns give the same split, the verification runs on other
random numbers with paired intervals, and mistakes in the file are located."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from shieldwall.cli.main import app
from shieldwall.errors import ScenarioError
from shieldwall.sweep.allocate import Evaluator, allocate, baselines, defended_value, load_allocation, split
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
