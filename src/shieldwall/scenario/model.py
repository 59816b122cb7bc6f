"""The scenario file, as validated models. Field names are the file's keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Union

from pydantic import Field

from shieldwall import limits as L
from shieldwall.catalog.model import (
    Catalog,
    Id,
    Guidance,
    Name,
    Probability,
    Stock,
    Strict,
    Text,
    ThreatClass,
    count_upto,
    upto,
)
from shieldwall.policies import POLICY_NAMES, PolicyName

Seconds = upto(L.MAX_TIME_S)
RaidCount = count_upto(L.MAX_RAID_COUNT, low=1)

Lat = Annotated[float, Field(ge=-90.0, le=90.0)]
Lon = Annotated[float, Field(ge=-180.0, le=180.0)]


class Point(Strict):
    lat: Lat
    lon: Lon


class Asset(Strict):
    """Something worth defending. ``value`` is in the user's own units (the same for all assets)."""

    id: Id
    lat: Lat
    lon: Lon
    value: upto(L.MAX_ASSET_VALUE) = 1.0  # type: ignore[valid-type]
    kind: Name = Field("generic", description="Used by raids that target assets by kind.")
    radius_m: upto(L.MAX_ASSET_RADIUS_M, open_low=True) = Field(  # type: ignore[valid-type]
        100.0, description="How far from its centre an arriving threat still hits it (half its size plus a "
        "warhead's reach); only a GNSS-denied threat's inertial miss is compared with it (mechanisms.ins). "
        "Default 100 m, an assumption (a facility or an aim point; plausible 20-1000 m).")
    name: Name | None = None


class Radar(Strict):
    """A stand-alone radar (early warning); it cues every battery of its network."""

    id: Id
    type: Id = Field(description="A catalog radar id.")
    lat: Lat
    lon: Lon
    network: Name = "main"
    value: upto(L.MAX_ASSET_VALUE) = Field(  # type: ignore[valid-type]
        1.0, description="Its value as a target, in the assets' units: what a raid aimed at it ({radar: id}) "
        "puts at stake for the battle manager and what its loss counts in value lost.")


class Battery(Strict):
    id: Id
    system: Id = Field(description="A catalog system id.")
    lat: Lat
    lon: Lon
    interceptors: dict[Id, Stock] = Field(  # type: ignore[valid-type]
        description="Rounds in stock per interceptor id (loaded and in reserve)."
    )
    network: Name = Field("main", description="Batteries fire on tracks from any radar of it.")
    engage: list[ThreatClass] | None = Field(
        None, description="Threat classes this battery may engage; default all."
    )
    launchers: dict[Id, count_upto(L.MAX_CHANNELS, low=1)] | None = Field(  # type: ignore[valid-type]
        None, description="Launchers per interceptor id; default split by stock."
    )
    value: upto(L.MAX_ASSET_VALUE) = Field(  # type: ignore[valid-type]
        1.0, description="Its value as a target, in the assets' units: what a raid aimed at it ({battery: id}) "
        "puts at stake for the battle manager and what its loss counts in value lost.")
    pk_factor: float = Field(
        1.0, gt=0.0, le=2.0, allow_inf_nan=False,
        description="Multiplies the single-shot kill probability of every interceptor this battery fires "
        "(crew training, maintenance state); the product is capped at 1.",
    )


class Launch(Strict):
    lat: Lat
    lon: Lon
    spread_km: upto(L.MAX_SPREAD_KM) = Field(0.0, description="Launch points spread over a disc.")  # type: ignore[valid-type]


class TargetByKind(Strict):
    kind: Name = Field(description="Threats spread over the assets of this kind, by value.")


class TargetBattery(Strict):
    battery: Id = Field(description="A battery of this scenario: the threats aim at its position; one that gets "
                        "through destroys it with probability its damage_fraction, and from then on it fires no "
                        "more (docs/model.md, Attacks on the defence).")


class TargetRadar(Strict):
    radar: Id = Field(description="A stand-alone radar of this scenario: the threats aim at its position; one that "
                      "gets through destroys it with probability its damage_fraction, and from then on it forms no "
                      "more tracks (docs/model.md, Attacks on the defence).")


class Decoys(Strict):
    threat: Id
    count: RaidCount  # type: ignore[valid-type]


class Raid(Strict):
    id: Id
    threat: Id = Field(description="A catalog threat id.")
    count: RaidCount  # type: ignore[valid-type]
    launch: Launch
    target: Union[Id, TargetByKind, TargetBattery, TargetRadar] = Field(
        description="An asset id, {kind: ...}, {battery: id} or {radar: id} (an attack on the defence).")
    time_s: Seconds = Field(0.0, description="Start of the launch window.")  # type: ignore[valid-type]
    window_s: Seconds = Field(0.0, description="Launches spread uniformly over it.")  # type: ignore[valid-type]
    waypoints: list[Point] = Field(default_factory=list, max_length=L.MAX_WAYPOINTS)
    decoys: Decoys | None = Field(None, description="Decoys flying with the raid.")


