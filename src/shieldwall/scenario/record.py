"""The public attack record, read once with its semantics made explicit (docs/validation.md#the-record).

The record (per-attack rows of launched / destroyed / not_reach_goal, transcribed from Ukrainian
Air Force reports) is an input like a scenario file: it is read here, below the campaign and
backtest layers that use it, into named ``Attack`` records. What each row means:

- **Night.** A night runs noon to noon and is named by its evening: an attack at
  ``2023-05-04 01:30`` belongs to the night of 3 May. A date without a time is the morning report
  of the night before.
- **Models.** A row names one record model ("Shahed-136/131") or several joined by " and "
  ("X-101/X-555 and Kalibr"); the record cannot split such a row, so its counts are shared equally
  between the models named (largest remainder, first named first). A model maps to catalog threat
  types through a ``ModelMap`` (shipped: ``scenario/data/record-models.yaml``, overridable); a
  "/" inside one model ("Iskander-M/KN-23") is the report's own "either of these" and shares again.
  Models without a catalog type are kept as ``unmapped`` launches: counted, never simulated.
- **Decoys** are counted inside "Shahed-136/131": the map says which share of its launches were
  decoys, from which date (``ModelMap.decoy_share``).
- **Outcomes.** ``destroyed`` (shot down), ``not_reach_goal`` (lost, mostly to electronic warfare:
  its own outcome, empty = 0), ``still_attacking`` (in the air when reported: no outcome yet).
- **Loss reporting.** The reports did not always split losses from kills: the record has no
  ``not_reach_goal`` at all before July 2024 (losses to jamming were counted with the shot down, or
  not at all), and its 2026 rows have ``not_reach_goal`` always 0 (shared/README). So a row's
  ``destroyed`` means "shot down" only where its calendar month *splits losses*: where some row of
  that month in the file (any date, not only the window read) has ``not_reach_goal`` > 0.
  Elsewhere (``Attack.losses_split`` False) only its neutralised share (destroyed +
  not_reach_goal) is comparable with a model; the backtest and the calibration compare those rows
  by it alone. A month with losses but none reported is read as lumped: the rule can only err
  towards comparing less, never towards reading a lumped count as shot down.
- **Regional rows.** Regional air commands (sources naming ``PvK...``) post their own rows, which
  may repeat a national row (Air Force HQ, General Staff). A regional row is a *repeat* when a
  national row names the same model on the same night, their time spans overlap, and the national
  row launched at least as many; repeats are kept in ``attacks`` (``repeat_of`` = that row's line)
  but never counted (``regional="keep"`` counts them, ``"drop"`` drops every regional row).
- ``target`` / ``launch_place`` are kept as written; a theatre's aliases resolve them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from shieldwall import limits as L
from shieldwall.catalog.model import Id, Probability, Strict
from shieldwall.errors import Problem, ScenarioError
from shieldwall.scenario.yaml_source import read_text_once

REQUIRED_COLUMNS = ("time_start", "model", "launched")
OUTCOME_COLUMNS = ("destroyed", "not_reach_goal", "still_attacking")
MAP_FILE = Path(__file__).with_name("data") / "record-models.yaml"
MAP_VERSION = 1
MAX_ROWS = 1_000_000  # a record of every attack for decades is ~10^4 rows; bounds memory and time
MAX_COUNT = 100_000  # threats in one row: far above any attack, below what would exhaust memory
REGIONAL_SOURCE = re.compile(r"pvk", re.IGNORECASE)  # PvKPivden, pvkshid, PvkCenter, ...
Regional = Literal["drop-repeats", "keep", "drop"]

_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}):(\d{2})(?::\d{2})?)?$")
EVENING = dt.time(18, 0)  # a date-only start: the evening before
MORNING = dt.time(9, 0)  # a date-only end: the morning report


# --- the model map ---------------------------------------------------------------------------------


class DecoyShare(Strict):
    start: dt.date = Field(alias="from", description="From this night on ...")
    share: Probability = Field(description="... this share of the model's launches are decoys.")


class Decoys(Strict):
    threat: Id = Field(description="The catalog decoy type.")
    share: list[DecoyShare] = Field(default_factory=list, description="Piecewise constant, by date.")


class ModelEntry(Strict):
    threats: list[Id] = Field(min_length=1, description="Catalog threat types; the count is shared equally.")
    decoys: Decoys | None = Field(None, description="Decoys counted inside this model's launches.")
    note: str | None = None


class ModelMapFile(Strict):
    version: int = Field(description=f"File format version; this shieldwall reads {MAP_VERSION}.")
    kind: Literal["record-models"] = "record-models"
    description: str | None = None
    models: dict[str, ModelEntry] = Field(default_factory=dict)


@dataclass
class ModelMap:
    """Record model names -> catalog threat types (and decoys counted inside)."""

    models: dict[str, ModelEntry]
    source: str = "built-in"

    def threats(self, model: str) -> list[str]:
        entry = self.models.get(model)
        return list(entry.threats) if entry else []

    def decoy_share(self, model: str, night: dt.date) -> float:
        """The share of ``model``'s launches on ``night`` that were decoys."""
        entry = self.models.get(model)
        if entry is None or entry.decoys is None:
            return 0.0
        share = 0.0
        for step in sorted(entry.decoys.share, key=lambda s: s.start):
            if night >= step.start:
                share = step.share
        return share

    def decoy_threat(self, model: str) -> str | None:
        entry = self.models.get(model)
        return entry.decoys.threat if entry and entry.decoys else None

    def merged(self, other: "ModelMap") -> "ModelMap":
        """``other``'s entries replace same-name entries of this map."""
        return ModelMap({**self.models, **other.models}, source=f"{self.source} + {other.source}")

    def as_dict(self) -> dict[str, list[str]]:
        return {name: list(e.threats) for name, e in self.models.items()}


