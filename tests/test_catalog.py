"""The built-in catalog: valid, unambiguous, every number sourced, and shown by the CLI.

These tests guard the data file (builtin.yaml) as much as the code: a new entry without a
source, a pk keyed by a misspelt threat id, or a system naming a missing interceptor fails here.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from shieldwall.catalog.builtin import BUILTIN_PATH, builtin_catalog
from shieldwall.catalog.model import CATALOG_SECTIONS as KINDS
from shieldwall.catalog.model import THREAT_CLASSES, Catalog, InterceptorType, ThreatType
from shieldwall.cli.main import app

DOCS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "catalog.md"

REQUIRED_IDS: dict[str, set[str]] = {
    "interceptors": {"pac2-gem-t", "pac3-mse", "iris-t", "amraam", "ahead-35mm", "gepard-35mm"},
    "systems": {"patriot", "iris-t-slm", "nasams", "skynex", "gepard"},
    "radars": {"ew-radar"},
    "threats": {
        "shahed-136", "gerbera-decoy", "kh-101", "kalibr", "iskander-m", "kn-23", "kinzhal", "kh-22",
    },
}

# A cited source names a page: something that looks like a domain (tech.wp.pl, ibtimes.com ...).
DOMAIN = re.compile(r"[a-z0-9-]+\.[a-z]{2,}", re.IGNORECASE)


class _DuplicateKeyLoader(yaml.SafeLoader):
    """yaml.safe_load keeps the last of two equal keys silently; a duplicate id must fail."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    keys = [loader.construct_object(key_node, deep=deep) for key_node, _ in node.value]
    duplicates = [key for key, count in Counter(keys).items() if count > 1]
    if duplicates:
        raise yaml.constructor.ConstructorError(None, None, f"duplicate keys {duplicates}", node.start_mark)
    return loader.construct_mapping(node, deep=deep)


_DuplicateKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    with BUILTIN_PATH.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_DuplicateKeyLoader)  # noqa: S506 - SafeLoader subclass


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return builtin_catalog()


def all_entries(catalog: Catalog) -> list[tuple[str, str, BaseModel]]:
    return [(kind, entry_id, entry) for kind in KINDS for entry_id, entry in getattr(catalog, kind).items()]


