"""Catalog entry types: the parameters of interceptors, weapon systems, radars and threats.

Every built-in number carries a source (or the word "assumption" with a reason) in the entry's
``sources`` map, keyed by field name; user-defined entries may leave ``sources`` empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shieldwall import limits as L
from shieldwall.catalog.classes import CLASS_INFO, THREAT_CLASSES, ThreatClass

# how a threat navigates: electronic-warfare zones name the kinds they degrade
GUIDANCE: tuple[str, ...] = ("gnss", "ins", "tercom", "radar-seeker", "optical")
Guidance = Literal[GUIDANCE]  # type: ignore[valid-type]

__all__ = ["THREAT_CLASSES", "ThreatClass", "Catalog", "InterceptorType", "SystemType", "RadarType", "ThreatType"]

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Text = Annotated[str, StringConstraints(max_length=L.MAX_TEXT_CHARS)]
Name = Annotated[str, StringConstraints(max_length=L.MAX_NAME_CHARS)]


def upto(high: float, *, low: float = 0.0, open_low: bool = False) -> object:
    """A finite number from ``low`` (or above it) to ``high``: every quantity that drives time or
    memory gets an upper bound (shieldwall.limits, docs/scenario.md "Bounds")."""
    if open_low:
        return Annotated[float, Field(gt=low, le=high, allow_inf_nan=False)]
    return Annotated[float, Field(ge=low, le=high, allow_inf_nan=False)]


def count_upto(high: int, *, low: int = 0) -> object:
    """A whole number from ``low`` to ``high``."""
    return Annotated[int, Field(ge=low, le=high)]


Stock = count_upto(L.MAX_STOCK)
Cost = upto(L.MAX_COST_USD)
Speed = upto(L.MAX_SPEED_MPS, low=L.MIN_SPEED_MPS)
RangeKm = upto(L.MAX_RANGE_KM, open_low=True)
AltitudeM = upto(L.MAX_ALTITUDE_M)


class Strict(BaseModel):
    """Input models reject unknown keys and never change after validation."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Sourced(Strict):
    name: Name | None = None
    notes: Text | None = None
    sources: dict[str, Text] = Field(
        default_factory=dict,
        description="Per field: where the number comes from, or 'assumption: why'.",
    )
    ranges: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description="Per field: the plausible range [low, high] of an uncertain number (what a calibration may search).",
    )


class InterceptorType(Sourced):
    """A missile or a gun round type. For guns one shot is a burst of ``rounds_per_shot`` rounds."""

    kind: Literal["missile", "gun"] = "missile"
    speed_mps: Speed = Field(description="Average fly-out speed to the intercept point.")  # type: ignore[valid-type]
    min_range_km: upto(L.MAX_RANGE_KM) = 0.0  # type: ignore[valid-type]
    max_range_km: RangeKm  # type: ignore[valid-type]
    min_altitude_m: AltitudeM = 0.0  # type: ignore[valid-type]
    max_altitude_m: upto(L.MAX_ALTITUDE_M, open_low=True)  # type: ignore[valid-type]
    pk: dict[str, Probability] = Field(
        description="Kill probability of one shot, keyed by threat class or by threat type id "
        "(a type id wins over its class). Classes left out cannot be engaged."
    )
    cost_usd: Cost = Field(0.0, description="Cost of one round.")  # type: ignore[valid-type]
    rounds_per_shot: count_upto(L.MAX_ROUNDS, low=1) = Field(  # type: ignore[valid-type]
        1, description="Rounds one shot uses (a gun burst).")
    rounds_per_launcher: count_upto(L.MAX_ROUNDS, low=1) | None = Field(  # type: ignore[valid-type]
        None, description="Rounds one launcher holds of this type; overrides the system's value."
    )
    lateral_accel_g: upto(L.MAX_ACCEL_G, open_low=True) | None = Field(  # type: ignore[valid-type]
        None, description="Lateral acceleration it can pull (g), against a manoeuvring threat "
        "(scenario mechanisms.ballistic; none: not limited).")

    def pk_against(self, type_id: str, threat_class: str) -> float:
        """Single-shot kill probability against a threat type: its own id wins over its class;
        a class left out cannot be engaged (0)."""
        return self.pk.get(type_id, self.pk.get(threat_class, 0.0))


