"""The web app obeys only its own pages and survives whatever is in its runs folder (issue 19).

Each test is a request a hostile page, a DNS-rebound name or a careless user could send, and
what must (not) happen: refused with a 4xx and a message, nothing started, nothing written, the
server still serving. The same attack from a real browser is in test_web_browser.py."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import EXAMPLES
from shieldwall.report.rundir import MANIFEST, read_manifest, run_state, write_manifest
from shieldwall.web.app import create_app, host_name
from conftest import own_client
from test_web import SMALL, wait_job

RUN_BODY = {"text": SMALL, "replications": 20, "seed": 1}


@pytest.fixture
def app(runs: Path):  # type: ignore[no-untyped-def]
    return create_app(runs, max_replications=500, examples_dir=EXAMPLES)


def _names(runs: Path) -> list[str]:
    return sorted(p.name for p in runs.iterdir())


# --- who may talk to it -------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "", "localhost.:80"])
def test_a_foreign_host_header_is_refused_for_reads_and_writes(app: object, runs: Path, host: str) -> None:
    client = own_client(app)
    for method, url in (("GET", "/api/runs"), ("GET", "/"), ("GET", "/runs/base/files/summary.json"),
                        ("POST", "/api/runs")):
        answer = client.request(method, url, headers={"Host": host}, json=RUN_BODY)
        assert answer.status_code == 421, (method, url, answer.text)
        assert "base" not in answer.text and "loopback" in answer.json()["detail"]
    assert _names(runs) == ["base"]


def test_loopback_names_and_allowed_hosts_are_served(runs: Path) -> None:
    client = own_client(create_app(runs, hosts=("127.0.0.1", "localhost", "[::1]", "box.lan")))
    for host in ("127.0.0.1:8000", "localhost:1234", "[::1]:8000", "LOCALHOST", "box.lan:8000"):
        assert client.get("/api/runs", headers={"Host": host}).status_code == 200, host
    assert host_name("[::1]:80") == "[::1]" and host_name("127.0.0.1") == "127.0.0.1"


@pytest.mark.parametrize("headers", [
    {"X-Shieldwall-Token": ""},  # no token (what a page of another site has)
    {"X-Shieldwall-Token": "guess"},
    {"Origin": "http://evil.example"},  # the right token, but from a foreign page
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "http://127.0.0.1.evil.example:8000"},
])
def test_state_changing_requests_need_the_token_and_the_apps_own_origin(app: object, runs: Path,
                                                                      headers: dict[str, str]) -> None:
    client = own_client(app)
    for url, kwargs in (("/api/runs", {"json": RUN_BODY}), ("/api/validate", {"json": {"text": SMALL}}),
                        ("/api/upload", {"files": {"file": ("s.yaml", SMALL.encode(), "text/yaml")}}),
                        ("/api/jobs/x/cancel", {})):
        answer = client.post(url, headers=headers, **kwargs)
        assert answer.status_code == 403, (url, headers, answer.text)
        assert answer.json()["detail"]
    assert _names(runs) == ["base"]
    assert client.get("/api/runs").status_code == 200  # reads still work


def test_json_is_read_only_as_application_json(app: object, runs: Path) -> None:
    """The issue's attack: a `no-cors` text/plain POST, which a browser sends without a preflight."""
    client = own_client(app)
    for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        headers = {"Content-Type": kind} if kind else {}
        answer = client.post("/api/runs", content=json.dumps(RUN_BODY).encode(), headers=headers)
        assert answer.status_code == 415, (kind, answer.text)
    assert _names(runs) == ["base"]
    ok = client.post("/api/validate", content=json.dumps({"text": SMALL}),
                     headers={"Content-Type": "application/json; charset=utf-8"})
    assert ok.status_code == 200 and ok.json()["ok"]


