"""The laydown page's API (issue 20): each battery's engagement ring is its catalog range against
the chosen threat, its radar horizon the 4/3-earth closed form the engine detects with, a moved
laydown compared with the file as opened runs the CLI's compare on common random numbers and
moves the numbers the way the move must, bad input is a located problem, and the new endpoints
obey the app's security rules. The same page in a browser: test_web_laydown_browser.py."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLES, TEST_CATALOG, own_client, scenario_dict
from shieldwall.catalog.builtin import builtin_catalog
from shieldwall.engine.geometry import radar_horizon_m
from shieldwall.scenario.load import parse_scenario
from shieldwall.web.app import create_app
from test_web import SMALL, wait_job

K_EARTH_R_M = 4.0 / 3.0 * 6_371_000.0  # the closed form's own numbers, not the module's


def _client(runs: Path, **options: object):  # type: ignore[no-untyped-def]
    return own_client(create_app(runs, max_replications=500, examples_dir=EXAMPLES, **options))


def _closed_form_horizon_m(antenna_m: float, target_m: float) -> float:
    return math.sqrt(2.0 * K_EARTH_R_M * antenna_m) + math.sqrt(2.0 * K_EARTH_R_M * target_m)


def _two_shot_text(**changes: object) -> str:
    """conftest's one-battery, one-drone scenario, with a stand-alone radar, as YAML text."""
    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["radars"] = {"test-ew": {"range_km": 300, "height_m": 30}}
    data = scenario_dict(catalog=catalog, radars=[{"id": "ew-1", "type": "test-ew", "lat": 50.3, "lon": 30.4}],
                         **changes)
    return yaml.safe_dump(data, sort_keys=False)


# --- rings and horizons -------------------------------------------------------------------------


@pytest.mark.parametrize("threat, altitude_m", [("shahed-136", 1500.0), ("kh-101", 50.0), ("shahed-136", 300.0)])
def test_engagement_rings_are_the_catalog_ranges_against_the_threat(runs: Path, threat: str,
                                                                    altitude_m: float) -> None:
    catalog = builtin_catalog()
    view = _client(runs).post("/api/laydown", json={"text": SMALL, "threat": threat,
                                                    "altitude_m": altitude_m}).json()
    assert view["threat"] == {"type": threat, "class": catalog.threats[threat].threat_class,
                              "altitude_m": altitude_m, "rcs_m2": catalog.threats[threat].rcs_m2}
    by_id = {b["id"]: b for b in view["batteries"]}
    for battery_id, interceptor in (("iris-1", "iris-t"), ("gepard-1", "gepard-35mm")):
        kind = catalog.interceptors[interceptor]
        ring = by_id[battery_id]
        if kind.min_altitude_m <= altitude_m <= kind.max_altitude_m:
            assert ring["engage_with"] == interceptor and ring["engage_km"] == kind.max_range_km
            # drawn on the ground at that altitude, as the engine tests a slant range
            assert ring["engage_ground_km"] == pytest.approx(math.sqrt(kind.max_range_km ** 2 - (altitude_m / 1e3) ** 2),
                                                             abs=1e-3)
        else:  # iris-t does not go below 20 m... nor gepard above 2,500 m: no ring
            assert ring["engage_with"] is None and ring["engage_km"] == 0.0 and ring["engage_ground_km"] == 0.0


def test_a_battery_that_may_not_engage_the_threat_has_no_ring(runs: Path) -> None:
    client = _client(runs)
    # the gepard's rounds have no kill probability against a ballistic missile
    view = client.post("/api/laydown", json={"text": SMALL, "threat": "iskander-m", "altitude_m": 5000}).json()
    by_id = {b["id"]: b for b in view["batteries"]}
    assert by_id["gepard-1"]["engage_km"] == 0.0
    assert by_id["iris-1"]["engage_km"] == builtin_catalog().interceptors["iris-t"].max_range_km  # pk 0.2 > 0
    # a battery told to engage drones only has no ring against a cruise missile
    text = _two_shot_text(batteries=[{"id": "sam-1", "system": "test-sam", "lat": 50.45, "lon": 30.52,
                                      "interceptors": {"test-missile": 8}, "engage": ["drone"]}])
    view = client.post("/api/laydown", json={"text": text, "threat": "kh-101", "altitude_m": 50}).json()
    assert view["batteries"][0]["engage_km"] == 0.0
    view = client.post("/api/laydown", json={"text": text, "threat": "test-drone", "altitude_m": 500}).json()
    assert view["batteries"][0]["engage_km"] == 40.0


