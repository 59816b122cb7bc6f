"""Sweeps: a point's results are `shieldwall run` of its variant on the same seed; the points
table is byte-identical whatever the workers, backend or task split; a sweep killed with SIGKILL
and resumed loses and duplicates nothing; Sobol' indices rank a factor that cannot matter last;
mistakes in sweep files are located."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from shieldwall.cli.main import app
from shieldwall.engine.runner import run
from shieldwall.errors import ScenarioError, UsageError
from shieldwall.scenario.load import load_scenario
from shieldwall.sweep import load_sweep, run_sweep
from shieldwall.sweep.backends import DaskBackend, ProcessBackend
from shieldwall.sweep.store import SweepStore

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "examples" / "small.yaml"

GRID = f"""\
base: {SMALL}
replications: 300
seed: 5
design: {{kind: grid}}
factors:
  - {{path: "batteries[iris-1].interceptors.iris-t", values: [4, 24]}}
  - {{path: "catalog.interceptors.iris-t.pk.drone", range: [0.5, 0.9], levels: 2}}
outputs: [leaked_mean, value_lost_mean, fired/iris-t_mean]
"""


def write(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def grid_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    tmp = tmp_path_factory.mktemp("grid")
    loaded = load_sweep(write(tmp, GRID))
    return tmp / "out", run_sweep(loaded, tmp / "out")


def test_a_point_is_shieldwall_run_of_its_variant_on_the_same_seed(grid_run) -> None:
    out, result = grid_run
    assert result["n_points"] == 4 and len(result["points"]) == 4
    rows = SweepStore(out).replications()
    base = load_scenario(SMALL)
    for point in result["points"]:
        f = point["factors"]
        variant = base.with_({"batteries[iris-1].interceptors.iris-t": f["batteries[iris-1].interceptors.iris-t"],
                              "catalog.interceptors.iris-t.pk.drone": f["catalog.interceptors.iris-t.pk.drone"]})
        alone = run(variant, replications=300, seed=5)
        mine = rows["point"] == point["point"]
        assert np.array_equal(rows["leaked"][mine], alone.leaked.sum(axis=1))
        assert np.array_equal(rows["value_lost"][mine], alone.value_lost.sum(axis=1))
        summary = alone.summary()["totals"]
        assert point["outputs"]["leaked_mean"]["mean"] == pytest.approx(summary["leaked_mean"], rel=1e-12)
        assert point["outputs"]["leaked_mean"]["ci95"] == pytest.approx(summary["leaked_ci95"], rel=1e-12)
    # more interceptors and a better pk cannot leak more on common random numbers
    by = {(p["factors"]["batteries[iris-1].interceptors.iris-t"], p["factors"]["catalog.interceptors.iris-t.pk.drone"]):
          p["outputs"]["leaked_mean"]["mean"] for p in result["points"]}
    assert by[(24, 0.9)] < by[(4, 0.5)]
    assert result["best"]["leaked_mean"][0]["factors"]["batteries[iris-1].interceptors.iris-t"] == 24


def test_points_table_is_byte_identical_for_workers_backends_and_task_splits(grid_run, tmp_path: Path) -> None:
    out, _ = grid_run
    reference = (out / "points.parquet").read_bytes()
    loaded = load_sweep(write(tmp_path, GRID))
    run_sweep(loaded, tmp_path / "two", backend=ProcessBackend(2))
    assert (tmp_path / "two" / "points.parquet").read_bytes() == reference
    split = load_sweep(write(tmp_path, GRID + "task_replications: 128\n", "split.yaml"))
    result = run_sweep(split, tmp_path / "split", workers=1)
    assert result["_run"]["tasks_run"] == 4 * 3  # 300 replications = 3 seed chunks, one task each
    assert (tmp_path / "split" / "points.parquet").read_bytes() == reference
    from distributed import LocalCluster

    # an existing cluster, reached by its address as `--scheduler tcp://HOST:PORT` would
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dask = DaskBackend(cluster.scheduler_address, 2)
        try:
            assert dask.workers == 2
            run_sweep(loaded, tmp_path / "dask", backend=dask)
        finally:
            dask.close()
    assert (tmp_path / "dask" / "points.parquet").read_bytes() == reference


def test_duckdb_views_over_the_folder(grid_run) -> None:
    out, _ = grid_run
    con = SweepStore(out).connect()
    assert con.execute("SELECT count(*), count(DISTINCT (point, replication)) FROM replications").fetchone() == (1200, 1200)
    means = con.execute("SELECT point, avg(leaked) FROM replications GROUP BY point ORDER BY point").fetchall()
    table = con.execute("SELECT point, leaked_mean FROM points ORDER BY point").fetchall()
    assert [m for _, m in means] == pytest.approx([m for _, m in table], rel=1e-12)


def test_sigkill_at_random_moments_then_resume_loses_and_duplicates_nothing(grid_run, tmp_path: Path) -> None:
    out, _ = grid_run
    # 8 points x 1,200 replications in tasks of 32: 304 shards (at 300 replications in tasks of 128
    # an idle machine once finished the whole sweep before the first kill)
    sweep = write(tmp_path, GRID.replace("values: [4, 24]", "values: [4, 8, 16, 24]").replace(
        "replications: 300", "replications: 1200") + "task_replications: 32\n")
    folder = tmp_path / "killed"
    cmd = [sys.executable, "-m", "shieldwall", "sweep", str(sweep), "--out", str(folder), "--no-report", "--workers", "2"]
    rng = random.Random(21)
    shards = lambda: len(list((folder / "shards").glob("p*.parquet"))) if (folder / "shards").exists() else 0  # noqa: E731
    kills, at_kill = 0, []
    for attempt in range(3):
        before = shards()
        proc = subprocess.Popen(cmd + (["--resume"] if attempt else []), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        if attempt:  # once this run has written a shard, at a random moment
            while proc.poll() is None and shards() <= before:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.1))
        else:  # from the start: imports, checks, first tasks
            time.sleep(rng.uniform(0.5, 2.0))
        if proc.poll() is not None:
            break
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its workers, at once
        proc.wait()
        kills += 1
        at_kill.append(shards())
    final = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr
    total = len(list((folder / "shards").glob("p*.parquet")))
    assert kills >= 2 and any(0 < n < total for n in at_kill), (at_kill, total)  # one kill landed mid-run
    clean = tmp_path / "clean"
    run_sweep(load_sweep(sweep), clean)
    assert (folder / "points.parquet").read_bytes() == (clean / "points.parquet").read_bytes()
    shards = sorted(p.name for p in (folder / "shards").iterdir())
    assert shards == sorted(p.name for p in (clean / "shards").iterdir())  # no leftovers, each task once
    con = SweepStore(folder).connect()
    assert con.execute("SELECT count(*), count(DISTINCT (point, replication)) FROM replications").fetchone() == (
        8 * 1200, 8 * 1200)


SOBOL_SCENARIO = SMALL.read_text(encoding="utf-8").replace(
    "  - {id: substation,", "  - {id: hospital, lat: 48.95, lon: 31.95, value: 50, kind: medical}\n  - {id: substation,")


def test_sobol_ranks_a_factor_that_cannot_matter_last_with_an_interval_holding_zero(tmp_path: Path) -> None:
    write(tmp_path, SOBOL_SCENARIO, "base.yaml")
    sweep = write(tmp_path, """\
