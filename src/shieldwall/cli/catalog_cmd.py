"""``shieldwall catalog [ID]``: list the built-in catalog, or show one entry with its sources.

Rendering is generic over the pydantic fields of each entry type, so a field added to the
catalog model shows up here without touching this module; only the choice of the few columns
in the overview tables is per kind.
"""

from __future__ import annotations

import difflib
from typing import Any, Literal

from pydantic import BaseModel
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from shieldwall.catalog.builtin import builtin_catalog
from shieldwall.catalog.model import CATALOG_SECTIONS, Catalog
from shieldwall.errors import CatalogError

KINDS: tuple[str, ...] = CATALOG_SECTIONS
# each section's entry model, read off the catalog model: a new section is listed without a change here
KIND_MODELS: dict[str, type[BaseModel]] = {
    kind: Catalog.model_fields[kind].annotation.__args__[1] for kind in CATALOG_SECTIONS}  # type: ignore[union-attr]

# The numbers a reader compares across entries of one kind; everything else is in the detail view.
SUMMARY_FIELDS: dict[str, tuple[str, ...]] = {
    "interceptors": ("kind", "max_range_km", "max_altitude_m", "pk", "cost_usd"),
    "systems": ("interceptors", "fire_channels", "launchers", "rounds_per_launcher", "reload_s"),
    "radars": ("range_km", "height_m"),
    "threats": ("threat_class", "speed_mps", "altitude_m", "apogee_km", "rcs_m2", "cost_usd"),
    "area_defences": ("kind", "reach_km", "engage_probability", "attempts_per_min", "pk", "cost_usd"),
    "acoustic_sensors": ("detect_range_km", "detect_probability", "max_altitude_m", "report_latency_s", "cost_usd"),
}

# Width when writing to a pipe or file, where rich would otherwise assume 80 columns and squeeze
# the overview tables; a terminal keeps its own width.
PIPE_WIDTH = 120

# Field-name suffixes that are units; the overview puts them in the column header.
UNIT_SUFFIXES: dict[str, str] = {"km": "km", "m": "m", "mps": "m/s", "m2": "m²", "usd": "$", "s": "s"}

# Shown above the table in the detail view rather than as rows.
HEADER_FIELDS: frozenset[str] = frozenset({"name", "notes", "sources"})


def catalog_command(entry_id: str | None) -> None:
    """Print the overview, or one entry; an unknown id is a user mistake (CatalogError)."""
    catalog = builtin_catalog()
    console = make_console()
    if entry_id is None:
        for kind in KINDS:
            console.print(summary_table(catalog, kind))
        console.print("Show one entry with its sources: shieldwall catalog ID", markup=False)
        return
    kind = catalog.kind_of(entry_id)
    if kind is None:
        raise unknown_id_error(entry_id, catalog)
    entry = getattr(catalog, kind)[entry_id]
    print_entry(console, entry_id, kind, entry)


def make_console() -> Console:
    """Terminal width on a terminal; a fixed, wide-enough width when piped (tests, files)."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=PIPE_WIDTH)
    return console


def all_ids(catalog: Catalog) -> list[str]:
    """Every id of every kind; ids are unique across kinds, so one flat list suffices."""
    return sorted(entry_id for kind in KINDS for entry_id in getattr(catalog, kind))


def unknown_id_error(entry_id: str, catalog: Catalog) -> CatalogError:
    """Name the bad id, suggest the closest ones (typos like 'pac3mse') and list the rest."""
    known = all_ids(catalog)
    close = difflib.get_close_matches(entry_id.lower(), known, n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    # The CLI prints messages as rich markup; a user-typed id must not be read as a tag.
    return CatalogError(f"unknown catalog id {escape(repr(entry_id))}.{hint} Known ids: {', '.join(known)}")


def field_label(model: type[BaseModel], field_name: str) -> str:
    """The key a user writes in YAML (e.g. ``class``), not the Python attribute name."""
    info = model.model_fields[field_name]
    return info.alias or field_name


def format_value(value: Any) -> str:
    """Compact, unit-free text: thousands separators for big numbers, pk maps on one line."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if float(value).is_integer():
            return f"{int(value):,}"
        return f"{value:g}"
    if isinstance(value, dict):
        return ", ".join(f"{key} {format_value(val)}" for key, val in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(item) for item in value)
    return str(value)


