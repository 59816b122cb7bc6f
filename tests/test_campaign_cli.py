"""The campaign commands end to end, and every examples/campaign-*.yaml (examples are tests)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from conftest import EXAMPLES
from shieldwall.campaign import load_campaign, run_campaign
from shieldwall.campaign.compare import compare_files
from shieldwall.cli.main import app
from test_campaign import campaign_dict, write_campaign

CAMPAIGNS = sorted(EXAMPLES.glob("campaign-*.yaml"))


@pytest.mark.parametrize("path", CAMPAIGNS, ids=lambda p: p.stem)
def test_example_campaign_runs(path: Path) -> None:
    loaded = load_campaign(path)
    result = run_campaign(loaded, replications=3, seed=1)
    assert result.nights == loaded.nights and result.cut == 0
    assert result.launched.sum() > 0 and result.fired.sum() > 0
    np.testing.assert_array_equal(result.stock[1:], result.stock[:-1] - result.fired + result.delivered
                                  + result.produced)


def test_the_purchase_example_pair_exists() -> None:
    names = {p.stem for p in CAMPAIGNS}
    assert {"campaign-winter", "campaign-winter-no-purchase"} <= names
    with_purchase = load_campaign(EXAMPLES / "campaign-winter.yaml").campaign
    without = load_campaign(EXAMPLES / "campaign-winter-no-purchase.yaml").campaign
    bought = sum(d.quantity for d in with_purchase.deliveries if d.interceptor == "pac3-mse")
    assert bought > 0 and not any(d.interceptor == "pac3-mse" for d in without.deliveries)
    assert with_purchase.model_copy(update={"deliveries": without.deliveries, "name": without.name,
                                            "description": without.description}) == without


def test_campaign_command_writes_its_files(tmp_path: Path) -> None:
    path = write_campaign(tmp_path, campaign_dict(nights=5))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["campaign", str(path), "-n", "4", "--seed", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "campaign.json").read_text())
    assert summary["nights"] == 5 and summary["seed"] == 2 and summary["replications"] == 4
    assert set(summary["stock_by_night"]) == {"test-missile"} and len(summary["stock_by_night"]["test-missile"]) == 5
    assert (out / "nights.parquet").exists()
    html = (out / "report.html").read_text()
    assert "test-missile" in html  # the campaign report, its stock chart included (drawn by Chart.js from inline data)
    assert 'data-chart="stock"' in html and 'id="chart-data"' in html
    for words in ("Stock at the end of the night", "runs out", "Campaign totals", "leaked, armed (no decoys)",
                  "cost exchange"):
        assert words in result.output


def test_the_progress_bar_runs_no_thread_of_its_own() -> None:
    """On a terminal the bar is drawn by its callback: a refresh thread would make parallel runs
    spawn cold workers instead of forking (shieldwall.parallel.worker_context)."""
    import io
    import sys
    import threading
    from multiprocessing import get_all_start_methods

    from rich.console import Console

    from shieldwall.cli.run_cmd import steps_bar
    from shieldwall.parallel import worker_context

    threads = threading.active_count()
    screen = io.StringIO()
    bar, advance = steps_bar(Console(file=screen, force_terminal=True, width=80), "nights", 3)
    with bar:
        advance(2)
        assert threading.active_count() == threads
        if threads == 1 and "fork" in get_all_start_methods() and sys.platform.startswith("linux"):
            assert worker_context().get_start_method() == "fork"
        drawn = screen.getvalue()
    assert "nights" in drawn and "2/3" in drawn


def test_compare_campaigns_more_stock_fewer_leakers(tmp_path: Path) -> None:
    a = write_campaign(tmp_path, campaign_dict(nights=8, deliveries=[], production=[],
                                               depots=[{"id": "central", "stock": {"test-missile": 0}}]), name="a.yaml")
    b = write_campaign(tmp_path, campaign_dict(nights=8, deliveries=[], production=[],
                                               depots=[{"id": "central", "stock": {"test-missile": 40}}]), name="b.yaml")
    result = compare_files(a, b, replications=30, seed=4)
    assert result["kind"] == "campaign" and result["common_random_numbers"]
    assert result["metrics"]["launched"]["difference_mean"] == 0.0
    leaked = result["metrics"]["leaked"]
    assert leaked["difference_mean"] < 0 and leaked["difference_ci95"][1] < 0
    armed = result["metrics"]["leaked_armed"]  # campaigns compare armed leakers too (no decoys here: all)
    assert armed["difference_mean"] == leaked["difference_mean"] and armed["higher_is_better"] is False
    cli = CliRunner().invoke(app, ["compare", str(a), str(b), "-n", "6", "--out", str(tmp_path / "cmp.json")])
    assert cli.exit_code == 0, cli.output
    assert "B - A" in cli.output and json.loads((tmp_path / "cmp.json").read_text())["kind"] == "campaign"


def test_campaign_leakers_are_split_armed_from_decoys() -> None:
    """Issue 20 item 3 for campaigns: the winter's "leaked" counted the Gerbera decoys (about a
    quarter), which do no damage. campaign.json totals carry leaked_armed beside leaked, each
    threat type says whether it is a decoy, and the report's totals table shows both."""
    from shieldwall.report.html import campaign_section

    loaded = load_campaign(EXAMPLES / "campaign-winter.yaml")
    result = run_campaign(loaded, replications=4, seed=1)
    armed = result.armed()
    decoys = [t for t, a in zip(result.threat_ids, armed) if not a]
    assert decoys == [t for t in result.threat_ids if loaded.catalog.threats[t].decoy] == ["gerbera-decoy"]
    totals = result.totals_by_replication()
    np.testing.assert_array_equal(totals["leaked_armed"],
                                  totals["leaked"] - result.leaked[:, :, ~armed].sum(axis=(0, 2)))
    assert (0 < totals["leaked_armed"]).all() and (totals["leaked_armed"] < totals["leaked"]).all()
    summary = result.summary()
    assert summary["totals"]["leaked_armed"]["mean"] == pytest.approx(totals["leaked_armed"].mean())
    assert summary["threats_by_type"]["gerbera-decoy"]["decoy"] is True
    assert summary["threats_by_type"]["shahed-136"]["decoy"] is False
    html = campaign_section(json.loads(json.dumps(summary)), {})
    assert f"<td>leaked, armed (no decoys)</td><td>{summary['totals']['leaked_armed']['mean']:.1f}</td>" in html


def test_compare_raid_scenarios(tmp_path: Path) -> None:
    small = EXAMPLES / "small.yaml"
    same = compare_files(small, small, replications=20, seed=1)
    assert same["kind"] == "raid" and same["common_random_numbers"]
    for m in same["metrics"].values():
        assert m["difference_mean"] == 0.0
    data = yaml.safe_load(small.read_text())
    data["batteries"] = []
    (tmp_path / "bare.yaml").write_text(yaml.safe_dump(data))
    worse = compare_files(small, tmp_path / "bare.yaml", replications=20, seed=1)
    assert worse["metrics"]["leaked"]["difference_ci95"][0] > 0


def test_validate_knows_campaign_files(tmp_path: Path) -> None:
    path = write_campaign(tmp_path, campaign_dict(nights=5))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "valid campaign" in result.output and "5 nights" in result.output
    bad = campaign_dict(nights=5)
    bad["nigths"] = 3
    path.write_text(yaml.safe_dump(bad), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "nigths" in result.output and "Traceback" not in result.output