def load_model_map(path: str | Path | None = None, *, over_builtin: bool = True) -> ModelMap:
    """The shipped map, or a user's file merged over it (``over_builtin=False``: the file alone).
    Unknown catalog threats are located errors."""
    from shieldwall.catalog.builtin import builtin_catalog
    from shieldwall.scenario.load import pydantic_problems
    from shieldwall.scenario.yaml_source import read_yaml_file

    file = MAP_FILE if path is None else Path(path)
    source = read_yaml_file(file)
    data = source.data
    if isinstance(data, dict) and data.get("version", MAP_VERSION) != MAP_VERSION:
        raise ScenarioError(source.file, [source.source_map.problem(
            ("version",), f"unsupported record-models version {data['version']!r}", expected=str(MAP_VERSION),
            found=repr(data["version"]))])
    from pydantic import ValidationError

    try:
        parsed = ModelMapFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source.file, pydantic_problems(ModelMapFile, exc, data, source.source_map)) from None
    known = builtin_catalog().threats
    problems = []
    for name, entry in parsed.models.items():
        for i, tid in enumerate(entry.threats):
            if tid not in known:
                problems.append(source.source_map.problem(("models", name, "threats", i), f"unknown threat `{tid}`",
                                                          hint=f"known threats: {', '.join(sorted(known))}"))
        if entry.decoys is not None and entry.decoys.threat not in known:
            problems.append(source.source_map.problem(("models", name, "decoys", "threat"),
                                                      f"unknown threat `{entry.decoys.threat}`",
                                                      hint=f"known threats: {', '.join(sorted(known))}"))
    if problems:
        raise ScenarioError(source.file, problems)
    own = ModelMap(dict(parsed.models), source=file.name)
    if path is None or not over_builtin:
        return own
    return load_model_map().merged(own)


# --- attacks -----------------------------------------------------------------------------------------


