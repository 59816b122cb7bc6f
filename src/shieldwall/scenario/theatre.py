"""The national theatre file: notional regions with their assets and defence units, launch areas,
and the aliases that map the attack record's ``target`` and ``launch_place`` names onto them
(docs/theatre.md). An input format like scenario files: YAML in, located errors out.

Everything in it is notional and public: region centres and city names are public; a defence
unit is placed geometrically near the asset it defends (``near``, ``bearing_deg``,
``distance_km``), never at a real position. ``Theatre.scenario(raids)`` turns it into a raid
scenario for the engine (assets, batteries, radars, doctrine, catalog) with the given raids.

Name resolution (``resolve_target``, ``resolve_launch``): a name is matched to an alias without
regard to case; "A and B" resolves each part; "X oblast, Y Raion" falls back to "X oblast" when
the whole is not an alias; a ``group`` (south, east, ...) spreads over its regions by their
``weight``, as a ``national`` alias ("Ukraine") spreads over all regions. A target no alias knows
spreads like a national attack and is counted as unresolved; a launch place no alias knows (or
an empty one) uses the ``default_launch`` areas of the threat's class.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationError

from shieldwall.catalog.model import (
    Catalog,
    Id,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveInt,
    Strict,
    ThreatClass,
)
from shieldwall.errors import Problem, ScenarioError
from shieldwall.scenario.model import (
    AcousticField,
    AreaDefence,
    Asset,
    Battery,
    Doctrine,
    EwZone,
    Lat,
    Lon,
    Mechanisms,
    Radar,
    Raid,
    Scenario,
)
from shieldwall.scenario.yaml_source import FieldPath, SourceMap, YamlSource, read_yaml_file, sort_problems

THEATRE_VERSION = 1
DATA_DIR = Path(__file__).with_name("data")
DEFAULT_THEATRE = DATA_DIR / "ukraine-notional.yaml"
MAX_REGIONS = 500
MAX_UNITS = 5000
MAX_MAGAZINES = 64


class TheatreAsset(Strict):
    """Something worth defending, at a public place (a city centre) or near it."""

    id: Id
    lat: Lat
    lon: Lon
    value: NonNegativeFloat = 1.0
    kind: str = "generic"
    name: str | None = None


class ServiceDates(Strict):
    """When a unit is in service, both days included; either end may be open (in service from
    before the record's first night, or still at its last)."""

    from_: dt.date | None = Field(None, alias="from", description="First night in service (delivery, deployment).")
    until: dt.date | None = Field(None, description="Last night in service (withdrawn, lost, moved away).")

    def covers(self, night: dt.date) -> bool:
        return (self.from_ is None or self.from_ <= night) and (self.until is None or night <= self.until)


class Magazine(Strict):
    """From a night on, the rounds a unit holds each night (its ``interceptors`` until the first
    such date): a legacy system whose missiles ran short, a battery re-armed with another round."""

    from_: dt.date = Field(alias="from", description="First night with this loadout.")
    interceptors: dict[Id, NonNegativeInt] = Field(description="Rounds per interceptor id from that night on.")


class Unit(Strict):
    """A defence unit (a battery of a catalog system), placed ``distance_km`` from the asset it
    defends at ``bearing_deg`` (clockwise from north): a geometric placement, never a real one.
    ``in_service`` and ``magazines`` date it (docs/theatre.md, Dated units): a backtest gives it no
    rounds on nights it is out of service and each night the magazine of its period."""

    id: Id
    system: Id
    near: Id = Field(description="The asset it defends (an asset id of this theatre).")
    bearing_deg: float = Field(0.0, ge=0.0, lt=360.0)
    distance_km: NonNegativeFloat = 0.0
    interceptors: dict[Id, NonNegativeInt]
    network: str = "main"
    engage: list[ThreatClass] | None = None
    launchers: dict[Id, PositiveInt] | None = None
    in_service: ServiceDates | None = Field(None, description="When the unit is in service (default: always).")
    magazines: list[Magazine] = Field(default_factory=list, max_length=MAX_MAGAZINES,
                                      description="Dated loadouts, in date order, replacing `interceptors` from each "
                                      "`from` night on.")

    @property
    def dated(self) -> bool:
        return self.in_service is not None or bool(self.magazines)

    def interceptors_on(self, night: dt.date) -> dict[str, int]:
        """Rounds per interceptor id on a night: none out of service, else its period's magazine.
        Every id of ``largest_interceptors`` is a key (0 where the period holds none)."""
        held = dict(self.interceptors)
        for m in self.magazines:
            if m.from_ <= night:
                held = dict(m.interceptors)
        in_service = self.in_service is None or self.in_service.covers(night)
        return {k: (held.get(k, 0) if in_service else 0) for k in self.largest_interceptors()}

    def largest_interceptors(self) -> dict[str, int]:
        """Per interceptor id, the most rounds any period holds: what the theatre is compiled with,
        so that one compile serves every night (a night's stock is at most this)."""
        out = dict(self.interceptors)
        for m in self.magazines:
            for k, n in m.interceptors.items():
                out[k] = max(out.get(k, 0), n)
        return out


class Region(Strict):
    id: Id
    name: str | None = None
    lat: Lat = Field(description="A public centre (the regional capital).")
    lon: Lon
    weight: NonNegativeFloat = Field(1.0, description="Relative share of an attack spread over regions.")
    aliases: list[str] = Field(default_factory=list, description="Record `target` names meaning this region.")
    assets: list[TheatreAsset] = Field(min_length=1)
    units: list[Unit] = Field(default_factory=list)


class Group(Strict):
    """A record name for several regions ("south"): an attack on it spreads over them by weight."""

    alias: str
    regions: list[Id] = Field(min_length=1)


class LaunchArea(Strict):
    id: Id
    name: str | None = None
    lat: Lat
    lon: Lon
    spread_km: NonNegativeFloat = Field(20.0, description="Launch points spread over a disc.")
    aliases: list[str] = Field(default_factory=list, description="Record `launch_place` names meaning this area.")
    classes: list[ThreatClass] | None = Field(None, description="Threat classes launched here; default all.")


class LaunchTiming(Strict):
    """When a night's threats of one class leave (seconds after the night's start)."""

    time_s: NonNegativeFloat = 0.0
    window_s: NonNegativeFloat = Field(3600.0, description="Launches spread uniformly over it.")


class Placed(Strict):
    """A zone's centre: at a region's public centre (``region``), moved ``distance_km`` at
    ``bearing_deg`` from it, or at an explicit ``lat``/``lon`` (one or the other)."""

    region: Id | None = Field(None, description="A region id: the zone is centred on (or placed from) its centre.")
    lat: Lat | None = None  # type: ignore[valid-type]
    lon: Lon | None = None  # type: ignore[valid-type]
    bearing_deg: float = Field(0.0, ge=0.0, lt=360.0)
    distance_km: NonNegativeFloat = 0.0


PLACEMENT_FIELDS = frozenset(Placed.model_fields)


class TheatreEwZone(Placed, EwZone):
    """An electronic-warfare zone (scenario ``ew_zones``) placed relative to a region."""


class TheatreAreaDefence(Placed, AreaDefence):
    """An area defence (scenario ``area_defences``) placed relative to a region."""


class TheatreAcousticField(Placed, AcousticField):
    """An acoustic cueing field (scenario ``acoustic_sensors``) placed relative to a region."""


class DispersedTargets(Strict):
    """Where much of the record's traffic goes: not only the defended city but towns, depots, rail
    and energy sites spread over the region, which no point defence covers. A ``share`` of each
    region's threats goes at ``points`` notional aim points spread evenly over a disc of
    ``radius_km`` around the region's public centre (a sunflower pattern: equal area per point),
    each worth ``value``; the rest goes at the region's assets by value (docs/theatre.md)."""

    share: float = Field(ge=0.0, le=1.0, description="Share of a region's threats aimed at its dispersed points.")
    radius_km: NonNegativeFloat = Field(description="Radius of the disc of points around the region's centre.")
    points: PositiveInt = Field(8, le=64, description="Aim points per region.")
    value: NonNegativeFloat = Field(1.0, description="Value of one point (an asset of kind `dispersed`).")


class TheatreFile(Strict):
    version: int = Field(description=f"File format version; this shieldwall reads {THEATRE_VERSION}.")
    kind: Literal["theatre"] = "theatre"
    name: str
    description: str | None = None
    catalog: Catalog = Field(default_factory=Catalog, description="User types over the built-in catalog.")
    doctrine: Doctrine = Field(default_factory=Doctrine)
    radars: list[Radar] = Field(default_factory=list)
    regions: list[Region] = Field(min_length=1)
    groups: list[Group] = Field(default_factory=list)
    national: list[str] = Field(default_factory=lambda: ["Ukraine"],
                                description="Record names meaning the whole country: spread over every region.")
    launch_areas: list[LaunchArea] = Field(min_length=1)
    default_launch: dict[ThreatClass, list[Id]] = Field(
        default_factory=dict, description="Per threat class, the areas used when a row names no known launch place.")
    timing: dict[ThreatClass, LaunchTiming] = Field(default_factory=dict)
    ew_zones: list[TheatreEwZone] = Field(default_factory=list, description="Electronic-warfare zones.")
    area_defences: list[TheatreAreaDefence] = Field(
        default_factory=list, description="Mobile fire groups, interceptor drones, aviation on patrol.")
    acoustic_sensors: list[TheatreAcousticField] = Field(
        default_factory=list, description="Acoustic cueing networks (act under mechanisms.detection).")
    ranges: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="Plausible ranges of the zones' uncertain numbers, each for every zone of "
        "its section: `ew_zones.loss_per_km: [0.002, 0.05]` (what `shieldwall calibrate theatre` may search).")
    mechanisms: Mechanisms = Field(default_factory=Mechanisms,
                                   description="Which catalog-driven mechanisms its raids run with (scenario `mechanisms`).")
    dispersed_targets: DispersedTargets | None = Field(
        None, description="A share of each region's threats aimed at notional points spread around its centre.")
    calibration: dict[str, Any] | None = Field(
        None, description="Provenance written by `shieldwall calibrate theatre` (record, window, fit); not read.")