@pytest.mark.parametrize("altitude_m", [0.0, 50.0, 500.0, 12000.0])
def test_radar_horizons_are_the_four_thirds_earth_closed_form(runs: Path, altitude_m: float) -> None:
    view = _client(runs).post("/api/laydown", json={"text": _two_shot_text(), "threat": "test-drone",
                                                    "altitude_m": altitude_m}).json()
    battery, radar = view["batteries"][0], view["radars"][0]
    assert (battery["radar_height_m"], radar["radar_height_m"]) == (10.0, 30.0)  # the catalog's antennas
    for unit in (battery, radar):
        expected_m = _closed_form_horizon_m(unit["radar_height_m"], altitude_m)
        # the engine rounds sqrt(2 k R) = 4,121.8 m to 4,120 m: 0.05 % at most
        assert unit["horizon_km"] * 1000.0 == pytest.approx(expected_m, rel=6e-4)
        assert unit["horizon_km"] == round(radar_horizon_m(unit["radar_height_m"], altitude_m) / 1000.0, 3)
    # detection against this threat: the radar's range scaled by rcs^(1/4) (rcs 1 m2 here)
    assert (battery["detect_km"], radar["detect_km"]) == (100.0, 300.0)


def test_the_horizon_drawn_is_where_the_engine_first_detects() -> None:
    """A drone at 500 m flies straight at a radar whose range is no limit: the engine's first
    track is where the ground range falls under radar_horizon_m, within one path step."""
    from shieldwall.engine.compile import compile_scenario
    from shieldwall.scenario.model import Scenario

    catalog = copy.deepcopy(TEST_CATALOG)
    catalog["systems"]["test-sam"]["radar_range_km"] = 1000
    data = scenario_dict(catalog=catalog, raids=[{"id": "w", "threat": "test-drone", "count": 1,
                                                  "launch": {"lat": 52.5, "lon": 30.52}, "target": "town",
                                                  "time_s": 0}])
    compiled = compile_scenario(Scenario.model_validate(data), 1)
    start_m = float(compiled.paths.vertex_y_m[0])  # straight south onto the battery
    speed = TEST_CATALOG["threats"]["test-drone"]["speed_mps"]
    tau, step = float(compiled.threats.track_s[0]), float(compiled.threats.step_s[0])
    horizon = radar_horizon_m(10.0, 500.0)
    assert start_m - speed * tau <= horizon < start_m - speed * (tau - step)


# --- moving, downloading, comparing -----------------------------------------------------------


def test_a_move_is_applied_and_the_download_is_the_same_scenario_with_the_new_position(runs: Path) -> None:
    view = _client(runs).post("/api/laydown", json={"text": SMALL, "file": "small.yaml",
                                                    "moves": {"iris-1": {"lat": 49.3, "lon": 32.1234567}}}).json()
    assert view["moved"] == ["iris-1"] and view["original"]["iris-1"] == [49.032, 32.048]
    moved = {b["id"]: (b["lat"], b["lon"]) for b in view["batteries"]}
    assert moved == {"iris-1": (49.3, 32.12346), "gepard-1": (49.0, 32.123)}  # to about a metre
    downloaded = parse_scenario(view["yaml"], "downloaded.yaml")  # a valid scenario, checked as a file is
    original = parse_scenario(SMALL, "small.yaml")
    assert {b.id: (b.lat, b.lon) for b in downloaded.batteries} == moved
    assert downloaded.model_copy(update={"batteries": original.batteries}) == original  # nothing else changed
    unmoved = _client(runs).post("/api/laydown", json={"text": SMALL}).json()
    assert unmoved["moved"] == [] and parse_scenario(unmoved["yaml"]) == original


