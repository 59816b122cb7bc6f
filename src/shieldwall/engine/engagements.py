"""The engagement table and the resource timelines of a run, made from the kernel's event log of
every logged replication (``simulate(..., engagements=N)``).

The kernel logs, per replication, each shot (fire), how each engagement ended (kill, miss, or the
threat's failure in flight before the intercept) and each reload. Here the log becomes

- the engagement table: one row per engagement, with its replication, battery, interceptor,
  threat, shots and result (``RaidResult.engagements_frame`` labels it; engagements.parquet);
- resource timelines within the night: per (battery, interceptor) the rounds left and the rounds
  loaded on launchers, per battery the fire channels held by engagements in flight, on a grid of
  times, as median and 5-95% band over replications (``RaidResult.timelines_frame``;
  timelines.parquet). An engagement holds its channel from the shot until it ends (the kill,
  the miss, or the threat's failure in flight).

Everything here is vectorised NumPy over the log's rows: a 1,000-replication run of a city's
defence (~180,000 engagements) takes a few tens of milliseconds.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from shieldwall.engine.kernel import (EV_AREA_KILL, EV_DIVERT, EV_EXPIRE, EV_FIRE, EV_KILL, EV_MISS, EV_RELOAD,
                                     EV_SUPPRESS)
from shieldwall.engine.records import LoggedRows

# how an engagement ended: Engagements.result's codes; "threat lost": to electronic warfare or an area
# defence while the salvo was in flight
RESULTS = ("kill", "miss", "threat failed", "threat lost")
TIMELINE_STEPS_S = (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)  # the grid's step: the first of
TIMELINE_MAX_POINTS = 121  # these that covers the night in at most so many points
TIMELINE_REPLICATIONS = 1000  # the bands are taken over at most the first so many logged replications
TIMELINE_QUANTITIES = ("rounds_left", "rounds_loaded", "channels_busy")


class Engagements(NamedTuple):
    """One row per engagement (a salvo at one threat), columns as arrays."""

    replication: np.ndarray  # int64, numbered in the whole run
    fire_s: np.ndarray  # when the salvo was fired
    end_s: np.ndarray  # when it ended: the intercept (kill or miss), or the threat's failure or loss in flight
    threat: np.ndarray  # int64
    battery: np.ndarray  # int64
    interceptor: np.ndarray  # int64
    shots: np.ndarray  # int64: interceptors (or gun bursts) in the salvo
    result: np.ndarray  # int8: index into RESULTS

    def take(self, rows: np.ndarray) -> "Engagements":
        return Engagements(*(a[rows] for a in self))


class Reloads(NamedTuple):
    """One row per reload of a launcher: rounds moved from a battery's reserve onto launchers."""

    replication: np.ndarray  # int64
    time_s: np.ndarray
    battery: np.ndarray  # int64
    interceptor: np.ndarray  # int64
    rounds: np.ndarray  # int64

    def take(self, rows: np.ndarray) -> "Reloads":
        return Reloads(*(a[rows] for a in self))


def _concat(parts: list, kind: type) -> NamedTuple:  # type: ignore[type-arg]
    if not parts:
        return kind(*(np.zeros(0, np.int64) for _ in kind._fields))  # type: ignore[attr-defined]
    return kind(*(np.concatenate(cols) for cols in zip(*parts)))


def join_engagements(parts: list[Engagements]) -> Engagements:
    return _concat(parts, Engagements)  # type: ignore[return-value]


def join_reloads(parts: list[Reloads]) -> Reloads:
    return _concat(parts, Reloads)  # type: ignore[return-value]


def _ordinal(group: np.ndarray, flag: np.ndarray) -> np.ndarray:
    """For rows sorted by ``group``: how many ``flag`` rows of the same group come before each."""
    count = np.cumsum(flag) - flag
    if len(group) == 0:
        return count
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    sizes = np.diff(np.r_[starts, len(group)])
    return count - np.repeat(count[starts], sizes)


