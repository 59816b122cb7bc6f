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
from shieldwall.scenario.model import Scenario

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


@dataclass
class ChunkResult:
    start: int
    killed: np.ndarray  # [rep, threat type]
    leaked: np.ndarray
    expired: np.ndarray
    rounds: np.ndarray  # [rep, battery, interceptor]
    kills_by_battery: np.ndarray  # [rep, battery]
    hits: np.ndarray  # [rep, asset]
    survive: np.ndarray  # [rep, asset] fraction of value left
    threat_cost_destroyed: np.ndarray  # [rep]
    leak_count_by_threat: np.ndarray  # [threat], summed over the chunk
    remaining: np.ndarray  # [rep, battery, interceptor]
    events: tuple | None = None
    epochs: int = 0  # decision epochs the engine visited: what a replication cost it

    @property
    def n_rep(self) -> int:
        return int(self.killed.shape[0])


def mean_ci95(x: np.ndarray) -> tuple[float, list[float]]:
    """Mean and 95% Student-t interval for the mean over replications (axis 0), its lower end
    clipped at zero for quantities that cannot be negative."""
    from scipy.special import stdtrit  # Student t quantile; scipy.stats would take a second to import

    x = np.asarray(x, float)
    mean = float(x.mean())
    if x.shape[0] < 2:
        return mean, [mean, mean]
    half = float(stdtrit(x.shape[0] - 1, 0.975) * x.std(ddof=1) / np.sqrt(x.shape[0]))
    lo = mean - half
    if lo < 0.0 <= x.min():  # counts and losses cannot be negative
        lo = 0.0
    return mean, [lo, mean + half]


def _count(x: float) -> int | float:
    """Whole numbers stay integers in summary.json; masked (campaign) runs give means."""
    return int(x) if float(x).is_integer() else float(x)


SHARD_REPLICATIONS = 4096  # rows per Parquet shard: memory stays flat, and a shard per chunk
# of 128 cost more to write than the engine took to simulate it

_ARRAYS = ("killed", "leaked", "expired", "rounds", "kills_by_battery", "hits", "survive",
           "threat_cost_destroyed", "remaining")