base: base.yaml
replications: 64
seed: 3
design: {kind: sobol, n: 16}
factors:
  - {path: "catalog.interceptors.iris-t.pk.drone", range: [0.3, 0.95]}
  - {path: "batteries[iris-1].interceptors.iris-t", range: [2, 24]}
  - {path: "assets[hospital].value", range: [1, 100]}
outputs: [value_lost_mean]
""")
    result = run_sweep(load_sweep(sweep), tmp_path / "out")
    assert result["n_points"] == 16 * (3 + 2)
    ranking = result["ranking"]["value_lost_mean"]
    assert ranking[-1]["factor"] == "assets[hospital].value"
    null = result["sensitivity"]["value_lost_mean"]["assets[hospital].value"]
    assert null["ST"] - null["ST_conf"] <= 0.0 <= null["ST"] + null["ST_conf"]
    assert null["S1"] - null["S1_conf"] <= 0.0 <= null["S1"] + null["S1_conf"]
    assert ranking[0]["ST"] > 0.1


def test_lhs_and_random_designs_give_first_order_indices(tmp_path: Path) -> None:
    sweep = write(tmp_path, f"""\
base: {SMALL}
replications: 32
seed: 2
design: {{kind: lhs, n: 24}}
factors:
  - {{path: "catalog.interceptors.iris-t.pk.drone", distribution: {{kind: triangular, low: 0.4, mode: 0.8, high: 0.95}}}}
  - {{path: "doctrine.policy", values: [greedy, local-search]}}