class ScanParameters(Strict):
    """How a radar detects per scan (scenario ``mechanisms.detection``; docs/model.md, Detection
    and tracking): left out, the engine's stated assumptions (engine/detection.py DEFAULTS)."""

    scan_period_s: upto(L.MAX_TRACK_TIME_S, open_low=True) | None = Field(  # type: ignore[valid-type]
        None, description="Time between looks at the same point of the sky (none: 10 s, an assumption).")
    range_pd_km: upto(L.MAX_RANGE_KM, open_low=True) | None = Field(  # type: ignore[valid-type]
        None, description="Range at which a 1 m2 target is detected with reference_pd per scan "
        "(none: the radar's detection range).")
    reference_pd: Annotated[float, Field(gt=0.0, lt=1.0, allow_inf_nan=False)] | None = Field(
        None, description="Detection probability per scan at range_pd_km against 1 m2 (none: 0.9).")
    false_alarm_probability: Annotated[float, Field(gt=0.0, lt=1.0, allow_inf_nan=False)] | None = Field(
        None, description="Per resolution cell and scan (Swerling 1 Pd = Pfa^(1/(1+SNR)); none: 1e-6).")
    confirm_scans: count_upto(20, low=1) | None = Field(  # type: ignore[valid-type]
        None, description="Consecutive detections that confirm a track; a missed scan starts again (none: 2).")


class SystemType(Sourced, ScanParameters):
    """A fire unit: its own radar, fire channels, launchers and the interceptors it can fire."""

    radar_range_km: RangeKm = Field(description="Detection range against a 1 m2 target.")  # type: ignore[valid-type]
    radar_height_m: upto(L.MAX_RADAR_HEIGHT_M) = 10.0  # type: ignore[valid-type]
    fire_channels: count_upto(L.MAX_CHANNELS, low=1) = Field(  # type: ignore[valid-type]
        description="Threats it can engage at the same time.")
    launchers: count_upto(L.MAX_CHANNELS, low=1)  # type: ignore[valid-type]
    rounds_per_launcher: count_upto(L.MAX_ROUNDS, low=1)  # type: ignore[valid-type]
    reload_s: upto(L.MAX_RELOAD_S) = Field(description="Time to reload one launcher.")  # type: ignore[valid-type]
    interceptors: list[Id] = Field(min_length=1, max_length=100)
    ballistic_track_time_s: upto(L.MAX_TRACK_TIME_S) | None = Field(  # type: ignore[valid-type]
        None, description="Time its own radar must hold a track on a ballistic threat before it can launch "
        "(scenario mechanisms.ballistic; none: fires on the network's track at once).")
    track_latency_s: upto(L.MAX_TRACK_TIME_S) | None = Field(  # type: ignore[valid-type]
        None, description="Time a track from another radar of its network takes to reach it (fusion, relay, "
        "acceptance; scenario mechanisms.c2; none: 0). Tracks of its own radar have none.")
    penaid_discrimination: Probability | None = Field(
        None, description="Probability its radar tells a ballistic warhead from one penetration aid "
        "(scenario mechanisms.ballistic; none: 0).")
    link_loss_probability: Probability | None = Field(
        None, description="Probability that one network track update does not reach it (scenario "
        "mechanisms.detection; none: 0). Until one arrives it fights on its own radar's tracks.")


class RadarType(Sourced, ScanParameters):
    """A surveillance or early-warning radar that feeds tracks to its network."""

    range_km: RangeKm = Field(description="Detection range against a 1 m2 target.")  # type: ignore[valid-type]
    height_m: upto(L.MAX_RADAR_HEIGHT_M) = 10.0  # type: ignore[valid-type]


