"""`shieldwall calibrate raids`: on a small CSV written here (exact expectations), and on the
real 2022-2024 file in ../shared when it is there (the shipped generator is its fit)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from conftest import ROOT
from shieldwall.campaign.calibrate import calibrate_raids, fit_size, ks_discrete
from shieldwall.campaign.load import DATA_DIR, load_generator_file
from shieldwall.cli.main import app

HEADER = ("time_start,time_end,model,launch_place,target,target_main,launched,destroyed,not_reach_goal,"
          "still_attacking,border_crossing,is_shahed,num_hit_location,num_fall_fragment_location,carrier,turbojet,"
          "turbojet_destroyed,affected region,destroyed_details,launched_details,launch_place_details,source")
ROWS = [
    ("2024-01-01 20:00", "Shahed-136/131", 10, 8),
    ("2024-01-02 02:00", "Shahed-136/131", 5, 5),  # after midnight: still the night of 1 January
    ("2024-01-02 03:00", "X-101/X-555 and Kalibr", 7, 6),  # shared: 4 kh-101, 3 kalibr
    ("2024-01-03", "Shahed-136/131", 20, 18),  # date only: the night of 2 January
    ("2024-01-04 22:00", "Iskander-M/KN-23", 2, 0),  # shared: 1 iskander-m, 1 kn-23
    ("2024-01-04 22:00", "Orlan-10", 3, 3),  # not a catalog threat: reported
    ("2024-01-06 21:00", "Shahed-136/131", 30, 25),
    ("2024-01-07 21:00", "Shahed-136/131", "", ""),  # no count
    ("2024-01-09 21:00", "Orlan-10", 1, 1),  # the last night: no mapped threat
]
REAL = ROOT.parent / "shared" / "data" / "attacks" / "missile_attacks_daily_2022-2024.csv"


def write_csv(path: Path, rows: list[tuple] = ROWS) -> Path:
    lines = [HEADER] + [f"{t},{t},{m},,Kyiv,,{n},{d},,,{{}},,,,,,,,,,,src" for t, m, n, d in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_small_csv_fit(tmp_path: Path) -> None:
    doc = calibrate_raids(write_csv(tmp_path / "attacks.csv"), method="stationary")
    prov = doc["provenance"]
    assert (prov["first_night"], prov["last_night"], prov["nights"]) == ("2024-01-01", "2024-01-09", 9)
    assert prov["raid_nights"] == 4 and prov["rows"] == 9 and prov["rows_without_count"] == 1
    assert prov["unmapped_models"] == {"Orlan-10": {"rows": 2, "launched": 4}}
    assert prov["launched_by_threat"] == {"shahed-136": 65, "kh-101": 4, "kalibr": 3, "iskander-m": 1, "kn-23": 1}
    families = {f["id"]: f for f in doc["families"]}
    drones = families["drones"]
    assert drones["probability"] == 0.75  # 3 of the 4 raid nights
    assert drones["size"]["max"] == 30 and drones["size"]["mean"] == 21.667  # nights: 15, 20, 30
    assert families["cruise-missiles"]["mix"] == {"kh-101": round(4 / 7, 6), "kalibr": round(3 / 7, 6)}
    p_none = (1 - 0.75) * (1 - 0.25) * (1 - 0.25)
    assert doc["raid_probability"] == round(4 / 9 / (1 - p_none), 6)
    for f in doc["families"]:
        assert 0.0 <= f["size"]["ks_distance"] <= 1.0
    assert 0.0 <= doc["fit"]["raid_size_ks_distance"] <= 1.0


def test_ks_and_empirical_fit() -> None:
    sizes = np.array([1, 2, 2, 3, 10])
    fit = fit_size(sizes, "empirical")
    assert fit["ks_distance"] == 0.0 and fit["values"] == [1, 2, 3, 10]
    assert ks_discrete(np.array([1, 1]), np.array([0.0, 0.5])) == 0.5
    nb = fit_size(np.array([1, 5, 9, 30, 2, 4]), "negative-binomial")
    assert nb["n"] > 0 and 0 < nb["p"] < 1 and nb["max"] == 30


def test_cli_writes_a_generator_a_campaign_can_use(tmp_path: Path) -> None:
    out = tmp_path / "gen.yaml"
    result = CliRunner().invoke(app, ["calibrate", "raids", str(write_csv(tmp_path / "a.csv")), "--out", str(out),
                                      "--method", "stationary"])
    assert result.exit_code == 0, result.output
    assert "Orlan-10" in result.output and "KS" in result.output
    model = load_generator_file(out)
    assert model.version == 1 and model.provenance["source_file"] == "a.csv"
    empirical = tmp_path / "emp.yaml"
    result = CliRunner().invoke(app, ["calibrate", "raids", str(tmp_path / "a.csv"), "--out", str(empirical),
                                      "--distribution", "empirical", "--from", "2024-01-02", "--method", "stationary"])
    assert result.exit_code == 0, result.output
    assert load_generator_file(empirical).provenance["first_night"] == "2024-01-02"


def test_bad_csv_is_a_located_error(tmp_path: Path) -> None:
    bad = write_csv(tmp_path / "bad.csv", [*ROWS[:2], ("yesterday", "Shahed-136/131", 3, 3)])
    result = CliRunner().invoke(app, ["calibrate", "raids", str(bad), "--out", str(tmp_path / "g.yaml")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{bad}:4: time_start: not a date" in result.output
    (tmp_path / "cols.csv").write_text("a,b\n1,2\n")
    result = CliRunner().invoke(app, ["calibrate", "raids", str(tmp_path / "cols.csv")])
    assert result.exit_code == 2 and "missing column `time_start`" in result.output


def test_shipped_generator_loads_with_provenance() -> None:
    model = load_generator_file(DATA_DIR / "raids-2022-2024.yaml")
    assert model.provenance["source_file"] == "missile_attacks_daily_2022-2024.csv"
    assert {"shahed-136", "kh-101", "kalibr", "iskander-m", "kinzhal"} <= {t for f in model.families for t in f.mix}
    assert all(f.size.ks_distance is not None for f in model.families)


@pytest.mark.skipif(not REAL.exists(), reason="../shared/data/attacks is not here (a fresh clone has no ../shared)")
def test_shipped_generator_is_the_fit_of_the_real_file() -> None:
    doc = calibrate_raids(REAL, method="stationary")
    shipped = yaml.safe_load((DATA_DIR / "raids-2022-2024.yaml").read_text())
    assert doc["families"] == shipped["families"] and doc["raid_probability"] == shipped["raid_probability"]
    assert doc["provenance"]["unmapped_models"] == shipped["provenance"]["unmapped_models"]
    assert doc["fit"]["raid_size_ks_distance"] < 0.15


def _close(a: object, b: object, path: str = "") -> None:
    """Equal structures, numbers within 1e-4 relative (maximum likelihood fits may differ in the
    last digits between BLAS builds; mixture weights are on a 0.1 grid and must agree exactly)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not path.endswith("weight"):
        assert b == pytest.approx(a, rel=1e-4, abs=1e-5), path
    else:
        assert a == b, path