outputs: [leaked_mean]
""")
    result = run_sweep(load_sweep(sweep), tmp_path / "out")
    values = [p["factors"]["catalog.interceptors.iris-t.pk.drone"] for p in result["points"]]
    assert all(0.4 <= v <= 0.95 for v in values)
    assert {p["factors"]["doctrine.policy"] for p in result["points"]} == {"greedy", "local-search"}
    index = result["sensitivity"]["leaked_mean"]["catalog.interceptors.iris-t.pk.drone"]
    assert index["S1"] is not None and index["ST"] is None


def test_campaign_sweep_point_equals_run_campaign_of_the_variant(tmp_path: Path) -> None:
    from shieldwall.campaign.load import load_campaign
    from shieldwall.campaign.run import run_campaign

    campaign = ROOT / "examples" / "campaign-winter.yaml"
    short = tmp_path / "short.yaml"
    short.write_text(campaign.read_text(encoding="utf-8").replace("nights: 121", "nights: 3")
                     .replace("scenario: city-defence.yaml", f"scenario: {ROOT / 'examples' / 'city-defence.yaml'}"),
                     encoding="utf-8")
    sweep = write(tmp_path, """\
base: short.yaml
replications: 12
seed: 4
factors:
  - {path: "theatre.batteries[patriot-1].interceptors.pac3-mse", values: [0, 48]}
