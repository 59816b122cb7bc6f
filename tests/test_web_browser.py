"""The report and the web app in a real browser (Debian's Chromium driven by Playwright).

What a person checks: the report opens with no console errors and asks nothing of the network;
the map has one marker per battery and asset; at the end of the slider there is one intercept
marker per kill in the event log; a scenario with a mistake shows the message in the editor; a
run started from the page finishes and its report opens. Screenshots land in tests/artifacts/.
"""

from __future__ import annotations

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
    config = uvicorn.Config(create_app(runs, max_replications=1000, examples_dir=EXAMPLES),
                            host="127.0.0.1", port=port, log_level="warning")
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
    assert page.locator(".sw-kill").count() == 0  # nothing has happened at time 0
    assert page.locator("figure.sw-plot svg").count() >= 4
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
    page.goto(f"{server}/compare?a=city&b=city")
    assert page.locator("table.sw-compare-table").count() == 1
    assert watched.errors == []
    watched.close()