def column_header(model: type[BaseModel], field_name: str) -> str:
    """Short, wrappable header for the overview: 'max_range_km' -> 'max range (km)'."""
    label = field_label(model, field_name)
    stem, _, suffix = label.rpartition("_")
    if stem and suffix in UNIT_SUFFIXES:
        return f"{stem.replace('_', ' ')} ({UNIT_SUFFIXES[suffix]})"
    return label.replace("_", " ")


def format_compact(value: Any) -> str:
    """Overview cells must fit an 80-column terminal: 4,000,000 -> 4M, pk maps one key a line."""
    if isinstance(value, bool) or not isinstance(value, (int, float, dict, list, tuple)):
        return format_value(value)
    if isinstance(value, dict):
        return "\n".join(f"{key} {format_value(val)}" for key, val in value.items())
    if isinstance(value, (list, tuple)):
        return "\n".join(format_value(item) for item in value)
    if abs(value) >= 1e6:
        return f"{value / 1e6:.3g}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:.3g}k"
    return format_value(value)


def summary_table(catalog: Catalog, kind: str) -> Table:
    """One row per entry of ``kind`` with the per-kind key columns.

    Value columns are exactly as wide as their widest cell (headers wrap instead), so on a
    narrow terminal only the name column wraps and no number is cut to 'missi…'.
    """
    entries: dict[str, BaseModel] = getattr(catalog, kind)
    model = KIND_MODELS[kind]
    fields = SUMMARY_FIELDS[kind]
    table = Table(
        title=kind.replace("_", " ").capitalize(),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("id", no_wrap=True, style="bold")
    table.add_column("name")
    columns = []
    for field_name in fields:
        values = [getattr(entry, field_name) for entry in entries.values()]
        cells = [format_compact(v) for v in values]
        header = column_header(model, field_name)
        width = _fit_width(header, cells)
        table.add_column(header, justify=_justify(values), min_width=width, max_width=width)
        columns.append(cells)
    for row, (entry_id, entry) in enumerate(entries.items()):
        table.add_row(entry_id, getattr(entry, "name", None) or "", *(cells[row] for cells in columns))
    return table


def _fit_width(header: str, cells: list[str]) -> int:
    """Widest cell line or header word, so the column never truncates its content."""
    pieces = header.split() + [line for cell in cells for line in cell.splitlines()]
    return max(len(piece) for piece in pieces)


def _justify(values: list[Any]) -> Literal["left", "right"]:
    """Numbers right-aligned so magnitudes line up; text left."""
    numeric = all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values)
    return "right" if numeric else "left"


def entry_rows(entry: BaseModel) -> list[tuple[str, str, str]]:
    """(field, value, source) for every field of the entry, in model order.

    A field left at its default says so, so a reader can tell a sourced number from one the
    model filled in.
    """
    model = type(entry)
    sources: dict[str, str] = getattr(entry, "sources", {})
    rows = []
    for field_name in model.model_fields:
        if field_name in HEADER_FIELDS:
            continue
        value = getattr(entry, field_name)
        source = sources.get(field_name, "")
        if not source and value is not None and field_name not in entry.model_fields_set:
            source = "(default)"
        rows.append((field_label(model, field_name), format_value(value), source))
    return rows


def print_entry(console: Console, entry_id: str, kind: str, entry: BaseModel) -> None:
    """Header (id, kind, name, notes) and a field / value / source table."""
    singular = kind[:-1]
    name = getattr(entry, "name", None) or ""
    console.print(f"{entry_id} ({singular}): {name}", markup=False, style="bold")
    notes = getattr(entry, "notes", None)
    if notes:
        console.print(notes, markup=False)
    table = Table(show_lines=False)
    table.add_column("field", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("source", overflow="fold")
    for label, value, source in entry_rows(entry):
        table.add_row(escape(label), escape(value), escape(source))
    console.print(table)
    console.print("All parameters are public and approximate.", markup=False)