outputs: [leaked_mean, fired/pac3-mse_mean]
""")
    result = run_sweep(load_sweep(sweep), tmp_path / "out", workers=2)
    rows = SweepStore(tmp_path / "out").replications()
    loaded = load_campaign(short)
    for point in result["points"]:
        value = point["factors"]["theatre.batteries[patriot-1].interceptors.pac3-mse"]
        alone = run_campaign(loaded.with_({"theatre.batteries[patriot-1].interceptors.pac3-mse": value}),
                             replications=12, seed=4)
        mine = rows["point"] == point["point"]
        assert np.array_equal(rows["leaked"][mine], alone.totals_by_replication()["leaked"])


def test_sweep_file_mistakes_are_located(tmp_path: Path) -> None:
    bad = write(tmp_path, GRID.replace("batteries[iris-1].interceptors.iris-t", "batteries[iris-9].interceptors.iris-t")
                .replace("fired/iris-t_mean", "fired/iris_t_mean").replace("levels: 2", "levels: 2, color: red"))
    with pytest.raises(ScenarioError) as info:
        load_sweep(bad)
    text = str(info.value)
    assert "sweep.yaml:7:" in text and "unknown key `color`" in text
    fixed = bad.read_text().replace(", color: red", "")
    bad.write_text(fixed)
    with pytest.raises(ScenarioError) as info:
        load_sweep(bad)
    text = str(info.value)
    assert "sweep.yaml:6:" in text and "no item with id `iris-9`" in text and "did you mean `iris-1`?" in text
    assert "sweep.yaml:8:" in text and "unknown interceptor `iris_t`" in text and "did you mean `iris-t`?" in text
    out_of_range = write(tmp_path, GRID.replace("range: [0.5, 0.9]", "range: [0.5, 1.2]"), "range.yaml")
    with pytest.raises(ScenarioError) as info:
        load_sweep(out_of_range)
    (problem,) = info.value.problems
    assert problem.line == 7 and "catalog.interceptors.iris-t.pk.drone: out of range" in problem.message
    sobol = write(tmp_path, GRID.replace("{kind: grid}", "{kind: sobol, n: 10}"), "sobol.yaml")
    with pytest.raises(ScenarioError, match="not a power of 2"):
        load_sweep(sobol)


def test_resume_refuses_another_sweep_and_a_rerun_refuses_a_full_folder(grid_run, tmp_path: Path) -> None:
    out, _ = grid_run
    other = load_sweep(write(tmp_path, GRID.replace("seed: 5", "seed: 6")))
    with pytest.raises(UsageError, match="holds another sweep"):
        run_sweep(other, out, resume=True)
    with pytest.raises(UsageError, match="already holds a sweep"):
        run_sweep(load_sweep(write(tmp_path, GRID, "same.yaml")), out)
    again = run_sweep(load_sweep(write(tmp_path, GRID, "same.yaml")), out, resume=True)
    assert again["_run"]["tasks_run"] == 0


def test_cli_sweep_writes_json_and_report(tmp_path: Path) -> None:
    sweep = write(tmp_path, GRID.replace("replications: 300", "replications: 40"))
    result = CliRunner().invoke(app, ["sweep", str(sweep), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert set(data["points"][0]["outputs"]) == {"leaked_mean", "value_lost_mean", "fired/iris-t_mean"}
    html = (tmp_path / "out" / "report.html").read_text()
    assert 'data-plot="tornado-leaked_mean"' in html and 'data-plot="response-value_lost_mean"' in html
    assert "batteries[iris-1].interceptors.iris-t" in result.output
    local = CliRunner().invoke(app, ["sweep", str(sweep), "--out", str(tmp_path / "dask"), "--scheduler", "local",
                                     "--workers", "2", "--no-report"])
    assert local.exit_code == 0 and "Dask LocalCluster, 2 worker threads" in local.output
    assert (tmp_path / "dask" / "points.parquet").read_bytes() == (tmp_path / "out" / "points.parquet").read_bytes()
    bad = CliRunner().invoke(app, ["sweep", str(tmp_path / "missing.yaml")])
    assert bad.exit_code == 2 and "does not exist" in bad.output


def test_web_app_lists_sweeps_and_opens_their_reports(grid_run, tmp_path: Path) -> None:
    import shutil

    from conftest import own_client
    from shieldwall.web.app import create_app

    out, _ = grid_run
    runs = tmp_path / "runs"
    shutil.copytree(out, runs / "sweep" / "pk-and-stock")
    client = own_client(create_app(runs))
    assert client.get("/api/sweeps").json()[0]["sweep"] == "pk-and-stock"
    page = client.get("/").text
    assert 'href="/sweeps/pk-and-stock/report"' in page
    report = client.get("/sweeps/pk-and-stock/report")
    assert report.status_code == 200 and 'data-plot="tornado-leaked_mean"' in report.text
    assert client.get("/sweeps/other/report").status_code == 404
    assert client.get("/sweeps/..%2F..%2Fetc/report").status_code == 404


def test_example_sweep_files_load() -> None:
    loaded = load_sweep(ROOT / "examples" / "sweeps" / "city-defence-sobol.yaml")
    assert len(loaded.spec.factors) == 8 and loaded.spec.design.kind == "sobol"
    from shieldwall.sweep.allocate import load_allocation

    allocation = load_allocation(ROOT / "examples" / "sweeps" / "allocation-pac3.yaml")
    assert allocation.total == 1000 and allocation.spec.interceptor == "pac3-mse"
    assert allocation.arms == ["east", "central", "west"] and allocation.recipients == [
        "patriot-east", "patriot-central", "patriot-west"]  # one Patriot battery per city
    sites = load_allocation(ROOT / "examples" / "sweeps" / "allocation-sites.yaml")
    assert sites.kind == "batteries" and sites.total == 2 and len(sites.arms) == 6


def test_validate_checks_sweep_and_allocation_files(tmp_path: Path) -> None:
    ok = CliRunner().invoke(app, ["validate", str(ROOT / "examples" / "sweeps" / "city-defence-sobol.yaml")])
    assert ok.exit_code == 0 and "valid sweep" in ok.output and "640 points" in ok.output
    ok = CliRunner().invoke(app, ["validate", str(ROOT / "examples" / "sweeps" / "allocation-pac3.yaml")])
    assert ok.exit_code == 0 and "valid allocation" in ok.output
    bad = write(tmp_path, GRID.replace("leaked_mean,", "leakd_mean,"))
    result = CliRunner().invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2 and "sweep.yaml:8:" in result.output and "did you mean `leaked_mean`?" in result.output