ZoneRadiusKm = upto(L.MAX_ZONE_RADIUS_KM, open_low=True)


class EwZone(Strict):
    """Electronic warfare over a disc: a threat whose guidance relies on a kind the zone degrades
    is lost (or diverted) at ``loss_per_km`` per km flown inside (docs/model.md, Electronic
    warfare). "Suppressed" is its own outcome and counts as neutralised."""

    id: Id
    lat: Lat
    lon: Lon
    radius_km: ZoneRadiusKm  # type: ignore[valid-type]
    affects: list[Guidance] = Field(default_factory=lambda: ["gnss"], min_length=1,  # type: ignore[valid-type]
                                    description="The guidance kinds it degrades.")
    loss_per_km: upto(L.MAX_LOSS_PER_KM) = Field(  # type: ignore[valid-type]
        description="Rate (per km flown inside) at which an affected threat is lost or diverted.")
    divert_share: Probability = Field(
        0.0, description="Of the threats it takes, the share diverted (they fall elsewhere) rather than crashing.")


class AreaDefence(Strict):
    """Units of a catalog area-defence type spread over a disc (mobile fire groups, interceptor-drone
    teams, aviation on patrol), with the munitions they hold for the night."""

    id: Id
    type: Id = Field(description="A catalog area_defences id.")
    lat: Lat
    lon: Lon
    radius_km: ZoneRadiusKm  # type: ignore[valid-type]
    units: count_upto(L.MAX_AREA_UNITS, low=1) = Field(description="Teams, launch sites or aircraft.")  # type: ignore[valid-type]
    stock: Stock | None = Field(None, description="Munitions for the night (none: as many as it can use).")  # type: ignore[valid-type]
    active_from_s: Seconds = Field(0.0, description="From when it is in place (aviation: on station).")  # type: ignore[valid-type]
    active_until_s: Seconds | None = Field(None, description="Until when; none: the whole raid.")  # type: ignore[valid-type]
    cued: bool = Field(False, description="Dispatched on its network's tracks (mobile fire groups on acoustic and "
                       "radar cues): it engages a threat only from when its network holds a track of it, so its "
                       "hazard per km acts only on the path flown after that (docs/model.md, Area defences cued by a "
                       "network). False: it finds threats on its own, along the whole path.")
    network: Name = Field("main", description="The network whose tracks cue it (only with cued).")


class AcousticField(Strict):
    """Passive acoustic sensors of a catalog type spread over a disc (a cueing network for low,
    noisy threats: docs/model.md, Acoustic cueing); they put tracks on their ``network`` under
    ``mechanisms.detection`` (without it every threat is tracked from geometry alone)."""

    id: Id
    type: Id = Field(description="A catalog acoustic_sensors id.")
    lat: Lat
    lon: Lon
    radius_km: ZoneRadiusKm  # type: ignore[valid-type]
    sensors: count_upto(L.MAX_ACOUSTIC_SENSORS, low=1) = Field(  # type: ignore[valid-type]
        description="Sensors spread evenly over the disc.")
    network: Name = Field("main", description="The network its tracks go to (batteries of it fire on them).")


Salvo = count_upto(L.MAX_SALVO, low=1)
Engagements = count_upto(L.MAX_ENGAGEMENTS, low=1)


class Doctrine(Strict):
    salvo: Union[Salvo, dict[ThreatClass, Salvo]] = Field(  # type: ignore[valid-type]
        1, description="Shots per engagement; classes left out fire 1.")
    max_engagements: Union[Engagements, dict[ThreatClass, Engagements]] = Field(  # type: ignore[valid-type]
        1, description="Engagements per threat; more than 1 is shoot-look-shoot."
    )
    policy: PolicyName = Field("greedy", description="Weapon-target assignment policy: " + ", ".join(POLICY_NAMES) + ".")
    epoch_time_limit_s: upto(L.MAX_EPOCH_TIME_LIMIT_S, open_low=True) = Field(  # type: ignore[valid-type]
        0.05, description="Time budget of the exact policy at each decision epoch (local-search does bounded work)."
    )
    cost_weight: upto(L.MAX_COST_WEIGHT) = Field(  # type: ignore[valid-type]
        0.0, description="Value units per US dollar of interceptors fired (0: ignore cost)."
    )
    decision_interval_s: upto(  # type: ignore[valid-type]
        L.MAX_DECISION_INTERVAL_S, low=L.MIN_DECISION_INTERVAL_S) = Field(2.0, description="Time between decisions.")
    assess_s: upto(L.MAX_ASSESS_S) = Field(  # type: ignore[valid-type]
        2.0, description="Kill assessment time before a surviving threat can be engaged again."
    )

    def per_class(self, field_name: str, threat_class: str) -> int:
        value = getattr(self, field_name)
        return value if isinstance(value, int) else value.get(threat_class, 1)  # type: ignore[no-any-return]


