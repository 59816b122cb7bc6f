"""The HTML report: self-contained, with tables, plots, replay data and campaign plots."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from conftest import EXAMPLES, scenario_dict
from shieldwall.cli.main import app
from shieldwall.engine.runner import run
from shieldwall.report.html import render_report, write_report
from shieldwall.report.rundir import load_run
from shieldwall.scenario.load import load_scenario

CAMPAIGN = {  # the shape shieldwall.campaign writes (stock at the end of each night; start in interceptors)
    "campaign": "winter", "start_date": "2025-01-01", "end_date": "2025-01-04", "nights": 4,
    "replications": 100, "seed": 1,
    "stock_by_night": {"iris-t": [{"p5": 10, "median": 14, "p95": 18}, {"p5": 0, "median": 4, "p95": 9},
                                  {"p5": 0, "median": 0, "p95": 2}, {"p5": 0, "median": 0, "p95": 0}],
                       "gepard-35mm": [{"p5": 560, "median": 590, "p95": 610}, {"p5": 500, "median": 540, "p95": 580},
                                       {"p5": 440, "median": 490, "p95": 550}, {"p5": 400, "median": 450, "p95": 520}],
                       "amraam": [{"p5": 6, "median": 10, "p95": 12}] * 4},
    "depletion_night": {"iris-t": {"p5": 2, "median": 3, "p95": 4, "fraction_depleted": 1.0},
                        "amraam": {"p5": 3, "median": None, "p95": None, "fraction_depleted": 0.2},
                        "gepard-35mm": None},
    "interceptors": {"iris-t": {"start": {"p5": 24, "median": 24, "p95": 24}}},
    "per_night": {"leaked_band": [{"p5": 0, "median": 2, "p95": 6}, {"p5": 1, "median": 3, "p95": 7},
                                  {"p5": 0, "median": 4, "p95": 9}, {"p5": 2, "median": 5, "p95": 12}],
                  "value_lost_band": [{"p5": 0, "median": 1.5, "p95": 4}] * 4},
    "totals": {"leaked": {"mean": 12.5, "ci95": [11, 14], "p5": 6, "median": 12, "p95": 20},
               "interceptor_cost_usd": {"mean": 4.2e8, "ci95": [4e8, 4.4e8], "p5": 3e8, "median": 4.2e8, "p95": 5e8}},
}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small-run")
    run(load_scenario(EXAMPLES / "small.yaml"), replications=40, seed=5, out_dir=out)
    return out


def _external_references(html: str) -> list[str]:
    """Anything the markup or styles would fetch: src/href attributes and CSS url() that are not
    data: or #. (Inline scripts are left out here; the browser tests watch what they request.)"""
    html = re.sub(r"<script>.*?</script>", "", html, flags=re.S)
    refs = re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]+)""", html) + re.findall(r"url\(([^)]*)\)", html)
    return [r for r in refs if not r.startswith(("data:", "#"))]


def _charts(html: str) -> dict:
    """The chart configurations the page draws (report/charts.py), by name."""
    match = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html)
    return json.loads(match.group(1)) if match else {}


def test_report_is_self_contained_with_tables_charts_and_replay(small_run: Path) -> None:
    path = write_report(small_run)
    assert path == small_run / "report.html"
    html = path.read_text(encoding="utf-8")
    assert _external_references(html) == []
    assert "<script src" not in html
    charts = _charts(html)
    for name in ("leakers", "asset-hits", "value-lost", "interceptors", "replication-timeline", "resources"):
        assert f'data-chart="{name}"' in html and charts.get(name), name
    summary = json.loads((small_run / "summary.json").read_text())
    for tid in summary["threats_by_type"]:
        assert f"<td>{tid}</td>" in html
    # the charts show the summary's numbers: leakers per type with their intervals
    leakers = charts["leakers"]["data"]["datasets"]
    assert leakers[0]["data"] == [round(r["leaked_mean"], 3) for r in summary["threats_by_type"].values()]
    assert leakers[1]["data"] == [[round(r["leaked_ci95"][0], 3), round(r["leaked_ci95"][1], 3)]
                                  for r in summary["threats_by_type"].values()]
    # a resource timeline per battery, its rounds left falling from the stock
    assert [c["battery"] for c in charts["resources"]] == list(summary["batteries"])
    first = charts["resources"][0]["data"]["datasets"]
    left = next(d for d in first if d["label"].endswith("rounds left (median)"))
    assert left["data"][0]["y"] >= left["data"][-1]["y"]
    data = json.loads(re.search(r'<script type="application/json" id="replay-data">(.*?)</script>', html).group(1))
    events = pd.read_parquet(small_run / "events.parquet")
    assert len(data["kills"]) == (events.event == "kill").sum()
    assert len(data["leaks"]) == (events.event == "leak").sum()
    assert len(data["threats"]) == (events.event == "launch").sum()
    assert [b["id"] for b in data["batteries"]] == ["iris-1", "gepard-1"]
    assert data["batteries"][0]["engage_km"] > 0 and data["batteries"][0]["radar_km"] > 0
    # each track starts at its launch event and, when it ends in a kill, passes through the kill point
    kills = events[events.event == "kill"].set_index("threat")
    for th in data["threats"]:
        if th["i"] in kills.index:
            k = kills.loc[th["i"]]
            lat = [p[0] for p in th["path"]]
            assert min(lat) - 0.01 <= k.lat <= max(lat) + 0.01


def test_json_in_the_page_cannot_close_its_script(small_run: Path) -> None:
    from shieldwall.report.html import json_script

    assert "</script>" not in json_script("x", {"name": "</script><script>alert(1)</script>"})[:-9]


def test_campaign_json_adds_stock_and_depletion_plots(small_run: Path, tmp_path: Path) -> None:
    folder = tmp_path / "with-campaign"
    shutil.copytree(small_run, folder)
    (folder / "campaign.json").write_text(json.dumps(CAMPAIGN))
    html = write_report(folder).read_text()
    charts = _charts(html)
    assert 'id=campaign' in html and len(charts["stock"]) == 3 and charts["depletion"]
    assert "not depleted" in html and "not by the end" in html and "100%" in html and "$420.0M" in html
    # the depletion axis ends with the campaign (4 nights), not far past it
    assert charts["depletion"]["options"]["scales"]["x"]["max"] == 5
    # leakers and value lost night by night, with their bands (issue 20, item 7)
    median = next(d for d in charts["night-leakers"]["data"]["datasets"] if d["label"].endswith("(median)"))
    assert [p["y"] for p in median["data"]] == [2, 3, 4, 5] and charts["night-value-lost"]
    ranges = charts["depletion"]["data"]["datasets"][0]["data"]
    assert ranges == [[2, 4], [3, 4.5], None]  # iris-t; amraam runs past the end; gepard never
    only = tmp_path / "campaign-only"  # a campaign folder without a raid summary still reports
    only.mkdir()
    (only / "campaign.json").write_text(json.dumps(CAMPAIGN))
    html = write_report(only).read_text()
    assert 'data-chart="stock"' in html and "Map replay" not in html and "<h1>winter</h1>" in html


def test_a_run_without_scenario_json_reports_without_map_or_with_scenario_option(small_run: Path,
                                                                                 tmp_path: Path) -> None:
    folder = tmp_path / "old"
    shutil.copytree(small_run, folder)
    (folder / "scenario.json").unlink()
    assert "pass --scenario FILE" in render_report(load_run(folder))
    result = CliRunner().invoke(app, ["report", str(folder), "--scenario", str(EXAMPLES / "small.yaml"),
                                      "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert 'id="replay-data"' in (tmp_path / "r.html").read_text()


def test_report_command_says_what_is_wrong(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "no such run folder" in result.output
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(app, ["report", str(tmp_path / "empty")])
    assert result.exit_code == 2 and "not a run folder" in result.output


def test_run_writes_the_html_report_by_default(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(scenario_dict()), encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(path), "-n", "300", "--seed", "3", "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "a" / "report.html").is_file() and (tmp_path / "a" / "scenario.json").is_file()
    assert load_scenario(tmp_path / "a" / "scenario.json").name == "two-shot check"
    result = CliRunner().invoke(app, ["run", str(path), "-n", "300", "--seed", "3", "--out", str(tmp_path / "b"), "--no-report"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "b" / "report.html").exists()


def test_events_without_a_finite_time_are_left_out(small_run: Path, tmp_path: Path) -> None:
    folder = tmp_path / "inf"
    shutil.copytree(small_run, folder)
    events = pd.read_parquet(folder / "events.parquet")
    extra = events.iloc[[0]].assign(time_s=float("inf"), event="miss")
    pd.concat([events, extra]).to_parquet(folder / "events.parquet", index=False)
    assert len(load_run(folder).events) == int(np.isfinite(events.time_s).sum())
    assert "Infinity" not in render_report(load_run(folder))


def test_without_an_event_log_the_map_shows_the_laydown_only(small_run: Path, tmp_path: Path) -> None:
    folder = tmp_path / "no-events"
    shutil.copytree(small_run, folder)
    (folder / "events.parquet").unlink()
    html = render_report(load_run(folder))
    data = json.loads(re.search(r'id="replay-data">(.*?)</script>', html).group(1))
    assert data["threats"] == [] and len(data["assets"]) == 3 and "replication-timeline" not in _charts(html)


def test_battery_kills_are_split_by_interceptor_when_every_replication_is_logged(tmp_path: Path) -> None:
    """Issue 20 item 4: a battery with two interceptors showed the battery's kills on its first
    interceptor's row (Patriot: 4.4 PAC-3 fired, 11.9 "kills"). Each row now holds that
    interceptor's kills, from the engagement log, adding up to the battery's; with only a sample
    logged, the battery's total stands on its first row, marked "(all)"."""
    from shieldwall.report.tables import batteries_table, number

    doc = yaml.safe_load((EXAMPLES / "small.yaml").read_text(encoding="utf-8"))
    doc["batteries"].append({"id": "patriot-1", "system": "patriot", "lat": 49.0, "lon": 32.02,
                             "interceptors": {"pac3-mse": 8, "pac2-gem-t": 8}})
    doc["raids"][1]["count"] = 12
    scenario = load_scenario_text(doc, tmp_path)
    out = tmp_path / "run"
    run(scenario, replications=40, seed=3, out_dir=out)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    kills = pd.read_parquet(out / "engagements.parquet").query("result == 'kill'")
    rows = batteries_table(summary).rows
    patriot = rows.index(next(r for r in rows if r[0] == "patriot-1"))
    pair = {rows[patriot + k][1]: float(rows[patriot + k][4]) for k in (0, 1)}
    assert set(pair) == {"pac3-mse", "pac2-gem-t"} and min(pair.values()) > 0, pair
    for iid, shown in pair.items():
        logged = (kills.battery.eq("patriot-1") & kills.interceptor.eq(iid)).sum() / 40
        assert shown == pytest.approx(logged, abs=0.05), iid  # as shown: 2 digits, or 1 from 10 up
    assert sum(pair.values()) == pytest.approx(summary["batteries"]["patriot-1"]["kills_mean"], abs=0.1)
    sampled = {**summary, "engagements": {**summary["engagements"], "replications": 10}}
    rows = batteries_table(sampled).rows
    assert rows[patriot][4] == number(summary["batteries"]["patriot-1"]["kills_mean"]) + " (all)"
    assert rows[patriot + 1][4] == ""


