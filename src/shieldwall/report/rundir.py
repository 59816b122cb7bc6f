"""A run folder as the report and the web app read it: whichever of summary.json,
scenario.json, events.parquet and campaign.json are there."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shieldwall.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from shieldwall.scenario.model import Scenario

RUN_FILES = ("summary.json", "campaign.json")


@dataclass
class RunFolder:
    path: Path
    summary: dict[str, Any] | None
    campaign: dict[str, Any] | None
    scenario: "Scenario | None"
    scenario_note: str | None  # why there is no scenario (no map), when there is none
    events: "pd.DataFrame | None"
    tracks: "pd.DataFrame | None" = None  # replication 0's threat paths (tracks.parquet)

    @property
    def name(self) -> str:
        campaign = self.campaign or {}
        return ((self.summary or {}).get("scenario") or campaign.get("campaign") or campaign.get("scenario")
                or self.path.name)

    @property
    def seed(self) -> int:
        for source in (self.summary, self.campaign):
            if source and isinstance(source.get("seed"), int):
                return int(source["seed"])
        if self.scenario is not None and self.scenario.seed is not None:
            return int(self.scenario.seed)
        return 0


def is_run_folder(path: Path) -> bool:
    return path.is_dir() and any((path / name).is_file() for name in RUN_FILES)


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object")
    return data


def load_run(path: str | Path, scenario_file: str | Path | None = None) -> RunFolder:
    """Read a run folder; ``scenario_file`` stands in for a missing scenario.json (older runs)."""
    folder = Path(path)
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such run folder")
    summary = _read_json(folder / "summary.json")
    campaign = _read_json(folder / "campaign.json")
    if summary is None and campaign is None:
        raise UsageError(f"{folder}: not a run folder (no summary.json or campaign.json); "
                         "write one with `shieldwall run SCENARIO --out FOLDER`")
    scenario, note = None, None
    from shieldwall.errors import ScenarioError
    from shieldwall.scenario.load import load_scenario

    source = Path(scenario_file) if scenario_file is not None else folder / "scenario.json"
    if source.is_file():
        try:
            scenario = load_scenario(source)
        except ScenarioError as exc:
            if scenario_file is not None:
                raise
            note = f"scenario.json does not load ({exc.problems[0].message if exc.problems else exc})"
    else:
        note = ("this run folder has no scenario.json (written by shieldwall 0.1 and later); "
                "pass --scenario FILE to draw the map")
    events = None
    if (folder / "events.parquet").is_file():
        import pandas as pd

        import numpy as np

        events = pd.read_parquet(folder / "events.parquet")
        # an event without a finite time (a shot still in flight when its target leaked) has no
        # place on a timeline or a slider
        events = events[np.isfinite(events.time_s.to_numpy(float))].reset_index(drop=True)
    tracks = None
    if (folder / "tracks.parquet").is_file():
        import pandas as pd

        tracks = pd.read_parquet(folder / "tracks.parquet")
    return RunFolder(folder, summary, campaign, scenario, note, events, tracks)
