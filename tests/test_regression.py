"""Results pinned from before the engine's refactor (issue 16): every example, several seeds and
doctrine variants give byte-identical summary.json, per-replication outcomes and replay event
log. A change meant to move results updates tests/data/regression_hashes.json on purpose
(``python tests/regression_cases.py --write``) and says why in its commit."""

from __future__ import annotations

import json

import pytest

from regression_cases import (CAMPAIGN_CASES, HASHES, RAID_CASES, THEATRE_CASES, campaign_hash, raid_hash,
                              scenario_hash, theatre_scenario)

PINNED = json.loads(HASHES.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case, example, replications, seed, doctrine", RAID_CASES, ids=[c[0] for c in RAID_CASES])
def test_raid_results_are_unchanged(case, example, replications, seed, doctrine) -> None:  # type: ignore[no-untyped-def]
    assert raid_hash(example, replications, seed, doctrine) == PINNED[case]


@pytest.mark.parametrize("case, units, scale, replications, seed", THEATRE_CASES, ids=[c[0] for c in THEATRE_CASES])
def test_national_theatre_results_are_unchanged(case, units, scale, replications, seed) -> None:  # type: ignore[no-untyped-def]
    """The national theatre with every mechanism on (detection, C2, ballistic, EW zones, area
    defences) and more batteries than any example: the kernel paths the issue 18 speed work
    changed (reloads, window scans) give the bytes they gave before it."""
    assert scenario_hash(theatre_scenario(units, scale), replications, seed) == PINNED[case]


@pytest.mark.parametrize("case, example, replications, seed", CAMPAIGN_CASES, ids=[c[0] for c in CAMPAIGN_CASES])
def test_campaign_results_are_unchanged(case, example, replications, seed) -> None:  # type: ignore[no-untyped-def]
    assert campaign_hash(example, replications, seed) == PINNED[case]
