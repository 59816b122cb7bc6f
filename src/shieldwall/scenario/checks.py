"""Checks that need more than one field: ids that must exist in the catalog or in the scenario,
and numbers that must agree with each other. They run after pydantic has accepted the shapes,
on the scenario's own catalog merged over the built-in one, so each check can trust the types.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from shieldwall import limits as L
from shieldwall.catalog.builtin import builtin_catalog
from shieldwall.catalog.classes import CLASS_INFO, THREAT_CLASSES
from shieldwall.catalog.model import Catalog
from shieldwall.errors import Problem, ScenarioError
from shieldwall.scenario.model import Scenario, TargetBattery, TargetRadar
from shieldwall.scenario.yaml_source import FieldPath, SourceMap, format_path, sort_problems


@dataclass(frozen=True)
class _Context:
    """What every check reads: the scenario, the merged catalog and where things are."""

    scenario: Scenario
    catalog: Catalog
    where: SourceMap = field(default_factory=SourceMap)

    def problem(self, path: FieldPath, message: str, **details: Any) -> Problem:
        return self.where.problem(path, message, **details)

    def line_of(self, path: FieldPath) -> str:
        """`line N` for a hint that points at a second place, or the path when not from a file."""
        located = self.where.locate(path)
        return f"line {located[0]}" if located else format_path(path)


Check = Callable[[_Context], Iterator[Problem]]


def check_scenario(
    scenario: Scenario,
    source_map: SourceMap | None = None,
    *,
    file: str | None = None,
    base: Catalog | None = None,
) -> None:
    """Raise one ScenarioError listing every cross-field problem, or return if there is none."""
    problems = scenario_problems(scenario, source_map, base=base)
    if problems:
        raise ScenarioError(file, problems)


def scenario_problems(
    scenario: Scenario, source_map: SourceMap | None = None, *, base: Catalog | None = None
) -> list[Problem]:
    """Every cross-field problem, in file order. ``base`` defaults to the built-in catalog."""
    catalog = scenario.catalog.merged_over(builtin_catalog() if base is None else base)
    ctx = _Context(scenario, catalog, source_map or SourceMap())
    return sort_problems([problem for check in CHECKS for problem in check(ctx)])


def unknown_id(
    ctx: _Context, path: FieldPath, noun: str, value: str, known: Iterable[str], *, at_key: bool = False
) -> Problem:
    """`unknown system `x`` with a close match if there is one and the ids that would work."""
    known = sorted(known)
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
    nouns = _plural(noun)
    listing = f"known {nouns}: {', '.join(known)}" if known else f"no {nouns} are defined"
    hint = f"did you mean `{close[0]}`? {listing}" if close else listing
    return ctx.problem(path, f"unknown {noun} `{value}`", at_key=at_key, hint=hint)


def _plural(noun: str) -> str:
    return noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"


# --- ids within the scenario ------------------------------------------------------------------

SECTIONS: tuple[tuple[str, str], ...] = (
    ("assets", "asset"),
    ("radars", "radar"),
    ("batteries", "battery"),
    ("raids", "raid"),
    ("ew_zones", "electronic-warfare zone"),
    ("area_defences", "area defence"),
    ("acoustic_sensors", "acoustic field"),
)


def _unique_ids(ctx: _Context) -> Iterator[Problem]:
    """Results, events and targets refer to things by id, so an id must name one thing."""
    for section, noun in SECTIONS:
        first: dict[str, int] = {}
        for index, item in enumerate(getattr(ctx.scenario, section)):
            if item.id in first:
                earlier = (section, first[item.id], "id")
                yield ctx.problem(
                    (section, index, "id"),
                    f"duplicate {noun} id `{item.id}`",
                    hint=f"already used at {ctx.line_of(earlier)}; ids must be unique",
                )
            else:
                first[item.id] = index


def _radar_battery_clash(ctx: _Context) -> Iterator[Problem]:
    """Batteries carry their own radar, so stand-alone radars and batteries share sensor ids."""
    batteries = {battery.id: index for index, battery in enumerate(ctx.scenario.batteries)}
    for index, radar in enumerate(ctx.scenario.radars):
        if radar.id in batteries:
            other = ("batteries", batteries[radar.id], "id")
            yield ctx.problem(
                ("radars", index, "id"),
                f"radar id `{radar.id}` is also a battery id",
                hint=f"the battery is at {ctx.line_of(other)}; radars and batteries need different ids",
            )


# --- batteries and radars ---------------------------------------------------------------------


def _battery_systems(ctx: _Context) -> Iterator[Problem]:
    for index, battery in enumerate(ctx.scenario.batteries):
        if battery.system not in ctx.catalog.systems:
            path = ("batteries", index, "system")
            yield unknown_id(ctx, path, "system", battery.system, ctx.catalog.systems)


def _battery_interceptors(ctx: _Context) -> Iterator[Problem]:
    """Stock must be of a known interceptor that the battery's system can actually fire."""
    for index, battery in enumerate(ctx.scenario.batteries):
        system = ctx.catalog.systems.get(battery.system)
        for name in battery.interceptors:
            path = ("batteries", index, "interceptors", name)
            if name not in ctx.catalog.interceptors:
                yield unknown_id(ctx, path, "interceptor", name, ctx.catalog.interceptors, at_key=True)
            elif system is not None and name not in system.interceptors:
                yield ctx.problem(
                    path,
                    f"system `{battery.system}` cannot fire `{name}`",
                    at_key=True,
                    hint=f"`{battery.system}` fires: {', '.join(system.interceptors)}",
                )


