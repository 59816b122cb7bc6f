"""The campaign file and the raid-generator file, as validated models (keys as in the files).

Shapes only; references between them (ids, dates, routes) are checked in ``load``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field

from shieldwall import limits as L
from shieldwall.catalog.model import (
    Catalog,
    Id,
    Name,
    NonNegativeFloat,
    NonNegativeInt,
    Probability,
    Stock as StockCount,
    Strict,
    Text,
    count_upto,
    upto,
)
from shieldwall.scenario.model import (AcousticField, AreaDefence, Asset, Battery, Doctrine, EwZone, Mechanisms, Point,
                                       Radar, Raid)

GENERATOR_VERSION = 1
Stock = dict[Id, StockCount]  # type: ignore[valid-type]
FamilySize = count_upto(L.MAX_FAMILY_SIZE, low=1)
Nights = count_upto(L.MAX_NIGHTS, low=1)
Share = Annotated[float, Field(gt=0.0, le=1.0)]


# --- the raid generator file --------------------------------------------------------------------


class SizeDistribution(Strict):
    """Threats of one family on a night it comes: ``1 + NegBinomial(n, p)`` (mean ``1 + n(1-p)/p``),
    or an empirical table of sizes and weights; never above ``max``."""

    distribution: Literal["negative-binomial", "empirical"]
    n: upto(L.MAX_NB_N, open_low=True) | None = Field(  # type: ignore[valid-type]
        None, description="Negative binomial size parameter.")
    p: Annotated[float, Field(gt=0.0, le=1.0)] | None = Field(None, description="Negative binomial p.")
    values: list[FamilySize] | None = Field(  # type: ignore[valid-type]
        None, max_length=L.MAX_LIST, description="Empirical sizes.")
    weights: list[upto(1e300)] | None = Field(  # type: ignore[valid-type]
        None, max_length=L.MAX_LIST, description="Empirical weights, one per size.")
    max: FamilySize = Field(description="Largest size drawn (larger draws are cut to it).")  # type: ignore[valid-type]
    mean: upto(L.MAX_FAMILY_SIZE) | None = Field(None, description="For readers: the fitted mean size.")  # type: ignore[valid-type]
    ks_distance: Probability | None = Field(None, description="Fit quality against the data.")
    observed_nights: NonNegativeInt | None = None


class MonthEffect(Strict):
    """Month-to-month variation of the size mean beyond the nights' own (log scale, AR(1))."""

    sd: NonNegativeFloat = Field(description="Standard deviation of the month effect.")
    rho: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(description="Correlation of one month's effect with the next.")
    last: float = Field(0.0, description="The effect of the last month fitted (where the forecast starts).")


class Trend(Strict):
    """A family whose intensity changes with time (``method: trend``). Months ``tau`` count from
    the generator's ``origin`` (30.4375 days each, negative before it):
    ``logit P(comes) = occurrence[0] + occurrence[1] * tau``;
    ``size - 1 ~ NegBinomial(mean = exp(log_mean[0] + log_mean[1] * tau + u_month), dispersion)``.
    Each replication draws its own parameters from the fit's normal approximation
    (``*_covariance``) and its own month effects, so predictive intervals carry the uncertainty of
    the extrapolation and widen with the horizon."""

    occurrence: list[float] = Field(min_length=2, max_length=2, description="[intercept, slope per month], logit.")
    occurrence_covariance: list[list[float]] = Field(description="2 x 2.")
    log_mean: list[float] = Field(min_length=2, max_length=2, description="[intercept, slope per month], log.")
    log_dispersion: float = Field(description="log of the negative binomial dispersion k (variance mu + mu^2/k).")
    size_covariance: list[list[float]] = Field(description="3 x 3, over (log_mean[0], log_mean[1], log_dispersion).")
    month_effect: MonthEffect


class StateSeries(Strict):
    """One monthly series of a state-space component (campaign/statespace.py): ``value = level +
    irregular``, the level moving by ``slope`` and shocks each calendar month after the origin's."""

    state: list[float] = Field(min_length=2, max_length=2,
                               description="[level, slope per month] at the origin's month (the filter's mean).")
    covariance: list[list[float]] = Field(description="2 x 2: the uncertainty of that state.")
    level_sd: NonNegativeFloat = Field(description="Standard deviation of the level's monthly shock.")
    slope_sd: NonNegativeFloat = Field(description="Standard deviation of the slope's monthly shock (0: local level).")
    irregular_sd: NonNegativeFloat = Field(description="Standard deviation of a month's own deviation.")


