"""``shieldwall validate`` and ``shieldwall schema``: check a scenario or campaign file without
running it (what is wrong, and what looks wrong: scenario.checks.scenario_warnings), and publish
the JSON Schemas that let editors complete and check scenario and campaign files as they type."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from shieldwall.errors import UsageError
from shieldwall.report.console import printable
from shieldwall.scenario.checks import scenario_warnings
from shieldwall.scenario.model import Scenario

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "scenario.schema.json"
SCHEMA_KINDS = ("scenario", "campaign", "theatre")
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_TITLE = "shieldwall scenario"


def validate_command(path: Path) -> None:
    """Print a one-line summary of a valid scenario or campaign file; a ScenarioError propagates
    to the CLI, which prints every problem and exits 2."""
    from collections.abc import Mapping

    from shieldwall.campaign.load import build_campaign
    from shieldwall.scenario.load import scenario_from_source
    from shieldwall.scenario.theatre import build_theatre
    from shieldwall.scenario.yaml_source import read_yaml_file

    source = read_yaml_file(path)  # once: the path may be a pipe such as <(cat file)
    data = source.data if isinstance(source.data, Mapping) else {}
    if data.get("kind") == "theatre":
        theatre = build_theatre(source)
        summary = (f" {path} is a valid theatre — {_count(len(theatre.model.regions), 'region')}, "
                   f"{_count(len(theatre.assets()), 'asset')}, {_count(len(theatre.batteries()), 'unit')}, "
                   f"{_count(len(theatre.model.launch_areas), 'launch area')}")
        Console(highlight=False, soft_wrap=True).print(Text.assemble(("ok:", "bold green"), printable(summary)))
        return
    if "factors" in data or "tranches" in data:
        _validate_sweep_file(path, dict(data))
        return
    if "nights" in data:
        loaded = build_campaign(source, path.parent)
        summary = (f" {path} is a valid campaign — {_count(loaded.campaign.nights, 'night')}, "
                   f"{_count(len(loaded.batteries), 'battery')}, {_count(len(loaded.campaign.deliveries), 'delivery')}")
        Console(highlight=False, soft_wrap=True).print(Text.assemble(("ok:", "bold green"), printable(summary)))
        _print_warnings(path, scenario_warnings(loaded.theatre), "the theatre: ")
        return
    scenario = scenario_from_source(source)
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
    Console(highlight=False, soft_wrap=True).print(Text.assemble(("ok:", "bold green"), printable(summary)))
    _print_warnings(path, scenario_warnings(scenario, source.source_map))


def _print_warnings(path: Path, warnings: list[Any], prefix: str = "") -> None:
    """Valid, but almost certainly not what was meant: said after the ok, with its place."""
    console = Console(highlight=False, soft_wrap=True, stderr=True)
    for w in warnings:
        console.print(Text("warning: ", style="bold yellow") + Text(printable(prefix + w.render(str(path)))))


def _validate_sweep_file(path: Path, data: dict[str, Any]) -> None:
    """Sweep files (``factors:``) and allocation files (``tranches:``), with their bases."""
    if "factors" in data:
        from shieldwall.sweep.design import design_size
        from shieldwall.sweep.spec import load_sweep

        loaded = load_sweep(path)
        summary = (f" {path} is a valid sweep — {_count(design_size(loaded.spec), 'point')} x "
                   f"{loaded.spec.replications} replications of {loaded.spec.base} ({loaded.kind})")
    else:
        from shieldwall.sweep.allocate import load_allocation

        allocation = load_allocation(path)
        noun = "region" if allocation.by_region else "site" if allocation.kind == "batteries" else "recipient"
        summary = (f" {path} is a valid allocation — {allocation.total} {allocation.what} over "
                   f"{_count(len(allocation.arms), noun)} and {_count(len(allocation.spec.tranches), 'tranche')}")
    Console(highlight=False, soft_wrap=True).print(Text.assemble(("ok:", "bold green"), summary))


def _count(n: int, noun: str) -> str:
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{n} {noun if n == 1 else plural}"


def scenario_schema(kind: str = "scenario") -> dict[str, Any]:
    """The JSON Schema of scenario (or campaign) files, keyed as files write them (``class``,
    not ``threat_class``)."""
    from shieldwall.campaign.model import Campaign

    model = Campaign if kind == "campaign" else Scenario
    schema = model.model_json_schema(by_alias=True)
    _partial_builtin_entries(schema)
    schema["$schema"] = SCHEMA_DIALECT
    schema["title"] = SCHEMA_TITLE if kind == "scenario" else f"shieldwall {kind}"
    schema["description"] = ("A shieldwall raid scenario (YAML or JSON)." if kind == "scenario" else
                             "A shieldwall campaign: many nights of raids on one theatre (YAML or JSON).")
    return schema


def _partial_builtin_entries(schema: dict[str, Any]) -> None:
    """A catalog entry that names a built-in id may give only the keys it changes (``pac3-mse:
    {pk: {ballistic: 0.6}}``): such ids get an override shape with nothing required, and the
    pattern for new ids leaves them out (both would apply to a key otherwise)."""
    from shieldwall.catalog.builtin import builtin_catalog

    defs, catalog = schema["$defs"], builtin_catalog()
    for section, spec in defs["Catalog"]["properties"].items():
        ids = sorted(getattr(catalog, section))
        (pattern, entry), = spec["patternProperties"].items()
        name = entry["$ref"].rsplit("/", 1)[1]
        override = {k: v for k, v in defs[name].items() if k != "required"}
        override["title"] = f"{name} override"
        override["description"] = f"A built-in {section[:-1]} with only the keys that change."
        defs[f"{name}Override"] = override
        others = "|".join(i.replace(".", "\\.") for i in ids)
        spec["patternProperties"] = {f"^(?!(?:{others})$)" + pattern[1:]: entry}
        spec["properties"] = {i: {"$ref": f"#/$defs/{name}Override"} for i in ids}


def schema_text(kind: str = "scenario") -> str:
    """Stable text (sorted keys, final newline) so the committed copy diffs cleanly."""
    return json.dumps(scenario_schema(kind), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_command(out: Path | None, kind: str = "scenario") -> None:
    """Print the schema of ``kind`` (scenario, campaign or theatre), or write it to ``out``."""
    if kind not in SCHEMA_KINDS:
        raise UsageError(f"no schema for {kind!r}: there is one for {', '.join(SCHEMA_KINDS)}")
    if kind == "theatre":
        from shieldwall.scenario.theatre import theatre_schema

        text = json.dumps(theatre_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    else:
        text = schema_text(kind)
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    Console(highlight=False, soft_wrap=True).print(Text(printable(f"wrote {out}")))
