"""A schemathesis pass over the app's OpenAPI description: every operation, with inputs generated
from the schema (and broken variants of them), answers without a server error (5xx) — with the
app's own token and host, and without them (then 4xx). The app's runs folder holds a run, so the
paths that name one are exercised too."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install -e '.[test]')")
from hypothesis import HealthCheck, settings  # noqa: E402

from conftest import EXAMPLES  # noqa: E402
from shieldwall.engine.runner import run  # noqa: E402
from shieldwall.scenario.load import load_scenario  # noqa: E402
from shieldwall.web.app import create_app  # noqa: E402



def _app() -> object:
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="shieldwall-openapi-"))
    run(load_scenario(EXAMPLES / "small.yaml"), replications=8, seed=1, out_dir=folder / "small-run")
    # runs must not really start from generated bodies (a valid scenario could be generated): the
    # cap of one replication and one slot keeps any that does tiny
    return create_app(folder, max_replications=1, max_active_runs=1, examples_dir=EXAMPLES)


APP = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, headers={"Host": "127.0.0.1:8000"})
EXAMPLES_PER_OPERATION = 25 if os.environ.get("CI") else 10
ANSWERS: dict[str, set[int]] = {}  # operation -> statuses given with the app's own token


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_operation_answers_with_a_server_error(case: object) -> None:
    token = APP.state.token  # type: ignore[attr-defined]
    for headers in ({"Host": "127.0.0.1:8000", "X-Shieldwall-Token": token}, {"Host": "127.0.0.1:8000"}):
        response = case.call(headers=headers)  # type: ignore[attr-defined]
        assert response.status_code < 500, (case, response.status_code, response.text[:500])
        if "X-Shieldwall-Token" in headers:
            ANSWERS.setdefault(case.operation.label, set()).add(response.status_code)  # type: ignore[attr-defined]
        if "X-Shieldwall-Token" not in headers and case.method.upper() == "POST":  # type: ignore[attr-defined]
            assert response.status_code == 403


def test_the_schema_lists_every_route_and_the_pass_reached_them() -> None:
    paths = set(schema.raw_schema["paths"])
    assert {"/api/runs", "/api/validate", "/api/upload", "/api/jobs/{job_id}/cancel", "/compare"} <= paths
    if ANSWERS:  # after the pass above (the whole file run): the generated requests got real answers
        assert 200 in ANSWERS["GET /api/runs"] and 200 in ANSWERS["POST /api/validate"], ANSWERS
        assert all(421 not in statuses for statuses in ANSWERS.values()), ANSWERS