class ThreatType(Sourced):
    """An attacking weapon. Drones and cruise missiles fly waypoints at constant speed and
    altitude; ballistic missiles fly a parabola with the given (or a derived) apogee."""

    threat_class: ThreatClass = Field(alias="class")
    speed_mps: Speed | None = Field(None, description="Required for drone and cruise.")  # type: ignore[valid-type]
    altitude_m: AltitudeM | None = Field(None, description="Required for drone and cruise.")  # type: ignore[valid-type]
    apogee_km: upto(L.MAX_APOGEE_KM, open_low=True) | None = Field(  # type: ignore[valid-type]
        None, description="Ballistic only; default a quarter of the ground range."
    )
    rcs_m2: upto(L.MAX_RCS_M2, low=L.MIN_RCS_M2) = Field(1.0, description="Radar cross-section.")  # type: ignore[valid-type]
    cost_usd: Cost = 0.0  # type: ignore[valid-type]
    decoy: bool = Field(False, description="Looks like a threat to radars, does no damage.")
    identify_probability: Probability | None = Field(
        None, description="A decoy: probability per scan, once tracked, that the defence identifies it and "
        "stops engaging it (scenario mechanisms.detection; none: 0, never identified).")
    damage: Probability | None = Field(
        None, description="Fraction of the target's value destroyed per hit; default by class."
    )
    reliability: Probability = Field(1.0, description="Probability it does not fail in flight.")
    guidance: list[Guidance] = Field(
        default_factory=list, max_length=len(GUIDANCE),
        description="How it navigates (gnss, ins, tercom, radar-seeker, optical); electronic-warfare "
        "zones degrade the kinds they name.")
    ew_resistance: Probability = Field(
        0.0, description="Share of an electronic-warfare zone's loss rate it resists (anti-jam antennas).")
    ins_drift_m_per_km: upto(1000.0) | None = Field(  # type: ignore[valid-type]
        None, description="Circular error probable (m) its inertial navigation adds per km flown without "
        "satellite updates: a GNSS-denied threat flies on and still hits its target with the probability "
        "that its miss stays within the target's radius_m (scenario mechanisms.ins); none: GNSS denial is "
        "a loss, as without the mechanism.")
    launch_altitude_m: upto(L.MAX_ALTITUDE_M, open_low=True) | None = Field(  # type: ignore[valid-type]
        None, description="Ballistic only: altitude at which its carrier aircraft releases it (air-launched, "
        "scenario mechanisms.ballistic); none: launched from the ground.")
    terminal_manoeuvre_g: upto(L.MAX_ACCEL_G) | None = Field(  # type: ignore[valid-type]
        None, description="Lateral acceleration of its terminal manoeuvre (g): lowers the kill probability "
        "of interceptors that cannot out-turn it (scenario mechanisms.ballistic).")
    penaids: count_upto(L.MAX_PENAIDS) | None = Field(  # type: ignore[valid-type]
        None, description="Penetration aids (decoys) it releases: a shot goes at one of them unless the fire "
        "unit tells them apart (scenario mechanisms.ballistic).")
    range_km: RangeKm | None = Field(  # type: ignore[valid-type]
        None, description="Its reach from the launch point: in a theatre, a launch area farther than this from a "
        "region's centre cannot send it there (docs/theatre.md, Reach); none: unlimited.")

    @property
    def damage_fraction(self) -> float:
        return CLASS_INFO[self.threat_class].default_damage if self.damage is None else self.damage


class AreaDefenceType(Sourced):
    """Many small units spread over a zone (mobile fire groups, interceptor-drone teams, aviation
    on patrol), modelled as an engagement hazard along a threat's path (docs/model.md, Area
    defences): a threat flying through the zone meets units within ``reach_km`` at a rate set by
    their density, each meeting is an engagement attempt with probability
    ``engage_probability``, limited by the units' throughput and the zone's munitions."""

    kind: Literal["mobile-fire-group", "interceptor-drone", "aviation"]
    reach_km: RangeKm = Field(description="How far from a unit it can engage a passing threat.")  # type: ignore[valid-type]
    engage_probability: Probability = Field(
        description="That a unit a threat passes within reach detects, is cued and engages it.")
    attempts_per_min: upto(L.MAX_ATTEMPTS_PER_MIN, open_low=True) = Field(  # type: ignore[valid-type]
        description="Engagements one unit can start per minute (its throughput).")
    munitions_per_attempt: count_upto(L.MAX_ROUNDS, low=1) = Field(  # type: ignore[valid-type]
        1, description="Rounds, missiles or interceptor drones one engagement uses.")
    pk: dict[str, Probability] = Field(
        description="Kill probability of one engagement, by threat class or type id (left out: not engaged).")
    min_altitude_m: AltitudeM = 0.0  # type: ignore[valid-type]
    max_altitude_m: upto(L.MAX_ALTITUDE_M, open_low=True)  # type: ignore[valid-type]
    max_target_speed_mps: Speed = Field(  # type: ignore[valid-type]
        description="Faster threats cannot be engaged (an interceptor drone cannot catch a jet).")
    cost_usd: Cost = Field(0.0, description="Cost of one munition (round, missile, interceptor drone).")  # type: ignore[valid-type]


