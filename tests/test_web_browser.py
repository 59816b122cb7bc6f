"""The report and the web app in a real browser (Debian's Chromium driven by Playwright).

What a person checks: the report opens with no console errors and asks nothing of the network;
the map has one marker per battery and asset; at the end of the slider there is one intercept
marker per kill in the event log; a scenario with a mistake shows the message in the editor; a
run started from the page finishes and its report opens. Screenshots land in tests/artifacts/.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from conftest import EXAMPLES, ROOT
from shieldwall.engine.runner import run
from shieldwall.report.html import write_report
from shieldwall.scenario.load import load_scenario

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
ARTIFACTS = ROOT / "tests" / "artifacts"
SEEN: list[tuple[str, str, int, str]] = []  # (method, path, status, Origin) of every request the server answered

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed "
                                     "(pip install -e '.[test]', or `make test`)")
if not CHROMIUM.exists():
    pytest.skip(f"no Chromium at {CHROMIUM}: `make test` installs it (apt-get install chromium, as root)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser-runs")
    out = folder / "city"
    run(load_scenario(EXAMPLES / "small.yaml"), replications=60, seed=7, out_dir=out)
    write_report(out)
    return folder


@pytest.fixture(scope="module")
def server(runs: Path) -> Iterator[str]:
    import uvicorn

    from shieldwall.web.app import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(runs, max_replications=1000, examples_dir=EXAMPLES)

    async def recorded(scope: dict, receive: object, send: object) -> None:
        """The app, with every answer it gives written down (SEEN): what reached the server."""
        async def watch(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = dict(scope.get("headers", []))
                SEEN.append((scope["method"], scope["path"], message["status"],
                             headers.get(b"origin", b"").decode()))
            await send(message)  # type: ignore[operator]
        await app(scope, receive, watch)

    config = uvicorn.Config(recorded, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start in 20 s"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, timeout=30_000)
        yield chromium
        chromium.close()


class Watched:
    """A page with everything that went wrong on it: console errors, page errors, and requests
    to anywhere but the test server (or file:/data:)."""

    def __init__(self, browser: object, allowed: str = "") -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        self.page.set_default_timeout(15_000)
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("request", lambda r: self.errors.append(f"request to {r.url}")
                     if not r.url.startswith(("file:", "data:", "blob:") + ((allowed,) if allowed else ())) else None)

    def close(self) -> None:
        self.page.close()


def _shot(page: object, name: str, **kwargs: object) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), **kwargs)  # type: ignore[attr-defined]
    print(f"screenshot: {path}")
    return path


def test_report_opens_offline_with_one_marker_per_battery_and_asset_and_all_kills_at_the_end(
        browser: object, runs: Path) -> None:
    scenario = load_scenario(EXAMPLES / "small.yaml")
    events = pd.read_parquet(runs / "city" / "events.parquet")
    watched = Watched(browser)
    page = watched.page
    page.goto((runs / "city" / "report.html").as_uri())
    page.wait_for_selector("#replay .sw-map .leaflet-marker-pane .sw-battery")
    assert page.locator(".sw-battery").count() == len(scenario.batteries)
    assert page.locator(".sw-asset").count() == len(scenario.assets)
    # named on the map, assets drawn above the batteries beside them, and opened on the laydown
    names = page.locator(".sw-map-label").all_inner_texts()
    assert sorted(names) == sorted([a.id for a in scenario.assets] + [b.id for b in scenario.batteries])
    z = page.evaluate("""() => [...document.querySelectorAll('.sw-asset, .sw-battery')].map(
        e => [e.classList.contains('sw-asset'), Number(e.style.zIndex)])""")
    assert min(zi for is_asset, zi in z if is_asset) > max(zi for is_asset, zi in z if not is_asset)
    box = page.locator("#replay .sw-map").bounding_box()
    for marker in page.locator(".sw-asset").all():  # every asset inside the opening view
        m = marker.bounding_box()
        assert box["x"] <= m["x"] <= box["x"] + box["width"] and box["y"] <= m["y"] <= box["y"] + box["height"]
    assert page.locator(".sw-kill").count() == 0  # nothing has happened at time 0
    assert page.locator("figure.sw-chart canvas").count() >= 4  # Chart.js drew the charts offline
    _shot(page, "report.png", full_page=True)
    slider = page.locator("#replay .sw-slider")
    slider.focus()
    page.keyboard.press("End")  # what a person does with a focused slider
    assert slider.input_value() == slider.get_attribute("max")
    kills = int((events.event == "kill").sum())
    assert kills > 0
    assert page.locator(".sw-kill").count() == kills
    assert page.locator(".sw-leak").count() == int((events.event == "leak").sum())
    page.locator("#replay").scroll_into_view_if_needed()
    _shot(page.locator("#replay"), "replay-end.png")
    page.keyboard.press("Home")
    assert page.locator(".sw-kill").count() == 0
    # halfway through the raid some threats are in the air and drawn on the map
    page.locator("#replay .sw-slider").evaluate(
        "(s) => { s.value = Math.round(s.max * 0.55); s.dispatchEvent(new Event('input')); }")
    assert "in the air 0 " not in page.locator("#replay .sw-counts").inner_text()
    _shot(page.locator("#replay"), "replay-middle.png")
    page.locator("#replay .sw-play").click()
    page.wait_for_timeout(300)
    assert int(page.locator("#replay").get_attribute("data-time")) > 0  # playing moves the clock
    page.locator("#replay .sw-play").click()
    assert watched.errors == []
    watched.close()


def test_the_replay_draws_hazard_zones_and_where_threats_were_lost_to_them(browser: object,
                                                                           tmp_path: Path) -> None:
    """Electronic warfare, area defences and acoustic sensors are discs on the map (a layer of
    their own); at the end every threat lost to jamming or shot down by an area defence has its
    mark where it ended and the counts say how many (tests/test_replay_hazards.py: the data)."""
    from test_replay_hazards import ZONES, write_hazard_run

    out = write_hazard_run(tmp_path / "hazards")
    events = pd.read_parquet(out / "events.parquet")
    watched = Watched(browser)
    page = watched.page
    page.goto((out / "report.html").as_uri())
    page.wait_for_selector("#replay .sw-map .leaflet-marker-pane .sw-battery")
    assert page.locator("path.sw-zone").count() == sum(len(v) for v in ZONES.values())
    for kind in ("ew", "area", "acoustic"):
        assert page.locator(f"path.sw-zone-{kind}").count() == 1
    page.locator("#replay .sw-slider").evaluate("(s) => { s.value = s.max; s.dispatchEvent(new Event('input')); }")
    ended = events[events.event.isin(["suppressed", "diverted", "area-kill"])]
    assert len(ended) > 0 and page.locator("path.sw-ended").count() == len(ended)
    counts = page.locator("#replay .sw-counts").inner_text()
    jammed = int(events.event.isin(["suppressed", "diverted"]).sum())
    assert (f"lost to jamming {jammed}" in counts) == (jammed > 0), counts
    assert f"area defences {int((events.event == 'area-kill').sum())}" in counts
    page.locator("#replay").scroll_into_view_if_needed()
    _shot(page.locator("#replay"), "replay-hazards.png")
    assert watched.errors == []
    watched.close()


def test_editor_shows_the_problem_of_a_broken_scenario_in_place(browser: object, server: str) -> None:
    watched = Watched(browser, allowed=server)
    page = watched.page
    page.goto(f"{server}/editor?example=small.yaml")
    page.wait_for_selector("#no-problems:not([hidden])")
    text = page.locator("#scenario-text")
    broken = text.input_value().replace("count: 20", "count: twenty")
    line = broken.splitlines().index(next(s for s in broken.splitlines() if "count: twenty" in s)) + 1
    text.fill(broken)
    problem = page.locator("#problems li.sw-problem").first
    problem.wait_for()
    assert "raids[0].count" in problem.inner_text()
    assert "twenty" in problem.inner_text()
    assert page.locator("#gutter .sw-bad-line").inner_text() == str(line)
    _shot(page, "editor-problem.png")
    problem.click()  # jumps to the line
    assert page.evaluate("() => document.activeElement.id") == "scenario-text"
    assert watched.errors == []
    watched.close()


def test_a_run_started_from_the_page_finishes_and_its_report_opens(browser: object, server: str,
                                                                    runs: Path) -> None:
    watched = Watched(browser, allowed=server)
    page = watched.page
    page.goto(f"{server}/editor?example=small.yaml")
    page.wait_for_selector("#no-problems:not([hidden])")
    page.locator("#replications").fill("80")
    page.locator("#run").click()
    link = page.locator("#run-status a.sw-report-link")
    link.wait_for(timeout=60_000)
    _shot(page, "editor-run-finished.png")
    link.click()
    page.wait_for_selector("#replay .sw-battery")
    assert page.locator(".sw-battery").count() == 2 and page.locator(".sw-asset").count() == 3
    assert "80 replications" in page.locator("p.sw-meta").first.inner_text()
    page.goto(f"{server}/")
    assert page.locator("table.sw-runs tbody tr").count() == 2
    assert watched.errors == []
    watched.close()


def test_the_app_replay_page_and_compare_page(browser: object, server: str) -> None:
    watched = Watched(browser, allowed=server)
    page = watched.page
    page.goto(f"{server}/runs/city/replay")
    page.wait_for_selector("#replay .sw-battery")
    assert page.locator(".sw-battery").count() == 2
    # compare: both run again on common random numbers, B - A with its interval, coloured by meaning
    page.goto(f"{server}/compare?a=city&b=city")
    page.locator("#compare-replications").fill("6")
    page.locator("#compare-run").click()
    page.wait_for_url(re.compile(r".*/compare/city-vs-city-.*"), timeout=60_000)
    table = page.locator("table.sw-compare-table")
    assert table.count() == 1 and "95% interval" in table.inner_text()
    # the same file against itself: every difference is exactly 0, so nothing is better or worse
    assert page.locator("td.sw-better, td.sw-worse").count() == 0
    assert page.locator('tr[data-verdict="no clear difference"]').count() >= 4
    _shot(page, "compare-result.png", full_page=True)
    assert watched.errors == []
    watched.close()


def test_a_campaign_opens_validates_and_runs_from_the_editor(browser: object, server: str) -> None:
    watched = Watched(browser, allowed=server)
    page = watched.page
    page.goto(f"{server}/editor?example=campaign-three-cities.yaml")
    page.wait_for_selector("#no-problems:not([hidden])")
    assert page.locator("#status").inner_text().startswith('Checked: campaign "three-cities')
    assert page.locator("#problems li.sw-problem:not(.sw-warning)").count() == 0
    text = page.locator("#scenario-text")
    text.fill(re.sub(r"(?m)^nights: \d+", "nights: 2", text.input_value()))
    page.wait_for_selector("#no-problems:not([hidden])")
    page.locator("#replications").fill("2")
    page.locator("#run").click()
    link = page.locator("#run-status a.sw-report-link")
    link.wait_for(timeout=90_000)
    assert "three-cities-winter" in page.locator("#run-status").inner_text()
    _shot(page, "editor-campaign-finished.png")
    link.click()
    page.wait_for_selector("figure[data-chart=stock] canvas")
    assert page.locator("#campaign").count() == 1
    page.goto(f"{server}/")
    row = page.locator('table.sw-runs tr[data-kind="campaign"]').first
    assert "2 nights" in row.inner_text() and row.locator("a", has_text="replay").count() == 0
    _shot(page, "runs-with-campaign.png", full_page=True)
    assert watched.errors == []
    watched.close()


HOSTILE = """<!doctype html><html><body><h1>cat pictures</h1>
<form id="f" method="post" action="TARGET/api/runs" enctype="text/plain" target="sink">
  <input name='{"text": "x", "replications": 10, "pad": "' value='"}'></form>
