"""The runs whose results are pinned in tests/data/regression_hashes.json (see
test_regression.py): every example, several seeds and doctrine variants. The hashes were taken
before the engine's refactor (issue 16) and stay as a regression test: a change that moves any
result, by one replication or one ulp, must say so by updating them on purpose
(``python tests/regression_cases.py --write``)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
HASHES = ROOT / "tests" / "data" / "regression_hashes.json"

# (case id, example file, replications, seed, doctrine changes)
RAID_CASES: list[tuple[str, str, int, int, dict[str, Any]]] = [
    ("small-s1", "small.yaml", 300, 1, {}),
    ("small-s2", "small.yaml", 300, 2, {}),
    ("small-local-search", "small.yaml", 200, 3, {"policy": "local-search"}),
    ("small-cost-weight", "small.yaml", 300, 4, {"cost_weight": 1e-6}),
    ("city-defence", "city-defence.yaml", 200, 2024, {}),
    ("city-defence-salvo1-sls3", "city-defence.yaml", 150, 5, {"salvo": 1, "max_engagements": 3}),
    ("city-defence-dt10", "city-defence.yaml", 150, 6, {"decision_interval_s": 10, "assess_s": 30}),
    ("massive-raid", "massive-raid.yaml", 64, 7, {}),
]
CAMPAIGN_CASES: list[tuple[str, str, int, int]] = [
    ("campaign-winter", "campaign-winter.yaml", 16, 2024),
    ("campaign-winter-no-purchase", "campaign-winter-no-purchase.yaml", 16, 1),
]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def raid_hash(example: str, replications: int, seed: int, doctrine: dict[str, Any]) -> dict[str, str]:
    """sha256 of summary.json's text, of the per-replication integer outcomes and of the event
    log of replication 0."""
    from shieldwall.engine.runner import run
    from shieldwall.scenario.load import load_scenario
    from shieldwall.scenario.model import Scenario

    scenario = load_scenario(EXAMPLES / example)
    if doctrine:
        data = scenario.model_dump(by_alias=True, exclude_unset=True)
        data["doctrine"] = {**data.get("doctrine", {}), **doctrine}
        scenario = Scenario.model_validate(data)
    result = run(scenario, replications=replications, seed=seed)
    ints = np.concatenate([np.asarray(getattr(result, name)).reshape(-1).astype(np.int64)
                           for name in ("killed", "leaked", "expired", "rounds", "hits", "remaining")])
    return {"summary": _digest(json.dumps(result.summary(), indent=2) + "\n"),
            "outcomes": hashlib.sha256(ints.tobytes()).hexdigest(),
            "events": _digest(result.events_frame().to_csv(index=False))}


def campaign_hash(example: str, replications: int, seed: int) -> dict[str, str]:
    from shieldwall.campaign import load_campaign, run_campaign

    result = run_campaign(load_campaign(EXAMPLES / example), replications=replications, seed=seed)
    summary = {**result.summary(), "file": example}  # not this checkout's path
    return {"summary": _digest(json.dumps(summary, indent=2, default=str) + "\n")}


def all_hashes() -> dict[str, dict[str, str]]:
    out = {case: raid_hash(ex, n, s, d) for case, ex, n, s, d in RAID_CASES}
    out.update({case: campaign_hash(ex, n, s) for case, ex, n, s in CAMPAIGN_CASES})
    return out


if __name__ == "__main__":
    hashes = all_hashes()
    if "--write" in sys.argv:
        HASHES.write_text(json.dumps(hashes, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(hashes, indent=2, sort_keys=True))