@dataclass
class Attack:
    """One row of the record, as the record means it."""

    line: int  # in the CSV file; 1 is the header
    night: dt.date
    start: dt.datetime  # the time span the row covers (a date-only start is the evening before)
    end: dt.datetime
    model: str  # as the record writes it, e.g. "X-101/X-555 and Kalibr"
    launched: int
    destroyed: int
    not_reach_goal: int
    still_attacking: int
    target: str
    launch_place: str
    regional: bool  # posted by a regional air command
    threats: dict[str, int] = field(default_factory=dict)  # catalog threat -> launched (mapped parts)
    unmapped: dict[str, int] = field(default_factory=dict)  # record model part -> launched (no catalog type)
    parts: list[str] = field(default_factory=list)  # the record models the row names
    repeat_of: int | None = None  # line of the national row a regional row repeats
    losses_split: bool = True  # its month splits losses from kills (module docstring); read_record sets it

    @property
    def compound(self) -> bool:
        return len(self.parts) > 1

    @property
    def counted(self) -> bool:
        return self.repeat_of is None

    @property
    def neutralised(self) -> int:
        """Shot down or lost (the record's destroyed + not_reach_goal)."""
        return self.destroyed + self.not_reach_goal


@dataclass
class Record:
    """Every attack of a record in a window, with the bookkeeping of what was left out."""

    file: str
    attacks: list[Attack]  # counted and repeats, in file order
    rows: int  # data rows in the file (all dates)
    rows_without_count: int  # in the window, `launched` empty
    first: dt.date  # first and last night in the window (any row with a date)
    last: dt.date
    model_map: ModelMap
    regional: Regional = "drop-repeats"
    outcome_problems: list[str] = field(default_factory=list)  # rows whose outcomes exceed launched

    @property
    def counted(self) -> list[Attack]:
        return [a for a in self.attacks if a.counted]

    @property
    def repeats(self) -> list[Attack]:
        return [a for a in self.attacks if not a.counted]

    @property
    def n_nights(self) -> int:
        return (self.last - self.first).days + 1

    def nights(self) -> dict[dt.date, Counter[str]]:
        """Night -> catalog threat -> launched (counted rows)."""
        out: dict[dt.date, Counter[str]] = defaultdict(Counter)
        for a in self.counted:
            if a.threats:
                out[a.night].update(a.threats)
        return dict(out)

    def unmapped(self) -> dict[str, dict[str, int]]:
        """Record model (as written in the row) -> rows and launched without a catalog type."""
        out: dict[str, dict[str, int]] = {}
        for a in self.counted:
            lost = sum(a.unmapped.values())
            if lost:
                entry = out.setdefault(a.model, {"rows": 0, "launched": 0})
                entry["rows"] += 1
                entry["launched"] += lost
        return dict(sorted(out.items(), key=lambda kv: (-kv[1]["launched"], kv[0])))

    def bookkeeping(self) -> dict[str, Any]:
        """What was read, used and left out: for provenance and reports."""
        counted = self.counted
        return {
            "source_file": Path(self.file).name, "first_night": str(self.first), "last_night": str(self.last),
            "nights": self.n_nights, "rows": self.rows, "rows_in_window": len(self.attacks) + self.rows_without_count,
            "rows_without_count": self.rows_without_count,
            "rows_used": sum(1 for a in counted if a.threats),
            "rows_naming_several_models": sum(1 for a in counted if a.compound),
            "regional_rows": sum(1 for a in self.attacks if a.regional), "regional": self.regional,
            "regional_repeats_left_out": len(self.repeats),
            "rows_with_outcomes_above_launched": len(self.outcome_problems),
            "months_losses_split": sorted({f"{a.night:%Y-%m}" for a in counted if a.losses_split}),
            "months_losses_lumped": sorted({f"{a.night:%Y-%m}" for a in counted if not a.losses_split}),
            "model_map": self.model_map.source,
        }


def split_count(count: int, parts: int) -> list[int]:
    """``count`` shared equally between ``parts`` (the remainder to the first ones)."""
    base, rest = divmod(count, parts)
    return [base + (1 if i < rest else 0) for i in range(parts)]