<form id="g" method="post" action="TARGET/api/upload" enctype="multipart/form-data" target="sink">
  <input type="hidden" name="file" value="name: x"></form>
<iframe name="sink"></iframe><iframe id="framed" src="TARGET/editor"></iframe>
<script>
const T = "TARGET", body = JSON.stringify({text: SCENARIO, replications: 10});
const tries = [];
const note = (what, p) => tries.push(p.then(r => what + ": " + (r.type === "opaque" ? "opaque" : r.status),
                                              e => what + ": blocked " + e));
// the issue's attack: a no-cors text/plain POST needs no preflight
note("no-cors text/plain", fetch(T + "/api/runs", {method: "POST", mode: "no-cors",
     headers: {"Content-Type": "text/plain"}, body}));
note("no-cors validate", fetch(T + "/api/validate", {method: "POST", mode: "no-cors", body}));
// JSON with a guessed token: the custom header forces a preflight, which is never approved
note("cors json", fetch(T + "/api/runs", {method: "POST", headers: {"Content-Type": "application/json",
     "X-Shieldwall-Token": "guess"}, body}));
note("beacon", Promise.resolve({status: navigator.sendBeacon(T + "/api/runs", body) ? "queued" : "refused"}));
// reading the runs list or the editor page (and its token) across origins
note("read runs", fetch(T + "/api/runs").then(r => r.json()));
note("read editor", fetch(T + "/editor").then(r => r.text()));
document.getElementById("f").submit();
setTimeout(() => document.getElementById("g").submit(), 300);
Promise.all(tries).then(r => { document.title = "done"; window.results = r; });
</script></body></html>"""


@pytest.fixture
def hostile_site() -> Iterator[tuple[str, list[str]]]:
    """A page of another site (another origin: localhost, another port) and what it was asked for."""
    import http.server

    pages: dict[str, str] = {}
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            seen.append(self.path)
            data = pages.get(self.path, "").encode()
            self.send_response(200 if data else 404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://localhost:{httpd.server_address[1]}", pages  # type: ignore[misc]
    httpd.shutdown()


def test_a_hostile_page_in_the_browser_cannot_start_runs_or_read_anything(
        browser: object, server: str, runs: Path, hostile_site: tuple[str, dict[str, str]]) -> None:
    import json

    site, pages = hostile_site
    scenario = (EXAMPLES / "small.yaml").read_text(encoding="utf-8")
    pages["/cats.html"] = HOSTILE.replace("TARGET", server).replace("SCENARIO", json.dumps(scenario))
    before = sorted(p.name for p in runs.iterdir())
    page = browser.new_page()  # type: ignore[attr-defined]
    page.set_default_timeout(20_000)
    refused: list[int] = []
    page.on("response", lambda r: refused.append(r.status) if r.url.startswith(server) and
            r.request.method == "POST" else None)
    page.goto(f"{site}/cats.html")
    page.wait_for_function("document.title === 'done'")
    page.wait_for_timeout(1500)  # the form posts and the beacon land
    results = page.evaluate("window.results")
    by_what = dict(r.split(": ", 1) for r in results)
    page.close()
    # the page read nothing: no runs list, no editor page (with its token)
    assert all(by_what[k].startswith("blocked") for k in ("read runs", "read editor", "cors json")), results
    # every request it made reached the server and changed nothing
    posts = [(path, status) for method, path, status, origin in SEEN if method == "POST" and origin == site]
    assert {path for path, _ in posts} >= {"/api/runs", "/api/validate", "/api/upload"}, SEEN
    assert len([p for p in posts if p[0] == "/api/runs"]) >= 3  # no-cors fetch, form post, beacon
    assert {status for _, status in posts} == {403}, posts
    assert sorted(p.name for p in runs.iterdir()) == before
    listed = json.loads(__import__("urllib.request").request.urlopen(f"{server}/api/runs").read())
    assert all(r["state"] == "complete" for r in listed)


def test_a_dns_rebound_name_cannot_read_the_app(browser: object, server: str) -> None:
    """The browser resolves evil.test to 127.0.0.1, as after DNS rebinding: same origin for the
    attacker's script, but the app refuses every request whose Host is not its own."""
    port = server.rsplit(":", 1)[1]
    chromium = browser.browser_type.launch(  # type: ignore[attr-defined]
        executable_path=str(CHROMIUM), timeout=30_000, args=[*ARGS, "--host-resolver-rules=MAP evil.test 127.0.0.1"])
    try:
        page = chromium.new_page()
        answer = page.goto(f"http://evil.test:{port}/api/runs")
        assert answer is not None and answer.status == 421
        assert "city" not in page.content()
        answer = page.goto(f"http://evil.test:{port}/")
        assert answer is not None and answer.status == 421
    finally:
        chromium.close()


