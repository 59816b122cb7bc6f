"""``shieldwall run`` end to end: the files a user gets and what they hold."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml
from typer.testing import CliRunner

from conftest import scenario_dict
from shieldwall.cli.main import app

REQUIRED_TYPE_KEYS = {"launched", "leaked_mean", "leaked_ci95", "intercepted_mean"}
REQUIRED_TOTALS = {"launched", "leaked_mean", "value_lost_mean", "interceptor_cost_usd_mean"}


def test_run_writes_summary_parquet_and_events(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(scenario_dict()), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(path), "--replications", "300", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "test-drone" in result.output and "leak" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replications"] == 300 and summary["seed"] == 3
    assert REQUIRED_TYPE_KEYS <= set(summary["threats_by_type"]["test-drone"])
    assert REQUIRED_TOTALS <= set(summary["totals"])
    assert {"hits_mean", "value_lost_mean"} <= set(summary["assets"]["town"])
    assert summary["interceptors_fired"]["test-missile"] == 2.0  # salvo 2, one engagement, always in time
    lo, hi = summary["threats_by_type"]["test-drone"]["leaked_ci95"]
    assert lo <= summary["threats_by_type"]["test-drone"]["leaked_mean"] <= hi
    rows = pd.read_parquet(out / "replications")
    assert len(rows) == 300 and set(rows.replication) == set(range(300))
    assert rows["leaked"].mean() == summary["totals"]["leaked_mean"]
    events = pd.read_parquet(out / "events.parquet")
    assert {"launch", "detect", "fire"} <= set(events.event)
    assert events.time_s.is_monotonic_increasing
    assert {"time_s", "lat", "lon", "alt_m", "battery", "interceptor"} <= set(events.columns)
    assert (out / "report.md").read_text().startswith("# two-shot check")


def test_run_rejects_a_bad_file_without_traceback(tmp_path: Path) -> None:
    bad = scenario_dict()
    bad["batteries"][0]["interceptors"] = {"test-missile": -3}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "shieldwall", "run", str(path), "-n", "10", "--out", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "bad.yaml" in proc.stderr and "batteries[0].interceptors.test-missile" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "o").exists()


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "validate", "catalog", "schema"):
        assert command in result.output
