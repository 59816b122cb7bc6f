"""``shieldwall validate`` and ``shieldwall schema``: check a scenario file without running it,
and publish the JSON Schema that lets editors complete and check scenario files as they type."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from shieldwall.errors import UsageError
from shieldwall.scenario.load import load_scenario
from shieldwall.scenario.model import Scenario

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "scenario.schema.json"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_TITLE = "shieldwall scenario"


def validate_command(path: Path) -> None:
    """Print a one-line summary of a valid scenario or campaign file; a ScenarioError propagates
    to the CLI, which prints every problem and exits 2."""
    from shieldwall.campaign.load import is_campaign_file, load_campaign
    from shieldwall.scenario.theatre import is_theatre_file, load_theatre

    if is_theatre_file(path):
        theatre = load_theatre(path)
        summary = (f" {path} is a valid theatre — {_count(len(theatre.model.regions), 'region')}, "
                   f"{_count(len(theatre.assets()), 'asset')}, {_count(len(theatre.batteries()), 'unit')}, "
                   f"{_count(len(theatre.model.launch_areas), 'launch area')}")
        Console(highlight=False, soft_wrap=True).print(Text.assemble(("ok:", "bold green"), summary))
        return
    if is_campaign_file(path):
        loaded = load_campaign(path)
        summary = (f" {path} is a valid campaign — {_count(loaded.campaign.nights, 'night')}, "
                   f"{_count(len(loaded.batteries), 'battery')}, {_count(len(loaded.campaign.deliveries), 'delivery')}")
        Console(highlight=False, soft_wrap=True).print(Text.assemble(("ok:", "bold green"), summary))
        return
    scenario = load_scenario(path)
    threats = sum(raid.count + (raid.decoys.count if raid.decoys else 0) for raid in scenario.raids)
    counts = ", ".join(
        _count(len(items), noun)
        for items, noun in (
            (scenario.assets, "asset"),
            (scenario.radars, "radar"),
            (scenario.batteries, "battery"),
            (scenario.raids, "raid"),
        )
    )
    summary = f" {path} is valid — {counts} ({_count(threats, 'threat')} incl. decoys)"
    Console(highlight=False, soft_wrap=True).print(Text.assemble(("ok:", "bold green"), summary))


def _count(n: int, noun: str) -> str:
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{n} {noun if n == 1 else plural}"


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files, keyed as files write them (``class``, not
    ``threat_class``)."""
    schema = Scenario.model_json_schema(by_alias=True)
    schema["$schema"] = SCHEMA_DIALECT
    schema["title"] = SCHEMA_TITLE
    schema["description"] = "A shieldwall raid scenario (YAML or JSON)."
    return schema


def schema_text() -> str:
    """Stable text (sorted keys, final newline) so the committed copy diffs cleanly."""
    return json.dumps(scenario_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_command(out: Path | None, kind: str = "scenario") -> None:
    """Print the schema (of scenario or theatre files), or write it to ``out``."""
    if kind not in ("scenario", "theatre"):
        raise UsageError(f"--kind must be scenario or theatre, got {kind!r}")
    if kind == "theatre":
        from shieldwall.scenario.theatre import theatre_schema

        text = json.dumps(theatre_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    else:
        text = schema_text()
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    Console(highlight=False, soft_wrap=True).print(Text(f"wrote {out}"))
