"""The scenario file, as validated models. Field names are the file's keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Union

from pydantic import Field

from shieldwall.catalog.model import (
    Catalog,
    Id,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Strict,
    ThreatClass,
)

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
    value: NonNegativeFloat = 1.0
    kind: str = Field("generic", description="Used by raids that target assets by kind.")
    name: str | None = None


class Radar(Strict):
    """A stand-alone radar (early warning); it cues every battery of its network."""

    id: Id
    type: Id = Field(description="A catalog radar id.")
    lat: Lat
    lon: Lon
    network: str = "main"


class Battery(Strict):
    id: Id
    system: Id = Field(description="A catalog system id.")
    lat: Lat
    lon: Lon
    interceptors: dict[Id, NonNegativeInt] = Field(
        description="Rounds in stock per interceptor id (loaded and in reserve)."
    )
    network: str = Field("main", description="Batteries fire on tracks from any radar of it.")
    engage: list[ThreatClass] | None = Field(
        None, description="Threat classes this battery may engage; default all."
    )
    launchers: dict[Id, PositiveInt] | None = Field(
        None, description="Launchers per interceptor id; default split by stock."
    )


class Launch(Strict):
    lat: Lat
    lon: Lon
    spread_km: NonNegativeFloat = Field(0.0, description="Launch points spread over a disc.")


class TargetByKind(Strict):
    kind: str = Field(description="Threats spread over the assets of this kind, by value.")


class Decoys(Strict):
    threat: Id
    count: PositiveInt


class Raid(Strict):
    id: Id
    threat: Id = Field(description="A catalog threat id.")
    count: PositiveInt
    launch: Launch
    target: Union[Id, TargetByKind] = Field(description="An asset id, or {kind: ...}.")
    time_s: NonNegativeFloat = Field(0.0, description="Start of the launch window.")
    window_s: NonNegativeFloat = Field(0.0, description="Launches spread uniformly over it.")
    waypoints: list[Point] = Field(default_factory=list)
    decoys: Decoys | None = Field(None, description="Decoys flying with the raid.")


PerClassInt = Union[PositiveInt, dict[ThreatClass, PositiveInt]]


class Doctrine(Strict):
    salvo: PerClassInt = Field(1, description="Shots per engagement; classes left out fire 1.")
    max_engagements: PerClassInt = Field(
        1, description="Engagements per threat; more than 1 is shoot-look-shoot."
    )
    policy: str = Field("greedy", description="Weapon-target assignment policy: greedy, local-search or exact.")
    epoch_time_limit_s: PositiveFloat = Field(
        0.05, description="Time budget of the local-search and exact policies at each decision epoch."
    )
    cost_weight: NonNegativeFloat = Field(
        0.0, description="Value units per US dollar of interceptors fired (0: ignore cost)."
    )
    decision_interval_s: PositiveFloat = Field(2.0, description="Time between decisions.")
    assess_s: NonNegativeFloat = Field(
        2.0, description="Kill assessment time before a surviving threat can be engaged again."
    )

    def per_class(self, field_name: str, threat_class: str) -> int:
        value = getattr(self, field_name)
        return value if isinstance(value, int) else value.get(threat_class, 1)


class Scenario(Strict):
    name: str
    description: str | None = None
    seed: NonNegativeInt | None = Field(None, description="Default seed for runs.")
    origin: Point | None = Field(None, description="Centre of the local frame; default assets' mean.")
    catalog: Catalog = Field(default_factory=Catalog, description="User types over the built-in.")
    assets: list[Asset] = Field(min_length=1)
    radars: list[Radar] = Field(default_factory=list)
    batteries: list[Battery] = Field(default_factory=list)
    raids: list[Raid] = Field(min_length=1)
    doctrine: Doctrine = Field(default_factory=Doctrine)

    def with_(self, changes: Mapping[str, Any] | None = None, /, **fields: Any) -> "Scenario":
        """A copy with values set by path, validated and checked as a file is: ``s.with_(
        {"batteries[patriot-1].interceptors.pac3-mse": 16})``, or top-level keys by name. A bad
        value raises the same located ScenarioError (``batteries[patriot-1].lat: out of range``);
        ``model_copy(update=...)`` checks nothing. See ``shieldwall.scenario.vary``."""
        from shieldwall.scenario.vary import vary_scenario

        return vary_scenario(self, {**(changes or {}), **fields})
