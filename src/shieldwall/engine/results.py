"""Results of a raid Monte Carlo: per-replication arrays, their summary with confidence
intervals, and the files a run writes (summary.json, Parquet shards, the replay event log)."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from shieldwall.engine import engagements as eng
from shieldwall.engine.causes import LEAK_CAUSES, NO_BATTERY
from shieldwall.engine.compile import Compiled
from shieldwall.engine.kernel import EVENT_NAMES
from shieldwall.engine.paths import track_points
from shieldwall.engine.records import (
    END_STATES,
    OUTCOMES,
    LoggedEvents,
    LoggedRows,
    Outcomes,
    add_outcomes,
    allocate_outcomes,
    outcome_rows,
    take_events,
)
from shieldwall.scenario.model import Scenario

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


@dataclass
class ChunkResult:
    """What one chunk (or piece of a chunk) of replications gave: its outcomes (engine/records.py
    OUTCOMES) for replications start .. start + n_rep - 1."""

    start: int
    outcomes: Outcomes
    events: LoggedEvents | None = None  # the replay log, for the run's first replication only
    epochs: int = 0  # decision epochs the engine visited: what a replication cost it
    log: LoggedRows | None = None  # every logged replication's events (engagements and timelines)

    @property
    def n_rep(self) -> int:
        return int(self.outcomes.killed.shape[0])


def mean_ci95_columns(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column of x [replication, column]: the mean and its 95% Student-t interval (low,
    high), the low end clipped at zero for quantities that cannot be negative. All columns in
    one pass: a summary has dozens of them."""
    from scipy.special import stdtrit  # Student t quantile; scipy.stats would take a second to import

    x = np.asarray(x, float)
    mean = x.mean(axis=0)
    if x.shape[0] < 2:
        return mean, mean.copy(), mean.copy()
    half = stdtrit(x.shape[0] - 1, 0.975) * x.std(axis=0, ddof=1) / np.sqrt(x.shape[0])
    lo = mean - half
    lo[(lo < 0.0) & (x.min(axis=0) >= 0.0)] = 0.0  # counts and losses cannot be negative
    return mean, lo, mean + half


def mean_ci95(x: np.ndarray) -> tuple[float, list[float]]:
    """Mean and 95% Student-t interval for the mean over replications (axis 0)."""
    mean, lo, hi = mean_ci95_columns(np.asarray(x, float).reshape(-1, 1))
    return float(mean[0]), [float(lo[0]), float(hi[0])]


def _ci_pairs(x: np.ndarray) -> list[tuple[float, list[float]]]:
    """mean_ci95 of every column of x, as (mean, [low, high]) pairs."""
    mean, lo, hi = mean_ci95_columns(x)
    return [(float(m), [float(a), float(b)]) for m, a, b in zip(mean, lo, hi)]


def _count(x: float) -> int | float:
    """Whole numbers stay integers in summary.json; masked (campaign) runs give means."""
    return int(x) if float(x).is_integer() else float(x)


def _sum_batteries(x: np.ndarray) -> np.ndarray:
    """[rep, battery, interceptor] -> [rep, interceptor]. einsum: ``sum(axis=1)`` over the
    short middle axis is four times slower, and the end of a run sums several such arrays."""
    return np.einsum("rbk->rk", x)


def _sum_interceptors(x: np.ndarray) -> np.ndarray:
    """[rep, battery, interceptor] -> [rep, battery], for the same reason."""
    return np.einsum("rbk->rb", x)


def _by_cause(row: np.ndarray) -> dict[str, float]:
    """A row of per-cause numbers as summary.json's {cause id: value}, in the table's order."""
    return {lc.id: float(row[lc.code]) for lc in LEAK_CAUSES}


def _clock(seconds: float) -> str:
    t = int(round(seconds))
    return f"{t // 3600}:{t % 3600 // 60:02d}:{t % 60:02d}"


SHARD_REPLICATIONS = 4096  # rows per Parquet shard: memory stays flat, and a shard per chunk
# of 128 cost more to write than the engine took to simulate it