class Component(Strict):
    """One forecasting model of a family and its weight in the family's mixture: each replication
    follows one component, drawn by weight. ``regression`` is the family's ``trend``; a state-space
    component (``local-level``, ``local-linear-trend``) holds its own series: ``occurrence`` (logit of
    P(comes) per month) and ``size`` (log of the mean size on nights it comes), sizes
    ``1 + NegBinomial(mean - 1, exp(log_dispersion))``."""

    model: Literal["regression", "local-level", "local-linear-trend"]
    weight: Probability
    occurrence: StateSeries | None = None
    size: StateSeries | None = None
    log_dispersion: float | None = Field(None, description="log k of the sizes (state-space components).")


class Family(Strict):
    """Threats that come together (drones, cruise missiles, ballistic missiles)."""

    id: Id
    probability: Probability = Field(description="P(the family comes | a raid night); trend: at the origin.")
    mix: dict[Id, Probability] = Field(min_length=1, description="Threat id -> share of the family's count.")
    size: SizeDistribution
    trend: Trend | None = Field(None, description="Time-varying intensity (method: trend): the regression.")
    mixture: list[Component] | None = Field(
        None, description="method trend: the models a replication may follow, weights summing to 1 "
                          "(without it: the regression alone).")


class GeneratorModel(Strict):
    version: int = Field(description=f"File format version; this shieldwall reads {GENERATOR_VERSION}.")
    kind: Literal["raid-generator"] = "raid-generator"
    description: Text | None = None
    method: Literal["stationary", "trend"] = Field(
        "stationary", description="stationary: the same distribution every night; trend: each family's `trend`.")
    origin: dt.date | None = Field(None, description="trend: the last night fitted (month 0).")
    raid_probability: Probability = Field(description="P(a night has a raid); trend: 1 (families come on their own).")
    families: list[Family] = Field(min_length=1, max_length=100)
    provenance: dict[str, Any] = Field(default_factory=dict)
    fit: dict[str, Any] = Field(default_factory=dict)


# --- the campaign file ----------------------------------------------------------------------------


class Theatre(Strict):
    """``scenario:`` (a raid scenario file, relative to the campaign file) supplies assets,
    radars, batteries, doctrine, catalog and route templates; keys given here replace its own."""

    scenario: Text | None = Field(None, description="Path of a raid scenario file.")
    origin: Point | None = None
    catalog: Catalog | None = None
    assets: list[Asset] | None = None
    radars: list[Radar] | None = None
    batteries: list[Battery] | None = None
    doctrine: Doctrine | None = None
    ew_zones: list[EwZone] | None = None
    area_defences: list[AreaDefence] | None = None
    acoustic_sensors: list[AcousticField] | None = None
    mechanisms: Mechanisms | None = None
    calibrated: Text | None = Field(
        None, description="A calibrated national theatre whose fitted catalog values and mechanism switches the "
        "campaign runs with over its own laydown: `ukraine-notional` (the shipped one, calibrated on the 2022-2024 "
        "record) or a theatre file written by `shieldwall calibrate theatre`, relative to the campaign file. The "
        "scenario's and this section's own catalog entries and mechanisms win over it.")


class WhatIf(Strict):
    """A future of one family stated by the user instead of the fitted trend (method: trend)."""

    per_month: upto(31 * L.MAX_FAMILY_SIZE) = Field(  # type: ignore[valid-type]
        description="Expected launches in a month (30.4 nights) at the first night.")
    growth_per_month: Annotated[float, Field(gt=-1.0, le=10.0)] = Field(
        0.0, description="Relative growth of the expected launches per month (0.05 = +5 % a month).")


class GeneratorRef(Strict):
    """Where the generator comes from (exactly one of ``builtin``, ``file``, ``model``), how much
    of it falls on this theatre, and routes for its threats."""

    builtin: Name | None = Field(None, description="A generator shipped with shieldwall, e.g. raids-2022-2024.")
    file: Text | None = Field(None, description="A generator YAML, relative to the campaign file.")
    model: dict[str, Any] | None = Field(None, description="A generator written inline.")
    share: Share = Field(1.0, description="Fraction of each generated threat aimed at this theatre.")
    routes: list[Raid] = Field(default_factory=list, max_length=L.MAX_RAIDS,
                               description="Route templates beside the scenario's raids.")
    what_if: dict[Id, WhatIf] = Field(default_factory=dict,
                                      description="Family id -> a stated future (trend generators only).")