class RaidResult:
    """Per-replication outcomes of one run; ``summary()`` is what summary.json holds."""

    def __init__(self, compiled: Compiled, scenario: Scenario, seed: int, replications: int,
                 out_dir: str | Path | None = None) -> None:
        self.compiled = compiled
        self.scenario = scenario
        self.seed = seed
        self.replications = replications
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self._chunks: list[ChunkResult] = []
        self._unwritten: list[ChunkResult] = []
        self.events: tuple | None = None
        if self.out_dir is not None:
            (self.out_dir / "replications").mkdir(parents=True, exist_ok=True)
            for old in (self.out_dir / "replications").glob("part-*.parquet"):
                old.unlink()

    # -- accumulation -------------------------------------------------------------------
    def add(self, chunk: ChunkResult) -> None:
        if chunk.events is not None:
            self.events = chunk.events
        if self.out_dir is not None:
            self._unwritten.append(chunk)
            if sum(c.n_rep for c in self._unwritten) >= SHARD_REPLICATIONS:
                self._write_shard()
        self._chunks.append(chunk)

    def _write_shard(self) -> None:
        """The chunks received since the last shard, as one Parquet file named by its first
        replication."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        assert self.out_dir is not None
        chunks = sorted(self._unwritten, key=lambda c: c.start)
        parts = [self._columns(c) for c in chunks]
        table = pa.table({name: np.concatenate([p[name] for p in parts]) for name in parts[0]})
        pq.write_table(table, self.out_dir / "replications" / f"part-{chunks[0].start:08d}.parquet")
        self._unwritten = []

    def finish(self) -> None:
        if self._unwritten:
            self._write_shard()
        chunks = sorted(self._chunks, key=lambda c: c.start)
        for name in _ARRAYS:
            setattr(self, name, np.concatenate([getattr(c, name) for c in chunks]))
        self.leak_probability_by_threat = sum(c.leak_count_by_threat for c in chunks) / self.replications
        self._chunks = []
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
        return self.rounds.sum(axis=1)

    @property
    def interceptor_cost_usd(self) -> np.ndarray:
        return self.interceptors_fired @ self.compiled.interceptor_cost_usd

    @property
    def launched(self) -> np.ndarray:
        """[rep, threat type] threats that existed in each replication (all, unless masked)."""
        return self.killed + self.leaked + self.expired

    @property
    def launched_by_type(self) -> np.ndarray:
        return np.bincount(self.compiled.threat_type, minlength=len(self.compiled.threat_type_ids))

    def _columns(self, chunk: ChunkResult) -> dict[str, np.ndarray]:
        c = self.compiled
        cols: dict[str, np.ndarray] = {"replication": np.arange(chunk.start, chunk.start + chunk.n_rep)}
        cols["launched"] = (chunk.killed + chunk.leaked + chunk.expired).sum(axis=1)
        cols["intercepted"] = chunk.killed.sum(axis=1)
        cols["leaked"] = chunk.leaked.sum(axis=1)
        cols["expired"] = chunk.expired.sum(axis=1)
        value_lost = c.asset_value * (1.0 - chunk.survive)
        cols["value_lost"] = value_lost.sum(axis=1)
        fired = chunk.rounds.sum(axis=1)
        cols["interceptor_cost_usd"] = fired @ c.interceptor_cost_usd
        cols["threat_cost_destroyed_usd"] = chunk.threat_cost_destroyed
        for t, tid in enumerate(c.threat_type_ids):
            cols[f"intercepted/{tid}"] = chunk.killed[:, t]
            cols[f"leaked/{tid}"] = chunk.leaked[:, t]
            cols[f"expired/{tid}"] = chunk.expired[:, t]
        for k, iid in enumerate(c.interceptor_ids):
            cols[f"fired/{iid}"] = fired[:, k]
        for b, bid in enumerate(c.battery_ids):
            cols[f"battery_fired/{bid}"] = chunk.rounds[:, b].sum(axis=1)
            cols[f"battery_kills/{bid}"] = chunk.kills_by_battery[:, b]
        for a, aid in enumerate(c.asset_ids):
            cols[f"hits/{aid}"] = chunk.hits[:, a]
            cols[f"value_lost/{aid}"] = value_lost[:, a]
        return cols

    # -- views ---------------------------------------------------------------------------
    def to_frame(self) -> "pd.DataFrame":
        """One row per replication, wide columns (``leaked/<threat>``, ``fired/<interceptor>``...)."""
        import pandas as pd

        whole = ChunkResult(0, *(getattr(self, n) for n in _ARRAYS[:7]), self.threat_cost_destroyed,
                            np.zeros(0), self.remaining)
        return pd.DataFrame(self._columns(whole))

    def events_frame(self) -> "pd.DataFrame":
        """The event log of replication 0, in time order, with positions in lat/lon."""
        import pandas as pd

        c = self.compiled
        if self.events is None:
            return pd.DataFrame()
        t, kind, j, b, k, n, xyz = self.events
        order = np.lexsort((j, kind, t))
        t, kind, j, b, k, n, xyz = t[order], kind[order], j[order], b[order], k[order], n[order], xyz[order]
        lat, lon = c.frame.to_latlon(xyz[:, 0], xyz[:, 1])
        types = np.asarray(c.threat_type_ids, object)[c.threat_type[j]]
        return pd.DataFrame({
            "time_s": t, "event": np.asarray(EVENT_NAMES, object)[kind], "threat": j,
            "threat_type": types, "raid": np.asarray(c.threat_raid, object)[j],
            "battery": [c.battery_ids[i] if i >= 0 else None for i in b],
            "interceptor": [c.interceptor_ids[i] if i >= 0 else None for i in k],
            "shots": n, "lat": np.round(lat, 6), "lon": np.round(lon, 6), "alt_m": np.round(xyz[:, 2], 1),
            "east_m": np.round(xyz[:, 0], 1), "north_m": np.round(xyz[:, 1], 1),
        })

    def summary(self) -> dict[str, Any]:
        c = self.compiled
        launched = self.launched.mean(axis=0)  # the scenario's counts unless threats were masked
        by_type: dict[str, Any] = {}
        for t, tid in enumerate(c.threat_type_ids):
            leaked, leaked_ci = mean_ci95(self.leaked[:, t])
            killed, killed_ci = mean_ci95(self.killed[:, t])
            by_type[tid] = {
                "class": c.threat_type_class[t], "launched": _count(launched[t]),
                "intercepted_mean": killed, "intercepted_ci95": killed_ci,
                "leaked_mean": leaked, "leaked_ci95": leaked_ci,
                "expired_mean": float(self.expired[:, t].mean()),
                "leak_fraction": leaked / launched[t] if launched[t] else 0.0,
            }
        fired = self.interceptors_fired
        interceptors: dict[str, Any] = {}
        for k, iid in enumerate(c.interceptor_ids):
            mean, ci = mean_ci95(fired[:, k])
            interceptors[iid] = {
                "fired_mean": mean, "fired_ci95": ci, "cost_usd_mean": mean * float(c.interceptor_cost_usd[k]),
                "stock": int(c.stock[:, k].sum()), "remaining_mean": float(self.remaining[:, :, k].sum(axis=1).mean()),
            }
        assets: dict[str, Any] = {}
        value_lost = self.value_lost
        for a, aid in enumerate(c.asset_ids):
            hits, hits_ci = mean_ci95(self.hits[:, a])
            lost, lost_ci = mean_ci95(value_lost[:, a])
            assets[aid] = {"value": float(c.asset_value[a]), "hits_mean": hits, "hits_ci95": hits_ci,
                           "value_lost_mean": lost, "value_lost_ci95": lost_ci,
                           "p_hit": float((self.hits[:, a] > 0).mean())}
        batteries = {bid: {"fired_mean": float(self.rounds[:, b].sum(axis=1).mean()),
                           "kills_mean": float(self.kills_by_battery[:, b].mean())}
                     for b, bid in enumerate(c.battery_ids)}
        leaked_total, leaked_total_ci = mean_ci95(self.leaked.sum(axis=1))
        lost_total, lost_total_ci = mean_ci95(value_lost.sum(axis=1))
        cost, cost_ci = mean_ci95(self.interceptor_cost_usd)
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
        return {
            "scenario": c.name, "replications": int(self.replications), "seed": int(self.seed),
            "threats_by_type": by_type,
            "interceptors_fired": {iid: v["fired_mean"] for iid, v in interceptors.items()},
            "interceptors": interceptors, "batteries": batteries, "assets": assets, "totals": totals,
        }

    # -- files ---------------------------------------------------------------------------
    def write(self, out_dir: str | Path) -> Path:
        """summary.json, scenario.json (the scenario it ran, for reports and replays),
        events.parquet/.csv (replication 0); shards are written as chunks land."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(json.dumps(self.summary(), indent=2) + "\n", encoding="utf-8")
        (out / "scenario.json").write_text(
            json.dumps(self.scenario.model_dump(mode="json", by_alias=True), indent=2) + "\n", encoding="utf-8")
        events = self.events_frame()
        if len(events):
            events.to_parquet(out / "events.parquet", index=False)
            events.to_csv(out / "events.csv", index=False)
        if self.out_dir is None or out != self.out_dir:  # shards were not streamed there
            import pyarrow.parquet as pq
            import pyarrow as pa

            (out / "replications").mkdir(exist_ok=True)
            pq.write_table(pa.Table.from_pandas(self.to_frame(), preserve_index=False),
                           out / "replications" / "part-00000000.parquet")
        return out
