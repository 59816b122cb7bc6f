"""What a run will cost, worked out before it starts, and the refusal of runs that would not fit.

Validation bounds every input quantity on its own (docs/scenario.md, "Bounds"); what it cannot see
is the product of several of them: 20,000 threats that each may be shot at 100 times, for 100,000
replications, is a run of valid inputs that no machine holds. So before the engine starts, it
estimates the memory its largest arrays take (and the path samples its geometry visits) from
the compiled sizes, and refuses, with the numbers, a run that would not fit in its budget.

The estimate counts the arrays that grow with the inputs (random numbers per chunk, the
per-replication outcomes, the decision calendar, the engagement windows, the replay log); the
interpreter and libraries come on top (a few hundred MB). It is an upper bound for the windows
(every threat x battery x interceptor) and close for the rest.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shieldwall.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from shieldwall.engine.compile import Compiled
    from shieldwall.scenario.model import Scenario

GIB = 1 << 30
# Without --max-memory: this share of the machine's memory (the OS, the interpreter and other
# programs need the rest), or 4 GiB where the machine's memory cannot be read.
MACHINE_SHARE = 0.5
FALLBACK_MEMORY_BYTES = 4 * GIB
MEMORY_ENV = "SHIELDWALL_MAX_MEMORY"
# Path samples x sensors and launchers that compiling the geometry may visit: about a minute.
MAX_GEOMETRY_WORK = 5e9
CHUNK_REPLICATIONS = 128  # engine.runner.CHUNK_SIZE (not imported: runner imports this module)
EARTH_RADIUS_M = 6_371_000.0
PATH_STEP_M = 250.0  # engine.compile samples a path every ~250 m (or every 5 s, whichever is less)
PATH_STEP_S = 5.0
FLOAT_BYTES = 8


class BudgetError(UsageError):
    """A run whose estimated memory or work is over its budget."""


@dataclass(frozen=True)
class Estimate:
    """Bytes per named part of a run; ``memory_bytes`` is their sum."""

    parts: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def memory_bytes(self) -> float:
        return float(sum(self.parts.values()))

    def largest(self, n: int = 3) -> str:
        top = sorted(self.parts.items(), key=lambda kv: -kv[1])[:n]
        return "; ".join(f"{name} {human_bytes(size)} ({self.notes.get(name, '')})".replace(" ()", "")
                         for name, size in top)


def human_bytes(n: float) -> str:
    for unit, size in (("TiB", GIB << 10), ("GiB", GIB), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def parse_bytes(text: str) -> int:
    """"8GiB", "512M", "2e9" -> bytes (binary units; a bare number is bytes)."""
    units = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
             "mib": 1 << 20, "g": GIB, "gb": GIB, "gib": GIB, "t": GIB << 10, "tb": GIB << 10, "tib": GIB << 10}
    raw = text.strip().lower().replace(" ", "")
    number = raw.rstrip("kmgtib")
    unit = raw[len(number):]
    try:
        value = float(number) * units[unit]
    except (ValueError, KeyError):
        raise UsageError(f"not an amount of memory: {text!r} (write e.g. 8GiB, 512MiB)") from None
    if not math.isfinite(value) or value < 1:
        raise UsageError(f"not an amount of memory: {text!r} (it must be at least 1 byte)")
    return int(value)


def machine_memory_bytes() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def default_max_memory_bytes() -> int:
    """``SHIELDWALL_MAX_MEMORY`` if set, else half of this machine's memory."""
    if os.environ.get(MEMORY_ENV):
        return parse_bytes(os.environ[MEMORY_ENV])
    total = machine_memory_bytes()
    return int(total * MACHINE_SHARE) if total else FALLBACK_MEMORY_BYTES


def _horizon_epochs(scenario: "Scenario", flight_s: float) -> float:
    last = max((raid.time_s + raid.window_s for raid in scenario.raids), default=0.0)
    return (last + flight_s) / scenario.doctrine.decision_interval_s + 2


