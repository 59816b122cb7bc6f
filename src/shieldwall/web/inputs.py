"""What the web app runs: a raid scenario or a campaign, from the editor's text or from a run
folder, checked once and passed to a job as one self-contained JSON payload.

A campaign's text may name files (its theatre's scenario, a generator): in the app they are
relative to the examples folder, as the examples' own campaigns write them. Once checked, a
campaign is written out self-contained (campaign.load.self_contained), so a job, a run folder's
``campaign-input.yaml`` and a comparison never look for those files again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shieldwall.errors import Problem, ScenarioError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from shieldwall.campaign.load import LoadedCampaign
    from shieldwall.scenario.model import Scenario


@dataclass
class Checked:
    kind: str  # "raid" or "campaign"
    value: "Scenario | LoadedCampaign"
    warnings: list[Problem] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.value.name if self.kind == "raid" else self.value.campaign.name  # type: ignore[union-attr]

    @property
    def steps(self) -> int:
        """What a run's progress counts per replication: 1 (a raid), or the campaign's nights."""
        return 1 if self.kind == "raid" else int(self.value.nights)  # type: ignore[union-attr]

    def payload(self, label: str = "") -> dict[str, Any]:
        return input_payload(self.value, label)


def check_text(text: str, file: str, base_dir: Path) -> Checked:
    """The text as a raid scenario, or as a campaign when it has a top-level ``nights:`` key
    (files it names are looked for in ``base_dir``); a ScenarioError lists what is wrong."""
    from shieldwall.scenario.checks import scenario_warnings
    from shieldwall.scenario.yaml_source import parse_yaml

    source = parse_yaml(text, file)
    if isinstance(source.data, Mapping) and "nights" in source.data:
        from shieldwall.campaign.load import build_campaign

        _files_inside(source, base_dir)
        loaded = build_campaign(source, base_dir)
        return Checked("campaign", loaded, _theatre_warnings(scenario_warnings(loaded.theatre)))
    from shieldwall.scenario.load import scenario_from_source

    scenario = scenario_from_source(source)
    return Checked("raid", scenario, scenario_warnings(scenario, source.source_map))


# the keys of a campaign that name a file to read (campaign/load.py), by field path
CAMPAIGN_FILE_KEYS = (("theatre", "scenario"), ("generator", "file"))


def _files_inside(source: Any, base_dir: Path) -> None:
    """A campaign sent to the app may name only files inside ``base_dir`` (the examples, or a run
    folder): an absolute path or ``../`` once had the server read any file it could (/etc/passwd)
    and quote its first line back as the problem's "found" (issue 19: the app trusts nobody)."""
    base = base_dir.resolve()
    problems = []
    for section, key in CAMPAIGN_FILE_KEYS:
        block = source.data.get(section)
        value = block.get(key) if isinstance(block, Mapping) else None
        if not isinstance(value, str):
            continue  # absent, or of the wrong type: the campaign's own checks say so
        try:
            inside = (base / value).resolve().is_relative_to(base)
        except (OSError, ValueError, RuntimeError):
            inside = False
        if not inside:
            problems.append(source.source_map.problem(
                (section, key), "the web app reads no file outside its examples folder",
                expected="a file name inside the examples folder, such as city-defence.yaml", found=value[:200]))
    if problems:
        raise ScenarioError(source.file, problems)


def _theatre_warnings(found: list[Problem]) -> list[Problem]:
    for p in found:
        p.path = "theatre." + p.path if p.path else "theatre"
        p.line = p.column = None  # they point into the theatre's scenario, not this text
    return found


def input_payload(value: "Scenario | LoadedCampaign", label: str = "") -> dict[str, Any]:
    """A checked scenario or campaign as JSON a job can load (load_input) with no other file."""
    from shieldwall.campaign.load import LoadedCampaign

    if isinstance(value, LoadedCampaign):
        from shieldwall.campaign.results import campaign_input_text

        return {"kind": "campaign", "text": campaign_input_text(value), "label": label}
    return {"kind": "raid", "scenario": value.model_dump(mode="json", by_alias=True), "label": label}


def load_input(payload: Mapping[str, Any]) -> "Scenario | LoadedCampaign":
    if payload.get("kind") == "campaign":
        from shieldwall.campaign.load import build_campaign
        from shieldwall.scenario.yaml_source import parse_yaml

        return build_campaign(parse_yaml(str(payload["text"]), "campaign-input.yaml"), Path("."))
    from shieldwall.scenario.model import Scenario

    return Scenario.model_validate(payload["scenario"])


def run_input(folder: Path) -> Checked:
    """What a finished run folder ran: its scenario.json, or its campaign-input.yaml."""
    from shieldwall.campaign.results import CAMPAIGN_INPUT

    try:
        if (folder / "campaign.json").is_file():
            if not (folder / CAMPAIGN_INPUT).is_file():
                raise UsageError(f"run {folder.name!r} is a campaign from before runs kept their campaign "
                                 f"({CAMPAIGN_INPUT}): run it again to compare it")
            text = (folder / CAMPAIGN_INPUT).read_text(encoding="utf-8")
            return check_text(text, f"{folder.name}/{CAMPAIGN_INPUT}", folder)
        if not (folder / "scenario.json").is_file():
            raise UsageError(f"run {folder.name!r} has no scenario.json (an older run): run it again to compare it")
        text = (folder / "scenario.json").read_text(encoding="utf-8")
        return check_text(text, f"{folder.name}/scenario.json", folder)
    except ScenarioError as exc:
        raise UsageError(f"run {folder.name!r}: what it ran no longer loads ({exc})") from None