def from_log(rows: LoggedRows) -> tuple[Engagements, Reloads]:
    """The engagements and reloads of the logged rows. Per replication and threat, the kernel
    logs each salvo and then its end before the next salvo at that threat, so the k-th shot's
    end is the threat's k-th end row (kill, miss, failure in flight, or its loss to electronic
    warfare or an area defence; an end after its last engagement is the one more)."""
    kind = rows.kind
    is_fire = kind == EV_FIRE
    lost = (kind == EV_SUPPRESS) | (kind == EV_DIVERT) | (kind == EV_AREA_KILL)
    is_end = (kind == EV_KILL) | (kind == EV_MISS) | (kind == EV_EXPIRE) | lost
    pick = np.flatnonzero((is_fire | is_end) & (rows.threat >= 0))
    order = pick[np.lexsort((pick, rows.threat[pick], rows.replication[pick]))]  # stable: log order within
    rep, thr = rows.replication[order], rows.threat[order]
    group = np.cumsum(np.r_[False, (rep[1:] != rep[:-1]) | (thr[1:] != thr[:-1])])[:len(order)]
    fire_here = is_fire[order]
    ordinal = _ordinal(group, fire_here) * fire_here + _ordinal(group, ~fire_here) * ~fire_here
    key = group * (int(ordinal.max(initial=0)) + 1) + ordinal
    fires, ends = order[fire_here], order[~fire_here]
    fire_key, end_key = key[fire_here], key[~fire_here]
    at = np.searchsorted(end_key, fire_key)  # end keys are sorted: groups ascend, ordinals within
    if len(fire_key) and (at.max() >= len(end_key) or (end_key[at] != fire_key).any()):
        raise AssertionError("an engagement without its end in the log")
    end_rows = ends[at]
    end_kind = kind[end_rows]
    result = np.where(end_kind == EV_KILL, 0, np.where(end_kind == EV_MISS, 1, np.where(lost[end_rows], 3, 2)))
    result = result.astype(np.int8)
    engagements = Engagements(replication=rows.replication[fires], fire_s=rows.time_s[fires],
                              end_s=rows.time_s[end_rows], threat=rows.threat[fires], battery=rows.battery[fires],
                              interceptor=rows.interceptor[fires], shots=rows.shots[fires], result=result)
    rel = np.flatnonzero(kind == EV_RELOAD)
    reloads = Reloads(replication=rows.replication[rel], time_s=rows.time_s[rel], battery=rows.battery[rel],
                      interceptor=rows.interceptor[rel], rounds=rows.shots[rel])
    return engagements, reloads


class Timelines(NamedTuple):
    """Bands over replications on a grid of times: [quantile (5%, median, 95%), series, time]."""

    time_s: np.ndarray  # [time]
    pairs: np.ndarray  # [pair, 2] (battery, interceptor) of the round series
    rounds_left: np.ndarray  # [3, pair, time]: loaded and in reserve
    rounds_loaded: np.ndarray  # [3, pair, time]: on the launchers, ready to fire
    channels_busy: np.ndarray  # [3, battery, time]: engagements in flight
    replications: int  # how many replications the bands are over


def timelines(engagements: Engagements, reloads: Reloads, *, first: int, replications: int,
              initial_stock: np.ndarray, loaded_at_start: np.ndarray, rounds_per_shot: np.ndarray,
              horizon_s: float) -> Timelines:
    """The bands over the run's replications first .. first + replications - 1 (each must be
    logged). ``initial_stock`` and ``loaded_at_start`` [replication, battery, interceptor] are
    those replications' rounds at the start and the part of them on launchers."""
    n = int(replications)
    horizon_s = max(float(horizon_s), 1.0)
    step = next((x for x in TIMELINE_STEPS_S if horizon_s / x <= TIMELINE_MAX_POINTS - 1), TIMELINE_STEPS_S[-1])
    points = int(np.ceil(horizon_s / step)) + 1
    grid = np.arange(points) * float(step)
    carried = initial_stock[:n].max(axis=0) > 0 if n else np.zeros(initial_stock.shape[1:], bool)
    pairs = np.argwhere(carried)
    index = np.full(initial_stock.shape[1:], -1, np.int64)
    index[pairs[:, 0], pairs[:, 1]] = np.arange(len(pairs))
    n_bat = initial_stock.shape[1]

    def steps(shape: tuple[int, ...], rep: np.ndarray, series: np.ndarray, t: np.ndarray,
              amount: np.ndarray) -> np.ndarray:
        """Cumulative sums on the grid of amounts that arrive at times t (from the first grid time at or after t)."""
        out = np.zeros((*shape, points + 1), np.int64)
        keep = (rep >= 0) & (rep < n) & (series >= 0)
        np.add.at(out, (rep[keep], series[keep], np.searchsorted(grid, t[keep], side="left")), amount[keep])
        return np.cumsum(out, axis=-1)[..., :points]

    e, r = engagements, reloads
    e_rep, r_rep = e.replication - first, r.replication - first
    fired = steps((n, len(pairs)), e_rep, index[e.battery, e.interceptor], e.fire_s,
                  e.shots * rounds_per_shot[e.interceptor])
    reloaded = steps((n, len(pairs)), r_rep, index[r.battery, r.interceptor], r.time_s, r.rounds)
    stock = initial_stock[:n, pairs[:, 0], pairs[:, 1]][..., None]
    loaded = loaded_at_start[:n, pairs[:, 0], pairs[:, 1]][..., None]
    ones = np.ones(len(e.battery), np.int64)
    busy = (steps((n, n_bat), e_rep, e.battery, e.fire_s, ones) - steps((n, n_bat), e_rep, e.battery, e.end_s, ones))

    def bands(x: np.ndarray) -> np.ndarray:
        if n == 0:
            return np.zeros((3, *x.shape[1:]))
        return np.percentile(x, [5.0, 50.0, 95.0], axis=0)

    return Timelines(time_s=grid, pairs=pairs, rounds_left=bands(stock - fired), rounds_loaded=bands(loaded - fired + reloaded),
                     channels_busy=bands(busy), replications=n)