@pytest.mark.skipif(not REAL.exists(), reason="../shared/data/attacks is not here (a fresh clone has no ../shared)")
def test_shipped_trend_generator_is_the_fit_of_the_real_file() -> None:
    doc = calibrate_raids(REAL)  # the default method: trend (the stacked mixture), half-life 12 months
    shipped = yaml.safe_load((DATA_DIR / "raids-2022-2024-trend.yaml").read_text())
    _close(doc["families"], shipped["families"], "families")
    _close(doc["fit"]["selection"], shipped["fit"]["selection"], "selection")
    assert doc["origin"] == shipped["origin"] == "2024-12-31"
    drones = {f["id"]: f for f in doc["families"]}["drones"]
    assert drones["trend"]["log_mean"][1] > 0.0  # the drone raids grew through 2024
    assert {c["model"] for c in drones["mixture"]} >= {"regression"}


def test_cli_trend_method_writes_a_trend_generator(tmp_path: Path) -> None:
    out = tmp_path / "gen.yaml"
    result = CliRunner().invoke(app, ["calibrate", "raids", str(write_csv(tmp_path / "a.csv")), "--out", str(out),
                                      "--half-life", "6"])
    assert result.exit_code == 0, result.output
    model = load_generator_file(out)
    assert model.method == "trend" and str(model.origin) == "2024-01-09" and model.fit["half_life_months"] == 6
    assert all(f.trend is not None and f.mixture for f in model.families)
    result = CliRunner().invoke(app, ["calibrate", "raids", str(tmp_path / "a.csv"), "--method", "linear"])
    assert result.exit_code == 2 and "method" in result.output