class NightRaids(Strict):
    """Raids of one night, given explicitly (instead of the generator on that night)."""

    night: Nights | None = Field(None, description="1 = the night of start_date.")  # type: ignore[valid-type]
    date: dt.date | None = None
    raids: list[Raid] = Field(default_factory=list, max_length=L.MAX_RAIDS)
    from_scenario: bool = Field(False, description="Also the theatre scenario's own raids.")


class Depot(Strict):
    id: Id
    stock: Stock = Field(default_factory=dict)


class Delivery(Strict):
    date: dt.date
    interceptor: Id | None = None
    system: Id | None = None
    quantity: count_upto(L.MAX_QUANTITY, low=1) = 1  # type: ignore[valid-type]
    to: Id | None = Field(None, description="A depot or battery id (interceptors).")
    battery: Battery | None = Field(None, description="The new battery (systems).")
    source: Text | None = None
    note: Text | None = None


class Production(Strict):
    interceptor: Id
    per_month: upto(L.MAX_PER_MONTH)  # type: ignore[valid-type]
    to: Id = Field(description="A depot id.")
    start: dt.date | None = Field(None, alias="from")
    until: dt.date | None = None


class Redistribution(Strict):
    """``top-up``: each night before the raid, depots bring batteries back to their initial
    load, pro rata across the batteries short of that interceptor. ``none``: nothing moves."""

    rule: Literal["top-up", "none"] = "top-up"


class Damage(Strict):
    """Damage carried from night to night, and repair. Assets: what a night destroys stays
    destroyed (later nights can only lose what is left) until repaired at ``asset_repair_per_night``
    of the lost value a night. Batteries: after each night, each one present is put out of action
    with ``battery_loss_per_night`` (it keeps its stock but does not fire) for ``battery_repair_nights``:
    the residual of causes the raid model does not simulate. A battery destroyed by an attack in
    the night's raid is out for ``attack_repair_nights``, and so is a stand-alone radar (it forms
    no tracks meanwhile)."""

    asset_repair_per_night: Probability = Field(0.0, description="Fraction of the lost value restored each night.")
    battery_loss_per_night: Probability = Field(0.0, description="P(a battery is put out of action after a night).")
    battery_repair_nights: Nights = Field(7, description="Nights a battery stays out of action.")  # type: ignore[valid-type]
    attack_repair_nights: Nights = Field(  # type: ignore[valid-type]
        14, description="Nights a battery destroyed by an attack in a night's raid (a raid with target {battery: "
        "id}: docs/model.md, Attacks on the defence) stays out of action before it is repaired or replaced; it "
        "keeps its stock. A stand-alone radar destroyed by an attack ({radar: id}) is out as long and forms no "
        "tracks. Assumption: plausible range 3-60 (a damaged radar or launcher swapped from stock in "
        "days, a battery rebuilt or replaced in weeks).")


class Campaign(Strict):
    name: Name
    description: Text | None = None
    start_date: dt.date
    nights: Nights  # type: ignore[valid-type]
    seed: count_upto(L.MAX_SEED) | None = None  # type: ignore[valid-type]
    theatre: Theatre
    raids: list[NightRaids] = Field(default_factory=list, max_length=L.MAX_LIST)
    generator: GeneratorRef | None = None
    depots: list[Depot] = Field(default_factory=list, max_length=L.MAX_BATTERIES)
    deliveries: list[Delivery] = Field(default_factory=list, max_length=L.MAX_LIST)
    production: list[Production] = Field(default_factory=list, max_length=L.MAX_BATTERIES)
    redistribution: Redistribution = Field(default_factory=Redistribution)
    damage: Damage | None = Field(None, description="Without it, every night starts undamaged.")

    def with_(self, changes: dict[str, Any] | None = None, /, **fields: Any) -> "Campaign":
        """A copy with values set by path (``deliveries[0].quantity``), its shapes validated as a
        file's are, with the same located errors. References to other files and between
        sections are checked by ``LoadedCampaign.with_``, which knows the file's folder."""
        from shieldwall.errors import ScenarioError
        from shieldwall.scenario.load import pydantic_problems
        from shieldwall.scenario.vary import apply_changes, renamed
        from shieldwall.scenario.yaml_source import SourceMap

        data = apply_changes(self.model_dump(by_alias=True, exclude_none=True), {**(changes or {}), **fields})
        try:
            return Campaign.model_validate(data)
        except Exception as exc:  # pydantic's ValidationError: translated as a file's would be
            if not hasattr(exc, "errors"):
                raise
            error = ScenarioError(None, pydantic_problems(Campaign, exc, data, SourceMap()))  # type: ignore[arg-type]
            raise renamed(error, data, f"variation of {self.name}") from None