@pytest.fixture(scope="module")
def sweep_folder(runs: Path) -> Path:
    """A finished 4-point grid sweep of the small example, where `shieldwall sweep` puts it."""
    from shieldwall.sweep import load_sweep, run_sweep

    from test_sweep import GRID

    spec = runs.parent / "iris-grid.yaml"
    spec.write_text(GRID.replace("replications: 300", "replications: 60"), encoding="utf-8")
    out = runs / "sweep" / "iris-grid"
    run_sweep(load_sweep(spec), out)
    return out


def test_a_sweep_report_opens_from_the_app_with_its_plots_and_tables(browser: object, server: str,
                                                                       sweep_folder: Path) -> None:
    import json

    result = json.loads((sweep_folder / "sweep.json").read_text(encoding="utf-8"))
    watched = Watched(browser, allowed=server)
    page = watched.page
    page.goto(f"{server}/")
    row = page.locator('table.sw-sweeps tr[data-sweep="iris-grid"]')
    assert "grid" in row.inner_text() and "4" in row.inner_text()
    with page.expect_response(f"{server}/sweeps/iris-grid/report") as answer:
        row.locator("a").click()  # what a person does: the link in the list
    assert "default-src 'none'" in answer.value.headers["content-security-policy"]
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text() == "Sweep: iris-grid"
    for output in result["outputs"]:  # a tornado and a response plot each, drawn
        for kind in ("tornado", "response"):
            figure = page.locator(f'figure[data-plot="{kind}-{output}"] svg')
            assert figure.count() == 1 and figure.bounding_box()["height"] > 50
    points = page.locator("table.sw-points tbody tr")
    assert points.count() == result["n_points"] == 4
    best = result["best"]["leaked_mean"][0]
    first = page.locator("table.sw-best").first.locator("tbody tr").first.inner_text()
    assert first.startswith(str(best["point"])) and f"{best['mean']:,.4g}" in first
    _shot(page, "sweep-report.png", full_page=True)
    assert watched.errors == []
    watched.close()


