"""The engine's interfaces: named records of plain NumPy arrays, one per group the kernel takes
or returns, and the one list of outcome arrays.

``compile_scenario`` builds the input records, ``simulate_chunk`` reads them by name (numba
compiles a ``NamedTuple`` of arrays like a tuple: attribute access costs nothing at run time), and
everything after the kernel (runner, results, campaigns, the SimPy oracle in tests/) reads the
outcomes by name. Inserting a field anywhere is therefore safe: nothing reads by position.

Units are in the names where they are physical; ``[threat]`` and the like give each array's axes.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Paths(NamedTuple):
    """Threat trajectories (engine/paths.py): a polyline flown at constant speed and altitude, or a
    ballistic arc (two vertices, parabolic altitude)."""

    ballistic: np.ndarray  # [threat] bool
    vertex_offset: np.ndarray  # [threat + 1] int64: threat j's vertices are rows off[j] .. off[j + 1] - 1
    vertex_x_m: np.ndarray  # [vertex] east of the frame's origin
    vertex_y_m: np.ndarray  # [vertex] north
    vertex_t_s: np.ndarray  # [vertex] flight time at the vertex, from launch
    altitude_m: np.ndarray  # [threat] polyline altitude
    apogee_m: np.ndarray  # [threat] ballistic apogee
    release_m: np.ndarray  # [threat] ballistic: altitude it is released at (air-launched; 0: from the ground)


class Threats(NamedTuple):
    """One row per threat of the raid (decoys included), fixed for the run."""

    type: np.ndarray  # [threat] int64: index into Compiled.threat_type_ids
    cls: np.ndarray  # [threat] int64: index into catalog.classes.THREAT_CLASSES
    target: np.ndarray  # [threat] int64: index into Compiled.asset_ids
    value_at_stake: np.ndarray  # [threat] what the battle manager believes a leak destroys (decoys look real)
    damage: np.ndarray  # [threat] fraction of the target's value a leak really destroys (decoys: 0)
    reliability: np.ndarray  # [threat] probability it does not fail in flight
    launch_s: np.ndarray  # [threat] start of its launch window
    window_s: np.ndarray  # [threat] launches spread uniformly over it
    cost_usd: np.ndarray  # [threat]
    flight_s: np.ndarray  # [threat] launch to impact
    step_s: np.ndarray  # [threat] path sampling step
    vmax_mps: np.ndarray  # [threat] fastest speed along the path
    first_open_s: np.ndarray  # [threat] earliest window opening after launch (inf: none)
    last_close_s: np.ndarray  # [threat] latest window closing after launch (-inf: none)
    track_s: np.ndarray  # [threat] first time after launch any network holds a track (inf: never)
    attack_battery: np.ndarray  # [threat] int64: the battery it attacks (target is then its aimpoint), -1: none
    attack_radar: np.ndarray  # [threat] int64: the stand-alone radar it attacks (target is its aimpoint), -1: none


class Batteries(NamedTuple):
    x_m: np.ndarray  # [battery]
    y_m: np.ndarray  # [battery]
    channels: np.ndarray  # [battery] int64: threats it can engage at once
    reload_s: np.ndarray  # [battery] time to reload one launcher
    stock: np.ndarray  # [battery, interceptor] int64: rounds at the start (loaded and in reserve)
    launchers: np.ndarray  # [battery, interceptor] int64
    rounds_per_launcher: np.ndarray  # [battery, interceptor] int64


class Interceptors(NamedTuple):
    speed_mps: np.ndarray  # [interceptor] average fly-out speed
    min_range_m: np.ndarray  # [interceptor]
    max_range_m: np.ndarray  # [interceptor]
    min_altitude_m: np.ndarray  # [interceptor]
    max_altitude_m: np.ndarray  # [interceptor]
    pk: np.ndarray  # [interceptor, threat type] the catalog's kill probability of one shot
    cost_usd: np.ndarray  # [interceptor] one round
    rounds_per_shot: np.ndarray  # [interceptor] int64 (a gun burst is many rounds)


class Windows(NamedTuple):
    """Engagement windows: the fire times (after launch) at which a battery's interceptor type can
    reach a threat inside its envelope, one row per unbroken stretch, grouped by threat.

    ``pk_level``/``pk_levels`` give each window's kill probability of one shot: the catalog's Pk
    times every modifier compile applies (a battery's ``pk_factor``, ...). A new Pk modifier is a
    compile step that multiplies a per-window factor in; the kernel only reads the levels (a short
    table that stays in cache)."""

    threat_offset: np.ndarray  # [threat + 1] int64: threat j's windows are off[j] .. off[j + 1] - 1
    battery: np.ndarray  # [window] int64
    interceptor: np.ndarray  # [window] int64
    open_s: np.ndarray  # [window] first fire time after the threat's launch
    close_s: np.ndarray  # [window] last fire time
    pk_level: np.ndarray  # [window] int64: index into pk_levels
    pk_levels: np.ndarray  # [level] distinct single-shot kill probabilities
    battery_offset: np.ndarray  # [battery + 1] int64: battery b's windows are by_battery[off[b] .. off[b + 1] - 1]
    by_battery: np.ndarray  # [window] int64: windows ordered by battery
    threat: np.ndarray  # [window] int64: the window's threat
    open_order: np.ndarray  # [window] int64: each threat's windows in the order they open

    @property
    def pk(self) -> np.ndarray:
        """[window] single-shot kill probability."""
        return self.pk_levels[self.pk_level]


AREA_ATTEMPTS = 6  # area-defence engagements a threat can meet (uniforms drawn for each)


class Hazards(NamedTuple):
    """Per threat, the segments of its flight where a hazard acts (electronic warfare, area
    defences), in time order, each with its total rate and the zones that make it
    (engine/hazards.py)."""

    threat_offset: np.ndarray  # [threat + 1] int64: threat j's segments are off[j] .. off[j + 1] - 1
    t0_s: np.ndarray  # [segment] start, seconds after launch
    t1_s: np.ndarray  # [segment] end
    rate_per_s: np.ndarray  # [segment] total rate of events
    zone_offset: np.ndarray  # [segment + 1] int64: the segment's zones are zone[off[s] .. off[s + 1] - 1]
    zone: np.ndarray  # [entry] int64: a zone (an EW zone, an area defence) acting on the segment
    zone_rate_per_s: np.ndarray  # [entry] its own rate


class EwZones(NamedTuple):
    divert_share: np.ndarray  # [zone] of the threats a zone takes, the share diverted (fall elsewhere)


class AreaLayers(NamedTuple):
    """The area defences (scenario ``area_defences``): throughput, munitions, kill probability."""

    tokens_per_s: np.ndarray  # [layer] engagements its units can start per second
    burst: np.ndarray  # [layer] engagements it can start at once (its units)
    stock: np.ndarray  # [layer] int64: munitions for the night (a huge number: unlimited)
    munitions_per_attempt: np.ndarray  # [layer] int64
    pk: np.ndarray  # [layer, threat type] kill probability of one engagement
    active_from_s: np.ndarray  # [layer] in place from (raid time)
    active_until_s: np.ndarray  # [layer] until (inf: the whole raid)
    cost_usd: np.ndarray  # [layer] one munition
    cue_net: np.ndarray  # [layer] int64: the network whose tracks cue it (-1: not cued, it engages on its own)
    cue_s: np.ndarray  # [threat, layer] its network's first track, after launch, with geometric tracks (inf: never;
    #                    under mechanisms.detection the kernel draws it per replication instead)


class Doctrine(NamedTuple):
    salvo: np.ndarray  # [class] int64: shots per engagement
    max_engagements: np.ndarray  # [class] int64
    decision_interval_s: float
    assess_s: float  # kill assessment before a surviving threat can be engaged again
    cost_weight: float  # value units per US dollar fired
    policy: int  # shieldwall.policies code
    epoch_time_limit_s: float


class Detection(NamedTuple):
    """Probabilistic detection and tracking (scenario ``mechanisms.detection``, engine/detection.py):
    the sensors' scan parameters and each threat's geometric coverage; per replication the
    kernel draws the scans from them (``on`` False: every array empty, nothing drawn)."""

    on: bool
    sen_x_m: np.ndarray  # [sensor] the batteries' own radars, then the stand-alone radars
    sen_y_m: np.ndarray  # [sensor]
    sen_h_m: np.ndarray  # [sensor] antenna height
    sen_range_m: np.ndarray  # [sensor] instrumented range vs 1 m2 (scaled by rcs^(1/4))
    sen_net: np.ndarray  # [sensor] int64 network
    sen_scan_s: np.ndarray  # [sensor] scan period
    sen_snr_ref: np.ndarray  # [sensor] signal to noise of 1 m2 at sen_range_pd_m
    sen_range_pd_m: np.ndarray  # [sensor]
    sen_pfa: np.ndarray  # [sensor] false-alarm probability
    sen_confirm: np.ndarray  # [sensor] int64 detections in a row that confirm a track
    cover_s: np.ndarray  # [threat, sensor] first time after launch inside its coverage (inf: never)
    cover_order: np.ndarray  # [threat, sensor] int64 the sensors covering it, soonest first (-1 after)
    pd_row: np.ndarray  # [threat, sensor] int64 its row of pd_first (-1: never covered)
    pd_first: np.ndarray  # [row, PD_SCANS] detection probability of its first scans (0: outside coverage)
    bat_sensor: np.ndarray  # [battery] int64 its own radar's sensor
    bat_net: np.ndarray  # [battery] int64
    bat_latency_s: np.ndarray  # [battery] network track latency (mechanisms.c2, else 0)
    bat_link_loss: np.ndarray  # [battery] probability a network track update is lost
    rcs_m2: np.ndarray  # [threat]
    identify: np.ndarray  # [threat] decoys: identification probability per scan once tracked (0: never)
    # acoustic cueing (scenario acoustic_sensors, docs/model.md): per (threat j, acoustic network k)
    # the hazard of its first detection, row j * len(ac_net) + k; each field's report latency and
    # update period. Defaults: none (the loop over acoustic networks does not run).
    ac_haz: Hazards = Hazards(np.zeros(1, np.int64), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(1, np.int64),
                              np.zeros(0, np.int64), np.zeros(0))
    ac_net: np.ndarray = np.zeros(0, np.int64)  # [acoustic network] int64 its network (as sen_net)
    ac_latency_s: np.ndarray = np.zeros(0)  # [field] from a detection to a track on the network
    ac_update_s: np.ndarray = np.zeros(0)  # [field] between the network's updates of a track it formed
    # mechanisms.ballistic with detection: [battery] how long its own radar must hold a track of a
    # ballistic threat before it launches (0: no such rule; empty: mechanisms.ballistic off)
    bat_ballistic_track_s: np.ndarray = np.zeros(0)


class SensorLosses(NamedTuple):
    """Attacks on the defence's sensors (docs/model.md, Attacks on the defence): the radars an
    attack can destroy (a stand-alone radar a raid attacks, an attacked battery's own radar) form
    no tracks from then on, so a fire unit whose network track came only through one of them
    fires from the tracks left (or its own radar, under mechanisms.c2). Geometric tracks only
    (mechanisms.detection off); empty (no rows) when no sensor can be lost: the kernel then
    checks nothing."""

    unit: np.ndarray  # [row] int64: the unit whose loss ends the sensor's tracks: battery b, or n_bat + radar r
    net: np.ndarray  # [row] int64: its network
    track_s: np.ndarray  # [threat, row] when it first holds a track of the threat, after launch (inf: never)
    fixed_s: np.ndarray  # [threat, network] the network's first track from sensors no attack can destroy
    bat_net: np.ndarray  # [battery] int64: the network it fires on
    bat_latency_s: np.ndarray  # [battery] its network tracks' latency (mechanisms.c2; else 0)
    own_s: np.ndarray  # [window] its own radar's track under mechanisms.c2 (inf: no latency rule)
    floor_s: np.ndarray  # [window] own track + ballistic track time (mechanisms.ballistic; -inf: no such rule)
    at_risk: np.ndarray  # [window] bool: with every losable sensor lost it would open later (else never checked)

    @property
    def on(self) -> bool:
        return self.unit.shape[0] > 0


def no_sensor_losses(n_thr: int) -> SensorLosses:
    """The record when no sensor can be lost: every array empty (one compiled kernel signature)."""
    f, i = np.zeros(0), np.zeros(0, np.int64)
    return SensorLosses(i, i, np.zeros((n_thr, 0)), np.zeros((n_thr, 0)), i, f, f, f, np.zeros(0, np.bool_))


class Uniforms(NamedTuple):
    """Every random number a chunk consumes, drawn up front (engine/runner.py draw_uniforms)."""

    launch: np.ndarray  # [replication, threat] where in its launch window
    reliability: np.ndarray  # [replication, threat] fails in flight if >= its reliability
    kill: np.ndarray  # [replication, threat, shot] shot m at threat j kills if < the window's Pk
    ew: np.ndarray  # [replication, threat, 3] loss time, zone, diverted (width 0 without ew_zones)
    area: np.ndarray  # [replication, threat, attempt, 3] next engagement, its area defence, its kill
    detect: np.ndarray  # [replication, 1] the key of its scans' numbers (width 0 without mechanisms.detection)
    attack: np.ndarray  # [replication, threat] an attacker that gets through destroys its battery if < its damage
    #                     (width 0 without attacks on batteries; drawn after all others)


# the replay log's columns, in the kernel's log and in the results: time_s, kind (kernel.EVENT_NAMES),
# threat, battery and interceptor (-1 where none), shots
_EVENT_COLUMNS = [("time_s", np.ndarray), ("kind", np.ndarray), ("threat", np.ndarray), ("battery", np.ndarray),
                  ("interceptor", np.ndarray), ("shots", np.ndarray)]

# The replay log of the chunk's logged replications as the kernel writes it: a row per event, with
# tau_s (time since the threat's launch, for positions worked out afterwards), count [1] (rows
# written) and rep_end [logged replication] (rows written after each; its length is how many are logged).
EventLog = NamedTuple("EventLog", [*_EVENT_COLUMNS, ("tau_s", np.ndarray), ("count", np.ndarray),  # type: ignore[misc]
                                   ("rep_end", np.ndarray)])

# The log as the results keep it: the rows written, with position_m [event, 3] (east, north,
# altitude in the scenario's local frame).
LoggedEvents = NamedTuple("LoggedEvents", [*_EVENT_COLUMNS, ("position_m", np.ndarray)])  # type: ignore[misc]


def take_events(events: "LoggedEvents", order: np.ndarray) -> "LoggedEvents":
    """The events in ``order``."""
    return LoggedEvents(*(a[order] for a in events))


class LoggedRows(NamedTuple):
    """The logged replications of a chunk, every row with its replication (numbered in the whole
    run), without positions: what the engagement table and the resource timelines are made of
    (engine/engagements.py)."""

    replication: np.ndarray  # [row] int64
    time_s: np.ndarray  # [row]
    kind: np.ndarray  # [row] int64: kernel.EVENT_NAMES
    threat: np.ndarray  # [row] int64, -1 for a battery's own events (a reload)
    battery: np.ndarray  # [row] int64, -1 where none
    interceptor: np.ndarray  # [row] int64, -1 where none
    shots: np.ndarray  # [row] int64: shots fired (a fire), rounds loaded (a reload)


def event_log(rows: int, replications: int = 1) -> "EventLog":
    """An empty log with room for ``rows`` events of the chunk's first ``replications``."""
    n = max(int(rows), 1)
    return EventLog(np.zeros(n), np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64),
                    np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n), np.zeros(1, np.int64),
                    np.zeros(max(int(replications), 1), np.int64))