class AcousticSensorType(Sourced):
    """A passive acoustic sensor (a microphone on a pole with a phone that classifies the sound),
    laid out by the thousand as a cueing network for low, noisy threats (docs/model.md, Acoustic
    cueing). Spread over a zone, the sensors detect a threat flying through at a rate per km set
    by their density and the width of the strip they hear (``detect_range_km`` at the threat's
    altitude); the first detection puts a track on the network after ``report_latency_s``."""

    detect_range_km: RangeKm = Field(  # type: ignore[valid-type]
        description="Slant range within which a sensor hears a threat of a class it knows.")
    detect_probability: Probability = Field(
        description="That a sensor a threat passes within range detects and classifies it.")
    max_altitude_m: upto(L.MAX_ALTITUDE_M, open_low=True) = Field(  # type: ignore[valid-type]
        description="Threats flying higher are not heard.")
    classes: list[ThreatClass] = Field(
        default_factory=lambda: ["drone", "cruise"], description="Threat classes it recognises.")
    report_latency_s: upto(L.MAX_REPORT_LATENCY_S) = Field(  # type: ignore[valid-type]
        description="From a detection to a track on the network (fusion and report).")
    update_period_s: upto(L.MAX_REPORT_LATENCY_S, open_low=True) = Field(  # type: ignore[valid-type]
        description="Between the network's updates of a track it formed (lost updates, identification).")
    cost_usd: Cost = Field(0.0, description="Cost of one sensor.")  # type: ignore[valid-type]


class Catalog(Strict):
    interceptors: dict[Id, InterceptorType] = Field(default_factory=dict)
    systems: dict[Id, SystemType] = Field(default_factory=dict)
    radars: dict[Id, RadarType] = Field(default_factory=dict)
    threats: dict[Id, ThreatType] = Field(default_factory=dict)
    area_defences: dict[Id, AreaDefenceType] = Field(default_factory=dict)
    acoustic_sensors: dict[Id, AcousticSensorType] = Field(default_factory=dict)

    def merged_over(self, base: "Catalog") -> "Catalog":
        """This catalog's entries replace same-id entries of ``base``; the rest is kept."""
        return Catalog(**{s: {**getattr(base, s), **getattr(self, s)} for s in CATALOG_SECTIONS})

    def kind_of(self, entry_id: str) -> str | None:
        for kind in CATALOG_SECTIONS:
            if entry_id in getattr(self, kind):
                return kind
        return None


CATALOG_SECTIONS: tuple[str, ...] = tuple(Catalog.model_fields)
OVERRIDE_SOURCE = "override in the scenario (the built-in value and its source: `shieldwall catalog ID`)"


def complete_overrides(data: Any, base: Catalog) -> Any:
    """A user catalog (plain data, before validation) whose entries may name a ``base`` id with
    only the keys they change: ``pac3-mse: {pk: {ballistic: 0.6}}`` keeps every other number of
    the built-in entry. Each such entry is the base entry with the user's keys merged in (maps
    key by key, anything else replaced), and each field changed gets a ``sources`` note unless
    the user gave one. New ids, and anything that is not a mapping, are left for validation."""
    if not isinstance(data, Mapping):
        return data
    out = dict(data)
    for section in CATALOG_SECTIONS:
        entries, known = data.get(section), getattr(base, section)
        if not isinstance(entries, Mapping):
            continue
        out[section] = {
            entry_id: _override(known[entry_id], entry) if entry_id in known and isinstance(entry, Mapping)
            else entry
            for entry_id, entry in entries.items()
        }
    return out


def _override(entry: Sourced, changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = _deep_merge(entry.model_dump(by_alias=True, exclude_unset=True), changes)
    sources = dict(merged.get("sources") or {}) if isinstance(merged.get("sources"), Mapping) else None
    if sources is not None:
        own = changes.get("sources") if isinstance(changes.get("sources"), Mapping) else {}
        for key in changes:
            if key not in ("sources", "name", "notes") and key not in own:
                sources[key] = OVERRIDE_SOURCE
        merged["sources"] = sources
    return merged


def _deep_merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        old = out.get(key)
        out[key] = _deep_merge(old, value) if isinstance(old, Mapping) and isinstance(value, Mapping) else value
    return out
