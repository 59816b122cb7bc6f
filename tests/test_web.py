"""The web app without a browser: every bad input is a 4xx with a message, runs get their own
folders, nothing outside the runs folder is read or written."""

from __future__ import annotations

import json
import re
import time
import warnings
from pathlib import Path

import pytest
with warnings.catch_warnings():  # starlette's notice about httpx versions, not about this code
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from conftest import EXAMPLES, own_client
from shieldwall.web.app import create_app

SMALL = (EXAMPLES / "small.yaml").read_text(encoding="utf-8")


@pytest.fixture
def client(runs: Path) -> TestClient:
    return own_client(create_app(runs, max_replications=500, examples_dir=EXAMPLES))


def wait_job(client: TestClient, job: dict | str, limit_s: float = 120.0) -> dict:
    """The job's last state, once it is no longer queued or running."""
    job_id = job if isinstance(job, str) else job["id"]
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        state = client.get(f"/api/jobs/{job_id}").json()
        if state["state"] not in ("queued", "running"):
            return state
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still going after {limit_s} s")


def test_pages_list_runs_and_serve_reports(client: TestClient, runs: Path) -> None:
    assert "base" in client.get("/").text
    # leakers with the armed ones beside them: decoys do no damage (issue 20 item 3)
    totals = json.loads((runs / "base" / "summary.json").read_text())["totals"]
    assert client.get("/api/runs").json()[0]["leaked_armed_mean"] == pytest.approx(totals["leaked_armed_mean"])
    row = re.search(r'<tr data-run="base".*?</tr>', client.get("/").text).group(0)
    assert f"<td>{totals['leaked_mean']:.2f} <span class=\"sw-muted\">({totals['leaked_armed_mean']:.2f} armed)" in row
    assert [r["run"] for r in client.get("/api/runs").json()] == ["base"]
    report = client.get("/runs/base/report")
    assert report.status_code == 200 and 'id="replay-data"' in report.text
    assert client.get("/runs/base/files/summary.json").json()["scenario"] == "small"
    assert client.get("/api/runs/base/replay").json()["batteries"][0]["id"] == "iris-1"
    assert "small" in client.get("/api/runs/base/scenario").json()["text"]
    assert "small.yaml" in client.get("/api/examples").json()
    assert client.get("/editor").status_code == 200 and client.get("/runs/base/replay").status_code == 200


@pytest.mark.parametrize("url", ["/runs/..%2F..%2Fetc/report", "/runs/base/files/..%2F..%2Fsecret.txt",
                                 "/runs/base/files/../../secret.txt", "/api/runs/..%2Fsecret.txt",
                                 "/api/examples/..%2F..%2Fpyproject.toml", "/runs/nope/report"])
