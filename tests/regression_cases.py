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
# (case id, point-defence units, threats scale, replications, seed): the shipped default theatre
# with notional extra units (benchmarks/national_speed.py's rule) and every mechanism on, a
# national raid of the record's mix: what the issue 18 speed work changed in the kernel must not
# move (pinned before that work)
THEATRE_CASES: list[tuple[str, int, float, int, int]] = [
    ("national-120-units", 120, 0.25, 48, 18),
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
    from shieldwall.scenario.load import load_scenario
    from shieldwall.scenario.model import Scenario

    scenario = load_scenario(EXAMPLES / example)
    if doctrine:
        data = scenario.model_dump(by_alias=True, exclude_unset=True)
        data["doctrine"] = {**data.get("doctrine", {}), **doctrine}
        scenario = Scenario.model_validate(data)
    return scenario_hash(scenario, replications, seed)


def theatre_scenario(units: int, scale: float) -> Any:
    """The shipped default theatre with notional extra point-defence units up to ``units``, every
    mechanism on, and one national night of the record's mix scaled by ``scale``
    (benchmarks/national_speed.py, which measures the same at full size)."""
    import tempfile

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from national_speed import NATIONAL_MIX, NATIONAL_NIGHT, national_theatre, night_scenario
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    from shieldwall.scenario.theatre import load_theatre

    theatre = national_theatre(load_theatre(), units, mechanisms=True, zones=True)
    mix = tuple((model, max(1, round(n * scale))) for model, n in NATIONAL_MIX)
    with tempfile.TemporaryDirectory() as folder:
        return night_scenario(theatre, mix, NATIONAL_NIGHT, folder)


def scenario_hash(scenario: Any, replications: int, seed: int) -> dict[str, str]:
    """The hashes of ``raid_hash`` for a scenario given as a model."""
    from shieldwall.engine.runner import run

    result = run(scenario, replications=replications, seed=seed)
    ints = np.concatenate([np.asarray(getattr(result, name)).reshape(-1).astype(np.int64)
                           for name in ("killed", "leaked", "expired", "rounds", "hits", "remaining")])
    return {"summary": _digest(json.dumps(result.summary(), indent=2) + "\n"),
            "outcomes": hashlib.sha256(ints.tobytes()).hexdigest(),
            "events": _digest(result.events_frame().to_csv(index=False))}


def campaign_hash(example: str, replications: int, seed: int) -> dict[str, str]:
    """sha256 of campaign.json's text, with the paths it names (the campaign file, a built-in
    generator's file) relative to the examples and the installed package: the same results
    give the same hash wherever the project is checked out or installed."""
    import shieldwall
    from shieldwall.campaign import load_campaign, run_campaign

    result = run_campaign(load_campaign(EXAMPLES / example), replications=replications, seed=seed)
    text = json.dumps(result.summary(), indent=2, default=str) + "\n"
    for folder, name in ((Path(shieldwall.__file__).resolve().parent, "<shieldwall>"), (EXAMPLES, "<examples>")):
        text = text.replace(json.dumps(str(folder))[1:-1], name)
    return {"summary": _digest(text)}


def all_hashes() -> dict[str, dict[str, str]]:
    out = {case: raid_hash(ex, n, s, d) for case, ex, n, s, d in RAID_CASES}
    out.update({case: scenario_hash(theatre_scenario(u, x), n, s) for case, u, x, n, s in THEATRE_CASES})
    out.update({case: campaign_hash(ex, n, s) for case, ex, n, s in CAMPAIGN_CASES})
    return out


if __name__ == "__main__":
    hashes = all_hashes()
    if "--write" in sys.argv:
        HASHES.write_text(json.dumps(hashes, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(hashes, indent=2, sort_keys=True))
