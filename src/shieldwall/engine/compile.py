"""Scenario -> compiled arrays: the one place where validated models become the plain NumPy
arrays the kernel runs on. Geometry (launch spread, target allocation, paths, track times,
engagement windows) is fixed here for a given scenario and seed."""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from shieldwall.catalog.builtin import builtin_catalog
from shieldwall.catalog.classes import CLASS_INFO, THREAT_CLASSES, class_index
from shieldwall.catalog.model import Catalog, ThreatType
from shieldwall.engine.geometry import LocalFrame
from shieldwall.engine.kernel import MAX_BATTERY_INTERCEPTOR_PAIRS
from shieldwall.engine.paths import G_MPS2, engagement_windows, track_times
from shieldwall.engine.detection import DetectionEffects, build_detection, no_detection
from shieldwall.engine.hazards import build_hazards, deny_then_drift, disc_intervals, ins_hit_probability
from shieldwall.engine.records import (
    AREA_ATTEMPTS,
    AreaLayers,
    Batteries,
    Detection,
    Doctrine,
    EwZones,
    Hazards,
    Interceptors,
    Paths,
    SensorLosses,
    Threats,
    Windows,
    no_sensor_losses,
)
from shieldwall.policies import POLICY_BY_NAME
from shieldwall.scenario.model import Asset, Battery, Raid, Scenario, TargetBattery, TargetByKind, TargetRadar
from shieldwall.scenario.vary import revalidated

ATTACKED_PREFIX = "battery:"  # the target id of an attacked battery (Compiled.asset_ids)
RADAR_PREFIX = "radar:"  # the target id of an attacked stand-alone radar (after the attacked batteries)
MAX_STEP_S = 5.0
STEP_M = 250.0  # path sampling: one sample every ~250 m of flight