def model_parts(model: str) -> list[str]:
    """The record models one row names: "X-101/X-555 and Kalibr" -> ["X-101/X-555", "Kalibr"]."""
    return [p.strip() for p in model.split(" and ") if p.strip()]


def shares(model: str, count: int, model_map: ModelMap) -> tuple[dict[str, int], dict[str, int]]:
    """(catalog threat -> launched, unmapped model part -> launched) for one row's count."""
    parts = model_parts(model) or [model.strip()]
    mapped: Counter[str] = Counter()
    unmapped: Counter[str] = Counter()
    for part, n in zip(parts, split_count(count, len(parts))):
        ids = model_map.threats(part)
        if not ids:
            if n:
                unmapped[part] += n
            continue
        for tid, m in zip(ids, split_count(n, len(ids))):
            if m:
                mapped[tid] += m
    return dict(mapped), dict(unmapped)


def parse_stamp(text: str) -> tuple[dt.date, dt.time | None]:
    match = _STAMP.match(text.strip())
    if not match:
        raise ValueError(text)
    day = dt.date.fromisoformat(match.group(1))
    if match.group(2) is None:
        return day, None
    return day, dt.time(int(match.group(2)), int(match.group(3)))


def night_of(text: str) -> dt.date:
    """The night (named by its evening) a ``time_start`` belongs to."""
    day, time = parse_stamp(text)
    if time is None:  # a date without a time: reported the morning after the night
        return day - dt.timedelta(days=1)
    return (dt.datetime.combine(day, time) - dt.timedelta(hours=12)).date()


def _span(start_text: str, end_text: str) -> tuple[dt.datetime, dt.datetime]:
    day, time = parse_stamp(start_text)
    start = dt.datetime.combine(day - dt.timedelta(days=1), EVENING) if time is None else dt.datetime.combine(day, time)
    try:
        eday, etime = parse_stamp(end_text) if end_text.strip() else (None, None)
    except ValueError:
        eday, etime = None, None
    if eday is None:
        end = start if time is not None else dt.datetime.combine(day, MORNING)
    else:
        end = dt.datetime.combine(eday, etime or MORNING)
    return start, max(start, end)


def _count(row: dict[str, str], column: str, line: int, problems: list[Problem], *, required: bool) -> int | None:
    text = (row.get(column) or "").strip()
    if not text:
        return None if required else 0
    try:
        value = float(text)
    except ValueError:
        problems.append(Problem("not a number", path=column, line=line, expected="a count", found=repr(text)))
        return 0
    if not value == value or value < 0 or value > MAX_COUNT:  # NaN, negative, absurd
        problems.append(Problem("not a count", path=column, line=line, expected=f"a count from 0 to {MAX_COUNT:,}",
                                found=text))
        return 0
    return int(round(value))