def _battery_launchers(ctx: _Context) -> Iterator[Problem]:
    """Launchers are split among the stocked interceptors and cannot exceed the system's."""
    for index, battery in enumerate(ctx.scenario.batteries):
        if battery.launchers is None:
            continue
        path = ("batteries", index, "launchers")
        for name in battery.launchers:
            if name not in battery.interceptors:
                yield ctx.problem(
                    (*path, name),
                    f"launchers for `{name}`, which this battery does not stock",
                    at_key=True,
                    hint=f"stocked here: {', '.join(battery.interceptors) or 'nothing'}",
                )
        system = ctx.catalog.systems.get(battery.system)
        total = sum(battery.launchers.values())
        if system is not None and total > system.launchers:
            yield ctx.problem(
                path,
                f"{total} launchers assigned, but `{battery.system}` has {system.launchers}",
                at_key=True,
                expected=f"at most {system.launchers} in total",
                found=str(total),
            )


def _radar_types(ctx: _Context) -> Iterator[Problem]:
    for index, radar in enumerate(ctx.scenario.radars):
        if radar.type not in ctx.catalog.radars:
            path = ("radars", index, "type")
            yield unknown_id(ctx, path, "radar type", radar.type, ctx.catalog.radars)


# --- raids ------------------------------------------------------------------------------------


def _raid_threats(ctx: _Context) -> Iterator[Problem]:
    threats = ctx.catalog.threats
    for index, raid in enumerate(ctx.scenario.raids):
        if raid.threat not in threats:
            yield unknown_id(ctx, ("raids", index, "threat"), "threat", raid.threat, threats)
        if raid.decoys is not None and raid.decoys.threat not in threats:
            path = ("raids", index, "decoys", "threat")
            yield unknown_id(ctx, path, "threat", raid.decoys.threat, threats)


def _raid_targets(ctx: _Context) -> Iterator[Problem]:
    """A target is an asset id, a kind that at least one asset has, or a battery or radar of the scenario."""
    assets = ctx.scenario.assets
    kinds = sorted({asset.kind for asset in assets})
    for index, raid in enumerate(ctx.scenario.raids):
        target = raid.target
        if isinstance(target, TargetBattery):
            if target.battery not in {battery.id for battery in ctx.scenario.batteries}:
                path = ("raids", index, "target", "battery")
                yield unknown_id(ctx, path, "battery", target.battery, (b.id for b in ctx.scenario.batteries))
        elif isinstance(target, TargetRadar):
            if target.radar not in {radar.id for radar in ctx.scenario.radars}:
                path = ("raids", index, "target", "radar")
                yield unknown_id(ctx, path, "radar", target.radar, (r.id for r in ctx.scenario.radars))
            elif ctx.scenario.mechanisms.detection:
                yield ctx.problem(("raids", index, "target", "radar"),
                                  "an attack on a radar is not modelled with mechanisms.detection on",
                                  hint="switch mechanisms.detection off, or attack a battery or an asset "
                                  "(docs/model.md, Attacks on the defence)")
        elif isinstance(target, str):
            if target not in {asset.id for asset in assets}:
                path = ("raids", index, "target")
                yield unknown_id(ctx, path, "asset", target, (asset.id for asset in assets))
        elif target.kind not in kinds:
            close = difflib.get_close_matches(target.kind, kinds, n=1, cutoff=0.6)
            guess = f"did you mean `{close[0]}`? " if close else ""
            yield ctx.problem(
                ("raids", index, "target", "kind"),
                f"no asset of kind `{target.kind}`",
                hint=f"{guess}kinds present: {', '.join(kinds)}",
            )


