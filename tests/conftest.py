"""Shared builders: small scenarios written as dicts, so each test states its own geometry."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from shieldwall.scenario.model import Scenario

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


TEST_CATALOG: dict[str, Any] = {
    "interceptors": {
        "test-missile": {"speed_mps": 1000, "min_range_km": 1, "max_range_km": 40, "max_altitude_m": 20000,
                         "pk": {"drone": 0.6, "cruise": 0.6, "ballistic": 0.6}, "cost_usd": 1_000_000},
    },
    "systems": {
        "test-sam": {"radar_range_km": 100, "radar_height_m": 10, "fire_channels": 4, "launchers": 2,
                     "rounds_per_launcher": 4, "reload_s": 600, "interceptors": ["test-missile"]},
    },
    "threats": {
        "test-drone": {"class": "drone", "speed_mps": 50, "altitude_m": 500, "cost_usd": 30_000},
    },
}


def scenario_dict(**changes: Any) -> dict[str, Any]:
    """The issue's 'two-shot check' scenario; keyword arguments replace top-level keys."""
    base: dict[str, Any] = {
        "name": "two-shot check",
        "catalog": copy.deepcopy(TEST_CATALOG),
        "assets": [{"id": "town", "lat": 50.45, "lon": 30.52, "value": 10}],
        "batteries": [{"id": "sam-1", "system": "test-sam", "lat": 50.45, "lon": 30.52,
                       "interceptors": {"test-missile": 8}}],
        "raids": [{"id": "wave-1", "threat": "test-drone", "count": 1, "launch": {"lat": 51.0, "lon": 30.52},
                   "target": "town", "time_s": 0}],
        "doctrine": {"salvo": 2, "max_engagements": 1},
    }
    base.update(changes)
    return base


def make_scenario(**changes: Any) -> Scenario:
    return Scenario.model_validate(scenario_dict(**changes))


def within_sigma(estimate: float, expected: float, n: int, k: float = 4.0) -> bool:
    """|estimate - p| <= k standard errors of a proportion estimated from n trials."""
    sd = (expected * (1.0 - expected) / n) ** 0.5
    return abs(estimate - expected) <= k * sd + 1e-12


@pytest.fixture
def two_shot() -> Scenario:
    return make_scenario()


# --- the web app: a runs folder with one run, and a client that is one of the app's own pages ---


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from shieldwall.engine.runner import run
    from shieldwall.scenario.load import load_scenario

    out = tmp_path_factory.mktemp("base") / "small-base"
    run(load_scenario(EXAMPLES / "small.yaml"), replications=40, seed=5, out_dir=out)
    return out


@pytest.fixture
def runs(tmp_path: Path, base_run: Path) -> Path:
    """A runs folder with one run, "base", and a file beside it that the app must never serve."""
    import shutil

    folder = tmp_path / "runs"
    folder.mkdir()
    shutil.copytree(base_run, folder / "base")
    (tmp_path / "secret.txt").write_text("not for the web")
    return folder


def own_client(app: object):  # type: ignore[no-untyped-def]
    """What the app's own pages send: a loopback Host and the session token of the page."""
    import warnings

    with warnings.catch_warnings():  # starlette's notice about httpx versions, not about this code
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    return TestClient(app, base_url="http://127.0.0.1:8000",  # type: ignore[arg-type]
                      headers={"X-Shieldwall-Token": app.state.token})  # type: ignore[attr-defined]