def test_moving_the_battery_out_of_range_makes_the_compare_worse_as_the_cli_says(runs: Path) -> None:
    from shieldwall.campaign.compare import compare_inputs
    from shieldwall.scenario.model import Scenario

    text = yaml.safe_dump(scenario_dict(raids=[{"id": "w", "threat": "test-drone", "count": 3,
                                                "launch": {"lat": 51.0, "lon": 30.52}, "target": "town",
                                                "time_s": 0}]), sort_keys=False)
    client = _client(runs)
    away = {"sam-1": {"lat": 48.5, "lon": 30.52}}  # ~217 km south: the drones never come in range
    job = client.post("/api/laydown/compare", json={"text": text, "moves": away, "replications": 40, "seed": 3})
    assert job.status_code == 202, job.text
    done = wait_job(client, job.json())
    assert done["state"] == "done", done
    answer = client.get(f"/api/comparisons/{done['run']}").json()
    leaked, intercepted = answer["comparison"]["metrics"]["leaked"], answer["comparison"]["metrics"]["intercepted"]
    assert leaked["b_mean"] == 3.0 and leaked["difference_ci95"][0] > 0.0  # every drone leaks once moved
    assert intercepted["b_mean"] == 0.0 and intercepted["difference_ci95"][1] < 0.0
    assert 'data-metric="leaked" data-verdict="worse"' in answer["html"]
    assert answer["page_url"] == f"/compare/{done['run']}" and client.get(answer["page_url"]).status_code == 200
    # the CLI's compare on the same two scenarios and seed gives the same numbers
    a = Scenario.model_validate(yaml.safe_load(text))
    b = parse_scenario(client.post("/api/laydown", json={"text": text, "moves": away}).json()["yaml"])
    cli = compare_inputs(a, b, labels=("as opened", "moved"), replications=40, seed=3)
    assert json.loads(json.dumps(cli))["metrics"] == answer["comparison"]["metrics"]


def test_a_compare_with_nothing_moved_or_too_few_replications_is_refused(runs: Path) -> None:
    client = _client(runs)
    answer = client.post("/api/laydown/compare", json={"text": SMALL, "moves": {}})
    assert answer.status_code == 422 and "nothing moved" in answer.json()["detail"]
    moves = {"gepard-1": {"lat": 49.0, "lon": 32.2}}
    for reps, word in ((1, "at least 2"), (501, "cap"), ("many", "whole number")):
        answer = client.post("/api/laydown/compare", json={"text": SMALL, "moves": moves, "replications": reps})
        assert answer.status_code == 422 and word in answer.json()["detail"], answer.text
    assert sorted(p.name for p in runs.iterdir()) == ["base"]  # nothing started


# --- bad input: located problems ----------------------------------------------------------------


@pytest.mark.parametrize("body, path, expected", [
    ({"moves": {"patriot-9": {"lat": 49, "lon": 32}}}, "moves.patriot-9", "one of gepard-1, iris-1"),
    ({"moves": {"iris-1": {"lat": 91, "lon": 32}}}, "moves.iris-1.lat", "a number from -90 to 90"),
    ({"moves": {"iris-1": {"lat": 49, "lon": "east"}}}, "moves.iris-1.lon", "a number from -180 to 180"),
    ({"moves": {"iris-1": {"lat": 49}}}, "moves.iris-1", '{"lat": .., "lon": ..}'),
    ({"moves": [1, 2]}, "moves", '{"UNIT-ID": {"lat": .., "lon": ..}}'),
    ({"threat": "tomahawk"}, "threat", "a catalog threat id"),
    ({"altitude_m": -5}, "altitude_m", "metres from 0"),
    ({"altitude_m": "high"}, "altitude_m", "metres from 0"),
])
def test_bad_moves_and_choices_are_located_problems(runs: Path, body: dict, path: str, expected: str) -> None:
    answer = _client(runs).post("/api/laydown", json={"text": SMALL, **body})
    assert answer.status_code == 422, answer.text
    problem = answer.json()["problems"][0]
    assert problem["path"] == path and problem["expected"].startswith(expected), problem
    assert "Traceback" not in answer.text


