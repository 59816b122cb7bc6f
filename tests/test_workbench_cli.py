"""Issue 20 on the command line: silent traps warned about, run folders that tell the truth,
help that reads like a command line, one set of defaults, compare's rules and headline numbers
that add up."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from conftest import EXAMPLES, ROOT, scenario_dict
from shieldwall.cli.main import app
from shieldwall.report.tables import raid_tables, usd


def _write(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _swapped() -> dict:
    """The two-shot scenario with a second battery whose latitude and longitude are swapped."""
    data = scenario_dict()
    data["batteries"].append({"id": "sam-far", "system": "test-sam", "lat": 30.52, "lon": 50.45,
                              "interceptors": {"test-missile": 8}})
    return data


# --- silent traps --------------------------------------------------------------------------------


def test_validate_warns_about_a_battery_with_lat_and_lon_swapped(tmp_path: Path) -> None:
    path = _write(tmp_path, "swapped.yaml", _swapped())
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output  # valid: a warning never stops anything
    assert "ok:" in result.output
    warning = next(line for line in result.output.splitlines() if line.startswith("warning:"))
    assert "sam-far" in warning and "swapped" in warning and "never fire" in warning
    assert "batteries[1]" in warning  # located
    assert "sam-1" not in result.output.split("warning:", 1)[1]  # the battery in place is not flagged


def test_validate_warns_about_an_asset_beyond_every_batterys_reach(tmp_path: Path) -> None:
    """The same slip on an asset: the substation with latitude and longitude swapped stood 2,259 km
    from every battery and validated "ok", silently undefended."""
    data = yaml.safe_load((EXAMPLES / "small.yaml").read_text())
    sub = next(a for a in data["assets"] if a["id"] == "substation")
    sub["lat"], sub["lon"] = sub["lon"], sub["lat"]
    result = CliRunner().invoke(app, ["validate", str(_write(tmp_path, "asset.yaml", data))])
    assert result.exit_code == 0 and "ok:" in result.output, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "assets[2]" in warnings[0] and "`substation`" in warnings[0], warnings
    assert "beyond every battery's reach" in warnings[0] and "swapped" in result.output
    far = yaml.safe_load((EXAMPLES / "small.yaml").read_text())  # far, but not by a swap
    far["assets"][2].update(lat=60.0, lon=20.0)
    result = CliRunner().invoke(app, ["validate", str(_write(tmp_path, "far.yaml", far))])
    assert "`substation`" in result.output and "check its lat and lon" in result.output
    bare = yaml.safe_load((EXAMPLES / "small.yaml").read_text())  # no batteries at all: deliberate
    bare["batteries"] = []
    result = CliRunner().invoke(app, ["validate", str(_write(tmp_path, "bare.yaml", bare))])
    assert result.exit_code == 0 and "warning:" not in result.output, result.output


def test_a_gun_stock_below_one_burst_is_a_warning_and_not_never_runs_out(tmp_path: Path) -> None:
    data = yaml.safe_load((EXAMPLES / "small.yaml").read_text())
    data["batteries"].append({"id": "skynex-x", "system": "skynex", "lat": 49.0, "lon": 32.13,
                              "interceptors": {"ahead-35mm": 16}})  # bursts of 24: it can never fire
    path = _write(tmp_path, "gun.yaml", data)
    checked = CliRunner().invoke(app, ["validate", str(path)])
    assert checked.exit_code == 0 and "16 rounds of `ahead-35mm` are fewer than one shot" in checked.output
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", str(path), "-n", "30", "--seed", "1", "--out", str(out), "--no-report"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert any("fewer than one shot" in w for w in summary["warnings"])
    # it never fires because it cannot, not because other batteries engaged first
    assert "battery skynex-x never fired in 30 replications: it has fewer rounds than one shot" in summary["warnings"]
    row = summary["batteries"]["skynex-x"]["interceptors"]["ahead-35mm"]
    batteries = next(t for t in raid_tables(summary) if t.key == "batteries")
    shown = next(r for r in batteries.rows if r[0] == "skynex-x")
    assert shown[5] == "at the start" and row["empty_at_start_fraction"] == 1.0  # not "never"


def test_run_warns_about_a_battery_that_never_fires_and_a_magazine_that_empties(tmp_path: Path) -> None:
    data = _swapped()
    data["batteries"][0]["interceptors"] = {"test-missile": 2}  # one salvo, then dry
    data["raids"][0]["count"] = 6
    data["raids"][0]["window_s"] = 600
    path = _write(tmp_path, "dry.yaml", data)
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", str(path), "-n", "20", "--seed", "1", "--out", str(out), "--no-report"])
    assert result.exit_code == 0, result.output
    warnings = json.loads((out / "summary.json").read_text())["warnings"]
    assert any(w.startswith("battery sam-far never fired in 20 replications") for w in warnings), warnings
    assert any(w.startswith("battery sam-1 runs out of test-missile during the night in 100%") for w in warnings)
    assert "warning: battery sam-far never fired" in result.output


# --- run folders ---------------------------------------------------------------------------------


def test_run_without_out_writes_a_new_folder_inside_out_each_time(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, "two.yaml", scenario_dict())
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        result = CliRunner().invoke(app, ["run", str(path), "-n", "5", "--no-report"])
        assert result.exit_code == 0, result.output
    folders = sorted(p for p in (tmp_path / "out").iterdir())
    assert len(folders) == 2 and all(p.name.startswith("two-shot-check-") for p in folders)
    assert all((p / "summary.json").is_file() for p in folders)
    assert not (tmp_path / "out" / "summary.json").exists()  # never into out/ itself


def test_rerun_with_no_report_removes_the_old_report(tmp_path: Path) -> None:
    path = _write(tmp_path, "two.yaml", scenario_dict())
    out = tmp_path / "run"
    assert CliRunner().invoke(app, ["run", str(path), "-n", "5", "--out", str(out)]).exit_code == 0
    assert (out / "report.html").is_file()
    assert CliRunner().invoke(app, ["run", str(path), "-n", "6", "--out", str(out), "--no-report"]).exit_code == 0
    assert json.loads((out / "summary.json").read_text())["replications"] == 6
    assert not (out / "report.html").exists()  # the old report would show the old numbers


def test_ctrl_c_during_a_run_says_so_and_leaves_no_half_written_folder(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import shieldwall.engine.runner as runner

    def interrupted(*args: object, **kwargs: object) -> None:
        out_dir = Path(kwargs["out_dir"])  # type: ignore[arg-type]
        (out_dir / "summary.json").write_text("{half")  # something half-written when Ctrl-C comes
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run", interrupted)
    path = _write(tmp_path, "two.yaml", scenario_dict())
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", str(path), "-n", "5", "--out", str(out)])
    assert result.exit_code == 130
    assert "interrupted: nothing was written" in result.output
    assert not out.exists() or not any(out.iterdir())
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging folder left
    monkeypatch.chdir(tmp_path)  # a folder made for the run is removed again
    result = CliRunner().invoke(app, ["run", str(path), "-n", "5"])
    assert result.exit_code == 130 and "removed" in result.output
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


# --- help, version, defaults ----------------------------------------------------------------------


def test_help_names_arguments_and_flags_as_a_command_line() -> None:
    for command in ("run", "validate", "compare", "campaign", "report", "serve", "schema"):
        text = CliRunner().invoke(app, [command, "--help"]).output
        assert not re.search(r"<bool>|\{[a-zA-Z_]+\}|<path>|<integer>", text), (command, text)
    run_help = CliRunner().invoke(app, ["run", "--help"]).output
    assert "shieldwall run [OPTIONS] SCENARIO" in run_help and "--no-report" in run_help
    assert re.search(r"--replications\s+N\b", run_help.replace("-n, ", ""))
    assert "--no-report " not in re.sub(r"--no-report\s+Skip", "", run_help)  # a flag shows no value
    assert "shieldwall validate [OPTIONS] FILE" in CliRunner().invoke(app, ["validate", "--help"]).output
    assert "campaign" in CliRunner().invoke(app, ["validate", "--help"]).output
    compare_help = " ".join(CliRunner().invoke(app, ["compare", "--help"]).output.split())
    assert "--workers" in compare_help and "1,000 for a raid scenario, 200 for a campaign" in compare_help


def test_version() -> None:
    from importlib.metadata import version

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"shieldwall {version('shieldwall')}"


def test_money_puts_the_sign_before_the_dollar() -> None:
    assert usd(-149_000) == "-$149k" and usd(149_000) == "$149k" and usd(-2.5e6) == "-$2.5M" and usd(-40) == "-$40"


def test_campaign_schema_is_committed_and_printed(tmp_path: Path) -> None:
    from shieldwall.cli.validate_cmd import schema_text

    committed = ROOT / "src" / "shieldwall" / "schema" / "campaign.schema.json"
    assert committed.read_text(encoding="utf-8") == schema_text("campaign"), (
        "regenerate with: shieldwall schema campaign -o src/shieldwall/schema/campaign.schema.json")
    printed = json.loads(CliRunner().invoke(app, ["schema", "campaign"]).stdout)
    assert {"nights", "theatre", "deliveries"} <= set(printed["properties"])
    assert "nights" not in json.loads(CliRunner().invoke(app, ["schema"]).stdout)["properties"]
    wrong = CliRunner().invoke(app, ["schema", "sweep-of-nothing"])
    assert wrong.exit_code != 0 and "scenario, campaign, theatre" in wrong.output


# --- console tables and headline numbers ----------------------------------------------------------


def test_console_tables_are_not_wrapped_at_80_columns_in_a_pipe(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", str(EXAMPLES / "small.yaml"), "-n", "30", "--out", str(out),
                                      "--no-report"])
    assert result.exit_code == 0
    row = next(line for line in result.output.splitlines() if "shahed-136" in line and "drone" in line)
    assert re.search(r"\d+\.\d+ \[\d+\.\d+, \d+\.\d+\]", row), row  # an interval on one line
    assert max(len(line) for line in result.output.splitlines()) > 80


def test_threat_table_adds_up_and_splits_armed_from_decoy_leakers(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", str(EXAMPLES / "small.yaml"), "-n", "200", "--seed", "4", "--out",
                                      str(out), "--no-report"])
    assert result.exit_code == 0
    summary = json.loads((out / "summary.json").read_text())
    tot = summary["totals"]
    assert tot["decoys_leaked_mean"] > 0  # small.yaml flies decoys, and some get through
    assert tot["leaked_armed_mean"] + tot["decoys_leaked_mean"] == pytest.approx(tot["leaked_mean"])
    ends = tot["intercepted_mean"] + tot["expired_mean"] + tot["leaked_mean"]
    assert ends == pytest.approx(tot["launched"], abs=1e-9)  # every threat ends one way
    table = next(t for t in raid_tables(summary) if t.key == "threats")
    assert table.head[2:6] == ["launched", "intercepted", "failed in flight", "leaked"]
    total = table.total[0]
    leaked = float(total[5].split()[0])
    assert float(total[3]) + float(total[4]) + leaked == pytest.approx(float(total[2]), abs=0.02)
    armed = table.total[1]
    assert armed[0] == "armed" and float(armed[5].split()[0]) == pytest.approx(tot["leaked_armed_mean"], abs=0.005)
    assert "failed in flight" in result.output and "decoys" in result.output


# --- compare ---------------------------------------------------------------------------------------


def test_compare_refuses_two_different_scenarios_and_a_raid_against_a_campaign() -> None:
    result = CliRunner().invoke(app, ["compare", str(EXAMPLES / "small.yaml"), str(EXAMPLES / "city-defence.yaml"),
                                      "-n", "4"])
    assert result.exit_code == 2
    assert "not two options of one scenario" in result.output and "other assets" in result.output
    mixed = CliRunner().invoke(app, ["compare", str(EXAMPLES / "small.yaml"),
                                     str(EXAMPLES / "campaign-winter.yaml"), "-n", "4"])
    assert mixed.exit_code == 2 and "two campaigns or two raid scenarios" in mixed.output


def test_compare_with_workers_gives_the_same_numbers_and_says_better_or_worse(tmp_path: Path) -> None:
    data = yaml.safe_load((EXAMPLES / "small.yaml").read_text())
    a = _write(tmp_path, "a.yaml", data)
    data["batteries"][0]["interceptors"] = {"iris-t": 2}  # B: far fewer missiles
    b = _write(tmp_path, "b.yaml", data)
    results = []
    for workers in ("1", "2"):
        out = tmp_path / f"cmp{workers}.json"
        result = CliRunner().invoke(app, ["compare", str(a), str(b), "-n", "60", "--seed", "3", "--workers", workers,
                                          "--out", str(out)])
        assert result.exit_code == 0, result.output
        results.append(json.loads(out.read_text()))
    assert results[0]["metrics"] == results[1]["metrics"]
    metrics = results[0]["metrics"]
    assert metrics["interceptor_cost_usd"]["difference_mean"] < 0 and metrics["intercepted"]["difference_mean"] < 0
    assert metrics["intercepted"]["higher_is_better"] is True and metrics["interceptor_cost_usd"]["higher_is_better"] is False
    cells = [[c.strip() for c in row.split("\u2502")[1:-1]] for row in result.output.splitlines() if "\u2502" in row]
    verdicts = {c[0]: c[-1] for c in cells}
    assert verdicts["intercepted"] == "worse"  # fewer intercepted: worse, though lower
    assert verdicts["interceptors spent"] == "better"  # cheaper: better, though lower