def _key(name: str) -> str:
    return " ".join(name.lower().split())


@dataclass
class Resolved:
    """A record name resolved: (id, weight) pairs summing to 1, and whether any part was unknown."""

    parts: list[tuple[str, float]]
    unresolved: bool


class Theatre:
    """A checked theatre file, with its unit positions computed and its aliases indexed."""

    def __init__(self, model: TheatreFile, file: str | None = None) -> None:
        self.model = model
        self.file = file
        self.regions = {r.id: r for r in model.regions}
        self.areas = {a.id: a for a in model.launch_areas}
        self._reach_km: dict[tuple[str, str], float] = {}
        self.target_alias: dict[str, list[tuple[str, float]]] = {}
        for r in model.regions:
            for name in [r.id, r.name or "", *r.aliases]:
                if name:
                    self.target_alias[_key(name)] = [(r.id, 1.0)]
        for g in model.groups:
            self.target_alias[_key(g.alias)] = self._by_weight(g.regions)
        everywhere = self._by_weight([r.id for r in model.regions])
        for name in model.national:
            self.target_alias[_key(name)] = everywhere
        self.everywhere = everywhere
        self.launch_alias: dict[str, str] = {}
        for a in model.launch_areas:
            for name in [a.id, a.name or "", *a.aliases]:
                if name:
                    self.launch_alias[_key(name)] = a.id

    @property
    def name(self) -> str:
        return self.model.name

    def _by_weight(self, ids: list[str]) -> list[tuple[str, float]]:
        weights = [self.regions[i].weight for i in ids]
        total = sum(weights) or float(len(ids))
        return [(i, (w if sum(weights) else 1.0) / total) for i, w in zip(ids, weights)]

    # -- names ----------------------------------------------------------------------------
    def _one_target(self, name: str) -> list[tuple[str, float]] | None:
        key = _key(name)
        if key in self.target_alias:
            return self.target_alias[key]
        if "," in name:
            return self._one_target(name.split(",", 1)[0])
        return None

    def resolve_target(self, name: str) -> Resolved:
        parts = [p for p in (name or "").split(" and ") if p.strip()]
        if not parts:
            return Resolved(list(self.everywhere), True)
        weights: dict[str, float] = {}
        unresolved = False
        for part in parts:
            found = self._one_target(part)
            if found is None:
                unresolved, found = True, self.everywhere
            for rid, w in found:
                weights[rid] = weights.get(rid, 0.0) + w / len(parts)
        return Resolved(list(weights.items()), unresolved)

    def resolve_launch(self, name: str, threat_class: str) -> Resolved:
        parts = [p for p in (name or "").split(" and ") if p.strip()]
        found: list[str] = []
        unresolved = not parts
        for part in parts:
            # "Chauda, Crimea": the whole, else the place before the comma, else the wider one after it
            keys = [_key(part), *((_key(part.split(",", 1)[0]), _key(part.rsplit(",", 1)[1])) if "," in part else ())]
            area = next((self.launch_alias[k] for k in keys if k in self.launch_alias), None)
            if area is None or not self._launches(area, threat_class):
                unresolved = True
                continue
            if area not in found:
                found.append(area)
        if not found:
            found = [a for a in self.model.default_launch.get(threat_class, []) if a in self.areas] or \
                [a.id for a in self.model.launch_areas if self._launches(a.id, threat_class)][:1] or \
                [self.model.launch_areas[0].id]
        return Resolved([(a, 1.0 / len(found)) for a in found], unresolved)

    def _launches(self, area: str, threat_class: str) -> bool:
        classes = self.areas[area].classes
        return classes is None or threat_class in classes

    def timing(self, threat_class: str) -> LaunchTiming:
        return self.model.timing.get(threat_class, LaunchTiming())  # type: ignore[call-overload]

    # -- the engine's view ----------------------------------------------------------------
    def assets(self) -> list[Asset]:
        return [Asset(id=a.id, lat=a.lat, lon=a.lon, value=a.value, kind=a.kind, name=a.name)
                for r in self.model.regions for a in r.assets] + \
            [Asset(id=a.id, lat=a.lat, lon=a.lon, value=a.value, kind=a.kind, name=a.name)
             for r in self.model.regions for a in self.dispersed_points(r.id)]  # after them: checks locate by index

    def region_assets(self, region: str) -> list[TheatreAsset]:
        return list(self.regions[region].assets)

    def dispersed_points(self, region: str) -> list[TheatreAsset]:
        """The region's dispersed aim points (none without ``dispersed_targets``): point k of n at
        distance ``radius_km * sqrt((k + 0.5) / n)`` and bearing ``k * 137.5`` degrees from the
        centre (the golden angle: equal area per point, no two on one bearing)."""
        spec = self.model.dispersed_targets
        if spec is None or spec.share == 0:
            return []
        from pyproj import Geod

        geod = Geod(ellps="WGS84")
        r = self.regions[region]
        out = []
        for k in range(spec.points):
            bearing = (k * 137.50776405) % 360.0
            lon2, lat2, _ = geod.fwd(r.lon, r.lat, bearing, 1000.0 * spec.radius_km * ((k + 0.5) / spec.points) ** 0.5)
            out.append(TheatreAsset(id=f"{region}-dispersed-{k + 1}", lat=round(float(lat2), 6),
                                    lon=round(float(lon2), 6), value=spec.value, kind="dispersed",
                                    name=f"dispersed aim point {k + 1} (notional)"))
        return out

    def reach_km(self, area: str, region: str) -> float:
        """Great-circle distance from a launch area's centre to a region's centre."""
        from pyproj import Geod

        if (area, region) not in self._reach_km:
            a, r = self.areas[area], self.regions[region]
            self._reach_km[(area, region)] = float(Geod(ellps="WGS84").inv(a.lon, a.lat, r.lon, r.lat)[2]) / 1000.0
        return self._reach_km[(area, region)]

    def units(self) -> list[Unit]:
        """Every unit, in the order of ``batteries()``."""
        return [u for r in self.model.regions for u in r.units]

    @property
    def dated(self) -> bool:
        """Whether any unit has service dates or dated magazines."""
        return any(u.dated for u in self.units())

    def batteries(self) -> list[Battery]:
        """Every unit as a scenario battery, at its geometric place near its asset, with the most
        rounds any of its periods holds (``Unit.largest_interceptors``; an undated unit: its
        ``interceptors``). Which units fight on a given night, with what, is ``stock_on``'s."""
        from pyproj import Geod

        geod = Geod(ellps="WGS84")
        where = {a.id: (a.lat, a.lon) for r in self.model.regions for a in r.assets}
        out = []
        for u in self.units():
            lat, lon = where[u.near]
            lon2, lat2, _ = geod.fwd(lon, lat, u.bearing_deg, 1000.0 * u.distance_km)
            out.append(Battery(id=u.id, system=u.system, lat=round(float(lat2), 6), lon=round(float(lon2), 6),
                               interceptors=u.largest_interceptors(), network=u.network, engage=u.engage,
                               launchers=u.launchers))
        return out

    def stock_on(self, nights: list[dt.date], interceptor_ids: list[str]) -> np.ndarray:
        """[night, unit, interceptor] rounds each unit holds on each night (``Unit.interceptors_on``),
        units in ``batteries()`` order, interceptors in ``interceptor_ids`` order: the per-night
        initial stock of the engine's replications (a unit out of service holds none and fires none)."""
        units = self.units()
        column = {k: i for i, k in enumerate(interceptor_ids)}
        out = np.zeros((len(nights), len(units), len(interceptor_ids)), np.int64)
        for b, u in enumerate(units):
            for n, night in enumerate(nights):
                for k, rounds in u.interceptors_on(night).items():
                    out[n, b, column[k]] = rounds
        return out

    def place(self, zone: Placed) -> tuple[float, float]:
        """(lat, lon) of a zone's centre: its own, or its region's centre moved by bearing and distance."""
        from pyproj import Geod

        if zone.region is None:
            return float(zone.lat), float(zone.lon)  # type: ignore[arg-type]
        r = self.regions[zone.region]
        if zone.distance_km == 0:
            return r.lat, r.lon
        lon2, lat2, _ = Geod(ellps="WGS84").fwd(r.lon, r.lat, zone.bearing_deg, 1000.0 * zone.distance_km)
        return round(float(lat2), 6), round(float(lon2), 6)

    def _placed(self, zone: Placed, kind: type[Any]) -> Any:
        lat, lon = self.place(zone)
        return kind(**{k: v for k, v in zone if k not in PLACEMENT_FIELDS}, lat=lat, lon=lon)

    def ew_zones(self) -> list[EwZone]:
        return [self._placed(z, EwZone) for z in self.model.ew_zones]

    def area_defences(self) -> list[AreaDefence]:
        return [self._placed(a, AreaDefence) for a in self.model.area_defences]

    def acoustic_sensors(self) -> list[AcousticField]:
        return [self._placed(a, AcousticField) for a in self.model.acoustic_sensors]

    def scenario(self, raids: list[Raid], name: str | None = None) -> Scenario:
        return Scenario(name=name or self.name, description=self.model.description, catalog=self.model.catalog,
                        assets=self.assets(), radars=list(self.model.radars), batteries=self.batteries(),
                        raids=raids, doctrine=self.model.doctrine, ew_zones=self.ew_zones(),
                        area_defences=self.area_defences(), acoustic_sensors=self.acoustic_sensors(),
                        mechanisms=self.model.mechanisms)