class RaidResult:
    """Per-replication outcomes of one run; ``summary()`` is what summary.json holds."""

    def __init__(self, compiled: Compiled, scenario: Scenario, seed: int, replications: int,
                 out_dir: str | Path | None = None, first_replication: int = 0,
                 engagement_replications: int = 0) -> None:
        self.compiled = compiled
        self.scenario = scenario
        self.seed = seed
        self.replications = replications
        self.first_replication = first_replication  # a span of a larger run holds replications from here
        self.out_dir = Path(out_dir) if out_dir is not None else None
        # the whole run's per-replication arrays, allocated once: chunks simulated in this
        # process are written straight into them (see ``outcome_rows``), a worker's are copied
        # in; shards and the summary read slices, nothing is joined
        self._whole = allocate_outcomes(compiled.sizes(), replications)
        self._received: list[tuple[int, int]] = []  # (first, end) of each chunk taken
        self._unwritten: list[tuple[int, int]] = []  # those not in a shard yet
        self.events: LoggedEvents | None = None
        # replications first_replication .. engagement_end - 1 have their engagements logged
        self.engagement_end = max(self.first_replication, min(int(engagement_replications),
                                                              self.first_replication + replications))
        self._engagements: list[eng.Engagements] = []
        self._reloads: list[eng.Reloads] = []
        self.initial_stock: np.ndarray | None = None  # [replication, battery, interceptor], set by the runner
        self._summary: dict[str, Any] | None = None  # ``summary()``, once the run has finished
        if self.out_dir is not None:
            (self.out_dir / "replications").mkdir(parents=True, exist_ok=True)
            for old in (self.out_dir / "replications").glob("part-*.parquet"):
                old.unlink()

    # -- accumulation -------------------------------------------------------------------
    def outcome_rows(self, first: int, end: int) -> Outcomes:
        """The arrays for the kernel to fill for replications [first, end): views into this
        run's own, so that a chunk simulated in this process is never copied (totals over
        replications get buffers of their own, added in ``add``)."""
        return outcome_rows(self._whole, first, end)

    def add(self, chunk: ChunkResult) -> None:
        """Takes a chunk as it lands (chunks land in order of their replications). What can be
        written already is: the event log, and a shard's columns (in a parallel run the parent
        does this while the workers compute, instead of at the end)."""
        first = chunk.start - self.first_replication  # chunks number replications in the whole run
        end = first + chunk.n_rep
        if self.out_dir is not None and not self._received:
            self._write_scenario(self.out_dir)
        add_outcomes(self._whole, chunk.outcomes, first)  # a worker's chunk is copied in
        self._received.append((first, end))
        if chunk.events is not None:
            self.events = chunk.events
            if self.out_dir is not None:
                self._write_events(self.out_dir)
        if chunk.log is not None:  # only the run's sample (a chunk's piece may reach past it)
            engagements, reloads = eng.from_log(chunk.log)
            self._engagements.append(engagements.take(np.flatnonzero(engagements.replication < self.engagement_end)))
            self._reloads.append(reloads.take(np.flatnonzero(reloads.replication < self.engagement_end)))
        if self.out_dir is not None:
            self._unwritten.append((first, end))
            if sum(e - f for f, e in self._unwritten) >= SHARD_REPLICATIONS:
                self._write_shard()

    def _write_shard(self) -> None:
        """The replications received since the last shard, as one Parquet file named by its
        first replication, its columns taken from slices of the run's arrays (per chunk of 128,
        a hundred-odd columns cost 4 us per replication)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        assert self.out_dir is not None
        first, end = min(f for f, _ in self._unwritten), max(e for _, e in self._unwritten)
        assert end - first == sum(e - f for f, e in self._unwritten), "chunks must land in order"
        number = self.first_replication + first  # in the whole run
        table = pa.table(self._columns(outcome_rows(self._whole, first, end), number))
        pq.write_table(table, self.out_dir / "replications" / f"part-{number:08d}.parquet")
        self._unwritten = []

    def _write_scenario(self, out: Path) -> None:
        (out / "scenario.json").write_text(self.scenario.model_dump_json(by_alias=True, indent=2) + "\n",
                                           encoding="utf-8")

    def _write_events(self, out: Path) -> None:
        """events.parquet and events.csv (the same table, for spreadsheets), and tracks.parquet:
        the paths of replication 0's threats, so that a replay of this run draws this run's
        geometry whatever the code or the scenario file says later."""
        import pyarrow as pa
        import pyarrow.csv as pa_csv
        import pyarrow.parquet as pq

        events = self.events_frame()
        if len(events):
            table = pa.Table.from_pandas(events, preserve_index=False)
            pq.write_table(table, out / "events.parquet")
            pa_csv.write_csv(table, out / "events.csv")
            launched = np.unique(events.threat[events.event == "launch"].to_numpy(np.int64))
            pq.write_table(pa.Table.from_pandas(self.tracks_frame(launched), preserve_index=False),
                           out / "tracks.parquet")

    def _write_engagements(self, out: Path) -> None:
        """engagements.parquet (every engagement of the logged replications) and
        timelines.parquet (the resource timelines' bands)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pandas(self.engagements_frame(), preserve_index=False), out / "engagements.parquet")
        pq.write_table(pa.Table.from_pandas(self.timelines_frame(), preserve_index=False), out / "timelines.parquet")

    def finish(self) -> None:
        assert sum(e - f for f, e in self._received) == self.replications, "a chunk is missing"
        if self._unwritten:
            self._write_shard()
        for spec in OUTCOMES:  # killed, leaked, ...: the run's arrays by name
            setattr(self, spec.name, getattr(self._whole, spec.name))
        self.leak_probability_by_threat = self._whole.leak_count_by_threat / self.replications
        self.engagements = eng.join_engagements(self._engagements)
        self.reloads = eng.join_reloads(self._reloads)
        self._engagements, self._reloads = [], []
        if self.out_dir is not None:
            self.write(self.out_dir)

    # -- derived per-replication quantities --------------------------------------------
    @property
    def engagement_replications(self) -> int:
        """How many replications have their engagements logged (the first so many of this result)."""
        return self.engagement_end - self.first_replication

    @property
    def value_lost(self) -> np.ndarray:
        """[rep, asset] value destroyed: value * (1 - prod(1 - damage))."""
        return self.compiled.asset_value * (1.0 - self.survive)

    @property
    def interceptors_fired(self) -> np.ndarray:
        """[rep, interceptor] rounds fired, all batteries."""
        return _sum_batteries(self.rounds)

    @property
    def interceptor_cost_usd(self) -> np.ndarray:
        return self.interceptors_fired @ self.compiled.interceptor_cost_usd

    @property
    def launched(self) -> np.ndarray:
        """[rep, threat type] threats that existed in each replication (all, unless masked): each
        ended in exactly one of the end states (records.END_STATES)."""
        return sum(getattr(self, name) for name in END_STATES)  # type: ignore[return-value]

    @property
    def neutralised(self) -> np.ndarray:
        """[rep, threat type] what did not reach its target: shot down by batteries or area
        defences, lost or diverted by electronic warfare, failed in flight."""
        return self.launched - self.leaked

    @property
    def area_munitions(self) -> np.ndarray:
        """[rep, area defence] munitions its engagements used."""
        return self.area_attempts * self.compiled.area_layers.munitions_per_attempt

    @property
    def launched_by_type(self) -> np.ndarray:
        return np.bincount(self.compiled.threat_type, minlength=len(self.compiled.threat_type_ids))

    def _columns(self, chunk: Outcomes, first: int) -> dict[str, np.ndarray]:
        """One column per quantity, a row per replication (``chunk`` holds replications first ..)."""
        c = self.compiled
        cols: dict[str, np.ndarray] = {"replication": np.arange(first, first + chunk.killed.shape[0])}
        cols["launched"] = sum(getattr(chunk, name) for name in END_STATES).sum(axis=1)
        cols["intercepted"] = chunk.killed.sum(axis=1)
        cols["leaked"] = chunk.leaked.sum(axis=1)
        cols["expired"] = chunk.expired.sum(axis=1)
        value_lost = c.asset_value * (1.0 - chunk.survive)
        cols["value_lost"] = value_lost.sum(axis=1)
        fired = _sum_batteries(chunk.rounds)
        cols["interceptor_cost_usd"] = fired @ c.interceptor_cost_usd
        cols["threat_cost_destroyed_usd"] = chunk.threat_cost_destroyed
        for t, tid in enumerate(c.threat_type_ids):
            cols[f"intercepted/{tid}"] = chunk.killed[:, t]
            cols[f"leaked/{tid}"] = chunk.leaked[:, t]
            cols[f"expired/{tid}"] = chunk.expired[:, t]
        for k, iid in enumerate(c.interceptor_ids):
            cols[f"fired/{iid}"] = fired[:, k]
        by_battery = _sum_interceptors(chunk.rounds)
        for b, bid in enumerate(c.battery_ids):
            cols[f"battery_fired/{bid}"] = by_battery[:, b]
            cols[f"battery_kills/{bid}"] = chunk.kills_by_battery[:, b]
        for a, aid in enumerate(c.asset_ids):
            cols[f"hits/{aid}"] = chunk.hits[:, a]
            cols[f"value_lost/{aid}"] = value_lost[:, a]
        if c.ew_zone_ids:  # the mechanisms' columns only where the scenario has them
            cols["suppressed"] = chunk.suppressed.sum(axis=1)
            cols["diverted"] = chunk.diverted.sum(axis=1)
        if c.area_ids:
            cols["area_killed"] = chunk.area_killed.sum(axis=1)
            for a, aid in enumerate(c.area_ids):
                cols[f"area_attempts/{aid}"] = chunk.area_attempts[:, a]
                cols[f"area_kills/{aid}"] = chunk.area_kills[:, a]
        if c.has_attacks:  # attacks on the defence: which batteries were destroyed
            lost = np.isfinite(chunk.battery_lost_s)
            cols["batteries_lost"] = lost.sum(axis=1)
            for b, bid in enumerate(c.battery_ids):
                cols[f"battery_lost/{bid}"] = lost[:, b]
            if (c.threats.attack_radar >= 0).any():  # and which stand-alone radars
                radar_lost = np.isfinite(chunk.radar_lost_s)
                cols["radars_lost"] = radar_lost.sum(axis=1)
                for i, rid in enumerate(c.radar_ids):
                    cols[f"radar_lost/{rid}"] = radar_lost[:, i]
        for cause in LEAK_CAUSES:
            cols[f"leak_cause/{cause.id}"] = (chunk.leak_cause == cause.code).sum(axis=1)
        return cols

    # -- views ---------------------------------------------------------------------------
    def to_frame(self) -> "pd.DataFrame":
        """One row per replication, wide columns (``leaked/<threat>``, ``fired/<interceptor>``...)."""
        import pandas as pd

        return pd.DataFrame(self._columns(self._whole, self.first_replication))

    def events_frame(self) -> "pd.DataFrame":
        """The event log of replication 0, in time order, with positions in lat/lon."""
        import pandas as pd

        c = self.compiled
        if self.events is None:
            return pd.DataFrame()
        ev = take_events(self.events, np.lexsort((self.events.threat, self.events.kind, self.events.time_s)))
        t, kind, j, b, k, n, xyz = ev.time_s, ev.kind, ev.threat, ev.battery, ev.interceptor, ev.shots, ev.position_m
        lat, lon = c.frame.to_latlon(xyz[:, 0], xyz[:, 1])
        types = np.asarray(c.threat_type_ids, object)[c.threat_type[j]]
        units = [*c.battery_ids, *c.area_ids, *c.radar_ids]
        return pd.DataFrame({
            "time_s": t, "event": np.asarray(EVENT_NAMES, object)[kind], "threat": j,
            "threat_type": types, "raid": np.asarray(c.threat_raid, object)[j],
            # area defences engage as "batteries" n_bat + their index: the column names who engaged
            # (and stand-alone radars, lost to an attack, n_bat + n_area + their index)
            "battery": [None if i < 0 else units[i] for i in b],
            "interceptor": [c.interceptor_ids[i] if i >= 0 else None for i in k],
            "shots": n, "lat": np.round(lat, 6), "lon": np.round(lon, 6), "alt_m": np.round(xyz[:, 2], 1),
            "east_m": np.round(xyz[:, 0], 1), "north_m": np.round(xyz[:, 1], 1),
        })

    def outcome_frame(self, name: str) -> "pd.Series":
        """An outcome array (engine/records.py OUTCOMES: ``rounds``, ``leaked``, ``dry_s``, ...)
        as a pandas Series indexed by its axes' labels (replication number, battery id,
        interceptor id, threat type id, asset id, threat number): ``result.outcome_frame("rounds")
        .groupby(["battery", "interceptor"]).mean()`` instead of indexing a bare array."""
        import pandas as pd

        spec = next((s for s in OUTCOMES if s.name == name), None)
        if spec is None:
            raise KeyError(f"no outcome {name!r}; outcomes: {', '.join(s.name for s in OUTCOMES)}")
        c = self.compiled
        labels = {"replication": np.arange(self.first_replication, self.first_replication + self.replications),
                  "threat_type": c.threat_type_ids, "battery": c.battery_ids, "interceptor": c.interceptor_ids,
                  "asset": c.asset_ids, "threat": np.arange(c.n_threats)}
        index = pd.MultiIndex.from_product([labels[d] for d in spec.dims], names=list(spec.dims))
        return pd.Series(np.asarray(getattr(self, name)).reshape(-1), index=index, name=name)

    def leak_causes_frame(self) -> "pd.DataFrame":
        """One row per leaker of every replication: why it leaked (engine/causes.py), its type,
        target and the battery its cause points at."""
        import pandas as pd

        c = self.compiled
        rep, j = np.nonzero(self.leak_cause >= 0)
        bat = self.leak_battery[rep, j]
        return pd.DataFrame({
            "replication": rep + self.first_replication, "threat": j,
            "threat_type": np.asarray(c.threat_type_ids, object)[c.threat_type[j]],
            "raid": np.asarray(c.threat_raid, object)[j],
            "asset": np.asarray(c.asset_ids, object)[c.threats.target[j]],
            "battery": np.asarray([None, *c.battery_ids], object)[bat + 1],
            "cause": np.asarray([lc.id for lc in LEAK_CAUSES], object)[self.leak_cause[rep, j]],
            "decoy": c.threats.damage[j] == 0.0,
        })

    def engagements_frame(self) -> "pd.DataFrame":
        """One row per engagement (a salvo at a threat) of the logged replications (all of a run,
        unless ``engagements=N`` took a sample): when, who fired what at which threat and target,
        and how it ended (RESULTS: kill, miss, threat failed, threat lost)."""
        import pandas as pd

        c = self.compiled
        e = self.engagements
        k = e.interceptor
        rounds = e.shots * c.interceptors.rounds_per_shot[k]
        return pd.DataFrame({
            "replication": e.replication, "time_s": e.fire_s, "end_s": e.end_s, "threat": e.threat,
            "threat_type": np.asarray(c.threat_type_ids, object)[c.threat_type[e.threat]],
            "class": np.asarray(c.threat_type_class, object)[c.threat_type[e.threat]],
            "raid": np.asarray(c.threat_raid, object)[e.threat],
            "asset": np.asarray(c.asset_ids, object)[c.threats.target[e.threat]],
            "battery": np.asarray(c.battery_ids, object)[e.battery],
            "interceptor": np.asarray(c.interceptor_ids, object)[k],
            "shots": e.shots, "rounds": rounds, "cost_usd": rounds * c.interceptors.cost_usd[k],
            "result": np.asarray(eng.RESULTS, object)[e.result],
        })

    def engagement_table(self, by: tuple[str, ...] = ("battery", "interceptor", "threat_type", "asset")
                         ) -> "pd.DataFrame":
        """Engagements, shots, rounds and kills grouped ``by`` (columns of ``engagements_frame``),
        as means per logged replication: which battery fired what, at what."""
        frame = self.engagements_frame()
        n = max(self.engagement_replications, 1)
        frame["engagements"] = 1
        frame["kills"] = (frame["result"] == "kill").astype(int)
        table = frame.groupby(list(by), sort=True)[["engagements", "shots", "rounds", "kills"]].sum() / n
        return table.reset_index()

    def timelines(self) -> eng.Timelines:
        """Each battery's rounds left and loaded and its fire channels in use over the night:
        median and 5-95% band over the logged replications (at most TIMELINE_REPLICATIONS)."""
        c = self.compiled
        n = min(self.engagement_replications, eng.TIMELINE_REPLICATIONS)
        stock = self.initial_stock if self.initial_stock is not None else np.broadcast_to(
            c.stock, (self.replications, *c.stock.shape))
        full = c.batteries.launchers * c.batteries.rounds_per_launcher
        return eng.timelines(self.engagements, self.reloads, first=self.first_replication, replications=n,
                             initial_stock=stock, loaded_at_start=np.minimum(stock, full[None]),
                             rounds_per_shot=c.interceptors.rounds_per_shot, horizon_s=c.horizon_s)

    def timelines_frame(self) -> "pd.DataFrame":
        """``timelines()`` as a table: battery, interceptor (none for channels), quantity
        (rounds_left, rounds_loaded, channels_busy), time_s, p5, median, p95."""
        import pandas as pd

        c = self.compiled
        tl = self.timelines()
        parts = []
        for quantity in eng.TIMELINE_QUANTITIES:
            bands = getattr(tl, quantity)
            if quantity == "channels_busy":
                series = [(c.battery_ids[b], None) for b in range(bands.shape[1])]
            else:
                series = [(c.battery_ids[b], c.interceptor_ids[k]) for b, k in tl.pairs]
            n_t = len(tl.time_s)
            parts.append(pd.DataFrame({
                "battery": np.repeat([b for b, _ in series], n_t).astype(object),
                "interceptor": np.repeat(np.asarray([k for _, k in series], object), n_t),
                "quantity": quantity, "time_s": np.tile(tl.time_s, len(series)),
                "p5": bands[0].reshape(-1), "median": bands[1].reshape(-1), "p95": bands[2].reshape(-1)}))
        return pd.concat(parts, ignore_index=True)

    def tracks_frame(self, threats: np.ndarray | None = None) -> "pd.DataFrame":
        """The paths of ``threats`` (default all), a row per point: the engine's own vertices,
        with points every ~20 km between them (straight in the engine's frame, curved on a map),
        as time after launch and lat/lon; with each threat's type, class, raid and target."""
        import pandas as pd

        c = self.compiled
        threats = np.arange(c.n_threats) if threats is None else np.asarray(threats, np.int64)
        rows = [track_points(c.paths, int(j)) for j in threats]
        count = np.array([len(t) for _, _, t in rows], np.int64)
        j = np.repeat(threats, count)
        x, y, t = (np.concatenate([r[i] for r in rows]) if rows else np.zeros(0) for i in range(3))
        lat, lon = c.frame.to_latlon(x, y)
        types = np.asarray(c.threat_type_ids, object)[c.threat_type[j]]
        return pd.DataFrame({
            "threat": j, "threat_type": types,
            "class": np.asarray(c.threat_type_class, object)[c.threat_type[j]],
            "raid": np.asarray(c.threat_raid, object)[j], "target": np.asarray(c.asset_ids, object)[c.threats.target[j]],
            "tau_s": t, "lat": np.round(np.atleast_1d(lat), 6), "lon": np.round(np.atleast_1d(lon), 6),
        })

    def summary(self) -> dict[str, Any]:
        """What summary.json holds. Worked out once (a run's arrays do not change once it has
        finished: summary.json and the command's tables are the same numbers, and cost the
        work once); each call gets its own copy to change."""
        if self._summary is None:
            self._summary = self._summarise()
        return copy.deepcopy(self._summary)

    def _summarise(self) -> dict[str, Any]:
        c = self.compiled
        launched = self.launched.mean(axis=0)  # the scenario's counts unless threats were masked
        decoy = list(c.threat_type_decoy or [False] * len(c.threat_type_ids))
        by_type: dict[str, Any] = {}
        expired = self.expired.mean(axis=0)
        for t, (tid, (leaked, leaked_ci), (killed, killed_ci)) in enumerate(
                zip(c.threat_type_ids, _ci_pairs(self.leaked), _ci_pairs(self.killed))):
            by_type[tid] = {
                "class": c.threat_type_class[t], "launched": _count(launched[t]),
                "intercepted_mean": killed, "intercepted_ci95": killed_ci,
                "leaked_mean": leaked, "leaked_ci95": leaked_ci,
                "expired_mean": float(expired[t]),
                "leak_fraction": leaked / launched[t] if launched[t] else 0.0,
                "decoy": bool(decoy[t]),
            }
        fired = self.interceptors_fired
        remaining = _sum_batteries(self.remaining).mean(axis=0)
        interceptors: dict[str, Any] = {}
        for k, (iid, (mean, ci)) in enumerate(zip(c.interceptor_ids, _ci_pairs(fired))):
            interceptors[iid] = {
                "fired_mean": mean, "fired_ci95": ci, "cost_usd_mean": mean * float(c.interceptor_cost_usd[k]),
                "stock": int(c.stock[:, k].sum()), "remaining_mean": float(remaining[k]),
            }
        causes = self._leak_cause_counts()
        assets: dict[str, Any] = {}
        value_lost = self.value_lost
        p_hit = (self.hits > 0).mean(axis=0)
        hits_by_type = self._hits_by_type()
        for a, (aid, (hits, hits_ci), (lost, lost_ci)) in enumerate(
                zip(c.asset_ids, _ci_pairs(self.hits), _ci_pairs(value_lost))):
            assets[aid] = {"value": float(c.asset_value[a]), "hits_mean": hits, "hits_ci95": hits_ci,
                           "value_lost_mean": lost, "value_lost_ci95": lost_ci, "p_hit": float(p_hit[a]),
                           "hits_by_threat_type": {tid: float(hits_by_type[a, t])
                                                   for t, tid in enumerate(c.threat_type_ids) if hits_by_type[a, t] > 0}}
        bat_fired = _sum_interceptors(self.rounds).mean(axis=0)
        bat_kills = self.kills_by_battery.mean(axis=0)
        batteries = {bid: {"fired_mean": float(bat_fired[b]), "kills_mean": float(bat_kills[b]),
                           "interceptors": self._battery_interceptors(b)}
                     for b, bid in enumerate(c.battery_ids)}
        armed = ~np.asarray(decoy, bool)
        (leaked_total, leaked_total_ci), (lost_total, lost_total_ci), (cost, cost_ci), (armed_total, armed_ci) = \
            _ci_pairs(np.stack([self.leaked.sum(axis=1), value_lost.sum(axis=1), fired @ c.interceptor_cost_usd,
                                self.leaked[:, armed].sum(axis=1)], axis=1))
        destroyed = float(self.threat_cost_destroyed.mean())
        totals = {
            "launched": _count(launched.sum()),
            "intercepted_mean": float(self.killed.sum(axis=1).mean()),
            "leaked_mean": leaked_total, "leaked_ci95": leaked_total_ci,
            "leaked_armed_mean": armed_total, "leaked_armed_ci95": armed_ci,
            "decoys_leaked_mean": float(self.leaked[:, ~armed].sum(axis=1).mean()),
            "expired_mean": float(self.expired.sum(axis=1).mean()),
            "value_lost_mean": lost_total, "value_lost_ci95": lost_total_ci,
            "interceptor_cost_usd_mean": cost, "interceptor_cost_usd_ci95": cost_ci,
            "threat_cost_destroyed_usd_mean": destroyed,
            "cost_exchange_ratio": cost / destroyed if destroyed > 0 else None,
            "leak_causes": _by_cause(causes["threat"].sum(axis=0) / self.replications),
        }
        out = {
            "scenario": c.name, "replications": int(self.replications), "seed": int(self.seed),
            "threats_by_type": by_type,
            "interceptors_fired": {iid: v["fired_mean"] for iid, v in interceptors.items()},
            "interceptors": interceptors, "batteries": batteries, "assets": assets, "totals": totals,
            "leak_causes": {tid: _by_cause(row) for tid, row in zip(c.threat_type_ids, causes["threat_type"])},
            "leak_causes_by_asset": {aid: _by_cause(row) for aid, row in zip(c.asset_ids, causes["asset"])},
            "leak_causes_by_battery": {bid: _by_cause(row) for bid, row in zip([NO_BATTERY, *c.battery_ids],
                                                                              causes["battery"])},
        }
        self._mechanisms_summary(out)
        if self.engagement_replications > 0:
            out["engagements"] = self._engagement_summary()
        out["warnings"] = self.warnings()
        return out

    def _attacks_summary(self) -> dict[str, Any]:
        """Batteries (and stand-alone radars) destroyed by attacks on the defence (docs/model.md):
        how many per replication (mean and 95% interval), and per attacked unit the probability it
        was lost and when. The radars' keys only where a raid attacks one."""
        c = self.compiled
        out: dict[str, Any] = {}
        for noun, lost_s, attack, ids in (("batteries", self.battery_lost_s, c.threats.attack_battery, c.battery_ids),
                                          ("radars", self.radar_lost_s, c.threats.attack_radar, c.radar_ids)):
            if noun == "radars" and not (attack >= 0).any():
                break
            lost = np.isfinite(lost_s)
            (n_lost, n_lost_ci), = _ci_pairs(lost.sum(axis=1, keepdims=True).astype(float))
            per_unit: dict[str, Any] = {}
            for b in sorted(set(int(x) for x in attack if x >= 0)):
                (p, p_ci), = _ci_pairs(lost[:, b:b + 1].astype(float))
                when = lost_s[lost[:, b], b]
                per_unit[ids[b]] = {
                    "attackers": int((attack == b).sum()), "p_lost": p, "p_lost_ci95": p_ci,
                    "lost_at_s_mean": float(when.mean()) if len(when) else None}
            out.update({f"{noun}_lost_mean": n_lost, f"{noun}_lost_ci95": n_lost_ci, noun: per_unit})
        return out

    def _mechanisms_summary(self, out: dict[str, Any]) -> None:
        """What electronic warfare and area defences did, added only where the scenario has them
        (a scenario without them keeps its summary.json byte for byte)."""
        c = self.compiled
        if c.ballistic is not None:
            out["ballistic"] = c.ballistic.summary()
        if c.c2 is not None:
            out["c2"] = c.c2.summary()
        if c.detection_effects is not None:
            out["detection"] = c.detection_effects.summary()
        if c.has_attacks:
            out["attacks_on_defence"] = self._attacks_summary()
        if not (c.ew_zone_ids or c.area_ids):
            return
        launched = self.launched.mean(axis=0)
        kinds = [name for name, present in (("suppressed", c.ew_zone_ids), ("diverted", c.ew_zone_ids),
                                            ("area_killed", c.area_ids)) if present]
        neutralised = self.neutralised
        for t, tid in enumerate(c.threat_type_ids):
            row = out["threats_by_type"][tid]
            for name in kinds:
                row[f"{name}_mean"] = float(getattr(self, name)[:, t].mean())
            mean, ci = mean_ci95(neutralised[:, t])
            row["neutralised_mean"], row["neutralised_ci95"] = mean, ci
            row["neutralised_fraction"] = mean / launched[t] if launched[t] else 0.0
        totals = out["totals"]
        for name in kinds:
            totals[f"{name}_mean"] = float(getattr(self, name).sum(axis=1).mean())
        totals["neutralised_mean"], totals["neutralised_ci95"] = mean_ci95(neutralised.sum(axis=1))
        if c.area_ids:
            munitions = self.area_munitions
            cost = munitions * c.area_layers.cost_usd  # [rep, area defence]
            out["area_defences"] = {
                aid: {"engagements_mean": float(self.area_attempts[:, a].mean()),
                      "kills_mean": float(self.area_kills[:, a].mean()),
                      "munitions_mean": float(munitions[:, a].mean()),
                      "stock": None if c.area_layers.stock[a] >= np.iinfo(np.int64).max // 4 else int(c.area_layers.stock[a]),
                      "cost_usd_mean": float(cost[:, a].mean()),
                      **({"cued_by": c.area_cued_by[a]} if c.area_cued_by and c.area_cued_by[a] else {})}
                for a, aid in enumerate(c.area_ids)}
            totals["area_defence_cost_usd_mean"], totals["area_defence_cost_usd_ci95"] = mean_ci95(cost.sum(axis=1))

    # -- why threats leaked, who fired what ---------------------------------------------
    def _leak_cause_counts(self) -> dict[str, np.ndarray]:
        """Leakers per cause over all replications, [row, cause] by threat, threat type, target
        asset and battery (row 0: no battery; then battery b at b + 1), divided by the replications."""
        c = self.compiled
        n_causes = len(LEAK_CAUSES)
        cause = self.leak_cause
        per_threat = np.stack([(cause == lc.code).sum(axis=0) for lc in LEAK_CAUSES], axis=1).astype(float)
        by_type = np.zeros((len(c.threat_type_ids), n_causes))
        np.add.at(by_type, c.threat_type, per_threat)
        by_asset = np.zeros((len(c.asset_ids), n_causes))
        np.add.at(by_asset, c.threats.target, per_threat)
        leaked = cause >= 0
        by_battery = np.zeros((len(c.battery_ids) + 1, n_causes))
        np.add.at(by_battery, (self.leak_battery[leaked] + 1, cause[leaked]), 1.0)
        n = float(self.replications)
        return {"threat": per_threat, "threat_type": by_type / n, "asset": by_asset / n, "battery": by_battery / n}

    def _hits_by_type(self) -> np.ndarray:
        """[asset, threat type] leakers that did damage, mean per replication."""
        c = self.compiled
        out = np.zeros((len(c.asset_ids), len(c.threat_type_ids)))
        harmful = c.threats.damage > 0.0
        np.add.at(out, (c.threats.target[harmful], c.threat_type[harmful]), self.leak_count_by_threat[harmful])
        return out / self.replications

    def _battery_interceptors(self, b: int) -> dict[str, Any]:
        """Per interceptor the battery carries: rounds fired and left, and when it runs dry."""
        c = self.compiled
        stock = self.initial_stock if self.initial_stock is not None else c.stock[None]
        out: dict[str, Any] = {}
        for k, iid in enumerate(c.interceptor_ids):
            if not (stock[:, b, k] > 0).any():
                continue
            dry = self.dry_s[:, b, k]
            q = np.percentile(dry, [5.0, 50.0, 95.0], method="inverted_cdf") if len(dry) else np.full(3, np.inf)
            out[iid] = {
                "stock_mean": float(stock[:, b, k].mean()), "fired_mean": float(self.rounds[:, b, k].mean()),
                "remaining_mean": float(self.remaining[:, b, k].mean()),
                "rounds_per_shot": int(c.interceptors.rounds_per_shot[k]),
                "empty_at_start_fraction": float(np.isneginf(dry).mean()),
                "runs_dry_fraction": float(np.isfinite(dry).mean()),
                "runs_dry_s": {name: (float(v) if np.isfinite(v) else None) for name, v in zip(("p5", "median", "p95"), q)},
            }
        return out

    def _engagement_summary(self) -> dict[str, Any]:
        """Engagements, rounds and kills per battery, interceptor and threat type: mean per
        logged replication. ``engagement_table``'s numbers, in its order (groups sorted by their
        ids), added up in NumPy: whole numbers, so the sums are exact in any order, and a run
        imports no pandas for its summary (~0.2 s)."""
        c = self.compiled
        e = self.engagements
        n = max(self.engagement_replications, 1)
        n_itc, n_type = len(c.interceptor_ids), len(c.threat_type_ids)
        group = (e.battery * n_itc + e.interceptor) * n_type + c.threat_type[e.threat]
        keys, which = np.unique(group, return_inverse=True)
        rounds = e.shots * c.interceptors.rounds_per_shot[e.interceptor]
        columns = {"engagements_mean": np.ones(len(group)), "shots_mean": e.shots, "rounds_mean": rounds,
                   "kills_mean": e.result == eng.RESULTS.index("kill")}
        means = {name: np.bincount(which, weights=np.asarray(w, float), minlength=len(keys)) / n
                 for name, w in columns.items()}
        labels = [(c.battery_ids[key // (n_itc * n_type)], c.interceptor_ids[key // n_type % n_itc],
                   c.threat_type_ids[key % n_type]) for key in keys.tolist()]
        nested: dict[str, Any] = {}
        for i in sorted(range(len(keys)), key=labels.__getitem__):
            battery, interceptor, threat_type = labels[i]
            nested.setdefault(battery, {}).setdefault(interceptor, {})[threat_type] = {
                name: float(m[i]) for name, m in means.items()}
        return {"replications": int(self.engagement_replications), "by_battery": nested}

    def warnings(self) -> list[str]:
        """What an analyst should not miss: the scenario's own warnings (a battery far from
        everything, a stock below one shot: scenario.checks.scenario_warnings), a battery that
        never fired (and why), one that runs out of an interceptor during the night."""
        from shieldwall.scenario.checks import scenario_warnings

        c = self.compiled
        out = [f"{p.path}: {p.message}" + (f" ({p.hint})" if p.hint else "") for p in scenario_warnings(self.scenario)]
        reachable = np.zeros(len(c.battery_ids), bool)
        reachable[np.unique(c.windows.battery)] = True
        fired = self.rounds.sum(axis=(0, 2))
        stock = self.initial_stock if self.initial_stock is not None else c.stock[None]
        for b, bid in enumerate(c.battery_ids):
            held = [k for k in range(len(c.interceptor_ids)) if (stock[:, b, k] > 0).any()]
            # a stock below one shot (a gun burst) cannot fire: it is not carried, whatever it holds
            carried = [k for k in held if (stock[:, b, k] >= c.interceptors.rounds_per_shot[k]).any()]
            if fired[b] == 0:
                why = ("it has no rounds" if not held else
                       "it has fewer rounds than one shot" if not carried else
                       "no threat of this raid comes inside its reach while tracked" if not reachable[b]
                       else "it had chances but never fired (other batteries engaged first, or fire was held)")
                out.append(f"battery {bid} never fired in {self.replications} replications: {why}")
                continue
            for k in carried:
                dry = self.dry_s[:, b, k]
                share = float(np.isfinite(dry).mean())
                if share > 0:
                    median = float(np.median(dry[np.isfinite(dry)]))
                    out.append(f"battery {bid} runs out of {c.interceptor_ids[k]} during the night in "
                               f"{100 * share:.0f}% of replications (median {_clock(median)} after the start)")
        return out

    # -- files ---------------------------------------------------------------------------
    def write(self, out_dir: str | Path) -> Path:
        """summary.json, scenario.json (the scenario it ran, for reports and replays); into the
        run's own folder the event log (replication 0) and the shards were written as chunks
        landed, into another folder they are written here."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(json.dumps(self.summary(), indent=2) + "\n", encoding="utf-8")
        if self.engagement_replications > 0:
            self._write_engagements(out)
        if self.out_dir is None or out != self.out_dir:  # these were not streamed there
            self._write_scenario(out)
            self._write_events(out)
            import pyarrow.parquet as pq
            import pyarrow as pa

            (out / "replications").mkdir(exist_ok=True)
            pq.write_table(pa.Table.from_pandas(self.to_frame(), preserve_index=False),
                           out / "replications" / "part-00000000.parquet")
        return out
