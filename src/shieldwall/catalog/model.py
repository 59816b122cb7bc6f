"""Catalog entry types: the parameters of interceptors, weapon systems, radars and threats.

Every built-in number carries a source (or the word "assumption" with a reason) in the entry's
``sources`` map, keyed by field name; user-defined entries may leave ``sources`` empty.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shieldwall.catalog.classes import CLASS_INFO, THREAT_CLASSES, ThreatClass

__all__ = ["THREAT_CLASSES", "ThreatClass", "Catalog", "InterceptorType", "SystemType", "RadarType", "ThreatType"]

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]


class Strict(BaseModel):
    """Input models reject unknown keys and never change after validation."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Sourced(Strict):
    name: str | None = None
    notes: str | None = None
    sources: dict[str, str] = Field(
        default_factory=dict,
        description="Per field: where the number comes from, or 'assumption: why'.",
    )


class InterceptorType(Sourced):
    """A missile or a gun round type. For guns one shot is a burst of ``rounds_per_shot`` rounds."""

    kind: Literal["missile", "gun"] = "missile"
    speed_mps: PositiveFloat = Field(description="Average fly-out speed to the intercept point.")
    min_range_km: NonNegativeFloat = 0.0
    max_range_km: PositiveFloat
    min_altitude_m: NonNegativeFloat = 0.0
    max_altitude_m: PositiveFloat
    pk: dict[str, Probability] = Field(
        description="Kill probability of one shot, keyed by threat class or by threat type id "
        "(a type id wins over its class). Classes left out cannot be engaged."
    )
    cost_usd: NonNegativeFloat = Field(0.0, description="Cost of one round.")
    rounds_per_shot: PositiveInt = Field(1, description="Rounds one shot uses (a gun burst).")
    rounds_per_launcher: PositiveInt | None = Field(
        None, description="Rounds one launcher holds of this type; overrides the system's value."
    )


class SystemType(Sourced):
    """A fire unit: its own radar, fire channels, launchers and the interceptors it can fire."""

    radar_range_km: PositiveFloat = Field(description="Detection range against a 1 m2 target.")
    radar_height_m: NonNegativeFloat = 10.0
    fire_channels: PositiveInt = Field(description="Threats it can engage at the same time.")
    launchers: PositiveInt
    rounds_per_launcher: PositiveInt
    reload_s: NonNegativeFloat = Field(description="Time to reload one launcher.")
    interceptors: list[Id] = Field(min_length=1)


class RadarType(Sourced):
    """A surveillance or early-warning radar that feeds tracks to its network."""

    range_km: PositiveFloat = Field(description="Detection range against a 1 m2 target.")
    height_m: NonNegativeFloat = 10.0


class ThreatType(Sourced):
    """An attacking weapon. Drones and cruise missiles fly waypoints at constant speed and
    altitude; ballistic missiles fly a parabola with the given (or a derived) apogee."""

    threat_class: ThreatClass = Field(alias="class")
    speed_mps: PositiveFloat | None = Field(None, description="Required for drone and cruise.")
    altitude_m: NonNegativeFloat | None = Field(None, description="Required for drone and cruise.")
    apogee_km: PositiveFloat | None = Field(
        None, description="Ballistic only; default a quarter of the ground range."
    )
    rcs_m2: PositiveFloat = Field(1.0, description="Radar cross-section.")
    cost_usd: NonNegativeFloat = 0.0
    decoy: bool = Field(False, description="Looks like a threat to radars, does no damage.")
    damage: Probability | None = Field(
        None, description="Fraction of the target's value destroyed per hit; default by class."
    )
    reliability: Probability = Field(1.0, description="Probability it does not fail in flight.")

    @property
    def damage_fraction(self) -> float:
        return CLASS_INFO[self.threat_class].default_damage if self.damage is None else self.damage


class Catalog(Strict):
    interceptors: dict[Id, InterceptorType] = Field(default_factory=dict)
    systems: dict[Id, SystemType] = Field(default_factory=dict)
    radars: dict[Id, RadarType] = Field(default_factory=dict)
    threats: dict[Id, ThreatType] = Field(default_factory=dict)

    def merged_over(self, base: "Catalog") -> "Catalog":
        """This catalog's entries replace same-id entries of ``base``; the rest is kept."""
        return Catalog(
            interceptors={**base.interceptors, **self.interceptors},
            systems={**base.systems, **self.systems},
            radars={**base.radars, **self.radars},
            threats={**base.threats, **self.threats},
        )

    def kind_of(self, entry_id: str) -> str | None:
        for kind in ("interceptors", "systems", "radars", "threats"):
            if entry_id in getattr(self, kind):
                return kind
        return None