# -- outcomes ----------------------------------------------------------------------------------
class OutcomeSpec(NamedTuple):
    """One outcome array of the kernel: declared once, allocated, filled, joined and read from here."""

    name: str
    dims: tuple[str, ...]  # axis names: "replication" first for a row per replication, else summed over chunks
    dtype: type
    fill: float  # the value before anything happened
    doc: str

    @property
    def per_replication(self) -> bool:
        """A row per replication (joined by replication), else a total added up chunk by chunk."""
        return self.dims[0] == "replication"


OUTCOMES: tuple[OutcomeSpec, ...] = (
    OutcomeSpec("killed", ("replication", "threat_type"), np.int64, 0, "threats shot down"),
    OutcomeSpec("leaked", ("replication", "threat_type"), np.int64, 0, "threats that reached their target"),
    OutcomeSpec("expired", ("replication", "threat_type"), np.int64, 0, "threats that failed in flight"),
    OutcomeSpec("rounds", ("replication", "battery", "interceptor"), np.int64, 0, "rounds fired"),
    OutcomeSpec("kills_by_battery", ("replication", "battery"), np.int64, 0, "threats each battery shot down"),
    OutcomeSpec("hits", ("replication", "asset"), np.int64, 0, "leakers that did damage, per asset"),
    OutcomeSpec("survive", ("replication", "asset"), np.float64, 1.0, "fraction of each asset's value left"),
    OutcomeSpec("threat_cost_destroyed", ("replication",), np.float64, 0.0, "cost of the threats shot down"),
    OutcomeSpec("leak_count_by_threat", ("threat",), np.float64, 0.0, "leaks of each threat, over replications"),
    OutcomeSpec("remaining", ("replication", "battery", "interceptor"), np.int64, 0, "rounds left at the end"),
    OutcomeSpec("suppressed", ("replication", "threat_type"), np.int64, 0, "threats lost to electronic warfare"),
    OutcomeSpec("diverted", ("replication", "threat_type"), np.int64, 0,
                "threats electronic warfare diverted (they fall elsewhere)"),
    OutcomeSpec("area_killed", ("replication", "threat_type"), np.int64, 0, "threats an area defence shot down"),
    OutcomeSpec("area_attempts", ("replication", "area_defence"), np.int64, 0, "engagements of each area defence"),
    OutcomeSpec("area_kills", ("replication", "area_defence"), np.int64, 0, "threats each area defence shot down"),
    OutcomeSpec("leak_cause", ("replication", "threat"), np.int8, -1,
                "why each threat leaked: engine/causes.py LEAK_CAUSES code, -1 where it did not leak"),
    OutcomeSpec("leak_battery", ("replication", "threat"), np.int32, -1,
                "the battery a leaker's cause points at (the one that missed, or the first that could have "
                "engaged it), -1 where none could"),
    OutcomeSpec("dry_s", ("replication", "battery", "interceptor"), np.float64, np.inf,
                "when the battery ran out of the interceptor (fewer rounds than one shot): -inf if it had none "
                "at the start, inf if it never ran out"),
    OutcomeSpec("battery_lost_s", ("replication", "battery"), np.float64, np.inf,
                "when an attack destroyed the battery (docs/model.md, Attacks on the defence): inf if it was not"),
    OutcomeSpec("radar_lost_s", ("replication", "radar"), np.float64, np.inf,
                "when an attack destroyed the stand-alone radar (docs/model.md, Attacks on the defence): inf if "
                "it was not"),
)
# the end states: every threat present ends as exactly one of these
END_STATES: tuple[str, ...] = ("killed", "leaked", "expired", "suppressed", "diverted", "area_killed")
OUTCOME_NAMES: tuple[str, ...] = tuple(s.name for s in OUTCOMES)
PER_REPLICATION: tuple[str, ...] = tuple(s.name for s in OUTCOMES if s.per_replication)

