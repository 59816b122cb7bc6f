"""The laydown page in a real browser (issue 20): a person drags a battery, sees its engagement
ring and radar horizon follow it and be recomputed by the server, picks another threat, downloads
the moved scenario, re-runs and reads the comparison in place, and opens it in the editor; with
no console errors and no request anywhere but the app. The server, the browser and the page
watcher are test_web_browser.py's; screenshots land in tests/artifacts/."""

from __future__ import annotations

from pathlib import Path

from shieldwall.catalog.builtin import builtin_catalog
from shieldwall.engine.geometry import radar_horizon_m
from shieldwall.scenario.load import parse_scenario
from test_web_browser import Watched, _shot, browser, runs, server  # noqa: F401  (fixtures)

VIEW = "() => document.getElementById('laydown').shieldwallLaydown.view"


def _settled(page: object) -> None:
    """The page's last request to /api/laydown has been answered and drawn."""
    page.wait_for_function("() => !document.getElementById('laydown').hasAttribute('data-busy')")  # type: ignore[attr-defined]


def _centre(box: dict) -> tuple[float, float]:
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_drag_a_battery_see_its_rings_download_and_compare_in_place(browser: object, server: str,  # noqa: F811
                                                                    tmp_path: Path) -> None:
    catalog = builtin_catalog()
    watched = Watched(browser, allowed=server)
    page = watched.page
    page.goto(f"{server}/laydown?run=city")
    page.wait_for_selector("#laydown .sw-battery")
    _settled(page)
    assert page.locator("#laydown .sw-battery").count() == 2 and page.locator("#laydown .sw-asset").count() == 3
    assert page.locator("path.sw-engage-ring").count() == 2 and page.locator("path.sw-horizon-ring").count() == 2
    view = page.evaluate(VIEW)
    iris = next(b for b in view["batteries"] if b["id"] == "iris-1")
    assert iris["engage_km"] == catalog.interceptors["iris-t"].max_range_km
    assert iris["horizon_km"] == round(radar_horizon_m(8.0, 1500.0) / 1000.0, 3)  # shahed-136 at 1,500 m
    assert page.locator("#laydown-compare").is_disabled()  # nothing moved yet
    _shot(page, "laydown-opened.png", full_page=True)

    # drag iris-1 by 160 px right and 120 px down: the marker, its rings and the numbers follow
    marker = page.locator('#laydown .sw-battery[title="iris-1"]')
    x, y = _centre(marker.bounding_box())
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 80, y + 60, steps=5)
    page.mouse.move(x + 160, y + 120, steps=5)
    page.mouse.up()
    page.wait_for_selector('#laydown[data-moved="1"]')
    _settled(page)
    view = page.evaluate(VIEW)
    moved = next(b for b in view["batteries"] if b["id"] == "iris-1")
    assert view["moved"] == ["iris-1"]
    assert moved["lat"] < iris["lat"] and moved["lon"] > iris["lon"]  # down and to the right
    assert page.locator("path.sw-was").count() == 1  # where the file has it
    mx, my = _centre(page.locator('#laydown .sw-battery[title="iris-1"]').bounding_box())
    assert abs(mx - (x + 160)) < 3 and abs(my - (y + 120)) < 3
    ring_boxes = [p.bounding_box() for p in page.locator("path.sw-engage-ring").all()]
    assert any(abs(_centre(b)[0] - mx) < 3 and abs(_centre(b)[1] - my) < 3 for b in ring_boxes)  # centred on it
    assert not page.locator("#laydown-compare").is_disabled()
    _shot(page, "laydown-dragged.png", full_page=True)

    # another threat: a cruise missile at its 50 m, so the horizon shrinks to about 41 km
    page.locator("#laydown-threat").select_option("kh-101")
    page.wait_for_function(VIEW + ".threat.type === 'kh-101'")
    _settled(page)
    view = page.evaluate(VIEW)
    assert float(page.locator("#laydown-altitude").input_value()) == 50.0
    assert next(b for b in view["batteries"] if b["id"] == "iris-1")["horizon_km"] == round(
        radar_horizon_m(8.0, 50.0) / 1000.0, 3)
    _shot(page, "laydown-cruise-50m.png", full_page=True)

    # download: the moved scenario as a valid YAML file
    with page.expect_download() as download:
        page.locator("#laydown-download").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "city-laydown.yaml"
    scenario = parse_scenario(saved.read_text(encoding="utf-8"), saved.name)
    assert {b.id: (b.lat, b.lon) for b in scenario.batteries}["iris-1"] == (moved["lat"], moved["lon"])

    # re-run and compare in place: A the file as opened, B the moved laydown, with intervals
    page.locator("#laydown-replications").fill("20")
    page.locator("#laydown-compare").click()
    table = page.locator("#laydown-result table.sw-compare-table")
    table.wait_for(timeout=90_000)
    text = table.inner_text()
    assert "95% interval" in text and "leaked" in text
    assert page.locator("#laydown-result tr[data-metric]").count() >= 5
    assert page.locator('#laydown-result tr[data-metric="leaked"] td').nth(4).inner_text().startswith("[")
    assert "20 replications" in page.locator("#laydown-result p.sw-meta").inner_text()
    _shot(page, "laydown-compared.png", full_page=True)

    # open in the editor: the moved text, checked there with no problems
    page.locator("#laydown-editor").click()
    page.wait_for_url("**/editor?from=laydown")
    page.wait_for_selector("#no-problems:not([hidden])")
    assert f"lat: {moved['lat']}" in page.locator("#scenario-text").input_value()
    assert page.locator("#source").inner_text() == "city-laydown.yaml"
    assert watched.errors == []
    watched.close()


def test_the_editor_opens_its_text_on_the_laydown_page(browser: object, server: str) -> None:  # noqa: F811
    watched = Watched(browser, allowed=server)
    page = watched.page
    page.goto(f"{server}/editor?example=three-cities.yaml")
    page.wait_for_selector("#no-problems:not([hidden])")
    page.locator("#to-laydown").click()
    page.wait_for_url("**/laydown?from=editor")
    page.wait_for_selector("#laydown .sw-battery")
    _settled(page)
    view = page.evaluate(VIEW)
    assert page.locator("#laydown .sw-battery").count() == len(view["batteries"]) > 2
    assert page.locator("path.sw-horizon-ring").count() == len(view["batteries"]) + len(view["radars"])
    assert page.locator("#laydown-source").inner_text() == "three-cities.yaml"
    _shot(page, "laydown-from-editor.png", full_page=True)
    assert watched.errors == []
    # a file that is not there: said on the page, in words (the browser logs the 404 itself)
    page.goto(f"{server}/laydown?example=nope.yaml")
    page.wait_for_selector("#laydown-status.sw-error")
    assert "no example 'nope.yaml'" in page.locator("#laydown-status").inner_text()
    assert len(watched.errors) == 1 and "404" in watched.errors[0]
    watched.close()