# --- loading and checks -------------------------------------------------------------------------------


def load_theatre(path: str | Path | None = None) -> Theatre:
    """A theatre file (the shipped default without a path), checked; a ScenarioError lists every
    problem with file, line, column and field path."""
    source = read_yaml_file(DEFAULT_THEATRE if path is None else path)
    return build_theatre(source)


def is_theatre(source: YamlSource) -> bool:
    """A parsed file that says it is a theatre (``kind: theatre``): read once, then built with
    ``build_theatre`` (the shipped theatre is the largest file a campaign reads)."""
    return isinstance(source.data, Mapping) and source.data.get("kind") == "theatre"


def build_theatre(source: YamlSource) -> Theatre:
    from shieldwall.scenario.load import pydantic_problems

    from shieldwall.scenario.load import with_catalog_overrides

    data = with_catalog_overrides(source.data)  # catalog entries naming a built-in id may give only changes
    where = source.source_map
    if isinstance(data, Mapping) and "version" in data and data["version"] != THEATRE_VERSION:
        raise ScenarioError(source.file, [where.problem(("version",), f"unsupported theatre version {data['version']!r}",
                                                        expected=str(THEATRE_VERSION), found=repr(data["version"]))])
    try:
        model = TheatreFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(source.file, pydantic_problems(TheatreFile, exc, data, where)) from None
    problems = theatre_problems(model, where)
    if problems:
        raise ScenarioError(source.file, sort_problems(problems))
    return Theatre(model, source.file)