def test_a_broken_scenario_or_a_campaign_is_a_located_problem(runs: Path) -> None:
    client = _client(runs)
    broken = SMALL.replace("lat: 49.032", "lat: 149.032")
    answer = client.post("/api/laydown", json={"text": broken, "file": "small.yaml"})
    assert answer.status_code == 422
    problem = answer.json()["problems"][0]
    assert problem["path"] == "batteries[0].lat" and problem["line"] == SMALL.splitlines().index(
        next(line for line in SMALL.splitlines() if "lat: 49.032" in line)) + 1
    assert answer.json()["file"] == "small.yaml"
    campaign = (EXAMPLES / "campaign-winter.yaml").read_text(encoding="utf-8")
    answer = client.post("/api/laydown", json={"text": campaign})
    assert answer.status_code == 422 and answer.json()["problems"][0]["path"] == "nights"
    assert client.post("/api/laydown", json={"text": 5}).status_code == 400
    assert client.post("/api/laydown", json={"text": "a: [1, 2"}).status_code == 422  # YAML that does not parse


# --- the app's rules hold for the new endpoints ----------------------------------------------------


@pytest.mark.parametrize("url", ["/api/laydown", "/api/laydown/compare"])
def test_the_laydown_endpoints_obey_the_apps_security_rules(runs: Path, url: str) -> None:
    app = create_app(runs, max_replications=500, examples_dir=EXAMPLES)
    client = own_client(app)
    body = {"text": SMALL, "moves": {"gepard-1": {"lat": 49.0, "lon": 32.2}}, "replications": 10}
    for headers in ({"X-Shieldwall-Token": ""}, {"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        answer = client.post(url, json=body, headers=headers)
        assert answer.status_code == 403 and answer.json()["detail"], (headers, answer.text)
    assert client.post(url, json=body, headers={"Host": "evil.example"}).status_code == 421
    assert client.post(url, content=json.dumps(body), headers={"Content-Type": "text/plain"}).status_code == 415
    huge = {**body, "text": SMALL + "#" * (1 << 20)}
    assert client.post(url, json=huge).status_code == 413
    assert sorted(p.name for p in runs.iterdir()) == ["base"]  # none of it started anything
    assert client.post("/api/laydown", json=body).headers["cache-control"] == "no-store"


def test_a_laydown_compare_waits_for_a_job_slot(runs: Path) -> None:
    client = _client(runs, max_active_runs=0)
    answer = client.post("/api/laydown/compare", json={"text": SMALL, "replications": 20,
                                                       "moves": {"gepard-1": {"lat": 49.0, "lon": 32.2}}})
    assert answer.status_code == 429 and "already going" in answer.json()["detail"]


def test_the_page_is_linked_and_runs_no_inline_script(runs: Path) -> None:
    import re

    app = create_app(runs, max_replications=500, examples_dir=EXAMPLES)
    client = own_client(app)
    page = client.get("/laydown?run=base")
    assert page.status_code == 200 and 'id="laydown"' in page.text and "/static/laydown.js" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)
    assert f'content="{app.state.token}"' in page.text
    assert '<a href="/laydown?run=base">laydown</a>' in client.get("/").text
    assert "/laydown?run=base" in client.get("/runs/base/replay").text
    assert 'id="to-laydown"' in client.get("/editor").text
    assert client.get("/static/laydown.js").status_code == 200
    assert client.get("/api/comparisons/nope").status_code == 404