def _raid_waypoints(ctx: _Context) -> Iterator[Problem]:
    """Ballistic missiles fly a parabola from launch to target; they cannot turn at waypoints."""
    for index, raid in enumerate(ctx.scenario.raids):
        threat = ctx.catalog.threats.get(raid.threat)
        if raid.waypoints and threat is not None and CLASS_INFO[threat.threat_class].kinematics == "ballistic":
            yield ctx.problem(
                ("raids", index, "waypoints"),
                "waypoints are not allowed for ballistic threats",
                at_key=True,
                hint=f"`{raid.threat}` is ballistic and flies straight at its target; remove waypoints",
            )


def _threat_total(ctx: _Context) -> Iterator[Problem]:
    """Each raid is bounded on its own; together they still drive the engine's arrays."""
    total = sum(raid.count + (raid.decoys.count if raid.decoys else 0) for raid in ctx.scenario.raids)
    if total > L.MAX_THREATS:
        yield ctx.problem(("raids",), f"{total:,} threats and decoys in all raids together",
                          expected=f"at most {L.MAX_THREATS:,}", found=f"{total:,}",
                          hint="split the raid into scenarios, or lower the counts")


# --- the merged catalog -----------------------------------------------------------------------


def _entries(ctx: _Context, section: str) -> Iterator[tuple[str, Any, FieldPath, str | None]]:
    """(id, entry, path, hint) for every merged entry. Built-in entries are not in the file, so
    their problems carry a hint saying so (such a problem is a shieldwall bug)."""
    own = getattr(ctx.scenario.catalog, section)
    for entry_id, entry in getattr(ctx.catalog, section).items():
        note = None if entry_id in own else f"`{entry_id}` is a built-in entry: please report this bug"
        yield entry_id, entry, ("catalog", section, entry_id), note


def _threat_flight(ctx: _Context) -> Iterator[Problem]:
    """Drones and cruise missiles (polyline kinematics) fly at a set speed and altitude, so both
    must be given."""
    for _, threat, path, note in _entries(ctx, "threats"):
        if CLASS_INFO[threat.threat_class].kinematics != "polyline":
            continue
        for name, words in (("speed_mps", "a number > 0"), ("altitude_m", "a number >= 0")):
            if getattr(threat, name) is None:
                yield ctx.problem(
                    (*path, name),
                    f"missing required key `{name}` for a {threat.threat_class} threat",
                    expected=words,
                    hint=note,
                )


def _threat_release(ctx: _Context) -> Iterator[Problem]:
    """An air-launched threat is ballistic (its arc starts at the release altitude) and its given
    apogee lies above the release."""
    for _, threat, path, note in _entries(ctx, "threats"):
        if threat.launch_altitude_m is None:
            continue
        if CLASS_INFO[threat.threat_class].kinematics != "ballistic":
            yield ctx.problem((*path, "launch_altitude_m"),
                              f"`launch_altitude_m` is for ballistic threats, not a {threat.threat_class} threat",
                              hint=note)
        elif threat.apogee_km is not None and 1000.0 * threat.apogee_km <= threat.launch_altitude_m:
            yield ctx.problem((*path, "apogee_km"),
                              f"the apogee ({threat.apogee_km:g} km) must be above the release altitude "
                              f"({threat.launch_altitude_m:g} m)", hint=note)


def _area_defences(ctx: _Context) -> Iterator[Problem]:
    """An area defence names a catalog type and is in place for a non-empty time; a cued one, a
    network some battery, radar or acoustic field feeds."""
    for index, area in enumerate(ctx.scenario.area_defences):
        if area.type not in ctx.catalog.area_defences:
            yield unknown_id(ctx, ("area_defences", index, "type"), "area-defence type", area.type,
                             ctx.catalog.area_defences)
        if area.active_until_s is not None and area.active_until_s <= area.active_from_s:
            yield ctx.problem(("area_defences", index, "active_until_s"),
                              f"`active_until_s` ({area.active_until_s:g}) must be after `active_from_s` "
                              f"({area.active_from_s:g})")
        sc = ctx.scenario
        networks = {unit.network for unit in [*sc.batteries, *sc.radars, *sc.acoustic_sensors]}
        if area.cued and area.network not in networks:  # nothing would ever cue it
            yield unknown_id(ctx, ("area_defences", index, "network"), "network", area.network, networks)


def _acoustic_sensors(ctx: _Context) -> Iterator[Problem]:
    """An acoustic field names a catalog type."""
    for index, field in enumerate(ctx.scenario.acoustic_sensors):
        if field.type not in ctx.catalog.acoustic_sensors:
            yield unknown_id(ctx, ("acoustic_sensors", index, "type"), "acoustic sensor type", field.type,
                             ctx.catalog.acoustic_sensors)


