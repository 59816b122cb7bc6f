"""Fuzzing kept in the suite (issue 19): every file a user can hand shieldwall, valid or broken,
is accepted or refused with a located message (exit 2), never a traceback or a hang. The
strategies and the property are in tests/fuzzing.py; CI runs a short budget on every commit
(Hypothesis profile "ci", picked by the CI variable), ``benchmarks/fuzz.py --cases 20000`` the
long run."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from fuzzing import PROPERTIES, check_scenario_text

COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
          "derandomize": True}
settings.register_profile("ci", max_examples=120, **COMMON)
settings.register_profile("dev", max_examples=40, **COMMON)
PROFILE = "ci" if os.environ.get("CI") else "dev"
EXAMPLES = {"scenario": 1.0, "campaign": 0.5, "wta": 0.5, "record": 0.5}  # shares of the profile's budget


@pytest.mark.parametrize("kind", list(PROPERTIES))
def test_no_traceback_no_hang_and_a_located_error_for_every_file(kind: str) -> None:
    strategy, check = PROPERTIES[kind]
    budget = max(10, int(settings.get_profile(PROFILE).max_examples * EXAMPLES[kind]))
    seen: dict[str, int] = {}

    @settings(settings.get_profile(PROFILE), max_examples=budget)
    @given(strategy())
    def prop(text: str) -> None:
        outcome = check(text)
        seen[outcome] = seen.get(outcome, 0) + 1

    prop()
    assert "refused" in seen, seen  # the strategies do reach the error paths ...
    assert set(seen) - {"refused"}, seen  # ... and the valid files too


def test_the_strategies_found_these_once_and_they_stay_fixed() -> None:
    """Cases the fuzzer found while this was built, kept as plain regression tests."""
    from fuzzing import check_record_text

    assert check_scenario_text("name: x\ndescription: 2024-02-30\n") == "refused"
    assert check_scenario_text("name: [" * 300) == "refused"
    assert check_record_text("time_start,model,launched\n2024-01-01,Kalibr,1e400\n") == "refused"
    assert check_record_text("time_start,model,launched\n2024-01-01,Kalibr,10000000000\n") == "refused"
    assert check_record_text("time_start,model,launched\n2024-01-01,Kalibr," + "x" * 200_000 + "\n") == "refused"