class Mechanisms(Strict):
    """Switches for the mechanisms whose physical parameters live in the catalog (issue 18). Off
    by default, so a scenario written before a mechanism existed gives the same results."""

    ballistic: bool = Field(
        False, description="Air-launched ballistic threats start at their launch_altitude_m; fire units need "
        "their own track of a ballistic threat for the system's ballistic_track_time_s before launching; a "
        "threat's terminal_manoeuvre_g and penaids lower the kill probability (docs/model.md, Ballistic "
        "engagements).")
    c2: bool = Field(
        False, description="A fire unit gets its network's tracks after the system's track_latency_s; its own "
        "radar's tracks at once (docs/model.md, Command and control).")
    detection: bool = Field(
        False, description="Radars detect per scan with the radar equation's probability (Swerling 1), a track "
        "forms after confirm_scans detections in a row, a fire unit fires from its track, decoys are engaged "
        "until identified, network track updates may be lost (docs/model.md, Detection and tracking).")
    ins: bool = Field(
        False, description="A threat that loses GNSS to an electronic-warfare zone flies on on its inertial "
        "navigation and is lost (suppressed or diverted) only when its miss, ins_drift_m_per_km times the "
        "distance it still flies, exceeds its target's radius_m (docs/model.md, Electronic warfare).")


# Which catalog fields only act under which switch of ``Mechanisms`` (one table: calibration reads
# it to leave out a parameter that cannot move the results of a run with its mechanism off).
MECHANISM_FIELDS: dict[str, str] = {
    "ballistic_track_time_s": "ballistic", "lateral_accel_g": "ballistic", "penaid_discrimination": "ballistic",
    "terminal_manoeuvre_g": "ballistic", "penaids": "ballistic", "launch_altitude_m": "ballistic",
    "track_latency_s": "c2",
    "scan_period_s": "detection", "range_pd_km": "detection", "reference_pd": "detection",
    "false_alarm_probability": "detection", "confirm_scans": "detection", "identify_probability": "detection",
    "link_loss_probability": "detection", "detect_range_km": "detection", "detect_probability": "detection",
    "ins_drift_m_per_km": "ins",
}


class Scenario(Strict):
    name: Name
    description: Text | None = None
    seed: count_upto(L.MAX_SEED) | None = Field(None, description="Default seed for runs.")  # type: ignore[valid-type]
    origin: Point | None = Field(None, description="Centre of the local frame; default assets' mean.")
    catalog: Catalog = Field(default_factory=Catalog, description="User types over the built-in.")
    assets: list[Asset] = Field(min_length=1, max_length=L.MAX_ASSETS)
    radars: list[Radar] = Field(default_factory=list, max_length=L.MAX_RADARS)
    batteries: list[Battery] = Field(default_factory=list, max_length=L.MAX_BATTERIES)
    raids: list[Raid] = Field(min_length=1, max_length=L.MAX_RAIDS)
    doctrine: Doctrine = Field(default_factory=Doctrine)
    ew_zones: list[EwZone] = Field(default_factory=list, max_length=L.MAX_EW_ZONES,
                                   description="Electronic-warfare zones (none: no electronic warfare).")
    area_defences: list[AreaDefence] = Field(default_factory=list, max_length=L.MAX_AREA_DEFENCES,
                                             description="Mobile fire groups, interceptor drones, aviation on patrol.")
    acoustic_sensors: list[AcousticField] = Field(
        default_factory=list, max_length=L.MAX_ACOUSTIC_FIELDS,
        description="Acoustic cueing networks (act under mechanisms.detection).")
    mechanisms: Mechanisms = Field(default_factory=Mechanisms,
                                   description="Switches for catalog-driven mechanisms (all off by default).")

    def aimpoints(self, raid: Raid) -> "list[Asset | Battery | Radar]":
        """What a raid's threats fly at: its asset, the assets of its kind, or the battery or radar
        it attacks (an id that names nothing gives none: checks.py reports it)."""
        target = raid.target
        if isinstance(target, TargetBattery):
            return [b for b in self.batteries if b.id == target.battery]
        if isinstance(target, TargetRadar):
            return [r for r in self.radars if r.id == target.radar]
        if isinstance(target, TargetByKind):
            return [a for a in self.assets if a.kind == target.kind]
        return [a for a in self.assets if a.id == target]

    def with_(self, changes: Mapping[str, Any] | None = None, /, **fields: Any) -> "Scenario":
        """A copy with values set by path, validated and checked as a file is: ``s.with_(
        {"batteries[patriot-1].interceptors.pac3-mse": 16})``, or top-level keys by name. A bad
        value raises the same located ScenarioError (``batteries[patriot-1].lat: out of range``);
        ``model_copy(update=...)`` checks nothing. See ``shieldwall.scenario.vary``."""
        from shieldwall.scenario.vary import vary_scenario

        return vary_scenario(self, {**(changes or {}), **fields})
