"""The laydown page's server side: a raid scenario with some batteries and radars moved, what each
unit reaches against one threat type at one altitude, and the moved scenario as a file.

Every number comes from the engine's own rules, so that what the map draws is what a run does:
the engagement ring is the longest slant range (``max_range_km``) of an interceptor the battery
holds, may fire at that threat type (``InterceptorType.pk_against``, its ``engage`` classes) and
that reaches the chosen altitude, drawn on the ground at sqrt(range^2 - altitude^2) as the
engagement windows test it; the radar horizon is ``engine.geometry.radar_horizon_m`` from the
radar's height (the catalog's) and the altitude, the detection kernel's 4/3-earth rule. A moved
scenario is the opened file's own data with new positions, checked again as a whole
(``scenario.load.build_scenario``): a position off the map or an unknown unit is a located
problem (field path ``moves.ID.lat``, expected, found), never a traceback."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shieldwall.errors import Problem, ScenarioError

if TYPE_CHECKING:  # pragma: no cover
    from shieldwall.catalog.model import Catalog
    from shieldwall.scenario.model import Scenario

MOVES_FILE = "the laydown request"  # what located problems in the moves name as their file
POSITION_DECIMALS = 5  # about a metre: a drag on the map is not more precise than that
UNITS = ("batteries", "radars")


@dataclass(frozen=True)
class Laydown:
    """A scenario as opened and as moved, with the moved one's data (the file to download)."""

    original: "Scenario"
    moved: "Scenario"
    moved_data: dict[str, Any]
    moved_ids: list[str]

    def moved_yaml(self) -> str:
        from shieldwall.scenario.yaml_source import yaml_text

        return yaml_text(self.moved_data)


def _problem(path: str, message: str, expected: str, found: Any) -> Problem:
    return Problem(message, path=path, expected=expected, found=str(found)[:60])


def _coordinate(value: Any, path: str, limit: float, problems: list[Problem]) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        problems.append(_problem(path, "not a number", f"a number from {-limit:g} to {limit:g}", repr(value)))
        return None
    if not -limit <= value <= limit:
        problems.append(_problem(path, "off the map", f"a number from {-limit:g} to {limit:g}", value))
        return None
    return round(float(value), POSITION_DECIMALS)


def check_moves(moves: Any, unit_ids: set[str]) -> dict[str, tuple[float, float]]:
    """``{ID: {"lat": .., "lon": ..}}`` for batteries and radars of the scenario, or one
    ScenarioError listing every problem."""
    if moves is None:
        return {}
    if not isinstance(moves, Mapping):
        raise ScenarioError(MOVES_FILE, [_problem("moves", "not a map of positions",
                                                  '{"UNIT-ID": {"lat": .., "lon": ..}}', type(moves).__name__)])
    problems: list[Problem] = []
    out: dict[str, tuple[float, float]] = {}
    for unit, where in moves.items():
        path = f"moves.{str(unit)[:64]}"
        if unit not in unit_ids:
            problems.append(_problem(path, "no battery or radar of the scenario has this id",
                                     "one of " + ", ".join(sorted(unit_ids)) if unit_ids else "a unit id", unit))
            continue
        if not isinstance(where, Mapping) or set(where) != {"lat", "lon"}:
            problems.append(_problem(path, "not a position", '{"lat": .., "lon": ..}',
                                     sorted(where) if isinstance(where, Mapping) else type(where).__name__))
            continue
        lat = _coordinate(where["lat"], path + ".lat", 90.0, problems)
        lon = _coordinate(where["lon"], path + ".lon", 180.0, problems)
        if lat is not None and lon is not None:
            out[unit] = (lat, lon)
    if problems:
        raise ScenarioError(MOVES_FILE, problems)
    return out


def build_laydown(text: str, file: str, moves: Any) -> Laydown:
    """The scenario text as opened and with ``moves`` applied, each checked as a whole."""
    from shieldwall.scenario.load import build_scenario
    from shieldwall.scenario.yaml_source import parse_yaml

    source = parse_yaml(text, file)
    if isinstance(source.data, Mapping) and "nights" in source.data:
        raise ScenarioError(file, [Problem("a campaign has no one laydown: open its theatre's raid scenario",
                                           path="nights", expected="a raid scenario", found="a campaign")])
    original = build_scenario(source.data, source.source_map, source.file)
    wanted = check_moves(moves, {u.id for u in (*original.batteries, *original.radars)})
    data = copy.deepcopy(dict(source.data))
    for key in UNITS:
        for entry in data.get(key) or []:
            if isinstance(entry, dict) and entry.get("id") in wanted:
                entry["lat"], entry["lon"] = wanted[entry["id"]]
    moved = build_scenario(data, source.source_map, source.file)
    return Laydown(original, moved, data, sorted(wanted))


@dataclass(frozen=True)
class Threat:
    """The threat the rings are drawn against: a catalog type at an altitude."""

    type_id: str
    threat_class: str
    altitude_m: float
    rcs_m2: float