def test_pages_carry_a_strict_csp_and_no_inline_script(app: object) -> None:
    import re

    client = own_client(app)
    for url in ("/", "/editor", "/compare", "/runs/base/replay"):
        answer = client.get(url)
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp and answer.headers["x-content-type-options"] == "nosniff"
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", answer.text), url  # every script is a file
        assert f'content="{app.state.token}"' in answer.text  # type: ignore[attr-defined]
    report = client.get("/runs/base/report")
    csp = report.headers["content-security-policy"]
    assert "'sha256-" in csp and "connect-src 'none'" in csp and "unsafe-inline" not in csp.split("script-src")[1][:80]
    assert client.get("/runs/base/files/summary.json").headers["content-security-policy"].startswith("sandbox")
    assert client.get("/api/runs").headers["cache-control"] == "no-store"


# --- bodies -------------------------------------------------------------------------------------


def test_a_json_body_nested_without_end_is_a_400(app: object) -> None:
    client = own_client(app)
    deep = "[" * 100_000 + "]" * 100_000  # 200 kB: under the cap
    answer = client.post("/api/validate", content=deep, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and "not JSON" in answer.json()["detail"]
    nested_yaml = "a: " + "[" * 5000 + "]" * 5000
    problems = client.post("/api/validate", json={"text": nested_yaml}).json()["problems"]
    assert "nested more than" in problems[0]["message"]


@pytest.fixture
def live(runs: Path) -> Iterator[tuple[str, int, object]]:
    import uvicorn

    app = create_app(runs, max_replications=500, examples_dir=EXAMPLES)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", port, app
    server.should_exit = True
    thread.join(timeout=10)


def test_a_chunked_upload_is_cut_off_at_the_cap_while_it_streams(live: tuple[str, int, object], runs: Path) -> None:
    """No Content-Length: the cap must hold while the body streams, not after it was stored."""
    _, port, app = live
    token = app.state.token  # type: ignore[attr-defined]
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    sock.sendall((f"POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Shieldwall-Token: {token}\r\n"
                  "Content-Type: multipart/form-data; boundary=xx\r\nTransfer-Encoding: chunked\r\n\r\n").encode())
    piece = b"x" * 65536
    sent = 0
    answer = b""
    try:
        for _ in range(64):  # up to 4 MiB offered; the cap is 1 MiB (+ form overhead)
            sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            sent += len(piece)
            sock.settimeout(0.0)
            try:
                answer += sock.recv(65536)
            except BlockingIOError:
                pass
            sock.settimeout(20)
            if answer:
                break
    except (BrokenPipeError, ConnectionResetError):
        pass
    sock.settimeout(20)
    try:
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    sock.close()
    # the body never ended (no closing 0-size chunk was sent): a server that waits for the whole
    # body, or stores it before checking, would never have answered
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent > 1 << 20
    assert _names(runs) == ["base"]


def test_validation_runs_off_the_event_loop(live: tuple[str, int, object]) -> None:
    """While a large scenario is being validated, the server answers other requests."""
    import httpx

    base, _, app = live
    token = app.state.token  # type: ignore[attr-defined]
    raids = "".join(f"  - {{id: r{i}, threat: shahed-136, count: 1, launch: {{lat: 51, lon: 33}}, target: a}}\n"
                    for i in range(7000))
    big = f"name: big\nassets: [{{id: a, lat: 50, lon: 30}}]\nraids:\n{raids}"
    assert len(big) < 1 << 20
    done: dict[str, float] = {}

    def validate() -> None:
        httpx.post(f"{base}/api/validate", json={"text": big}, headers={"X-Shieldwall-Token": token}, timeout=120)
        done["validate"] = time.monotonic()

    worker = threading.Thread(target=validate)
    worker.start()
    time.sleep(0.3)  # let the validation start
    answered = 0
    while worker.is_alive() and answered < 3:
        assert httpx.get(f"{base}/api/runs", timeout=120).status_code == 200
        answered += 1
    finished_after = worker.is_alive()
    worker.join()
    assert answered == 3 and finished_after, "other requests waited for the validation"


# --- the runs folder may hold anything ----------------------------------------------------------


def test_the_runs_list_survives_any_malformed_file(app: object, runs: Path, base_run: Path) -> None:
    client = own_client(app)
    (runs / "dangling").symlink_to(runs / "does-not-exist")
    (runs / "loop").symlink_to(runs / "loop")
    for name, text in (("wrong-shape", "[1, 2, 3]"), ("totals-list", '{"totals": [1], "scenario": 3}'),
                       ("cut-short", '{"scenario": "x", "tot'), ("deep", "[" * 50_000 + "]" * 50_000),
                       ("strings", '{"replications": "<script>alert(1)</script>", "seed": "<b>", "totals": '
                                   '{"launched": "many"}, "scenario": "<i>x</i>"}')):
        (runs / name).mkdir()
        (runs / name / "summary.json").write_text(text)
    (runs / "not-json-at-all").mkdir()
    (runs / "not-json-at-all" / "summary.json").write_bytes(b"\xff\xfe\x00")
    (runs / "a file.txt").write_text("hello")
    shutil.copytree(base_run, runs / "cut-events")
    parquet = runs / "cut-events" / "events.parquet"
    parquet.write_bytes(parquet.read_bytes()[:100])
    index = client.get("/")
    assert index.status_code == 200 and "<script>alert" not in index.text and "<i>x</i>" not in index.text
    listed = {r["run"] for r in client.get("/api/runs").json()}
    assert {"base", "wrong-shape", "cut-short", "cut-events", "strings"} <= listed
    assert "dangling" not in listed and "loop" not in listed
    assert client.get("/compare").status_code == 200
    compare = client.get("/compare?a=base&b=strings")
    assert compare.status_code == 200 and "<script>alert" not in compare.text and "<i>x</i>" not in compare.text
    assert "&lt;i&gt;x&lt;/i&gt;" in compare.text  # the run's scenario name, escaped, in the run pickers
    for url in ("/runs/cut-short/report", "/api/runs/cut-short", "/api/runs/deep", "/runs/cut-events/report",
                "/api/runs/cut-events/replay", "/runs/wrong-shape/report", "/api/runs/not-json-at-all"):
        answer = client.get(url)
        assert 400 <= answer.status_code < 500, (url, answer.status_code, answer.text[:300])
        assert answer.json()["detail"]
    for url in ("/runs/base/files/a%00b", "/api/runs/a%00b", "/runs/a%00b/report", "/api/examples/a%00.yaml",
                "/api/jobs/a%00b"):
        answer = client.get(url)
        assert 400 <= answer.status_code < 500, (url, answer.status_code)
    assert client.get("/runs/base/report").status_code == 200


def test_a_comparison_file_of_any_shape_is_escaped_or_a_located_400(app: object, runs: Path) -> None:
    """comparison.json sits in the runs folder like a run's files: its strings are text (the
    replications and the seed were once inserted raw), and a malformed one is a 400 that names
    the field, on the comparison page and its API, never a 500."""
    client = own_client(app)
    metric = {"a_mean": 1.0, "b_mean": 2.0, "difference_mean": 1.0, "difference_ci95": [0.5, 1.5],
              "higher_is_better": False}
    shown = runs / "strings-cmp"
    shown.mkdir()
    (shown / "comparison.json").write_text(json.dumps(
        {"a": "<i>a</i>", "b": "b", "kind": "raid", "replications": "<b id=inj>1</b>", "seed": "<u>s</u>",
         "scenario": ["<i>x</i>", "y"], "metrics": {"leaked_mean": {**metric, "label": "<s>leaked</s>"}}}))
    for url in ("/compare/strings-cmp", "/api/comparisons/strings-cmp"):
        answer = client.get(url)
        text = answer.text if url.startswith("/compare") else answer.json()["html"]
        assert answer.status_code == 200, (url, answer.text[:300])
        assert "<b id=inj>" not in text and "<u>s</u>" not in text and "<i>" not in text and "<s>" not in text
        assert "&lt;b id=inj&gt;1&lt;/b&gt; replications" in text and 'data-verdict="worse"' in text
    for name, field, body in (
            ("metrics-number", "metrics", {"metrics": 5}),
            ("metric-list", "metrics.leaked_mean", {"metrics": {"leaked_mean": [1]}}),
            ("mean-text", "metrics.leaked_mean.a_mean", {"metrics": {"leaked_mean": {**metric, "a_mean": "x"}}}),
            ("ci-short", "metrics.leaked_mean.difference_ci95", {"metrics": {"leaked_mean": {
                **metric, "difference_ci95": [1]}}}),
            ("better-text", "metrics.leaked_mean.higher_is_better", {"metrics": {"leaked_mean": {
                **metric, "higher_is_better": "yes"}}}),
            ("depletion-text", "depletion_night.pac3", {"metrics": {"leaked_mean": metric},
                                                        "depletion_night": {"pac3": "soon"}})):
        (runs / name).mkdir()
        (runs / name / "comparison.json").write_text(json.dumps(body))
        for url in (f"/compare/{name}", f"/api/comparisons/{name}"):
            answer = client.get(url)
            assert answer.status_code == 400, (url, answer.status_code, answer.text[:300])
            assert field in answer.json()["detail"], (url, answer.json())
    assert client.get("/").status_code == 200


def test_a_campaign_cannot_make_the_app_read_a_file_outside_its_folder(app: object, runs: Path,
                                                                       tmp_path: Path) -> None:
    """A campaign names files (its theatre's scenario, a generator). Sent to the app with an
    absolute path or ../, it once had the server read any file (/etc/passwd) and quote its first
    line back as the problem's "found". Now each is a located problem, nothing is read or run;
    the examples' own names still work, and so does a run folder's campaign with a planted path."""
    client = own_client(app)
    secret = tmp_path / "secret.yaml"
    secret.write_text("name: the-secret-line\n")
    winter = (EXAMPLES / "campaign-winter.yaml").read_text(encoding="utf-8")
    for path, text in (("theatre.scenario", winter.replace("scenario: city-defence.yaml", f"scenario: {secret}")),
                       ("theatre.scenario", winter.replace("scenario: city-defence.yaml",
                                                           f"scenario: {os.path.relpath(secret, EXAMPLES)}")),
                       ("generator.file", winter.replace("builtin: raids-2022-2024-trend", f"file: {secret}"))):
        checked = client.post("/api/validate", json={"text": text, "file": "c.yaml"}).json()
        assert not checked["ok"] and [p["path"] for p in checked["problems"]] == [path], checked
        assert "outside its examples folder" in checked["problems"][0]["message"]
        assert checked["problems"][0]["line"] is not None  # located in the text sent
        started = client.post("/api/runs", json={"text": text, "file": "c.yaml", "replications": 1})
        assert started.status_code == 422 and "the-secret-line" not in started.text
    assert _names(runs) == ["base"]
    inside = winter.replace("scenario: city-defence.yaml", f"scenario: {EXAMPLES / 'city-defence.yaml'}")
    assert client.post("/api/validate", json={"text": inside.replace("nights: 121", "nights: 2")}).json()["ok"]
    planted = runs / "planted-campaign"
    planted.mkdir()
    (planted / "campaign.json").write_text(json.dumps({"campaign": "x", "totals": {}}))
    (planted / "campaign-input.yaml").write_text(winter.replace("scenario: city-defence.yaml", f"scenario: {secret}"))
    answer = client.post("/api/compare", json={"a": "planted-campaign", "b": "planted-campaign", "replications": 2})
    assert answer.status_code == 422 and "the-secret-line" not in answer.text and "outside" in answer.text


def test_runs_are_listed_with_their_state_and_an_earlier_servers_run_is_interrupted(app: object,
                                                                                   runs: Path) -> None:
    stale = runs / ".gone.partial-0001"
    stale.mkdir()
    write_manifest(stale, state="running", kind="raid", target="gone")
    manifest = json.loads((stale / MANIFEST).read_text())
    manifest["pid"] = _dead_pid()
    (stale / MANIFEST).write_text(json.dumps(manifest))
    assert run_state(stale) == "interrupted"
    client = own_client(app)
    rows = {r["run"]: r for r in client.get("/api/runs").json()}
    assert rows["base"]["state"] == "complete" and rows["gone"]["state"] == "interrupted"
    assert client.get("/api/jobs/gone").json()["state"] == "interrupted"
    assert 'data-state="interrupted"' in client.get("/").text


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# --- runs: cancel, budgets, slots ---------------------------------------------------------------

SLOW = (EXAMPLES / "massive-raid.yaml").read_text(encoding="utf-8")


def test_a_run_can_be_cancelled_and_frees_its_slot(runs: Path) -> None:
    app = create_app(runs, max_replications=20000, examples_dir=EXAMPLES, max_active_runs=1)
    client = own_client(app)
    job = client.post("/api/runs", json={"text": SLOW, "replications": 20000}).json()
    assert job["state"] == "running"
    assert client.post("/api/runs", json=RUN_BODY).status_code == 429  # its one slot is taken
    assert client.post(f"/api/jobs/{job['id']}/cancel").status_code == 202
    final = wait_job(client, job["id"])
    assert final["state"] == "cancelled"
    rows = {r["run"]: r["state"] for r in client.get("/api/runs").json()}
    assert rows[job["run"]] == "cancelled" and not (runs / job["run"]).exists()
    again = client.post("/api/runs", json=RUN_BODY).json()  # the slot is free again
    assert wait_job(client, again["id"])["state"] == "done"


def test_a_run_over_the_time_budget_is_stopped(runs: Path) -> None:
    client = own_client(create_app(runs, max_replications=20000, examples_dir=EXAMPLES, max_run_seconds=1.0))
    job = client.post("/api/runs", json={"text": SLOW, "replications": 20000}).json()
    final = wait_job(client, job["id"])
    assert final["state"] == "failed" and "time budget" in final["error"]
    assert client.get("/api/jobs/" + job["id"]).json()["state"] == "failed"
    assert job["run"] not in {r["run"] for r in client.get("/api/runs").json() if r["state"] == "complete"}


def test_a_run_over_the_memory_budget_is_refused_or_stopped(runs: Path) -> None:
    client = own_client(create_app(runs, max_replications=20000, examples_dir=EXAMPLES,
                                   max_run_memory_bytes=32 << 20))
    job = client.post("/api/runs", json={"text": SLOW, "replications": 20000}).json()
    final = wait_job(client, job["id"])
    assert final["state"] == "failed" and "memory" in final["error"] and "budget" in final["error"]
    stage = next(runs.glob(f".{job['run']}.partial-*"))
    assert (read_manifest(stage) or {})["state"] == "failed"


def test_a_finished_run_is_found_after_a_restart(runs: Path) -> None:
    client = own_client(create_app(runs, max_replications=500, examples_dir=EXAMPLES))
    job = client.post("/api/runs", json=RUN_BODY).json()
    assert wait_job(client, job["id"])["state"] == "done"
    restarted = own_client(create_app(runs, max_replications=500, examples_dir=EXAMPLES))
    assert restarted.get(f"/api/jobs/{job['id']}").json()["state"] == "done"
    assert (read_manifest(runs / job["run"]) or {})["state"] == "complete"
    assert not list(runs.glob(".*partial*"))
    assert os.path.isfile(runs / job["run"] / "report.html")