def estimate(compiled: "Compiled", scenario: "Scenario", *, replications: int, workers: int = 1,
             engagement_replications: int = 0) -> Estimate:
    """Memory of the run's growing arrays, from the compiled sizes (see the module's docstring)."""
    n_thr = compiled.n_threats
    n_bat, n_itc = compiled.stock.shape
    n_types, n_ast = len(compiled.threat_type_ids), len(compiled.asset_ids)
    shots = compiled.shots_per_threat
    procs = max(1, min(workers, -(-replications // CHUNK_REPLICATIONS)))
    chunk = min(CHUNK_REPLICATIONS, replications)
    pairs = n_thr * n_bat * n_itc
    per_rep = 3 * n_types + 3 * n_bat * n_itc + 2 * n_bat + 2 * n_ast + 1 + n_thr  # leak causes: 5 bytes a threat
    logged = min(engagement_replications, replications)
    max_eng = int(compiled.doctrine.max_engagements.max())
    flight = float(compiled.threats.flight_s.max(initial=0.0))  # compiled: no route to measure again per call
    parts = {
        "random numbers": procs * 2.0 * chunk * n_thr * (2 + shots + compiled.has_attacks) * FLOAT_BYTES,
        "outcomes": 3.0 * replications * per_rep * FLOAT_BYTES,  # the run's arrays, a shard and a summary's
        "calendar": procs * _horizon_epochs(scenario, flight) * FLOAT_BYTES,
        "engagement windows": (1 + procs) * pairs * 24.0 * FLOAT_BYTES,
        "threats": (1 + procs) * n_thr * 40.0 * FLOAT_BYTES,
        "replay log": n_thr * compiled.max_events_per_threat * 8.0 * FLOAT_BYTES,
        # a logged chunk's rows (8 numbers each) per process, and the run's engagements (6 each)
        "engagement log": (procs * min(chunk, logged) * compiled.log_rows_per_replication() * 8.0
                           + logged * n_thr * max_eng * 6.0) * FLOAT_BYTES,
    }
    notes = {
        "random numbers": f"{chunk} replications x {n_thr:,} threats x {shots} shots each, per process",
        "outcomes": f"{replications:,} replications x {per_rep:,} numbers",
        "calendar": f"{flight + max((r.time_s + r.window_s for r in scenario.raids), default=0):,.0f} s of raid in "
                    f"decision epochs of {scenario.doctrine.decision_interval_s:g} s",
        "engagement windows": f"up to {n_thr:,} threats x {n_bat} batteries x {n_itc} interceptor types",
        "engagement log": f"every engagement of {logged:,} replications (fewer with --engagements N)",
    }
    return Estimate(parts, notes)


def refuse_over_budget(what: str, est: Estimate, max_memory_bytes: int | None,
                       advice: str = "fewer replications bring it down") -> Estimate:
    """``est``, or a BudgetError that says what is large and what the budget is."""
    budget = default_max_memory_bytes() if max_memory_bytes is None else int(max_memory_bytes)
    if est.memory_bytes > budget:
        raise BudgetError(
            f"{what} would need about {human_bytes(est.memory_bytes)} of memory, over the budget of "
            f"{human_bytes(budget)} (--max-memory, or {MEMORY_ENV}). Largest parts: {est.largest()}. {advice}.")
    return est


def check_budget(compiled: "Compiled", scenario: "Scenario", *, replications: int, workers: int = 1,
                 max_memory_bytes: int | None = None, engagement_replications: int = 0) -> Estimate:
    """The estimate of a raid run, or a BudgetError (see ``refuse_over_budget``)."""
    return refuse_over_budget(
        f"{scenario.name!r} with {replications:,} replications",
        estimate(compiled, scenario, replications=replications, workers=workers,
                 engagement_replications=engagement_replications), max_memory_bytes,
        "Fewer replications, threats, shots per threat (salvo x max_engagements) or a shorter raid bring it down")


# --- the geometry, before compiling it ---------------------------------------------------------


def _great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def route_length_m(scenario: "Scenario", raid_index: int) -> float:
    """Longest ground route of a raid's threats: launch (plus its spread) -> waypoints -> the
    farthest asset it may target."""
    raid = scenario.raids[raid_index]
    points = [(raid.launch.lat, raid.launch.lon), *((w.lat, w.lon) for w in raid.waypoints)]
    legs = sum(_great_circle_m(*a, *b) for a, b in zip(points, points[1:]))
    ends = scenario.aimpoints(raid)
    last = max((_great_circle_m(*points[-1], a.lat, a.lon) for a in ends), default=0.0)
    return legs + last + 1000.0 * raid.launch.spread_km


def _flights(scenario: "Scenario") -> list[tuple[int, float, float]]:
    """(threats, flight time s, path samples per threat) per raid and threat type in it."""
    from shieldwall.catalog.builtin import builtin_catalog

    catalog = scenario.catalog.merged_over(builtin_catalog())
    out = []
    for i, raid in enumerate(scenario.raids):
        length = route_length_m(scenario, i)
        groups = [(raid.threat, raid.count)] + ([(raid.decoys.threat, raid.decoys.count)] if raid.decoys else [])
        for tid, count in groups:
            threat = catalog.threats.get(tid)
            if threat is None:
                continue
            if threat.threat_class == "ballistic":
                apogee = 1000.0 * threat.apogee_km if threat.apogee_km else max(length / 4.0, 1.0)
                flight = 2.0 * math.sqrt(2.0 * apogee / 9.80665)
                speed = math.hypot(length / flight, math.sqrt(2.0 * 9.80665 * apogee))
            else:
                speed = float(threat.speed_mps or 1.0)
                flight = length / speed
            step = min(PATH_STEP_S, PATH_STEP_M / speed)
            out.append((count, flight, flight / step + 2))
    return out


def geometry_work(scenario: "Scenario") -> float:
    """Path samples x (sensors + battery-interceptor pairs) that compiling visits."""
    sensors = len(scenario.batteries) + len(scenario.radars)
    launchers = sum(len(b.interceptors) for b in scenario.batteries)
    return sum(count * samples for count, _, samples in _flights(scenario)) * max(1, sensors + launchers)


def check_geometry(scenario: "Scenario", limit: float = MAX_GEOMETRY_WORK) -> float:
    """Refuse, before compiling, a scenario whose track and window geometry alone would run for
    a long time (many threats on very long, finely sampled routes, seen by many sensors)."""
    work = geometry_work(scenario)
    if work > limit:
        raise BudgetError(
            f"{scenario.name!r}: compiling its geometry would visit about {work:.2g} path samples x sensors and "
            f"launchers, over the budget of {limit:.2g} (about a minute): fewer threats, shorter routes or fewer "
            "batteries and radars bring it down.")
    return work