def _interceptor_pk(ctx: _Context) -> Iterator[Problem]:
    """A pk key that matches nothing would silently never apply."""
    valid = set(THREAT_CLASSES) | set(ctx.catalog.threats)
    entries = [*_entries(ctx, "interceptors"), *_entries(ctx, "area_defences")]
    for _, interceptor, path, note in entries:
        for key in interceptor.pk:
            if key not in valid:
                close = difflib.get_close_matches(key, sorted(valid), n=1, cutoff=0.6)
                guess = f"did you mean `{close[0]}`? " if close else ""
                yield ctx.problem(
                    (*path, "pk", key),
                    f"unknown threat class or threat `{key}`",
                    at_key=True,
                    hint=note or f"{guess}pk keys are {', '.join(THREAT_CLASSES)} or a threat id",
                )


def _interceptor_envelopes(ctx: _Context) -> Iterator[Problem]:
    """An engagement envelope whose minimum is not below its maximum can never engage."""
    bounds = (("min_range_km", "max_range_km"), ("min_altitude_m", "max_altitude_m"))
    for _, interceptor, path, note in _entries(ctx, "interceptors"):
        for low, high in bounds:
            low_value, high_value = getattr(interceptor, low), getattr(interceptor, high)
            if low_value >= high_value:
                yield ctx.problem(
                    (*path, low),
                    f"`{low}` ({low_value:g}) must be less than `{high}` ({high_value:g})",
                    expected=f"a number below {high_value:g}",
                    found=f"{low_value:g}",
                    hint=note,
                )


def _system_interceptors(ctx: _Context) -> Iterator[Problem]:
    for _, system, path, note in _entries(ctx, "systems"):
        for index, name in enumerate(system.interceptors):
            if name not in ctx.catalog.interceptors:
                where = (*path, "interceptors", index)
                problem = unknown_id(ctx, where, "interceptor", name, ctx.catalog.interceptors)
                problem.hint = note or problem.hint
                yield problem


CHECKS: tuple[Check, ...] = (
    _unique_ids,
    _radar_battery_clash,
    _battery_systems,
    _battery_interceptors,
    _battery_launchers,
    _radar_types,
    _raid_threats,
    _raid_targets,
    _raid_waypoints,
    _threat_total,
    _threat_flight,
    _threat_release,
    _interceptor_pk,
    _area_defences,
    _acoustic_sensors,
    _interceptor_envelopes,
    _system_interceptors,
)


# --- warnings: valid, but almost certainly not what was meant ----------------------------------
EARTH_RADIUS_KM = 6371.0
FAR_MARGIN_KM = 50.0  # a battery this much beyond its reach from every asset and raid route is flagged


def scenario_warnings(scenario: Scenario, source_map: SourceMap | None = None) -> list[Problem]:
    """Located warnings for a scenario that validates but would not do what its author meant:
    a battery far beyond its reach from every asset and every raid's route (latitude and
    longitude swapped, say: it validates and never fires), an asset beyond every battery's reach
    (the same slip: it is hit undefended), or a stock smaller than one shot (a
    gun's 16 rounds with bursts of 24 can never be fired). Shown by ``validate``, ``run`` and
    the web app's editor; they never stop a run."""
    catalog = scenario.catalog.merged_over(builtin_catalog())
    ctx = _Context(scenario, catalog, source_map or SourceMap())
    return sort_problems([*_far_batteries(ctx), *_far_assets(ctx), *_stock_below_one_shot(ctx),
                          *_acoustic_without_detection(ctx)])


def _acoustic_without_detection(ctx: _Context) -> Iterator[Problem]:
    """Acoustic fields act only under mechanisms.detection (without it every threat is tracked
    from radar geometry alone): a file with fields and the switch off runs as if they were not
    there."""
    if ctx.scenario.acoustic_sensors and not ctx.scenario.mechanisms.detection:
        yield ctx.problem(("acoustic_sensors",), "acoustic sensors act only under `mechanisms.detection`: "
                          "with it off they change nothing", at_key=True,
                          hint="add `mechanisms: {detection: true}` (docs/model.md, Acoustic cueing)")