def choose_threat(scenario: "Scenario", catalog: "Catalog", type_id: Any, altitude_m: Any) -> Threat:
    """The threat type asked for (default: the first raid's) at the altitude asked for (default:
    the type's cruise altitude, or 1,000 m for a ballistic one); bad values are located problems."""
    from shieldwall import limits as L

    problems = []
    if type_id is None:
        type_id = scenario.raids[0].threat if scenario.raids else next(iter(catalog.threats))
    if not isinstance(type_id, str) or type_id not in catalog.threats:
        raise ScenarioError(MOVES_FILE, [_problem("threat", "not a threat type of the catalog",
                                                  "a catalog threat id, e.g. " + ", ".join(list(catalog.threats)[:4]),
                                                  type_id)])
    kind = catalog.threats[type_id]
    if altitude_m is None:
        altitude_m = kind.altitude_m if kind.altitude_m is not None else 1000.0
    if isinstance(altitude_m, bool) or not isinstance(altitude_m, (int, float)) or not math.isfinite(altitude_m) \
            or not 0.0 <= altitude_m <= L.MAX_ALTITUDE_M:
        problems.append(_problem("altitude_m", "not an altitude", f"metres from 0 to {L.MAX_ALTITUDE_M:g}",
                                 repr(altitude_m)))
        raise ScenarioError(MOVES_FILE, problems)
    return Threat(type_id, kind.threat_class, float(altitude_m), kind.rcs_m2)


def reach(scenario: "Scenario", catalog: "Catalog", threat: Threat) -> dict[str, Any]:
    """Per battery and radar: its engagement ring against the threat (none where it cannot
    engage it at that altitude) and its radar horizon and detection range for it."""
    from shieldwall.engine.geometry import radar_horizon_m

    detect_scale = threat.rcs_m2 ** 0.25  # the detection kernel's slant range scaling
    batteries = {}
    for b in scenario.batteries:
        system = catalog.systems[b.system]
        best: tuple[float, str] | None = None
        if b.engage is None or threat.threat_class in b.engage:
            for kid, stock in b.interceptors.items():
                kind = catalog.interceptors[kid]
                if stock > 0 and kind.pk_against(threat.type_id, threat.threat_class) > 0.0 \
                        and kind.min_altitude_m <= threat.altitude_m <= kind.max_altitude_m \
                        and (best is None or kind.max_range_km > best[0]):
                    best = (kind.max_range_km, kid)
        engage_km = best[0] if best else 0.0
        ground_km = math.sqrt(max(engage_km ** 2 - (threat.altitude_m / 1000.0) ** 2, 0.0))
        batteries[b.id] = {"engage_km": engage_km, "engage_ground_km": round(ground_km, 3),
                           "engage_with": best[1] if best else None,
                           "radar_height_m": system.radar_height_m,
                           "horizon_km": round(radar_horizon_m(system.radar_height_m, threat.altitude_m) / 1000.0, 3),
                           "detect_km": round(system.radar_range_km * detect_scale, 3)}
    radars = {}
    for r in scenario.radars:
        kind = catalog.radars[r.type]
        radars[r.id] = {"radar_height_m": kind.height_m,
                        "horizon_km": round(radar_horizon_m(kind.height_m, threat.altitude_m) / 1000.0, 3),
                        "detect_km": round(kind.range_km * detect_scale, 3)}
    return {"batteries": batteries, "radars": radars}


def laydown_view(laydown: Laydown, type_id: Any = None, altitude_m: Any = None) -> dict[str, Any]:
    """What the page draws: the moved laydown (report.replay.laydown, the replay's own data) with
    each unit's reach against the chosen threat, the threat types to choose from, and the file."""
    from shieldwall.catalog.builtin import builtin_catalog
    from shieldwall.report.replay import laydown as laydown_data

    scenario = laydown.moved
    catalog = scenario.catalog.merged_over(builtin_catalog())
    threat = choose_threat(scenario, catalog, type_id, altitude_m)
    data = laydown_data(scenario)
    found = reach(scenario, catalog, threat)
    for b in data["batteries"]:
        b.update(found["batteries"][b["id"]])
    for r in data["radars"]:
        r.update(found["radars"][r["id"]])
    used = list(dict.fromkeys(r.threat for r in scenario.raids))
    data["threat"] = {"type": threat.type_id, "class": threat.threat_class, "altitude_m": threat.altitude_m,
                      "rcs_m2": threat.rcs_m2}
    data["threat_types"] = [{"id": t, "class": catalog.threats[t].threat_class,
                             "altitude_m": catalog.threats[t].altitude_m, "in_raids": t in used}
                            for t in [*used, *sorted(set(catalog.threats) - set(used))]]
    data["original"] = {u.id: [u.lat, u.lon] for u in (*laydown.original.batteries, *laydown.original.radars)}
    data["moved"] = laydown.moved_ids
    data["yaml"] = laydown.moved_yaml()
    return data