def test_the_editor_downloads_reverts_and_cancels_a_run(browser: object, server: str, runs: Path,
                                                       tmp_path: Path) -> None:
    """Issue 20, item 8: the editor had no save and no cancel. What a person does: edit, Download
    (the edited text as a file that loads), Revert (back to the file as opened), then start a long
    run and Cancel it (the run stops, is listed as cancelled, and leaves no finished folder). Last
    in this module: the cancelled run stays in the runs folder."""
    from shieldwall.scenario.load import parse_scenario

    watched = Watched(browser, allowed=server)
    page = watched.page
    page.goto(f"{server}/editor?example=small.yaml")
    page.wait_for_selector("#no-problems:not([hidden])")
    text, revert = page.locator("#scenario-text"), page.locator("#revert")
    opened = text.input_value()
    assert revert.is_disabled()
    edited = opened.replace("iris-t: 24", "iris-t: 36")
    assert edited != opened
    text.fill(edited)
    assert not revert.is_disabled()
    with page.expect_download() as download:
        page.locator("#download").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "small.yaml" and saved.read_text(encoding="utf-8") == edited
    scenario = parse_scenario(saved.read_text(encoding="utf-8"), saved.name)
    assert {b.id: b.interceptors for b in scenario.batteries}["iris-1"] == {"iris-t": 36}
    revert.click()
    assert text.input_value() == opened and revert.is_disabled()
    page.wait_for_selector("#no-problems:not([hidden])")

    page.locator("#example").select_option("massive-raid.yaml")
    expect = playwright_api.expect
    expect(page.locator("#source")).to_have_text("massive-raid.yaml")
    page.wait_for_selector("#no-problems:not([hidden])")
    before = {p.name for p in runs.iterdir()}
    cancel = page.locator("#cancel")
    assert cancel.is_hidden()  # nothing to cancel yet (a CSS display rule once showed it anyway)
    page.locator("#replications").fill("1000")
    page.locator("#run").click()
    cancel.wait_for(state="visible", timeout=30_000)
    cancel.click()
    expect(page.locator("#run-status")).to_contain_text("Run cancelled", timeout=60_000)
    assert "cancelled by the user" in page.locator("#run-status").inner_text()
    assert cancel.is_hidden() and not page.locator("#run").is_disabled()
    _shot(page, "editor-run-cancelled.png")
    page.goto(f"{server}/")
    row = page.locator('table.sw-runs tr[data-state="cancelled"]')
    assert row.count() == 1 and row.locator("a", has_text="report").count() == 0
    new = {p.name for p in runs.iterdir()} - before
    assert not any((runs / n / "summary.json").is_file() for n in new)  # nothing finished was left behind
    assert watched.errors == []
    watched.close()