def test_paths_outside_the_runs_folder_are_refused(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert 400 <= response.status_code < 500
    assert "not for the web" not in response.text
    assert response.json()["detail"]


def test_validation_reports_located_problems_and_malformed_yaml(client: TestClient) -> None:
    bad = SMALL.replace("value: 60", "value: -60")
    answer = client.post("/api/validate", json={"text": bad}).json()
    assert not answer["ok"] and answer["problems"][0]["line"] == SMALL.splitlines().index(
        next(line for line in SMALL.splitlines() if "value: 60" in line)) + 1
    broken = client.post("/api/validate", json={"text": "name: [unclosed\n  - {"}).json()
    assert not broken["ok"] and broken["problems"][0]["message"]
    assert client.post("/api/validate", json={"text": SMALL}).json() == {"ok": True, "problems": [], "name": "small",
                                                                         "kind": "raid", "warnings": []}
    assert client.post("/api/validate", content=b"{not json",
                       headers={"Content-Type": "application/json"}).status_code == 400
    response = client.post("/api/runs", json={"text": "name: x\n", "replications": 10})
    assert response.status_code == 422 and response.json()["problems"]


def test_uploads_over_one_mib_are_refused(client: TestClient) -> None:
    big = "# " + "x" * (1 << 20) + "\n" + SMALL
    response = client.post("/api/upload", files={"file": ("big.yaml", big.encode(), "text/yaml")})
    assert response.status_code == 413 and "too large" in response.json()["detail"]
    assert client.post("/api/validate", json={"text": big}).status_code == 413
    ok = client.post("/api/upload", files={"file": ("small.yaml", SMALL.encode(), "text/yaml")}).json()
    assert ok["ok"] and ok["text"] == SMALL
    assert client.get("/").status_code == 200  # still serving


def test_replications_over_the_cap_and_bad_numbers_are_refused(client: TestClient, tmp_path: Path) -> None:
    for body in ({"text": SMALL, "replications": 501}, {"text": SMALL, "replications": 0},
                 {"text": SMALL, "replications": "many"}, {"text": SMALL, "replications": 10, "seed": -1},
                 {"text": SMALL, "replications": 10, "name": "../escape"}):
        response = client.post("/api/runs", json=body)
        assert response.status_code == 422, body
        assert response.json()["detail"]
    assert "cap of 500" in client.post("/api/runs", json={"text": SMALL, "replications": 501}).json()["detail"]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["base"]


def test_concurrent_runs_get_their_own_folders_and_leave_others_alone(client: TestClient, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    before = {p: p.read_bytes() for p in (runs / "base").rglob("*") if p.is_file() and p.name != "report.html"}
    jobs = [client.post("/api/runs", json={"text": SMALL, "replications": 60, "seed": s, "name": "same"}).json()
            for s in (1, 2, 3)]
    assert len({j["run"] for j in jobs}) == 3
    finished = [wait_job(client, j) for j in jobs]
    assert [f["state"] for f in finished] == ["done"] * 3, finished
    seeds = {json.loads((runs / f["run"] / "summary.json").read_text())["seed"] for f in finished}
    assert seeds == {1, 2, 3}
    for f in finished:
        assert (runs / f["run"] / "report.html").is_file()
        assert client.get(f["report_url"]).status_code == 200
    assert before == {p: p.read_bytes() for p in before}


def test_compare_runs_both_again_on_common_random_numbers_as_the_cli_does(client: TestClient, runs: Path) -> None:
    from shieldwall.campaign.compare import compare_inputs
    from shieldwall.scenario.load import parse_scenario

    fewer = SMALL.replace("iris-t: 24", "iris-t: 2")
    job = client.post("/api/runs", json={"text": fewer, "replications": 20, "name": "fewer"}).json()
    other = wait_job(client, job)["run"]
    started = client.post("/api/compare", json={"a": "base", "b": other, "replications": 30, "seed": 7})
    assert started.status_code == 202, started.text
    done = wait_job(client, started.json())
    assert done["state"] == "done" and done["report_url"] == f"/compare/{done['run']}"
    result = json.loads((runs / done["run"] / "comparison.json").read_text())
    # the CLI's comparison of the same two scenarios, seed and replications: the same numbers
    cli = compare_inputs(parse_scenario(SMALL), parse_scenario(fewer), labels=("base", other), replications=30, seed=7)
    assert result["metrics"] == json.loads(json.dumps(cli["metrics"]))
    assert result["common_random_numbers"] is True
    page = client.get(done["report_url"]).text
    assert "95% interval" in page and "common random numbers" in page
    # coloured by what B - A means: fewer interceptors fired costs less (better, though lower),
    # fewer threats intercepted is worse (though lower too)
    assert re.search(r'data-metric="interceptor_cost_usd" data-verdict="better".*?class="sw-better"', page)
    assert re.search(r'data-metric="intercepted" data-verdict="worse".*?class="sw-worse"', page)
    assert f'/compare/{done["run"]}' in client.get("/").text  # listed with the runs
    assert client.get("/api/runs").json()  # a comparison folder does not break the runs list
    assert client.post("/api/compare", json={"a": "base", "b": "..%2Fx"}).status_code == 400
    # no seed given: "A's" is the seed run A ran with (5, not its file's 1), so A is that run again
    again = wait_job(client, client.post("/api/compare", json={"a": "base", "b": "base", "replications": 40}).json())
    result = json.loads((runs / again["run"] / "comparison.json").read_text())
    base = json.loads((runs / "base" / "summary.json").read_text())
    assert result["seed"] == base["seed"] == 5 and parse_scenario(SMALL).seed != 5
    assert result["metrics"]["leaked"]["a_mean"] == pytest.approx(base["totals"]["leaked_mean"], abs=1e-12)
    assert result["metrics"]["value_lost"]["a_mean"] == pytest.approx(base["totals"]["value_lost_mean"], abs=1e-9)


def test_compare_refuses_different_scenarios_and_a_campaign_against_a_raid(client: TestClient) -> None:
    moved = SMALL.replace("id: substation", "id: depot")
    other = wait_job(client, client.post("/api/runs", json={"text": moved, "replications": 5}).json())["run"]
    refused = client.post("/api/compare", json={"a": "base", "b": other, "replications": 10})
    assert refused.status_code == 422 and "not two options of one scenario" in refused.json()["detail"]
    assert "other assets" in refused.json()["detail"]
    campaign = wait_job(client, client.post("/api/runs", json={"text": SHORT_CAMPAIGN, "replications": 2}).json())
    mixed = client.post("/api/compare", json={"a": "base", "b": campaign["run"], "replications": 10})
    assert mixed.status_code == 422 and "two campaigns or two raid scenarios" in mixed.json()["detail"]


SHORT_CAMPAIGN = (EXAMPLES / "campaign-winter.yaml").read_text(encoding="utf-8").replace("nights: 121", "nights: 3")


def test_campaigns_validate_run_and_list_as_campaigns(client: TestClient, runs: Path) -> None:
    checked = client.post("/api/validate", json={"text": SHORT_CAMPAIGN, "file": "campaign-winter.yaml"}).json()
    assert checked["ok"] and checked["kind"] == "campaign" and checked["problems"] == []
    assert checked["name"] == "winter-with-purchase"
    broken = client.post("/api/validate", json={"text": SHORT_CAMPAIGN.replace("nights: 3", "nights: -3")}).json()
    assert not broken["ok"] and any(p.get("path") == "nights" for p in broken["problems"])
    job = client.post("/api/runs", json={"text": SHORT_CAMPAIGN, "replications": 3}).json()
    done = wait_job(client, job)
    assert done["state"] == "done" and done["total"] == 9, done  # 3 replications x 3 nights
    name = done["run"]
    assert (runs / name / "campaign.json").is_file() and (runs / name / "campaign-input.yaml").is_file()
    row = next(r for r in client.get("/api/runs").json() if r["run"] == name)
    assert row["campaign"] and row["nights"] == 3 and row["replications"] == 3
    summary = json.loads((runs / name / "campaign.json").read_text())
    assert row["leaked_mean"] == pytest.approx(summary["totals"]["leaked"]["mean"])
    assert row["leaked_armed_mean"] == pytest.approx(summary["totals"]["leaked_armed"]["mean"])
    assert row["launched"] == pytest.approx(summary["totals"]["launched"]["mean"])
    listing = client.get("/").text
    tr = re.search(rf'<tr data-run="{name}".*?</tr>', listing).group(0)
    assert "campaign, 3 nights" in tr and "/replay" not in tr and f"/editor?run={name}" in tr
    # the campaign it ran opens in the editor, self-contained, and validates as a campaign
    text = client.get(f"/api/runs/{name}/scenario").json()["text"]
    again = client.post("/api/validate", json={"text": text}).json()
    assert again["ok"] and again["kind"] == "campaign"
    replay = client.get(f"/api/runs/{name}/replay")
    assert replay.status_code == 404 and "campaign" in replay.json()["detail"]
    assert "--scenario" not in replay.text
    page = client.get(f"/runs/{name}/replay")  # the page a typed URL opens says so itself
    assert page.status_code == 200 and "is a campaign: it has no single night to replay" in page.text
    assert f'href="/runs/{name}/report"' in page.text and "/laydown?run=" not in page.text
    assert "replay.js" not in page.text
    assert client.get(f"/runs/{name}/report").status_code == 200


def test_serve_command_listens_on_loopback_and_answers(tmp_path: Path) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "shieldwall", "serve", "--port", str(port),
                             "--runs", str(tmp_path / "runs")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/runs", timeout=2) as answer:
                    assert json.loads(answer.read()) == []
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline, "shieldwall serve did not answer in 30 s"
                time.sleep(0.2)
        assert (tmp_path / "runs").is_dir()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
    assert f"http://127.0.0.1:{port}/" in out


def test_the_command_line_does_not_load_the_web_or_plot_stack_to_start() -> None:
    import subprocess
    import sys

    code = ("import sys, shieldwall.cli.main; "
            "print(sorted(m for m in ('fastapi', 'uvicorn', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_serve_with_a_runs_folder_that_is_a_file_or_missing_examples_is_a_located_error(tmp_path: Path) -> None:
    """Issue 19 (one error path): `serve --runs AFILE` was a FileExistsError traceback, and
    `--examples` naming no folder served an editor with nothing to open, silently."""
    from typer.testing import CliRunner

    from shieldwall.cli.main import app as cli

    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    for args, words in ((["--runs", str(afile)], "cannot use it as the runs folder"),
                        (["--runs", str(tmp_path / "runs"), "--examples", str(tmp_path / "nope")], "no such folder")):
        result = CliRunner().invoke(cli, ["serve", "--port", "1", *args])
        assert result.exit_code == 2, result.output
        assert words in result.output and "Traceback" not in result.output
    assert afile.read_text() == "not a folder"


def test_serve_on_a_port_in_use_is_a_clear_error_before_serving(tmp_path: Path) -> None:
    """Issue 19 (one error path): a port in use printed "serving http://..." and then uvicorn's
    `ERROR: [Errno 98]` with exit 3."""
    import socket

    from typer.testing import CliRunner

    from shieldwall.cli.main import app as cli

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--port", str(port), "--runs", str(tmp_path / "runs")])
    assert result.exit_code == 2, result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.output and "serving" not in result.output
    assert "Traceback" not in result.output


def test_a_run_without_scenario_json_says_what_a_web_user_can_do(client: TestClient, runs: Path) -> None:
    """Issue 20 item 1: the replay told a web user to "pass --scenario FILE". An older run folder
    without scenario.json: its report still opens, and the replay says what to do in the app."""
    import shutil

    shutil.copytree(runs / "base", runs / "old")
    (runs / "old" / "scenario.json").unlink()
    (runs / "old" / "report.html").unlink(missing_ok=True)
    replay = client.get("/api/runs/old/replay")
    assert replay.status_code == 404 and "--scenario" not in replay.text
    assert "scenario.json" in replay.json()["detail"] and "in the editor" in replay.json()["detail"]
    assert client.get("/runs/old/report").status_code == 200