def load_scenario_text(doc: dict, folder: Path):  # type: ignore[no-untyped-def]
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return load_scenario(path)


def test_the_headline_cards_put_armed_leakers_first_and_account_for_every_launch(small_run: Path) -> None:
    """Issue 20 item 3, in the report: the first leakers card counts armed threats (decoys do no
    damage) with the decoys beside it, and the launched card adds up: intercepted + failed in
    flight + leaked."""
    summary = json.loads((small_run / "summary.json").read_text(encoding="utf-8"))
    tot = summary["totals"]
    assert tot["decoys_leaked_mean"] > 0, "the test needs decoys that leak"
    html = render_report(load_run(small_run))
    cards = {m[0]: (m[1], m[2]) for m in re.findall(
        r'<div class="sw-card" data-card="([^"]+)"><div class="sw-small">[^<]*</div><div class="sw-big">([^<]*)</div>'
        r'<div class="sw-small">([^<]*)</div>', html)}
    big, small = cards["armed leakers"]
    assert big == f"{tot['leaked_armed_mean']:.2f}" and f"plus {tot['decoys_leaked_mean']:.2f} decoys" in small
    assert "leaked" not in cards  # no headline of all leakers, decoys included
    big, small = cards["threats launched"]
    parts = [float(x) for x in re.match(r"([\d.]+) intercepted, ([\d.]+) failed in flight, ([\d.]+) leaked",
                                        small).groups()]
    assert float(big) == tot["launched"] and sum(parts) == pytest.approx(tot["launched"], abs=0.1)
    assert parts[1] == pytest.approx(tot["expired_mean"], abs=0.05) and parts[1] > 0


