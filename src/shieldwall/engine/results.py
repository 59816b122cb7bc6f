"""Results of a raid Monte Carlo: per-replication arrays, their summary with confidence
intervals, and the files a run writes (summary.json, Parquet shards, the replay event log)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from shieldwall.engine.compile import Compiled
from shieldwall.engine.kernel import EVENT_NAMES
from shieldwall.engine.paths import track_points
from shieldwall.engine.records import (
    END_STATES,
    OUTCOMES,
    LoggedEvents,
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


SHARD_REPLICATIONS = 4096  # rows per Parquet shard: memory stays flat, and a shard per chunk
# of 128 cost more to write than the engine took to simulate it

class RaidResult:
    """Per-replication outcomes of one run; ``summary()`` is what summary.json holds."""

    def __init__(self, compiled: Compiled, scenario: Scenario, seed: int, replications: int,
                 out_dir: str | Path | None = None, first_replication: int = 0) -> None:
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

    def finish(self) -> None:
        assert sum(e - f for f, e in self._received) == self.replications, "a chunk is missing"
        if self._unwritten:
            self._write_shard()
        for spec in OUTCOMES:  # killed, leaked, ...: the run's arrays by name
            setattr(self, spec.name, getattr(self._whole, spec.name))
        self.leak_probability_by_threat = self._whole.leak_count_by_threat / self.replications
        if self.out_dir is not None:
            self.write(self.out_dir)

    # -- derived per-replication quantities --------------------------------------------
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
        return pd.DataFrame({
            "time_s": t, "event": np.asarray(EVENT_NAMES, object)[kind], "threat": j,
            "threat_type": types, "raid": np.asarray(c.threat_raid, object)[j],
            # area defences engage as "batteries" n_bat + their index: the column names who engaged
            "battery": [None if i < 0 else c.battery_ids[i] if i < len(c.battery_ids) else c.area_ids[i - len(c.battery_ids)]
                        for i in b],
            "interceptor": [c.interceptor_ids[i] if i >= 0 else None for i in k],
            "shots": n, "lat": np.round(lat, 6), "lon": np.round(lon, 6), "alt_m": np.round(xyz[:, 2], 1),
            "east_m": np.round(xyz[:, 0], 1), "north_m": np.round(xyz[:, 1], 1),
        })

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
        c = self.compiled
        launched = self.launched.mean(axis=0)  # the scenario's counts unless threats were masked
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
            }
        fired = self.interceptors_fired
        remaining = _sum_batteries(self.remaining).mean(axis=0)
        interceptors: dict[str, Any] = {}
        for k, (iid, (mean, ci)) in enumerate(zip(c.interceptor_ids, _ci_pairs(fired))):
            interceptors[iid] = {
                "fired_mean": mean, "fired_ci95": ci, "cost_usd_mean": mean * float(c.interceptor_cost_usd[k]),
                "stock": int(c.stock[:, k].sum()), "remaining_mean": float(remaining[k]),
            }
        assets: dict[str, Any] = {}
        value_lost = self.value_lost
        p_hit = (self.hits > 0).mean(axis=0)
        for a, (aid, (hits, hits_ci), (lost, lost_ci)) in enumerate(
                zip(c.asset_ids, _ci_pairs(self.hits), _ci_pairs(value_lost))):
            assets[aid] = {"value": float(c.asset_value[a]), "hits_mean": hits, "hits_ci95": hits_ci,
                           "value_lost_mean": lost, "value_lost_ci95": lost_ci, "p_hit": float(p_hit[a])}
        bat_fired = _sum_interceptors(self.rounds).mean(axis=0)
        bat_kills = self.kills_by_battery.mean(axis=0)
        batteries = {bid: {"fired_mean": float(bat_fired[b]), "kills_mean": float(bat_kills[b])}
                     for b, bid in enumerate(c.battery_ids)}
        (leaked_total, leaked_total_ci), (lost_total, lost_total_ci), (cost, cost_ci) = _ci_pairs(
            np.stack([self.leaked.sum(axis=1), value_lost.sum(axis=1), fired @ c.interceptor_cost_usd], axis=1))
        destroyed = float(self.threat_cost_destroyed.mean())
        totals = {
            "launched": _count(launched.sum()),
            "intercepted_mean": float(self.killed.sum(axis=1).mean()),
            "leaked_mean": leaked_total, "leaked_ci95": leaked_total_ci,
            "expired_mean": float(self.expired.sum(axis=1).mean()),
            "value_lost_mean": lost_total, "value_lost_ci95": lost_total_ci,
            "interceptor_cost_usd_mean": cost, "interceptor_cost_usd_ci95": cost_ci,
            "threat_cost_destroyed_usd_mean": destroyed,
            "cost_exchange_ratio": cost / destroyed if destroyed > 0 else None,
        }
        out = {
            "scenario": c.name, "replications": int(self.replications), "seed": int(self.seed),
            "threats_by_type": by_type,
            "interceptors_fired": {iid: v["fired_mean"] for iid, v in interceptors.items()},
            "interceptors": interceptors, "batteries": batteries, "assets": assets, "totals": totals,
        }
        self._mechanisms_summary(out)
        return out

    def _mechanisms_summary(self, out: dict[str, Any]) -> None:
        """What electronic warfare and area defences did, added only where the scenario has them
        (a scenario without them keeps its summary.json byte for byte)."""
        c = self.compiled
        if c.ballistic is not None:
            out["ballistic"] = c.ballistic.summary()
        if c.c2 is not None:
            out["c2"] = c.c2.summary()
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
                      "cost_usd_mean": float(cost[:, a].mean())}
                for a, aid in enumerate(c.area_ids)}
            totals["area_defence_cost_usd_mean"], totals["area_defence_cost_usd_ci95"] = mean_ci95(cost.sum(axis=1))

    # -- files ---------------------------------------------------------------------------
    def write(self, out_dir: str | Path) -> Path:
        """summary.json, scenario.json (the scenario it ran, for reports and replays); into the
        run's own folder the event log (replication 0) and the shards were written as chunks
        landed, into another folder they are written here."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(json.dumps(self.summary(), indent=2) + "\n", encoding="utf-8")
        if self.out_dir is None or out != self.out_dir:  # these were not streamed there
            self._write_scenario(out)
            self._write_events(out)
            import pyarrow.parquet as pq
            import pyarrow as pa

            (out / "replications").mkdir(exist_ok=True)
            pq.write_table(pa.Table.from_pandas(self.to_frame(), preserve_index=False),
                           out / "replications" / "part-00000000.parquet")
        return out