def is_numeric(value: Any) -> bool:
    """Numbers and number maps (pk) need a source; text, flags and id lists do not."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, dict) and bool(value) and all(is_numeric(v) for v in value.values())


def entry_params() -> list[Any]:
    entries = all_entries(builtin_catalog())
    return [pytest.param(kind, entry_id, entry, id=entry_id) for kind, entry_id, entry in entries]


# --- validity and ids --------------------------------------------------------------------------


def test_builtin_catalog_validates(raw: dict[str, Any]) -> None:
    Catalog.model_validate(raw)  # strict models: unknown keys and bad values raise
    assert set(raw) <= set(KINDS)


def test_the_builtin_catalog_reads_the_same_with_either_yaml_parser(raw: dict[str, Any]) -> None:
    """builtin_catalog parses with libyaml where PyYAML has it: the same data as the Python
    parser, value for value and type for type."""
    text = BUILTIN_PATH.read_text(encoding="utf-8")
    python = yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506
    assert python == raw and repr(python) == repr(raw)
    if getattr(yaml, "CSafeLoader", None) is not None:
        assert repr(yaml.load(text, Loader=yaml.CSafeLoader)) == repr(python)  # noqa: S506
    assert builtin_catalog() == Catalog.model_validate(python)


def test_ids_unique_across_kinds(raw: dict[str, Any]) -> None:
    counts = Counter(entry_id for kind in KINDS for entry_id in raw.get(kind, {}))
    assert [entry_id for entry_id, n in counts.items() if n > 1] == []


def test_required_ids_exist(catalog: Catalog) -> None:
    for kind, ids in REQUIRED_IDS.items():
        missing = ids - set(getattr(catalog, kind))
        assert not missing, f"{kind} missing {sorted(missing)}"


def test_kind_of_finds_every_id(catalog: Catalog) -> None:
    for kind, entry_id, _ in all_entries(catalog):
        assert catalog.kind_of(entry_id) == kind


# --- sources -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "entry_id", "entry"), entry_params())
def test_every_number_has_a_source(kind: str, entry_id: str, entry: BaseModel) -> None:
    missing = [
        name
        for name in type(entry).model_fields
        if is_numeric(getattr(entry, name)) and not entry.sources.get(name, "").strip()  # type: ignore[attr-defined]
    ]
    assert missing == [], f"{entry_id}: numbers without a source"


@pytest.mark.parametrize(("kind", "entry_id", "entry"), entry_params())
def test_numbers_with_defaults_are_set_explicitly(kind: str, entry_id: str, entry: BaseModel) -> None:
    """A default (rcs 1 m2, reliability 1, min range 0) silently shapes results; write it down."""
    implicit = [
        name
        for name, info in type(entry).model_fields.items()
        if is_numeric(info.get_default(call_default_factory=True)) and name not in entry.model_fields_set
    ]
    assert implicit == [], f"{entry_id}: numeric fields left at their default"


@pytest.mark.parametrize(("kind", "entry_id", "entry"), entry_params())
def test_sources_name_real_fields(kind: str, entry_id: str, entry: BaseModel) -> None:
    fields = type(entry).model_fields
    names = set(fields) | {info.alias for info in fields.values() if info.alias}
    unknown = set(entry.sources) - names  # type: ignore[attr-defined]
    assert unknown == set(), f"{entry_id}: sources for fields that do not exist"


@pytest.mark.parametrize(("kind", "entry_id", "entry"), entry_params())
def test_sources_are_pages_or_reasoned_assumptions(kind: str, entry_id: str, entry: BaseModel) -> None:
    for name, source in entry.sources.items():  # type: ignore[attr-defined]
        if source.startswith("assumption"):
            assert re.match(r"assumption: \S.{10,}", source), f"{entry_id}.{name}: assumption without a reason"
        else:
            assert DOMAIN.search(source), f"{entry_id}.{name}: source names no page: {source!r}"


@pytest.mark.parametrize("entry_id", sorted(builtin_catalog().interceptors))
def test_pk_is_always_an_assumption(entry_id: str) -> None:
    assert builtin_catalog().interceptors[entry_id].sources["pk"].startswith("assumption: ")


# --- consistency -------------------------------------------------------------------------------


def test_systems_fire_known_interceptors(catalog: Catalog) -> None:
    for system_id, system in catalog.systems.items():
        unknown = set(system.interceptors) - set(catalog.interceptors)
        assert not unknown, f"{system_id} fires unknown interceptors {sorted(unknown)}"


def test_every_interceptor_belongs_to_a_system(catalog: Catalog) -> None:
    fired = {i for system in catalog.systems.values() for i in system.interceptors}
    assert set(catalog.interceptors) <= fired


def test_threat_flight_parameters(catalog: Catalog) -> None:
    for threat_id, threat in catalog.threats.items():
        if threat.threat_class in ("drone", "cruise"):
            assert threat.speed_mps is not None and threat.altitude_m is not None, threat_id
        else:
            assert threat.apogee_km is not None, threat_id


def test_pk_keys_are_classes_or_threat_ids(catalog: Catalog) -> None:
    allowed = set(THREAT_CLASSES) | set(catalog.threats)
    for interceptor_id, interceptor in catalog.interceptors.items():
        assert interceptor.pk, interceptor_id
        assert set(interceptor.pk) <= allowed, f"{interceptor_id}: {set(interceptor.pk) - allowed}"


def _can_engage(interceptor: InterceptorType, threat_id: str, threat: ThreatType) -> bool:
    pk = interceptor.pk.get(threat_id, interceptor.pk.get(threat.threat_class, 0.0))
    if pk <= 0:
        return False
    if threat.altitude_m is None:  # ballistic: crosses every altitude band on the way down
        return True
    return interceptor.min_altitude_m <= threat.altitude_m <= interceptor.max_altitude_m


def test_every_threat_can_be_engaged_by_something(catalog: Catalog) -> None:
    """A threat no built-in interceptor can reach is almost always a typo in an altitude."""
    for threat_id, threat in catalog.threats.items():
        assert any(_can_engage(i, threat_id, threat) for i in catalog.interceptors.values()), threat_id


def test_interceptor_envelopes_are_physical(catalog: Catalog) -> None:
    for interceptor_id, i in catalog.interceptors.items():
        assert i.min_range_km < i.max_range_km, interceptor_id
        assert i.min_altitude_m < i.max_altitude_m, interceptor_id
        assert 300 <= i.speed_mps <= 3000, f"{interceptor_id}: average fly-out speed"
        assert i.cost_usd > 0, interceptor_id
        if i.kind == "gun":
            assert i.rounds_per_shot > 1, f"{interceptor_id}: a gun shot is a burst"
            assert i.max_altitude_m <= 4000 and i.max_range_km <= 6, interceptor_id
            assert "ballistic" not in i.pk, interceptor_id
        else:
            assert i.rounds_per_shot == 1, interceptor_id


def test_threat_numbers_are_physical(catalog: Catalog) -> None:
    for threat_id, t in catalog.threats.items():
        assert t.cost_usd > 0, threat_id
        if t.threat_class == "drone":
            assert 20 <= t.speed_mps <= 150 and t.altitude_m <= 6000, threat_id  # type: ignore[operator]
        if t.threat_class == "cruise":
            assert 150 <= t.speed_mps <= 1500, threat_id  # type: ignore[operator]
        if t.threat_class == "ballistic":
            assert 20 <= t.apogee_km <= 150, threat_id  # type: ignore[operator]


def test_brief_specific_values(catalog: Catalog) -> None:
    patriot = catalog.systems["patriot"]
    assert set(patriot.interceptors) == {"pac2-gem-t", "pac3-mse"}
    assert patriot.rounds_per_launcher == 4
    assert catalog.interceptors["pac3-mse"].rounds_per_launcher == 12
    assert catalog.interceptors["ahead-35mm"].kind == "gun"
    assert catalog.interceptors["gepard-35mm"].kind == "gun"
    assert catalog.systems["gepard"].rounds_per_launcher == 640
    assert catalog.threats["gerbera-decoy"].decoy
    assert catalog.threats["gerbera-decoy"].cost_usd < catalog.threats["shahed-136"].cost_usd
    for ballistic in ("iskander-m", "kn-23", "kinzhal"):
        assert catalog.threats[ballistic].threat_class == "ballistic"
    assert catalog.threats["iskander-m"].apogee_km == pytest.approx(50, abs=10)
    assert "Ground Master 200" in (catalog.radars["ew-radar"].name or "")


# --- docs --------------------------------------------------------------------------------------


def test_docs_page_lists_every_entry(catalog: Catalog) -> None:
    text = DOCS_PAGE.read_text(encoding="utf-8")
    missing = [entry_id for _, entry_id, _ in all_entries(catalog) if f"`{entry_id}`" not in text]
    assert missing == []


# --- CLI ---------------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_lists_every_id(catalog: Catalog) -> None:
    result = runner.invoke(app, ["catalog"])
    assert result.exit_code == 0, result.output
    for _, entry_id, _ in all_entries(catalog):
        assert entry_id in result.output
    for kind in KINDS:
        assert kind.replace("_", " ").capitalize() in result.output


def test_cli_shows_entry_with_sources(catalog: Catalog) -> None:
    result = runner.invoke(app, ["catalog", "pac3-mse"])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "polygonjournal.com" in flat
    assert "assumption:" in flat
    for name in InterceptorType.model_fields:
        if name not in ("name", "notes", "sources"):
            assert name in flat, name


def test_cli_shows_threat_class_by_its_yaml_key() -> None:
    result = runner.invoke(app, ["catalog", "kh-22"])
    assert result.exit_code == 0, result.output
    assert re.search(r"\bclass\b.*\bcruise\b", result.output)


TYPOS = [("pac3mse", "pac3-mse"), ("shahed136", "shahed-136"), ("PATRIOT", "patriot")]


@pytest.mark.parametrize(("typo", "expected"), TYPOS)
def test_cli_unknown_id_suggests_and_exits_2(typo: str, expected: str) -> None:
    result = runner.invoke(app, ["catalog", typo])
    assert result.exit_code == 2
    flat = " ".join(result.output.split())
    assert typo in flat
    assert f"Did you mean '{expected}'" in flat
    assert "Known ids:" in flat and "kinzhal" in flat
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an escaped exception


def test_cli_unknown_id_with_markup_characters_is_a_clean_error() -> None:
    result = runner.invoke(app, ["catalog", "[/bold]x"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