def _unknown(where: SourceMap, path: FieldPath, noun: str, value: str, known: list[str]) -> Problem:
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
    hint = (f"did you mean `{close[0]}`? " if close else "") + f"known {noun}s: {', '.join(sorted(known)[:30])}"
    return where.problem(path, f"unknown {noun} `{value}`", hint=hint)


def theatre_problems(model: TheatreFile, where: SourceMap) -> list[Problem]:
    """Cross-references of the theatre, then every check of a scenario on its assets and units
    (systems, interceptors, launchers, doctrine, catalog), located in the theatre file."""
    from shieldwall.scenario.checks import scenario_problems

    problems: list[Problem] = []
    if len(model.regions) > MAX_REGIONS:
        problems.append(where.problem(("regions",), f"more than {MAX_REGIONS} regions"))
    seen: dict[str, FieldPath] = {}
    unit_paths: list[FieldPath] = []
    asset_paths: list[FieldPath] = []
    region_ids = [r.id for r in model.regions]
    for i, r in enumerate(model.regions):
        for key, path in [(r.id, ("regions", i, "id")),
                          *((a.id, ("regions", i, "assets", j, "id")) for j, a in enumerate(r.assets)),
                          *((u.id, ("regions", i, "units", j, "id")) for j, u in enumerate(r.units))]:
            if key in seen:
                problems.append(where.problem(path, f"duplicate id `{key}`", hint=f"also at {'.'.join(map(str, seen[key]))}"))
            seen[key] = path
        asset_paths += [("regions", i, "assets", j) for j in range(len(r.assets))]
        unit_paths += [("regions", i, "units", j) for j in range(len(r.units))]
    if len(unit_paths) > MAX_UNITS:
        problems.append(where.problem(("regions",), f"more than {MAX_UNITS} units"))
    assets = {a.id for r in model.regions for a in r.assets}
    systems = _systems(model) if any(u.magazines for r in model.regions for u in r.units) else {}
    for i, r in enumerate(model.regions):
        for j, u in enumerate(r.units):
            if u.near not in assets:
                problems.append(_unknown(where, ("regions", i, "units", j, "near"), "asset", u.near, sorted(assets)))
            problems += _dating_problems(u, systems, ("regions", i, "units", j), where)
    for i, g in enumerate(model.groups):
        for j, rid in enumerate(g.regions):
            if rid not in region_ids:
                problems.append(_unknown(where, ("groups", i, "regions", j), "region", rid, region_ids))
    area_ids = [a.id for a in model.launch_areas]
    if len(set(area_ids)) != len(area_ids):
        dup = next(a for a in area_ids if area_ids.count(a) > 1)
        problems.append(where.problem(("launch_areas", area_ids.index(dup, area_ids.index(dup) + 1), "id"),
                                      f"duplicate launch area id `{dup}`"))
    for cls, ids in model.default_launch.items():
        for j, aid in enumerate(ids):
            if aid not in area_ids:
                problems.append(_unknown(where, ("default_launch", cls, j), "launch area", aid, area_ids))
    for section in ("ew_zones", "area_defences"):
        zones = getattr(model, section)
        zone_ids: dict[str, int] = {}
        for i, z in enumerate(zones):
            if z.id in zone_ids:
                problems.append(where.problem((section, i, "id"), f"duplicate id `{z.id}`",
                                              hint=f"also at {section}.{zone_ids[z.id]}.id"))
            zone_ids.setdefault(z.id, i)
            if z.region is not None:
                if z.region not in region_ids:
                    problems.append(_unknown(where, (section, i, "region"), "region", z.region, region_ids))
                if z.lat is not None or z.lon is not None:
                    problems.append(where.problem((section, i, "lat" if z.lat is not None else "lon"),
                                                  "give either `region` or `lat` and `lon`, not both"))
            elif z.lat is None or z.lon is None:
                problems.append(where.problem((section, i), "a zone needs `region`, or `lat` and `lon`",
                                              expected="region: ID, or lat: and lon:",
                                              found="lat only" if z.lon is None and z.lat is not None
                                              else "lon only" if z.lat is None and z.lon is not None else "neither"))
            elif z.distance_km:
                problems.append(where.problem((section, i, "distance_km"),
                                              "`distance_km` and `bearing_deg` move a zone from its `region`'s centre",
                                              hint="give `region`, or leave distance_km out"))
    for key, (lo, hi) in model.ranges.items():
        section, _, name = key.partition(".")
        zone_type = {"ew_zones": EwZone, "area_defences": AreaDefence}.get(section)
        if zone_type is None or name not in zone_type.model_fields or name in ("id", "lat", "lon"):
            problems.append(where.problem(("ranges", key), f"`{key}` is not a zone field a range can apply to",
                                          expected="ew_zones.FIELD or area_defences.FIELD (e.g. ew_zones.loss_per_km)",
                                          at_key=True))
        elif not lo <= hi:
            problems.append(where.problem(("ranges", key), f"range of `{key}` has low {lo} above high {hi}"))
    aliases: dict[str, FieldPath] = {}
    for i, r in enumerate(model.regions):
        for j, name in enumerate(r.aliases):
            if _key(name) in aliases:
                problems.append(where.problem(("regions", i, "aliases", j), f"alias `{name}` is used twice",
                                              hint=f"also at {'.'.join(map(str, aliases[_key(name)]))}"))
            aliases[_key(name)] = ("regions", i, "aliases", j)
    if problems:
        return problems
    theatre = Theatre(model)
    dummy = Raid(id="theatre-check", threat="shahed-136", count=1, launch={"lat": 0.0, "lon": 0.0},
                 target=theatre.assets()[0].id)
    scenario = theatre.scenario([dummy])
    for p in scenario_problems(scenario):  # re-located from the scenario's paths to the theatre's
        problems.append(_relocate(p, where, asset_paths, unit_paths))
    return problems