def test_hits_by_threat_type_and_the_leak_cause_bars_show_the_summarys_numbers(small_run: Path) -> None:
    """Issue 20 item 4 and "why each threat leaked": hits per asset split by the threat type that
    hit it (summary.json, adding up to the asset's hits; the report's asset bars stacked by type),
    and the report's stacked bar of leak causes: the summary's means, per type and in all."""
    summary = json.loads((small_run / "summary.json").read_text(encoding="utf-8"))
    hit = [a for a in summary["assets"].values() if a["hits_mean"] > 0]
    assert hit, "the test needs hits"
    for row in summary["assets"].values():
        assert sum(row["hits_by_threat_type"].values()) == pytest.approx(row["hits_mean"], abs=1e-9)
        assert set(row["hits_by_threat_type"]) <= set(summary["threats_by_type"])
    charts = _charts(render_report(load_run(small_run)))
    causes = charts["leak-causes"]
    labels = causes["data"]["labels"]
    assert labels[-1] == "all" and causes["options"]["scales"]["x"]["stacked"] is True
    for dataset in causes["data"]["datasets"]:
        cause = next(k for k in summary["totals"]["leak_causes"]
                     if dataset["data"][-1] == round(summary["totals"]["leak_causes"][k], 3)
                     and all(dataset["data"][i] == round(summary["leak_causes"][t].get(k, 0.0), 3)
                             for i, t in enumerate(labels[:-1])))
        assert summary["totals"]["leak_causes"][cause] > 0
    per_bar = [sum(d["data"][i] for d in causes["data"]["datasets"]) for i in range(len(labels))]
    assert per_bar[-1] == pytest.approx(summary["totals"]["leaked_mean"], abs=0.01)
    stacked = {d["label"]: d["data"] for d in charts["asset-hits"]["data"]["datasets"]}
    assets = charts["asset-hits"]["data"]["labels"]
    for tid in {t for row in summary["assets"].values() for t in row["hits_by_threat_type"]}:
        shown = next(v for k, v in stacked.items() if k.split(" ")[0] == tid)
        assert shown == [round(summary["assets"][a]["hits_by_threat_type"].get(tid, 0.0), 3) for a in assets], tid