@dataclass
class Compiled:
    """Everything the kernel needs (named records, engine/records.py), plus the ids that label
    its output."""

    name: str
    frame: LocalFrame
    asset_ids: list[str]
    asset_value: np.ndarray
    battery_ids: list[str]
    interceptor_ids: list[str]
    threat_type_ids: list[str]
    threat_type_class: list[str]
    threat_raid: list[str]
    paths: Paths
    threats: Threats
    batteries: Batteries
    interceptors: Interceptors
    windows: Windows
    doctrine: Doctrine
    ew: Hazards  # electronic-warfare segments (engine/hazards.py), empty without ew_zones
    ew_zones: EwZones
    area: Hazards  # area-defence segments, empty without area_defences
    area_layers: AreaLayers
    ew_zone_ids: list[str] = field(default_factory=list)
    area_ids: list[str] = field(default_factory=list)
    threat_type_decoy: list[bool] | None = None  # per threat type: a decoy (does no damage)
    ballistic: "BallisticEffects | None" = None  # what mechanisms.ballistic did (None: off)
    c2: "C2Effects | None" = None  # what mechanisms.c2 did (None: off)
    detection: Detection | None = None  # mechanisms.detection's record (engine/detection.py; off: empty)
    detection_effects: DetectionEffects | None = None  # what it used (None: off)
    radar_ids: list[str] = field(default_factory=list)  # the stand-alone radars (radar_lost_s's axis)
    area_cued_by: list[str | None] = field(default_factory=list)  # per area defence: the network that cues it
    losses: SensorLosses | None = None  # the sensors an attack can destroy (None: the empty record)

    def __post_init__(self) -> None:
        if self.losses is None:
            self.losses = no_sensor_losses(self.n_threats)

    @property
    def n_threats(self) -> int:
        return int(self.threats.type.shape[0])

    @property
    def threat_type(self) -> np.ndarray:
        """[threat] index into threat_type_ids."""
        return self.threats.type

    @property
    def stock(self) -> np.ndarray:
        """[battery, interceptor] rounds at the start."""
        return self.batteries.stock

    @property
    def interceptor_cost_usd(self) -> np.ndarray:
        return self.interceptors.cost_usd

    @property
    def has_attacks(self) -> bool:
        """Whether some threat attacks a battery or a radar (then Uniforms.attack has a number per threat)."""
        return bool((self.threats.attack_battery >= 0).any() or (self.threats.attack_radar >= 0).any())

    @property
    def n_assets(self) -> int:
        """The scenario's own assets: the first ones of ``asset_ids`` (attacked batteries follow)."""
        return sum(not a.startswith((ATTACKED_PREFIX, RADAR_PREFIX)) for a in self.asset_ids)

    @property
    def shots_per_threat(self) -> int:
        """The most shots one threat can draw: a kill uniform each (Uniforms.kill's last axis)."""
        return int(np.max(self.doctrine.salvo * self.doctrine.max_engagements))

    @property
    def max_events_per_threat(self) -> int:
        """The replay log's bound per threat: launch, detection, then per engagement a shot and its
        end (kill, miss, or a failure in flight before the intercept), an event per area-defence
        engagement, then at most one leak or failure in flight, and an attacker's battery lost. The
        kernel's debug build asserts it."""
        area = AREA_ATTEMPTS if self.area_ids else 0
        return 3 + 2 * int(self.doctrine.max_engagements.max()) + area + int(self.has_attacks)

    @property
    def area_attempts(self) -> int:
        """Area-defence engagements a threat can draw uniforms for (Uniforms.area's third axis)."""
        return AREA_ATTEMPTS if self.area_ids else 0

    def log_rows_per_replication(self, stock: np.ndarray | None = None) -> int:
        """The event log's bound per replication: ``max_events_per_threat`` per threat, and the
        batteries' reloads. A chain of reloads starts at a shot (at most one per engagement) and
        each reload adds a launcher's load, except the one that ends a chain: so at most the
        engagements plus ``stock // rounds_per_launcher`` (+ 2) per (battery, interceptor).
        ``stock``: the largest per-replication stock, when a campaign gives its own."""
        stock = self.stock if stock is None else np.asarray(stock)
        reloads = (self.n_threats * int(self.doctrine.max_engagements.max())
                   + int((stock // self.batteries.rounds_per_launcher + 2).sum()))
        return self.n_threats * self.max_events_per_threat + reloads

    @property
    def horizon_s(self) -> float:
        """When the last threat's flight ends at the latest: the end of a timeline of the night."""
        th = self.threats
        return float((th.launch_s + th.window_s + th.flight_s).max()) if self.n_threats else 0.0

    def sizes(self) -> dict[str, int]:
        """The length of every axis an outcome array has (engine/records.py OUTCOMES)."""
        return {"threat_type": len(self.threat_type_ids), "battery": len(self.battery_ids),
                "interceptor": len(self.interceptor_ids), "asset": len(self.asset_ids), "threat": self.n_threats,
                "area_defence": len(self.area_ids), "radar": len(self.radar_ids)}


def compile_scenario(scenario: Scenario, seed: int, *, losable_radars: Collection[str] = ()) -> Compiled:
    """The arrays the kernel runs on. ``losable_radars``: stand-alone radars a campaign may have
    out of action on some replications (destroyed on an earlier night) though tonight's raids do
    not attack them: their tracks are then kept apart as an attacked radar's are."""
    scenario = revalidated(scenario)  # the boundary: no unvalidated value reaches the engine
    catalog = scenario.catalog.merged_over(builtin_catalog())
    if scenario.origin is not None:
        frame = LocalFrame(scenario.origin.lat, scenario.origin.lon)
    else:
        frame = LocalFrame(float(np.mean([a.lat for a in scenario.assets])),
                           float(np.mean([a.lon for a in scenario.assets])))
    geometry_rng = np.random.default_rng(np.random.SeedSequence([seed, 0x6E0]))

    # the aimpoints: the assets, then each battery a raid attacks (docs/model.md, Attacks on the
    # defence) as one more target named battery:ID, so hits, value lost and leaks by target count it
    attacked = _attacked_batteries(scenario)
    attacked_radars = _attacked_radars(scenario)  # then each radar a raid attacks, named radar:ID
    aims = [*scenario.assets, *(scenario.batteries[b] for b in attacked), *(scenario.radars[r] for r in attacked_radars)]
    asset_ids = ([a.id for a in scenario.assets] + [ATTACKED_PREFIX + scenario.batteries[b].id for b in attacked]
                 + [RADAR_PREFIX + scenario.radars[r].id for r in attacked_radars])
    asset_value = np.array([a.value for a in aims], float)
    ax, ay = frame.to_local([a.lat for a in aims], [a.lon for a in aims])
    ax, ay = np.atleast_1d(ax), np.atleast_1d(ay)

    type_ids: list[str] = []
    for raid in scenario.raids:
        for tid in [raid.threat] + ([raid.decoys.threat] if raid.decoys else []):
            if tid not in type_ids:
                type_ids.append(tid)
    types = [catalog.threats[t] for t in type_ids]

    itc_ids: list[str] = []
    for battery in scenario.batteries:
        for iid in battery.interceptors:
            if iid not in itc_ids:
                itc_ids.append(iid)
    if len(scenario.batteries) * len(itc_ids) > MAX_BATTERY_INTERCEPTOR_PAIRS:
        from shieldwall.errors import UsageError

        raise UsageError(f"{len(scenario.batteries)} batteries x {len(itc_ids)} interceptor types is more than the "
                         f"engine's {MAX_BATTERY_INTERCEPTOR_PAIRS:,} (battery, interceptor) pairs")

    raid_threats = _expand_raids(scenario, catalog, frame, type_ids, ax, ay, geometry_rng, attacked, attacked_radars)
    paths, flight, step, vmax = _paths(raid_threats, types, scenario.mechanisms.ballistic)
    n_thr = len(raid_threats["type"])
    th_type = np.asarray(raid_threats["type"], np.int64)
    th_class = np.array([class_index(types[t].threat_class) for t in th_type], np.int64)
    th_target = np.asarray(raid_threats["target"], np.int64)
    # [target] the battery an aimpoint is (-1: an asset)
    attack = np.asarray([-1] * len(scenario.assets) + attacked + [-1] * len(attacked_radars), np.int64)[th_target]
    attack_radar = np.asarray([-1] * (len(scenario.assets) + len(attacked)) + attacked_radars, np.int64)[th_target]
    damage = np.array([types[t].damage_fraction for t in th_type])
    looks_like = np.asarray(raid_threats["looks_like"], np.int64)
    decoy = np.array([types[t].decoy for t in th_type], bool)

    networks = _networks(scenario)
    sensors = _sensors(scenario, catalog, frame, networks)
    rcs = np.array([types[t].rcs_m2 for t in th_type])
    track_rel = track_times(paths, flight, step, rcs, *sensors, len(networks))
    legs = _legs(paths)
    acoustic = (_acoustic(scenario, catalog, frame, types, th_type, legs, networks, flight)
                if scenario.mechanisms.detection and scenario.acoustic_sensors else None)
    if acoustic is not None:  # the soonest an acoustic track can come bounds the windows, as coverage does
        track_rel = np.minimum(track_rel, acoustic.earliest_s)
    track_any = track_rel.min(axis=1) if track_rel.shape[1] else np.full(n_thr, np.inf)

    batteries, engage = _batteries(scenario, catalog, frame, itc_ids, networks)
    interceptors = _interceptors(catalog, itc_ids, type_ids)
    has = (batteries.stock > 0) & (batteries.launchers > 0)
    # [threat, battery] the earliest fire time after launch: the battery's network's track, or later
    fire_from = track_rel[:, np.array([networks.index(b.network) for b in scenario.batteries], np.int64)]
    c2 = C2Effects() if scenario.mechanisms.c2 else None
    if c2 is not None:
        fire_from = _c2_fire_from(scenario, catalog, batteries, paths, flight, step, rcs, fire_from, c2)
    ballistic = BallisticEffects() if scenario.mechanisms.ballistic else None
    if ballistic is not None:
        fire_from = _ballistic_fire_from(scenario, catalog, batteries, paths, flight, step, rcs, fire_from, ballistic)
    losable = _losable_sensors(scenario, attacked, attacked_radars, losable_radars)
    fire_rule = (_fire_rule(scenario, catalog, batteries, paths, flight, step, rcs)
                 if losable and not scenario.mechanisms.detection else None)
    pj, pb, pk_, po, pc = engagement_windows(
        paths, flight, step, th_type, th_class, np.ascontiguousarray(fire_from),
        batteries.x_m, batteries.y_m, has, engage, interceptors.speed_mps, interceptors.min_range_m,
        interceptors.max_range_m, interceptors.min_altitude_m, interceptors.max_altitude_m, interceptors.pk)
    order = np.lexsort((po, pk_, pb, pj))
    pj, pb, pk_, po, pc = pj[order], pb[order], pk_[order], po[order], pc[order]
    pair_off = np.searchsorted(pj, np.arange(n_thr + 1)).astype(np.int64)
    first_open = np.full(n_thr, np.inf)
    last_close = np.full(n_thr, -np.inf)
    np.minimum.at(first_open, pj, po)
    np.maximum.at(last_close, pj, pc)
    factor = None
    if ballistic is not None:
        factor = _ballistic_pk_factor(scenario, catalog, itc_ids, type_ids, types, th_type[pj], pb, pk_, ballistic)
        ballistic.note_windows(type_ids, types, th_type, pj)
    window_pk = window_kill_probability(interceptors.pk[pk_, th_type[pj]], pb, scenario, factor)

    doctrine = scenario.doctrine
    salvo = np.array([doctrine.per_class("salvo", c) for c in THREAT_CLASSES], np.int64)
    max_eng = np.array([doctrine.per_class("max_engagements", c) for c in THREAT_CLASSES], np.int64)
    doc = Doctrine(salvo, max_eng, float(doctrine.decision_interval_s), float(doctrine.assess_s),
                   float(doctrine.cost_weight), POLICY_BY_NAME[doctrine.policy].code,
                   float(doctrine.epoch_time_limit_s))

    threats = Threats(
        type=th_type, cls=th_class, target=th_target,
        value_at_stake=asset_value[th_target] * damage[looks_like],  # decoys pass for what they mimic
        damage=np.where(decoy, 0.0, damage),
        reliability=np.array([types[t].reliability for t in th_type]),
        launch_s=np.asarray(raid_threats["launch_s"], float), window_s=np.asarray(raid_threats["window_s"], float),
        cost_usd=np.array([types[t].cost_usd for t in th_type]),
        flight_s=flight, step_s=step, vmax_mps=vmax, first_open_s=first_open, last_close_s=last_close,
        track_s=track_any, attack_battery=attack.astype(np.int64), attack_radar=attack_radar.astype(np.int64))
    losses = (no_sensor_losses(n_thr) if fire_rule is None else
              _sensor_losses(scenario, networks, sensors, paths, flight, step, rcs, fire_rule, pj, pb, po, losable))
    detection_fx = DetectionEffects() if scenario.mechanisms.detection else None
    detection = (no_detection(n_thr) if detection_fx is None else
                 _detection(scenario, catalog, sensors, paths, flight, step, rcs, type_ids, types, th_type, detection_fx))
    if acoustic is not None and detection_fx is not None:
        detection = acoustic.into(detection, detection_fx, type_ids)
    ew, ew_zones = _ew_hazards(scenario, frame, types, th_type, legs)
    if scenario.mechanisms.ins:
        ew = _ins_hazards(scenario, types, th_type, th_target, paths, ew)
    area, layers = _area_hazards(scenario, catalog, frame, type_ids, types, th_type, legs, paths, networks, track_rel)
    return Compiled(
        ew=ew, ew_zones=ew_zones, area=area, area_layers=layers, ew_zone_ids=[z.id for z in scenario.ew_zones],
        area_ids=[a.id for a in scenario.area_defences], ballistic=ballistic, c2=c2,
        radar_ids=[r.id for r in scenario.radars], losses=losses,
        area_cued_by=[a.network if a.cued else None for a in scenario.area_defences],
        detection=detection, detection_effects=detection_fx,
        name=scenario.name, frame=frame, asset_ids=asset_ids, asset_value=asset_value,
        battery_ids=[b.id for b in scenario.batteries], interceptor_ids=itc_ids, threat_type_ids=type_ids,
        threat_type_class=[t.threat_class for t in types], threat_raid=raid_threats["raid"],
        threat_type_decoy=[bool(t.decoy) for t in types],
        paths=paths, threats=threats, batteries=batteries, interceptors=interceptors,
        windows=_window_index(pair_off, pb, pk_, po, pc, window_pk, len(scenario.batteries)), doctrine=doc,
    )


class _Legs(NamedTuple):
    """Every straight leg of every path (a ballistic arc's ground track is one leg)."""

    threat: np.ndarray
    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    t0: np.ndarray
    t1: np.ndarray

    @property
    def ground_speed_kmps(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.hypot(self.x1 - self.x0, self.y1 - self.y0) / 1000.0 / (self.t1 - self.t0)
        return np.where(self.t1 > self.t0, v, 0.0)


def _legs(paths: Paths) -> _Legs:
    off = paths.vertex_offset
    first = np.arange(len(paths.vertex_x_m) - 1)
    threat = np.searchsorted(off, first, side="right") - 1
    keep = first + 1 < off[threat + 1]  # a leg joins two vertices of the same threat
    a, j = first[keep], threat[keep]
    return _Legs(j, paths.vertex_x_m[a], paths.vertex_y_m[a], paths.vertex_x_m[a + 1], paths.vertex_y_m[a + 1],
                 paths.vertex_t_s[a], paths.vertex_t_s[a + 1])


def _zone_pieces(legs: _Legs, frame: LocalFrame, zone: Any, index: int, rate_km: np.ndarray,
                 pieces: list[tuple[int, float, float, int, float]]) -> None:
    """The stretches of every leg inside the zone's disc, each with the zone's rate per second
    there (``rate_km`` [threat]: per km flown, 0 where the zone does not act on the threat)."""
    cx, cy = frame.to_local(zone.lat, zone.lon)
    f_in, f_out = disc_intervals(legs.x0, legs.y0, legs.x1, legs.y1, float(cx), float(cy), 1000.0 * zone.radius_km)
    rate_s = rate_km[legs.threat] * legs.ground_speed_kmps
    for i in np.flatnonzero((f_in < f_out) & (rate_s > 0.0)):
        span = legs.t1[i] - legs.t0[i]
        pieces.append((int(legs.threat[i]), float(legs.t0[i] + f_in[i] * span), float(legs.t0[i] + f_out[i] * span),
                       index, float(rate_s[i])))


def _ew_hazards(scenario: Scenario, frame: LocalFrame, types: list[ThreatType], th_type: np.ndarray,
                legs: _Legs) -> tuple[Hazards, EwZones]:
    """Electronic warfare (docs/model.md): a threat whose guidance includes a kind the zone
    degrades is lost at loss_per_km x (1 - its ew_resistance) per km flown inside."""
    n_thr = len(th_type)
    pieces: list[tuple[int, float, float, int, float]] = []
    for z, zone in enumerate(scenario.ew_zones):
        per_type = np.array([zone.loss_per_km * (1.0 - t.ew_resistance) if set(t.guidance) & set(zone.affects)
                             else 0.0 for t in types])
        _zone_pieces(legs, frame, zone, z, per_type[th_type] if n_thr else np.zeros(0), pieces)
    return build_hazards(n_thr, pieces), EwZones(np.array([z.divert_share for z in scenario.ew_zones], float))


def _ins_hazards(scenario: Scenario, types: list[ThreatType], th_type: np.ndarray, th_target: np.ndarray,
                 paths: Paths, ew: Hazards) -> Hazards:
    """mechanisms.ins (docs/model.md, Electronic warfare): a zone's events deny GNSS; a threat whose
    type has an ins_drift_m_per_km flies on and is lost only when its inertial miss over the ground
    distance still to fly exceeds its target's radius_m."""
    drift = np.array([np.nan if t.ins_drift_m_per_km is None else t.ins_drift_m_per_km for t in types])[th_type]
    # the aimpoints' radii: the assets', then each attacked battery's (target ids ``battery:ID``), which
    # has no radius field: the assets' default (a battery's launchers and radar spread over ~100 m)
    battery_radius_m = float(Asset.model_fields["radius_m"].default)
    radius_m = np.array([a.radius_m for a in scenario.assets]
                        + [battery_radius_m] * (len(_attacked_batteries(scenario)) + len(_attacked_radars(scenario))),
                        float)[th_target]
    off = paths.vertex_offset
    step = np.hypot(np.diff(paths.vertex_x_m), np.diff(paths.vertex_y_m)) / 1000.0
    along_km = np.concatenate(([0.0], np.cumsum(step)))  # ground distance at each vertex, from the first

    def hit_probability(j: np.ndarray, t_s: np.ndarray) -> np.ndarray:
        to_go_km = np.empty(len(j))
        for threat in np.unique(j):
            at = j == threat
            lo, hi = off[threat], off[threat + 1]
            flown = np.interp(t_s[at], paths.vertex_t_s[lo:hi], along_km[lo:hi])
            to_go_km[at] = along_km[hi - 1] - flown
        return ins_hit_probability(drift[j], to_go_km, radius_m[j])

    return deny_then_drift(ew, ~np.isnan(drift), hit_probability)


def _area_hazards(scenario: Scenario, catalog: Catalog, frame: LocalFrame, type_ids: list[str],
                  types: list[ThreatType], th_type: np.ndarray, legs: _Legs, paths: Paths, networks: list[str],
                  track_rel: np.ndarray) -> tuple[Hazards, AreaLayers]:
    """Area defences (docs/model.md): units spread evenly over a disc of area A meet a threat
    flying through it at units x 2 reach x engage_probability / A per km; a threat is eligible if
    the type has a kill probability against it, flies inside its altitude band and no faster
    than it can engage."""
    n_thr, n_types, n_layers = len(th_type), len(types), len(scenario.area_defences)
    pieces: list[tuple[int, float, float, int, float]] = []
    pk = np.zeros((n_layers, n_types))
    for a, area in enumerate(scenario.area_defences):
        kind = catalog.area_defences[area.type]
        for t, (tid, threat) in enumerate(zip(type_ids, types)):
            pk[a, t] = kind.pk.get(tid, kind.pk.get(threat.threat_class, 0.0))  # a type id wins over its class
        alt = paths.altitude_m
        ball = paths.ballistic
        speed = np.array([t.speed_mps or 0.0 for t in types])[th_type] if n_thr else np.zeros(0)
        eligible = (pk[a][th_type] > 0.0) & ~ball & (kind.min_altitude_m <= alt) & (alt <= kind.max_altitude_m) \
            & (speed <= kind.max_target_speed_mps)
        area_km2 = np.pi * area.radius_km ** 2
        rate_km = np.where(eligible, area.units * 2.0 * kind.reach_km * kind.engage_probability / area_km2, 0.0)
        _zone_pieces(legs, frame, area, a, rate_km, pieces)
    kinds = [catalog.area_defences[a.type] for a in scenario.area_defences]
    huge = np.iinfo(np.int64).max // 4
    # cued area defences (docs/model.md, Area defences cued by a network): their network (one no
    # sensor feeds never tracks: checks.py refuses it), and with geometric tracks its first track
    cue_net = np.array([networks.index(a.network) if a.cued and a.network in networks else -1
                        for a in scenario.area_defences], np.int64)
    layers = AreaLayers(
        tokens_per_s=np.array([a.units * k.attempts_per_min / 60.0 for a, k in zip(scenario.area_defences, kinds)], float),
        burst=np.array([float(a.units) for a in scenario.area_defences]),
        stock=np.array([huge if a.stock is None else a.stock for a in scenario.area_defences], np.int64),
        munitions_per_attempt=np.array([k.munitions_per_attempt for k in kinds], np.int64),
        pk=pk, active_from_s=np.array([a.active_from_s for a in scenario.area_defences], float),
        active_until_s=np.array([np.inf if a.active_until_s is None else a.active_until_s
                                 for a in scenario.area_defences], float),
        cost_usd=np.array([k.cost_usd for k in kinds], float), cue_net=cue_net,
        cue_s=np.ascontiguousarray(np.stack([track_rel[:, n] if n >= 0 else np.full(n_thr, np.inf) for n in cue_net],
                                            axis=1) if n_layers else np.zeros((n_thr, 0)), float))
    return build_hazards(n_thr, pieces), layers


def window_kill_probability(base_pk: np.ndarray, battery: np.ndarray, scenario: Scenario,
                            factor: np.ndarray | None = None) -> np.ndarray:
    """Each engagement window's single-shot kill probability: the catalog's Pk of the window's
    interceptor against its threat type, times each Pk modifier. A new modifier multiplies its
    per-window factor in here (docs/architecture.md, "How to add a mechanism"): ``factor``
    [window], the mechanisms' product (None: none is on, nothing is multiplied)."""
    pk_factor = np.array([b.pk_factor for b in scenario.batteries], float)
    pk = base_pk * pk_factor[battery]
    if factor is not None:
        pk = pk * factor
    return np.minimum(pk, 1.0)


@dataclass
class BallisticEffects:
    """What ``mechanisms.ballistic`` changed, for the summary (docs/model.md, Ballistic
    engagements): each battery's track time, the Pk factor of each (interceptor, ballistic-effect
    threat type), and the share of each ballistic type's threats some battery can engage."""

    track_time_s: dict[str, float] = field(default_factory=dict)
    pk_factor: dict[str, dict[str, float]] = field(default_factory=dict)
    engageable_fraction: dict[str, float] = field(default_factory=dict)

    def note_windows(self, type_ids: list[str], types: list[ThreatType], th_type: np.ndarray,
                     pair_threat: np.ndarray) -> None:
        has = np.zeros(len(th_type), bool)
        has[pair_threat] = True
        for t, (tid, kind) in enumerate(zip(type_ids, types)):
            mine = th_type == t
            if CLASS_INFO[kind.threat_class].kinematics == "ballistic" and mine.any():
                self.engageable_fraction[tid] = float(has[mine].mean())

    def summary(self) -> dict[str, Any]:
        return {"track_time_s": self.track_time_s, "pk_factor": self.pk_factor,
                "engageable_fraction": self.engageable_fraction}


def _ballistic_fire_from(scenario: Scenario, catalog: Catalog, batteries: Batteries, paths: Paths,
                         flight: np.ndarray, step: np.ndarray, rcs: np.ndarray, fire_from: np.ndarray,
                         effects: BallisticEffects) -> np.ndarray:
    """A fire unit whose system has a ``ballistic_track_time_s`` T launches at a ballistic threat
    only once its own radar has held a track for T: no sooner than (own detection + T), and no
    sooner than its network's track. Its own radar's detection uses the same rule and path
    sampling as every track (engine/paths.py track_times); non-ballistic rows are not computed."""
    need = [b for b, bat in enumerate(scenario.batteries)
            if catalog.systems[bat.system].ballistic_track_time_s is not None]
    if not need or not paths.ballistic.any():
        return fire_from
    systems = [catalog.systems[scenario.batteries[b].system] for b in need]
    own = _own_tracks(systems, batteries, need, paths, np.where(paths.ballistic, flight, 0.0), step, rcs)
    out = fire_from.copy()
    ball = paths.ballistic
    for i, (b, system) in enumerate(zip(need, systems)):
        out[ball, b] = np.maximum(fire_from[ball, b], own[ball, i] + system.ballistic_track_time_s)
        effects.track_time_s[scenario.batteries[b].id] = float(system.ballistic_track_time_s)
    return out


def _own_tracks(systems: list[Any], batteries: Batteries, need: list[int], paths: Paths, flight: np.ndarray,
                step: np.ndarray, rcs: np.ndarray) -> np.ndarray:
    """[threat, i] when battery need[i]'s own radar first sees each threat (inf: never), by the
    rule and path sampling of every track (engine/paths.py track_times); rows with flight 0 are
    not computed."""
    return track_times(paths, flight, step, rcs, batteries.x_m[need], batteries.y_m[need],
                       np.array([s.radar_height_m for s in systems], float),
                       np.array([1000.0 * s.radar_range_km for s in systems], float),
                       np.arange(len(need), dtype=np.int64), len(need))


@dataclass
class C2Effects:
    """What ``mechanisms.c2`` changed, for the summary: each battery's track latency."""

    track_latency_s: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"track_latency_s": self.track_latency_s}


def _c2_fire_from(scenario: Scenario, catalog: Catalog, batteries: Batteries, paths: Paths, flight: np.ndarray,
                  step: np.ndarray, rcs: np.ndarray, fire_from: np.ndarray, effects: C2Effects) -> np.ndarray:
    """Command and control (docs/model.md): a fire unit whose system has a ``track_latency_s`` L
    holds a track from its network L after the network formed it, from its own radar at once:
    min(network track + L, own detection)."""
    need = [b for b, bat in enumerate(scenario.batteries) if catalog.systems[bat.system].track_latency_s]
    if not need:
        return fire_from
    systems = [catalog.systems[scenario.batteries[b].system] for b in need]
    own = _own_tracks(systems, batteries, need, paths, flight, step, rcs)
    out = fire_from.copy()
    for i, (b, system) in enumerate(zip(need, systems)):
        out[:, b] = np.minimum(fire_from[:, b] + system.track_latency_s, own[:, i])
        effects.track_latency_s[scenario.batteries[b].id] = float(system.track_latency_s)
    return out


@dataclass
class FireRule:
    """A fire unit's earliest fire time as a function of its network's track T (after launch):
    max(min(T + latency, own), floor), the rule of _c2_fire_from and _ballistic_fire_from taken
    apart, so that the kernel can apply it to the track left after a sensor is lost."""

    latency_s: np.ndarray  # [battery] mechanisms.c2's track latency (0: none)
    own_s: np.ndarray  # [threat, battery] its own radar's track under a latency rule (inf: none)
    floor_s: np.ndarray  # [threat, battery] own track + ballistic track time (-inf: no such rule)


def _fire_rule(scenario: Scenario, catalog: Catalog, batteries: Batteries, paths: Paths, flight: np.ndarray,
               step: np.ndarray, rcs: np.ndarray) -> FireRule:
    """The terms of the fire-time rule, from the same functions compile applies to the network
    track (so the kernel's rule gives their numbers bit for bit): c2 of an infinite track is the
    own-radar term, ballistic of -inf the floor."""
    n_thr, n_bat = paths.ballistic.shape[0], len(scenario.batteries)
    latency = np.array([float(catalog.systems[b.system].track_latency_s or 0.0) if scenario.mechanisms.c2 else 0.0
                        for b in scenario.batteries], float)
    own = np.full((n_thr, n_bat), np.inf)
    if scenario.mechanisms.c2:
        own = _c2_fire_from(scenario, catalog, batteries, paths, flight, step, rcs, own, C2Effects())
    floor = np.full((n_thr, n_bat), -np.inf)
    if scenario.mechanisms.ballistic:
        floor = _ballistic_fire_from(scenario, catalog, batteries, paths, flight, step, rcs, floor, BallisticEffects())
    return FireRule(latency, own, floor)


def _losable_sensors(scenario: Scenario, attacked: list[int], attacked_radars: list[int],
                     also_radars: Collection[str] = ()) -> list[int]:
    """The sensors (compile's ``_sensors`` order: the batteries' own radars, then the stand-alone
    radars) an attack can destroy: each attacked battery's radar and each attacked radar (and
    the radars ``also_radars`` names, a campaign's: compile_scenario)."""
    radars = [*attacked_radars, *(r for r, radar in enumerate(scenario.radars)
                                  if radar.id in also_radars and r not in attacked_radars)]
    return [*attacked, *(len(scenario.batteries) + r for r in radars)]


def _sensor_losses(scenario: Scenario, networks: list[str], sensors: tuple, paths: Paths, flight: np.ndarray,
                   step: np.ndarray, rcs: np.ndarray, rule: FireRule, pj: np.ndarray, pb: np.ndarray,
                   windows_open_s: np.ndarray, losable: list[int]) -> SensorLosses:
    """The record the kernel applies attacks on sensors with (records.SensorLosses): each losable
    sensor's own track times, and per network the first track of the sensors no attack can
    destroy, by the rule and path sampling of every track (engine/paths.py track_times)."""
    x, y, h, range_m, net = sensors
    n_thr = paths.ballistic.shape[0]
    idx = np.asarray(losable, np.int64)
    own_track = track_times(paths, flight, step, rcs, x[idx], y[idx], h[idx], range_m[idx],
                            np.arange(len(idx), dtype=np.int64), len(idx))
    keep = np.setdiff1d(np.arange(len(x)), idx)
    fixed = (track_times(paths, flight, step, rcs, x[keep], y[keep], h[keep], range_m[keep], net[keep], len(networks))
             if len(keep) else np.full((n_thr, len(networks)), np.inf))
    n_bat = len(scenario.batteries)
    if not n_bat:
        return no_sensor_losses(n_thr)
    bat_net = np.array([networks.index(b.network) for b in scenario.batteries], np.int64)
    own_s, floor_s = rule.own_s[pj, pb], rule.floor_s[pj, pb]
    # a window that opens no later with every losable sensor lost (its track from the others) is
    # never without a track: the kernel does not look (the fire-time rule only grows with the track)
    worst = np.maximum(np.minimum(fixed[pj, bat_net[pb]] + rule.latency_s[pb], own_s), floor_s)
    return SensorLosses(
        unit=idx.copy(), net=np.asarray(net[idx], np.int64), track_s=np.ascontiguousarray(own_track, float),
        fixed_s=np.ascontiguousarray(fixed, float), bat_net=bat_net, bat_latency_s=rule.latency_s,
        own_s=np.ascontiguousarray(own_s, float), floor_s=np.ascontiguousarray(floor_s, float),
        at_risk=np.ascontiguousarray(worst > windows_open_s, np.bool_))


def _detection(scenario: Scenario, catalog: Catalog, sensors: tuple, paths: Paths, flight: np.ndarray,
               step: np.ndarray, rcs: np.ndarray, type_ids: list[str], types: list[ThreatType],
               th_type: np.ndarray, effects: DetectionEffects) -> Detection:
    """Detection and tracking (docs/model.md): the sensors of ``_sensors`` (the batteries' own
    radars, then the stand-alone radars) with their catalog scan fields; each battery's C2 latency
    (under mechanisms.c2) and link loss; each decoy's identification probability; each battery's
    ballistic track time (under mechanisms.ballistic)."""
    systems = [catalog.systems[b.system] for b in scenario.batteries]
    params = [*systems, *(catalog.radars[r.type] for r in scenario.radars)]
    ids = [b.id for b in scenario.batteries] + [r.id for r in scenario.radars]
    latency = np.array([float(s.track_latency_s or 0.0) if scenario.mechanisms.c2 else 0.0 for s in systems], float)
    loss = np.array([float(s.link_loss_probability or 0.0) for s in systems], float)
    per_type = np.array([float(t.identify_probability or 0.0) if t.decoy else 0.0 for t in types], float)
    for b, battery in enumerate(scenario.batteries):
        effects.link_loss_probability[battery.id] = float(loss[b])
    for t in range(len(types)):
        if per_type[t] > 0.0:
            effects.identify_probability[type_ids[t]] = float(per_type[t])
    det = build_detection(ids, params, sensors, paths, flight, step, rcs, len(systems), latency, loss,
                          per_type[th_type] if len(th_type) else np.zeros(0), effects)
    if scenario.mechanisms.ballistic:  # the track time counts from the drawn own track (fire_unit_tracks)
        det = det._replace(bat_ballistic_track_s=np.array([float(s.ballistic_track_time_s or 0.0) for s in systems]))
    return det


class _Acoustic(NamedTuple):
    """Acoustic cueing compiled (``_acoustic``), before it joins the detection record."""

    hazards: Hazards  # rows j * len(nets) + k
    nets: np.ndarray  # [k] int64 network of acoustic network k
    latency_s: np.ndarray  # [field]
    update_s: np.ndarray  # [field]
    earliest_s: np.ndarray  # [threat, network] the soonest a track from them can come (inf: never)
    per_km: list[np.ndarray]  # [field] detections per km by threat type (the summary)
    fields: list[Any]

    def into(self, detection: Detection, effects: DetectionEffects, type_ids: list[str]) -> Detection:
        for f, rate in zip(self.fields, self.per_km):
            effects.acoustic[f.id] = {"network": f.network, "sensors": int(f.sensors),
                                      "detections_per_km": {type_ids[t]: float(rate[t]) for t in range(len(rate))
                                                            if rate[t] > 0.0}}
        return detection._replace(ac_haz=self.hazards, ac_net=self.nets, ac_latency_s=self.latency_s,
                                  ac_update_s=self.update_s)


def _acoustic(scenario: Scenario, catalog: Catalog, frame: LocalFrame, types: list[ThreatType], th_type: np.ndarray,
              legs: _Legs, networks: list[str], flight: np.ndarray) -> _Acoustic:
    """Acoustic cueing (docs/model.md): ``sensors`` spread evenly over a disc of area A hear a
    threat of a class they know, flying no higher than max_altitude_m, within the slant range r,
    so across a strip of half-width w = sqrt(r^2 - h^2) at its altitude h; each sensor passed within
    it detects with probability p. The rate of detections per km flown inside is

        sensors * 2 * w * p / A

    (as for area defences), one hazard per (threat, acoustic network): its first detection,
    reported after the field's latency, is a track on that network."""
    fields = scenario.acoustic_sensors
    kinds = [catalog.acoustic_sensors[f.type] for f in fields]
    nets = sorted({networks.index(f.network) for f in fields})
    n_thr, n_ac = len(th_type), len(nets)
    pieces: list[tuple[int, float, float, int, float]] = []
    per_km: list[np.ndarray] = []
    for z, (f, kind) in enumerate(zip(fields, kinds)):
        per_type = np.zeros(len(types))
        for t, threat in enumerate(types):
            if threat.threat_class not in kind.classes or threat.altitude_m is None:
                continue  # a class it does not know, or an arc without a cruise altitude (ballistic)
            h_km = threat.altitude_m / 1000.0
            if threat.altitude_m <= kind.max_altitude_m and h_km < kind.detect_range_km:
                half_width_km = math.sqrt(kind.detect_range_km ** 2 - h_km ** 2)
                per_type[t] = f.sensors * 2.0 * half_width_km * kind.detect_probability / (math.pi * f.radius_km ** 2)
        per_km.append(per_type)
        mine: list[tuple[int, float, float, int, float]] = []
        _zone_pieces(legs, frame, f, z, per_type[th_type] if n_thr else np.zeros(0), mine)
        k = nets.index(networks.index(f.network))
        pieces += [(j * n_ac + k, t0, t1, zone, rate) for j, t0, t1, zone, rate in mine]
    latency = np.array([float(kind.report_latency_s) for kind in kinds], float)
    earliest = np.full((n_thr, len(networks)), np.inf)
    for row, t0, t1, zone, rate in pieces:
        j, net = row // n_ac, nets[row % n_ac]
        if t0 + latency[zone] <= flight[j]:
            earliest[j, net] = min(earliest[j, net], t0 + latency[zone])
    return _Acoustic(build_hazards(n_thr * n_ac, pieces), np.array(nets, np.int64), latency,
                     np.array([float(kind.update_period_s) for kind in kinds], float), earliest, per_km, list(fields))


def _ballistic_pk_factor(scenario: Scenario, catalog: Catalog, itc_ids: list[str], type_ids: list[str],
                         types: list[ThreatType],
                         pair_type: np.ndarray, pair_battery: np.ndarray, pair_itc: np.ndarray,
                         effects: BallisticEffects) -> np.ndarray:
    """[window] the Pk factor of a threat's terminal manoeuvre and penetration aids
    (docs/model.md, Ballistic engagements):

        manoeuvre = min(1, a_interceptor / (3 a_threat))     (1 if either is not given)
        penaids   = 1 / (1 + n (1 - d))                       n aids, d the fire unit's discrimination
    """
    a_itc = np.array([catalog.interceptors[k].lateral_accel_g or np.inf for k in itc_ids], float)
    a_thr = np.array([t.terminal_manoeuvre_g or 0.0 for t in types], float)
    n_aids = np.array([t.penaids or 0 for t in types], float)
    discr = np.array([catalog.systems[b.system].penaid_discrimination or 0.0 for b in scenario.batteries], float)
    with np.errstate(divide="ignore", invalid="ignore"):
        manoeuvre = np.where(a_thr[None, :] > 0.0, np.minimum(1.0, a_itc[:, None] / (3.0 * a_thr[None, :])), 1.0)
    penaid = 1.0 / (1.0 + n_aids[None, :] * (1.0 - discr[:, None]))  # [battery, type]
    factor = manoeuvre[pair_itc, pair_type] * penaid[pair_battery, pair_type]
    for k, kid in enumerate(itc_ids):
        for t in range(len(types)):
            if a_thr[t] > 0.0 or n_aids[t] > 0:
                mine = (pair_itc == k) & (pair_type == t)
                if mine.any():
                    effects.pk_factor.setdefault(kid, {})[type_ids[t]] = float(factor[mine].mean())
    return factor


def _window_index(pair_off: np.ndarray, pair_b: np.ndarray, pair_k: np.ndarray, pair_open: np.ndarray,
                  pair_close: np.ndarray, pk: np.ndarray, n_bat: int) -> Windows:
    """Engagement windows plus the look-ups the event-driven kernel needs: the windows of each
    battery (to re-examine when it frees a channel or reloads), each window's threat, each
    threat's windows in the order they open (the kernel follows them one opening at a time), and
    the windows' kill probabilities as levels of a short table."""
    by_battery = np.argsort(pair_b, kind="stable").astype(np.int64)
    bat_off = np.searchsorted(pair_b[by_battery], np.arange(n_bat + 1)).astype(np.int64)
    pair_j = np.repeat(np.arange(len(pair_off) - 1), np.diff(pair_off)).astype(np.int64)
    open_order = np.lexsort((pair_open, pair_j)).astype(np.int64)  # stable: ties keep scenario order
    levels, level = np.unique(np.asarray(pk, float), return_inverse=True)
    return Windows(threat_offset=pair_off, battery=pair_b, interceptor=pair_k, open_s=pair_open, close_s=pair_close,
                   pk_level=level.astype(np.int64).reshape(-1), pk_levels=levels.astype(float),
                   battery_offset=bat_off, by_battery=by_battery, threat=pair_j, open_order=open_order)


def _allocate(count: int, weights: np.ndarray) -> np.ndarray:
    """Split ``count`` in proportion to ``weights`` by largest remainder (deterministic)."""
    w = np.asarray(weights, float)
    w = np.ones_like(w) if w.sum() <= 0 else w
    exact = count * w / w.sum()
    base = np.floor(exact).astype(int)
    rest = count - base.sum()
    base[np.argsort(-(exact - base), kind="stable")[:rest]] += 1
    return base


def _attacked(ids: list[str], scenario: Scenario, kind: type, field: str) -> list[int]:
    """Indices into ``ids`` of the defence items some raid attacks (a ``kind`` target naming one
    by ``field``), in the order raids first name them."""
    out: list[int] = []
    for raid in scenario.raids:
        if isinstance(raid.target, kind) and ids.index(getattr(raid.target, field)) not in out:
            out.append(ids.index(getattr(raid.target, field)))
    return out


def _attacked_batteries(scenario: Scenario) -> list[int]:
    """The batteries some raid attacks ({battery: id})."""
    return _attacked([b.id for b in scenario.batteries], scenario, TargetBattery, "battery")


def _attacked_radars(scenario: Scenario) -> list[int]:
    """The stand-alone radars some raid attacks ({radar: id})."""
    return _attacked([r.id for r in scenario.radars], scenario, TargetRadar, "radar")


def _raid_targets(raid: Raid, count: int, scenario: Scenario, attacked: list[int],
                  attacked_radars: list[int]) -> list[int]:
    """Each threat's target: an index into the assets, then the attacked batteries, then the
    attacked radars."""
    if isinstance(raid.target, TargetBattery):
        b = next(i for i, battery in enumerate(scenario.batteries) if battery.id == raid.target.battery)
        return [len(scenario.assets) + attacked.index(b)] * count
    if isinstance(raid.target, TargetRadar):
        r = next(i for i, radar in enumerate(scenario.radars) if radar.id == raid.target.radar)
        return [len(scenario.assets) + len(attacked) + attacked_radars.index(r)] * count
    if isinstance(raid.target, TargetByKind):
        idx = [i for i, a in enumerate(scenario.assets) if a.kind == raid.target.kind]
        split = _allocate(count, np.array([scenario.assets[i].value for i in idx]))
        return [i for i, n in zip(idx, split) for _ in range(n)]
    target = next(i for i, a in enumerate(scenario.assets) if a.id == raid.target)
    return [target] * count


def _expand_raids(scenario: Scenario, catalog: Catalog, frame: LocalFrame, type_ids: list[str],
                  ax: np.ndarray, ay: np.ndarray, rng: np.random.Generator, attacked: list[int],
                  attacked_radars: list[int]) -> dict:
    out: dict[str, list] = {k: [] for k in ("type", "looks_like", "target", "launch_s", "window_s", "raid", "verts")}
    for raid in scenario.raids:
        lx, ly = frame.to_local(raid.launch.lat, raid.launch.lon)
        wx, wy = frame.to_local([w.lat for w in raid.waypoints], [w.lon for w in raid.waypoints])
        groups = [(raid.threat, raid.count)] + ([(raid.decoys.threat, raid.decoys.count)] if raid.decoys else [])
        for tid, count in groups:
            ballistic = CLASS_INFO[catalog.threats[tid].threat_class].kinematics == "ballistic"
            radius = 1000.0 * raid.launch.spread_km * np.sqrt(rng.random(count))
            angle = 2 * np.pi * rng.random(count)
            for i, target in enumerate(_raid_targets(raid, count, scenario, attacked, attacked_radars)):
                start = (float(lx) + radius[i] * np.cos(angle[i]), float(ly) + radius[i] * np.sin(angle[i]))
                middle = [] if ballistic else list(zip(np.atleast_1d(wx).tolist(), np.atleast_1d(wy).tolist()))
                out["verts"].append([start, *middle, (float(ax[target]), float(ay[target]))])
                out["type"].append(type_ids.index(tid))
                out["looks_like"].append(type_ids.index(raid.threat))  # decoys pass for the raid's threat
                out["target"].append(target)
                out["launch_s"].append(raid.time_s)
                out["window_s"].append(raid.window_s)
                out["raid"].append(raid.id)
    return out


def _paths(threats: dict, types: list[ThreatType], air_launch: bool = False) -> tuple[Paths, np.ndarray, np.ndarray, np.ndarray]:
    """Each threat's path; ``air_launch`` (mechanisms.ballistic): a ballistic type with a
    ``launch_altitude_m`` starts its arc there (docs/model.md, Ballistic missiles)."""
    n = len(threats["type"])
    off = np.zeros(n + 1, np.int64)
    xs: list[float] = []
    ys: list[float] = []
    ts: list[float] = []
    is_ball = np.zeros(n, bool)
    alt = np.zeros(n)
    apogee = np.zeros(n)
    release = np.zeros(n)
    flight = np.zeros(n)
    step = np.zeros(n)
    vmax = np.zeros(n)
    for j, (tp, verts) in enumerate(zip(threats["type"], threats["verts"])):
        kind = types[tp]
        v = np.asarray(verts, float)
        seg = np.hypot(*np.diff(v, axis=0).T)
        if CLASS_INFO[kind.threat_class].kinematics == "ballistic":
            ground = float(seg.sum())
            h = 1000.0 * kind.apogee_km if kind.apogee_km else max(ground / 4.0, 1.0)
            t_flight = 2.0 * np.sqrt(2.0 * h / G_MPS2)
            if air_launch and kind.launch_altitude_m:  # up from the release point, then down
                h0 = float(kind.launch_altitude_m)
                h = max(h, h0)
                release[j] = h0
                t_flight = np.sqrt(2.0 * (h - h0) / G_MPS2) + np.sqrt(2.0 * h / G_MPS2)
            is_ball[j] = True
            apogee[j] = h
            times = np.array([0.0, t_flight])
            v = v[[0, -1]]
            vmax[j] = float(np.hypot(ground / t_flight, np.sqrt(2.0 * G_MPS2 * h)))
        else:
            speed = float(kind.speed_mps or 1.0)
            times = np.concatenate([[0.0], np.cumsum(seg) / speed])
            alt[j] = float(kind.altitude_m or 0.0)
            vmax[j] = speed
        flight[j] = max(float(times[-1]), 1e-6)
        step[j] = min(MAX_STEP_S, STEP_M / vmax[j])
        xs.extend(v[:, 0])
        ys.extend(v[:, 1])
        ts.extend(times)
        off[j + 1] = len(xs)
    paths = Paths(ballistic=is_ball, vertex_offset=off, vertex_x_m=np.array(xs), vertex_y_m=np.array(ys),
                  vertex_t_s=np.array(ts), altitude_m=alt, apogee_m=apogee,
                  release_m=release)
    return paths, flight, step, vmax


def _networks(scenario: Scenario) -> list[str]:
    """Network names, numbered in the order batteries, radars, then acoustic fields name them (a
    network only acoustic fields feed comes last: the others keep their numbers)."""
    names: list[str] = []
    for unit in [*scenario.batteries, *scenario.radars, *scenario.acoustic_sensors]:
        if unit.network not in names:
            names.append(unit.network)
    return names


def _sensors(scenario: Scenario, catalog: Catalog, frame: LocalFrame, networks: list[str]) -> tuple:
    rows = [(b.lat, b.lon, catalog.systems[b.system].radar_height_m,
             1000.0 * catalog.systems[b.system].radar_range_km, networks.index(b.network))
            for b in scenario.batteries]
    rows += [(r.lat, r.lon, catalog.radars[r.type].height_m, 1000.0 * catalog.radars[r.type].range_km,
              networks.index(r.network)) for r in scenario.radars]
    if not rows:
        return (np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, np.int64))
    lat, lon, h, rng_m, net = (np.array(c) for c in zip(*rows))
    x, y = frame.to_local(lat, lon)
    return (np.atleast_1d(x), np.atleast_1d(y), h.astype(float), rng_m.astype(float), net.astype(np.int64))


def _launcher_split(battery: Battery, launchers: int, caps: dict[str, int]) -> dict[str, int]:
    """Launchers per interceptor type: the scenario's map, else by rounds needed, >= 1 each."""
    if battery.launchers:
        return dict(battery.launchers)
    stocked = [k for k, n in battery.interceptors.items() if n > 0]
    if not stocked:
        return {}
    need = np.array([np.ceil(battery.interceptors[k] / caps[k]) for k in stocked])
    if need.sum() <= launchers:
        split = need.astype(int)
    elif launchers >= len(stocked):
        split = 1 + _allocate(launchers - len(stocked), need)
    else:
        split = np.array([1 if i < launchers else 0 for i in range(len(stocked))])
    return dict(zip(stocked, split.tolist()))


def _batteries(scenario: Scenario, catalog: Catalog, frame: LocalFrame, itc_ids: list[str],
               networks: list[str]) -> tuple[Batteries, np.ndarray]:
    """The batteries' record, and which threat classes each may engage [battery, class]."""
    n_b, n_k = len(scenario.batteries), len(itc_ids)
    stock = np.zeros((n_b, n_k), np.int64)
    n_launch = np.zeros((n_b, n_k), np.int64)
    cap = np.ones((n_b, n_k), np.int64)
    channels = np.zeros(n_b, np.int64)
    reload_s = np.zeros(n_b)
    engage = np.ones((n_b, len(THREAT_CLASSES)), bool)
    for b, battery in enumerate(scenario.batteries):
        system = catalog.systems[battery.system]
        channels[b] = system.fire_channels
        reload_s[b] = system.reload_s
        caps = {k: catalog.interceptors[k].rounds_per_launcher or system.rounds_per_launcher
                for k in battery.interceptors}
        for kid, n in _launcher_split(battery, system.launchers, caps).items():
            n_launch[b, itc_ids.index(kid)] = n
        for kid, n in battery.interceptors.items():
            k = itc_ids.index(kid)
            stock[b, k] = n
            cap[b, k] = caps[kid]
        if battery.engage is not None:
            engage[b] = [c in battery.engage for c in THREAT_CLASSES]
    x, y = frame.to_local([b.lat for b in scenario.batteries], [b.lon for b in scenario.batteries])
    x, y = np.atleast_1d(x).astype(float), np.atleast_1d(y).astype(float)
    return Batteries(x_m=x, y_m=y, channels=channels, reload_s=reload_s, stock=stock, launchers=n_launch,
                     rounds_per_launcher=cap), engage


def _interceptors(catalog: Catalog, itc_ids: list[str], type_ids: list[str]) -> Interceptors:
    kinds = [catalog.interceptors[k] for k in itc_ids]
    pk = np.zeros((len(kinds), len(type_ids)))
    for k, kind in enumerate(kinds):
        for t, tid in enumerate(type_ids):
            cls = catalog.threats[tid].threat_class
            pk[k, t] = kind.pk.get(tid, kind.pk.get(cls, 0.0))
    return Interceptors(speed_mps=np.array([k.speed_mps for k in kinds], float),
                        min_range_m=np.array([1000.0 * k.min_range_km for k in kinds], float),
                        max_range_m=np.array([1000.0 * k.max_range_km for k in kinds], float),
                        min_altitude_m=np.array([k.min_altitude_m for k in kinds], float),
                        max_altitude_m=np.array([k.max_altitude_m for k in kinds], float),
                        pk=pk, cost_usd=np.array([k.cost_usd for k in kinds], float),
                        rounds_per_shot=np.array([k.rounds_per_shot for k in kinds], np.int64))