def _systems(model: TheatreFile) -> dict[str, Any]:
    from shieldwall.catalog.builtin import builtin_catalog

    return dict(model.catalog.merged_over(builtin_catalog()).systems)


def _dating_problems(unit: Unit, systems: dict[str, Any], path: FieldPath, where: SourceMap) -> list[Problem]:
    """A unit's service dates in order, its magazines in date order, and each magazine holding only
    rounds its system fires (``systems``: the theatre's catalog systems, over the built-in ones)."""
    problems: list[Problem] = []
    dates = unit.in_service
    if dates is not None and dates.from_ is not None and dates.until is not None and dates.until < dates.from_:
        problems.append(where.problem((*path, "in_service", "until"), "a unit's service ends before it begins",
                                      expected=f"a date on or after `from` ({dates.from_})", found=str(dates.until)))
    system = systems.get(unit.system)
    for k, m in enumerate(unit.magazines):
        if k and m.from_ <= unit.magazines[k - 1].from_:
            problems.append(where.problem((*path, "magazines", k, "from"), "magazines must be in date order",
                                          expected=f"a date after {unit.magazines[k - 1].from_}", found=str(m.from_)))
        for kid in m.interceptors:
            if system is not None and kid not in system.interceptors:
                problems.append(_unknown(where, (*path, "magazines", k, "interceptors", kid),
                                         f"interceptor of system `{unit.system}`", kid, list(system.interceptors)))
    return problems