def _distance_km(lat: float, lon: float, points: list[tuple[float, float]]) -> float:
    """Shortest distance from (lat, lon) to a polyline through ``points`` (a flat frame around
    the point: a few km off at 1,000 km, plenty to tell near from far)."""
    import math

    k_lat = math.pi / 180.0 * EARTH_RADIUS_KM
    k_lon = k_lat * math.cos(math.radians(lat))
    xy = [((p_lon - lon) * k_lon, (p_lat - lat) * k_lat) for p_lat, p_lon in points]
    best = min(math.hypot(x, y) for x, y in xy)
    for (x0, y0), (x1, y1) in zip(xy, xy[1:]):
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy
        if length2 > 0:
            t = max(0.0, min(1.0, -(x0 * dx + y0 * dy) / length2))
            best = min(best, math.hypot(x0 + t * dx, y0 + t * dy))
    return best


def _far_batteries(ctx: _Context) -> Iterator[Problem]:
    s = ctx.scenario
    routes: list[list[tuple[float, float]]] = [[(a.lat, a.lon)] for a in s.assets]
    for raid in s.raids:
        for target in s.aimpoints(raid):
            routes.append([(raid.launch.lat, raid.launch.lon), *((w.lat, w.lon) for w in raid.waypoints),
                           (target.lat, target.lon)])
    if not routes:
        return
    for index, battery in enumerate(s.batteries):
        system = ctx.catalog.systems.get(battery.system)
        reach = max((ctx.catalog.interceptors[k].max_range_km for k in battery.interceptors
                     if k in ctx.catalog.interceptors), default=0.0)
        if system is None:
            continue
        spread = max((raid.launch.spread_km for raid in s.raids), default=0.0)
        near = min(_distance_km(battery.lat, battery.lon, route) for route in routes)
        if near <= reach + spread + FAR_MARGIN_KM:
            continue
        swapped = min(_distance_km(battery.lon, battery.lat, route) for route in routes) \
            if abs(battery.lon) <= 90 else float("inf")
        hint = ("latitude and longitude swapped? Swapped, it would be "
                f"{swapped:,.0f} km from them" if swapped <= reach + spread + FAR_MARGIN_KM else
                "check its lat and lon")
        yield ctx.problem(("batteries", index), f"battery `{battery.id}` is {near:,.0f} km from every asset and raid "
                          f"route, beyond its interceptors' {reach:g} km reach: it will never fire", hint=hint)


def _battery_reach_km(ctx: _Context, battery: Any) -> float:
    """The longest max range of the interceptors a battery holds (0 if none is known)."""
    return max((ctx.catalog.interceptors[k].max_range_km for k in battery.interceptors
                if k in ctx.catalog.interceptors), default=0.0)


def _far_assets(ctx: _Context) -> Iterator[Problem]:
    """An asset beyond the reach of every battery (by more than FAR_MARGIN_KM): nothing can
    engage a threat over it. Said only where the scenario has batteries (a laydown without any
    is deliberate), with a hint where its latitude and longitude swapped would bring it in reach."""
    s = ctx.scenario
    sites = [(b.lat, b.lon, _battery_reach_km(ctx, b)) for b in s.batteries if b.system in ctx.catalog.systems]
    if not sites:
        return

    def gap_km(lat: float, lon: float) -> float:  # how far outside the nearest battery's reach
        return min(_distance_km(b_lat, b_lon, [(lat, lon)]) - reach for b_lat, b_lon, reach in sites)

    for index, asset in enumerate(s.assets):
        gap = gap_km(asset.lat, asset.lon)
        if gap <= FAR_MARGIN_KM:
            continue
        near = min(_distance_km(b_lat, b_lon, [(asset.lat, asset.lon)]) for b_lat, b_lon, _ in sites)
        swapped = gap_km(asset.lon, asset.lat) if abs(asset.lon) <= 90 else float("inf")
        hint = ("latitude and longitude swapped? Swapped, it would be within a battery's reach"
                if swapped <= 0 else "check its lat and lon, or add a battery near it")
        yield ctx.problem(("assets", index), f"asset `{asset.id}` is {near:,.0f} km from the nearest battery, beyond "
                          "every battery's reach: nothing can engage a threat over it", hint=hint)


def _stock_below_one_shot(ctx: _Context) -> Iterator[Problem]:
    for index, battery in enumerate(ctx.scenario.batteries):
        for name, stock in battery.interceptors.items():
            kind = ctx.catalog.interceptors.get(name)
            if kind is not None and 0 < stock < kind.rounds_per_shot:
                yield ctx.problem(("batteries", index, "interceptors", name),
                                  f"{stock} rounds of `{name}` are fewer than one shot ({kind.rounds_per_shot} "
                                  "rounds a burst): they can never be fired", at_key=True,
                                  hint=f"give at least {kind.rounds_per_shot}, or 0")