PLANTED = """<!doctype html><html><head><title>report</title></head><body><h1>a report</h1><script>
var w = window.open("/editor?example=small.yaml"), n = 0;
var t = setInterval(function () {
  n++;
  try {
    var d = w.document, ok = d.getElementById("no-problems"), run = d.getElementById("run");
    if (run && ok && !ok.hidden) {
      d.getElementById("replications").value = "7";
      run.click();
      clearInterval(t);
      document.title = "clicked";
    }
  } catch (e) { clearInterval(t); document.title = "blocked: " + e.name; }
  if (n > 150) { clearInterval(t); document.title = "gave up"; }
}, 100);
</script></body></html>"""


def test_a_report_planted_in_the_runs_folder_cannot_drive_the_app(browser: object, server: str, runs: Path) -> None:
    """A run folder from elsewhere (mailed, downloaded) may carry any report.html, and the app
    serves it from its own origin with its inline scripts allowed (by hash). Served sandboxed
    (an opaque origin, no pop-ups), its script can neither open the editor and press Run there
    nor read the editor's token: nothing starts."""
    import shutil

    planted = runs / "planted"
    shutil.copytree(runs / "city", planted)
    (planted / "report.html").write_text(PLANTED, encoding="utf-8")  # newer than its summary.json: served as is
    before = sorted(p.name for p in runs.iterdir())
    seen = len(SEEN)
    page = browser.new_page()  # type: ignore[attr-defined]
    page.set_default_timeout(20_000)
    answer = page.goto(f"{server}/runs/planted/report")
    assert answer is not None and "sandbox allow-scripts;" in answer.headers["content-security-policy"]
    page.wait_for_function("() => document.title !== 'report'", timeout=30_000)
    title = page.title()
    page.wait_for_timeout(1500)
    for other in page.context.pages:
        other.close()
    assert title.startswith("blocked"), title
    assert not [s for s in SEEN[seen:] if s[0] == "POST"], SEEN[seen:]
    assert sorted(p.name for p in runs.iterdir()) == before
    shutil.rmtree(planted)