def _rows(reader: Any, name: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) of a csv.DictReader; a malformed row (a field past the csv module's size
    limit, a NUL byte) is a located ScenarioError."""
    line = 2
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ScenarioError(name, [Problem(f"not a readable CSV row: {exc}", line=reader.line_num)]) from None
        yield line, row
        line = reader.line_num + 1


def read_record(path: str | Path, start: dt.date | None = None, end: dt.date | None = None, *,
                model_map: ModelMap | None = None, regional: Regional = "drop-repeats") -> Record:
    """Every attack of a record CSV whose night lies in [start, end] (either open). A ScenarioError
    lists every problem (line, column, expected, found); nothing is read half."""
    name = str(path)
    model_map = model_map or load_model_map()
    if regional not in ("drop-repeats", "keep", "drop"):
        raise ScenarioError(name, [Problem(f"unknown regional rule {regional!r}",
                                           expected="drop-repeats, keep or drop")])
    # once and bounded: a pipe, a FIFO or a device is read at most once and never past the limit
    handle = io.StringIO(read_text_once(path, limit=L.MAX_RECORD_FILE_BYTES), newline="")
    attacks: list[Attack] = []
    problems: list[Problem] = []
    outcome_problems: list[str] = []
    rows = skipped = 0
    first = last = None
    split_months: set[tuple[int, int]] = set()  # months (of the whole file) that report a loss
    try:
        with handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise ScenarioError(name, [Problem(
                    f"missing column `{c}`", line=1, column=1,
                    expected=f"a CSV with columns {', '.join(REQUIRED_COLUMNS)} (and {', '.join(OUTCOME_COLUMNS)})",
                    found=", ".join(columns) or "no header") for c in missing])
            for line, row in _rows(reader, name):
                rows += 1
                if rows > MAX_ROWS:
                    raise ScenarioError(name, [Problem(f"more than {MAX_ROWS:,} rows", line=line,
                                                       hint="split the record by date")])
                stamp = row.get("time_start") or ""
                try:
                    night = night_of(stamp)
                    span = _span(stamp, row.get("time_end") or "")
                except ValueError:
                    problems.append(Problem("not a date", path="time_start", line=line,
                                            expected="YYYY-MM-DD or YYYY-MM-DD HH:MM", found=repr(stamp)))
                    continue
                if (start and night < start) or (end and night > end):
                    if _reports_loss(row):
                        split_months.add((night.year, night.month))
                    continue
                first = night if first is None else min(first, night)
                last = night if last is None else max(last, night)
                launched = _count(row, "launched", line, problems, required=True)
                if launched is None:
                    skipped += 1
                    continue
                destroyed, lost, flying = (_count(row, c, line, problems, required=False) or 0 for c in OUTCOME_COLUMNS)
                if lost:
                    split_months.add((night.year, night.month))
                if destroyed + lost > launched:
                    outcome_problems.append(f"line {line}: destroyed {destroyed} + not_reach_goal {lost} > "
                                            f"launched {launched}")
                model = (row.get("model") or "").strip()
                mapped, unmapped = shares(model, launched, model_map)
                attacks.append(Attack(
                    line=line, night=night, start=span[0], end=span[1], model=model, launched=launched,
                    destroyed=destroyed, not_reach_goal=lost, still_attacking=flying,
                    target=(row.get("target") or "").strip(), launch_place=(row.get("launch_place") or "").strip(),
                    regional=bool(REGIONAL_SOURCE.search(row.get("source") or "")),
                    threats=mapped, unmapped=unmapped, parts=model_parts(model) or [model]))
    except csv.Error as exc:
        raise ScenarioError(name, [Problem(f"not a CSV file: {exc}", line=max(1, rows + 1))]) from None
    if problems:
        raise ScenarioError(name, problems[:50])
    if first is None or last is None:
        raise ScenarioError(name, [Problem("no attacks in the chosen dates", path="time_start", line=2 if rows else 1,
                                           hint="no row has a date inside the chosen dates" if rows else "no rows")])
    for a in attacks:
        a.losses_split = (a.night.year, a.night.month) in split_months
    mark_repeats(attacks, regional)
    return Record(name, attacks, rows, skipped, first, last, model_map, regional, outcome_problems)


def _reports_loss(row: dict[str, str]) -> bool:
    """A row outside the window read reports a loss (for its month's reporting regime); a value
    that is not a count is that row's problem, checked when a window includes it."""
    try:
        return float(row.get("not_reach_goal") or 0) > 0
    except ValueError:
        return False


def mark_repeats(attacks: Iterable[Attack], regional: Regional) -> None:
    """Set ``repeat_of`` on the regional rows that are not counted (see the module docstring)."""
    attacks = list(attacks)
    if regional == "keep":
        return
    national: dict[tuple[dt.date, str], list[Attack]] = defaultdict(list)
    for a in attacks:
        if not a.regional:
            national[(a.night, a.model)].append(a)
    for a in attacks:
        if not a.regional:
            continue
        if regional == "drop":
            a.repeat_of = 0
            continue
        for n in national.get((a.night, a.model), []):
            if n.launched >= a.launched and n.start <= a.end and a.start <= n.end:
                a.repeat_of = n.line
                break