def _relocate(p: Problem, where: SourceMap, asset_paths: list[FieldPath], unit_paths: list[FieldPath]) -> Problem:
    import re

    match = re.match(r"^(assets|batteries)\[(\d+)\](.*)$", p.path)
    if not match:
        located = where.problem(tuple(int(k) if k.isdigit() else k for k in re.split(r"[.\[\]]+", p.path) if k),
                                p.message)
        return Problem(p.message, p.path, located.line, located.column, p.expected, p.found, p.hint)
    paths = asset_paths if match.group(1) == "assets" else unit_paths
    if int(match.group(2)) >= len(paths):  # a dispersed aim point (generated after the file's assets)
        return where.problem(("dispersed_targets",), p.message, expected=p.expected, found=p.found, hint=p.hint)
    head = paths[int(match.group(2))]
    rest = tuple(int(k) if k.isdigit() else k for k in re.split(r"[.\[\]]+", match.group(3)) if k)
    new = where.problem((*head, *rest), p.message, expected=p.expected, found=p.found, hint=p.hint)
    return new


def theatre_schema() -> dict[str, Any]:
    """The JSON Schema of theatre files."""
    schema = TheatreFile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "shieldwall theatre"
    schema["description"] = ("A shieldwall national theatre (YAML or JSON): regions, assets, units, launch areas, "
                             "electronic-warfare zones and area defences.")
    return schema