# the kernel's output record, generated from the list above
Outcomes = NamedTuple("Outcomes", [(s.name, np.ndarray) for s in OUTCOMES])  # type: ignore[misc]


def allocate_outcomes(sizes: dict[str, int], replications: int) -> "Outcomes":
    """Fresh outcome arrays for ``replications`` replications; ``sizes`` gives every other axis."""
    sizes = {**sizes, "replication": replications}
    return Outcomes(*(np.full(tuple(sizes[d] for d in s.dims), s.fill, s.dtype) for s in OUTCOMES))


def outcome_rows(whole: "Outcomes", first: int, end: int) -> "Outcomes":
    """Replications [first, end) of ``whole`` as views (filled in place), and fresh totals."""
    return Outcomes(*(getattr(whole, s.name)[first:end] if s.per_replication
                      else np.full_like(getattr(whole, s.name), s.fill) for s in OUTCOMES))


def add_outcomes(whole: "Outcomes", part: "Outcomes", first: int) -> None:
    """Take a chunk's outcomes into the run's: rows copied in (unless filled in place), totals added."""
    for s in OUTCOMES:
        got, into = getattr(part, s.name), getattr(whole, s.name)
        if not s.per_replication:
            into += got
            continue
        rows = into[first:first + got.shape[0]]
        if not np.may_share_memory(got, rows):
            rows[...] = got
