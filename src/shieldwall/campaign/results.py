"""A campaign's outcome: per night and replication arrays, ``summary()`` (what campaign.json
holds), the per-night Parquet table, and the files."""

from __future__ import annotations

import copy
import json
import mmap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from shieldwall.campaign.ledger import Ledger
from shieldwall.engine.results import mean_ci95

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from shieldwall.campaign.load import LoadedCampaign
    from shieldwall.engine.results import RaidResult

Q = (0.05, 0.5, 0.95)
CAMPAIGN_INPUT = "campaign-input.yaml"  # a run folder's self-contained copy of its campaign


def _shared_zeros(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """Zeros in anonymous shared memory: a process forked after this writes into the same
    pages (its writes are seen here), unlike ordinary memory, which fork copies on write."""
    n = int(np.prod(shape))
    buffer = mmap.mmap(-1, max(1, n * np.dtype(dtype).itemsize))  # anonymous, shared, zero-filled
    return np.frombuffer(buffer, dtype, count=n).reshape(shape)


def _band(x: np.ndarray) -> dict[str, float]:
    p5, med, p95 = np.quantile(np.asarray(x, float), Q)
    return {"p5": float(p5), "median": float(med), "p95": float(p95)}


class CampaignResult:
    """Arrays are [night, replication, ...]; stocks are end-of-night, with index 0 the start."""

    @classmethod
    def empty(cls, loaded: "LoadedCampaign", seed: int, replications: int, interceptor_ids: list[str],
              threat_ids: list[str], keep_battery_ledger: bool, shared: bool = False) -> "CampaignResult":
        """Zeros for every night and replication. ``shared``: the arrays in memory that processes
        forked afterwards write into (``rows``), so a parallel campaign's ranges are neither
        pickled back nor joined."""
        self = cls()
        c = loaded.campaign
        N, R, K, T, A = c.nights, replications, len(interceptor_ids), len(threat_ids), len(loaded.theatre.assets)
        self.loaded, self.seed, self.replications, self.nights = loaded, seed, R, N
        self.interceptor_ids, self.threat_ids = interceptor_ids, threat_ids
        self.asset_ids = [a.id for a in loaded.theatre.assets]
        self.battery_ids = [b.id for b in loaded.batteries]
        self.dates = [loaded.date_of(t) for t in range(N)]
        zeros = _shared_zeros if shared else np.zeros
        z = lambda *shape: zeros(shape, np.int64)  # noqa: E731
        self.launched, self.killed, self.leaked, self.expired = z(N, R, T), z(N, R, T), z(N, R, T), z(N, R, T)
        self.value_lost = zeros((N, R, A), float)
        self.interceptor_cost_usd = zeros((N, R), float)
        self.threat_cost_destroyed = zeros((N, R), float)
        self.fired, self.delivered, self.produced, self.moved = z(N, R, K), z(N, R, K), z(N, R, K), z(N, R, K)
        self.delivered_to_batteries = z(N, R, K)
        self.battery_stock, self.depot_stock = z(N + 1, R, K), z(N + 1, R, K)
        self.battery_ledger = z(N + 1, R, len(self.battery_ids), K) if keep_battery_ledger else None
        self.cut = 0
        self.compiles = 0
        self.compiled_keys: set = set()
        self.batteries_out = z(N, R)  # batteries out of action after each night (damage)
        self.asset_condition = zeros((N + 1, R, A), float)  # fraction of each asset's value left
        self.asset_condition.fill(1.0)
        self.cost_per_round = np.array([loaded.catalog.interceptors[k].cost_usd for k in interceptor_ids])
        # a stock smaller than one shot (a gun's burst) can never be fired: it counts as run out
        self.rounds_per_shot = np.array([loaded.catalog.interceptors[k].rounds_per_shot for k in interceptor_ids],
                                        np.int64)
        return self

    # arrays with one entry per replication, on axis 1 ([night(+1), replication, ...])
    PER_REPLICATION = ("launched", "killed", "leaked", "expired", "value_lost", "interceptor_cost_usd",
                       "threat_cost_destroyed", "fired", "delivered", "produced", "moved", "delivered_to_batteries",
                       "battery_stock", "depot_stock", "battery_ledger", "batteries_out", "asset_condition")

    def rows(self, first: int, end: int) -> "CampaignResult":
        """Replications [first, end) as a result of their own, its arrays views of these (a
        range records into them); it counts its own cut threats and compiles."""
        part = copy.copy(self)
        for name in self.PER_REPLICATION:
            if getattr(self, name) is not None:
                setattr(part, name, getattr(self, name)[:, first:end])
        part.replications, part.cut, part.compiled_keys, part.compiles = end - first, 0, set(), 0
        return part

    @classmethod
    def join(cls, parts: list["CampaignResult"]) -> "CampaignResult":
        """Results of consecutive replication ranges (from parallel workers) as one result."""
        whole = parts[0]
        if len(parts) == 1:
            return whole
        for name in cls.PER_REPLICATION:
            if getattr(whole, name) is not None:
                setattr(whole, name, np.concatenate([getattr(p, name) for p in parts], axis=1))
        whole.replications = sum(p.replications for p in parts)
        whole.cut = sum(p.cut for p in parts)
        whole.compiled_keys = set().union(*(p.compiled_keys for p in parts))
        whole.compiles = len(whole.compiled_keys)
        return whole

    # recording -------------------------------------------------------------------------------
    def record_start(self, ledger: Ledger) -> None:
        self.battery_stock[0] = ledger.battery.sum(axis=1)
        self.depot_stock[0] = ledger.depot.sum(axis=1)
        if self.battery_ledger is not None:
            self.battery_ledger[0] = ledger.battery

    def record_raid(self, t: int, rows: np.ndarray, result: "RaidResult", types: list[int],
                    condition: np.ndarray | None = None, n_assets: int | None = None) -> None:
        """One simulate() call of night t, for replications ``rows``; ``condition`` [rows, asset]
        is the fraction of each asset's value left from earlier nights (damage carried over).
        ``n_assets``: the theatre's assets, the first columns of the raid's targets (attacked
        batteries, battery:ID, follow: their loss is counted as batteries out, not value)."""
        cols = np.asarray(types, np.int64)
        for name, arr in (("killed", result.killed), ("leaked", result.leaked), ("expired", result.expired)):
            getattr(self, name)[t][rows[:, None], cols[None, :]] = arr
        self.launched[t][rows[:, None], cols[None, :]] = result.killed + result.leaked + result.expired
        # value lost is linear in the value at stake: a damaged asset loses that fraction of it
        value_lost = result.value_lost[:, :n_assets]
        self.value_lost[t][rows] = value_lost if condition is None else value_lost * condition
        self.interceptor_cost_usd[t][rows] = result.interceptor_cost_usd
        self.threat_cost_destroyed[t][rows] = result.threat_cost_destroyed

    def record_night(self, t: int, ledger: Ledger) -> None:
        self.fired[t] = ledger.fired.sum(axis=1)
        self.delivered[t] = ledger.delivered_battery.sum(axis=1) + ledger.delivered_depot.sum(axis=1)
        self.delivered_to_batteries[t] = ledger.delivered_battery.sum(axis=1)
        self.produced[t] = ledger.produced.sum(axis=1)
        self.moved[t] = ledger.moved_in.sum(axis=1)
        self.battery_stock[t + 1] = ledger.battery.sum(axis=1)
        self.depot_stock[t + 1] = ledger.depot.sum(axis=1)
        if self.battery_ledger is not None:
            self.battery_ledger[t + 1] = ledger.battery

    # derived ---------------------------------------------------------------------------------
    @property
    def shows_damage(self) -> bool:
        """Whether the outputs have the damage section: a campaign with ``damage:``, or one whose
        raids attack batteries (they go out of action for attack_repair_nights either way)."""
        from shieldwall.scenario.model import TargetBattery

        explicit = self.loaded.explicit.values()
        return self.loaded.campaign.damage is not None or any(
            isinstance(r.target, TargetBattery) for raids in explicit for r in raids)

    @property
    def stock(self) -> np.ndarray:
        """[night + 1, rep, interceptor] batteries and depots together; [0] is the start."""
        return self.battery_stock + self.depot_stock

    def depletion_nights(self) -> np.ndarray:
        """[rep, interceptor] the first night (1-based) that ends with less of it left than one
        shot takes (a gun's burst: 16 rounds of a 24-round burst are none to fire), after there
        had been at least one shot's worth; 0 where it never happens."""
        rps = self.rounds_per_shot
        had = np.maximum.accumulate((self.stock[:-1] + self.delivered + self.produced) >= rps, axis=0)
        empty = (self.stock[1:] < rps) & had
        first = empty.argmax(axis=0) + 1
        return np.where(empty.any(axis=0), first, 0)

    def armed(self) -> np.ndarray:
        """[threat type] True where it is armed, False for a decoy (catalog ``decoy``: it does
        no damage, so its leakers are counted apart, as a raid's summary does)."""
        threats = self.loaded.catalog.threats
        return np.array([not (t in threats and threats[t].decoy) for t in self.threat_ids], bool)

    def totals_by_replication(self) -> dict[str, np.ndarray]:
        return {
            "launched": self.launched.sum(axis=(0, 2)), "intercepted": self.killed.sum(axis=(0, 2)),
            "leaked": self.leaked.sum(axis=(0, 2)), "leaked_armed": self.leaked[:, :, self.armed()].sum(axis=(0, 2)),
            "expired": self.expired.sum(axis=(0, 2)),
            "value_lost": self.value_lost.sum(axis=(0, 2)),
            "interceptor_cost_usd": self.interceptor_cost_usd.sum(axis=0),
            "threat_cost_destroyed_usd": self.threat_cost_destroyed.sum(axis=0),
        }

    def summary(self) -> dict[str, Any]:
        stock = self.stock
        depletion = self.depletion_nights()
        stock_by_night = {k: [_band(stock[t + 1, :, i]) for t in range(self.nights)]
                          for i, k in enumerate(self.interceptor_ids)}
        depletion_night: dict[str, Any] = {}
        for i, k in enumerate(self.interceptor_ids):
            nights = depletion[:, i]
            if not (nights > 0).any():
                depletion_night[k] = None
                continue
            never = np.where(nights > 0, nights, np.inf)
            qs = np.quantile(never, Q, method="inverted_cdf")
            depletion_night[k] = {name: (None if np.isinf(q) else int(q)) for name, q in zip(("p5", "median", "p95"), qs)}
            depletion_night[k]["fraction_depleted"] = float((nights > 0).mean())
        totals: dict[str, Any] = {}
        for name, x in self.totals_by_replication().items():
            mean, ci = mean_ci95(x)
            totals[name] = {"mean": mean, "ci95": ci, **_band(x)}
        cost, destroyed = totals["interceptor_cost_usd"]["mean"], totals["threat_cost_destroyed_usd"]["mean"]
        totals["cost_exchange_ratio"] = cost / destroyed if destroyed > 0 else None
        interceptors = {k: {
            "start": _band(stock[0, :, i]), "end": _band(stock[-1, :, i]),
            "fired": _band(self.fired[:, :, i].sum(axis=0)), "delivered": float(self.delivered[:, :, i].sum(axis=0).mean()),
            "produced": float(self.produced[:, :, i].sum(axis=0).mean()),
            "cost_usd_per_round": float(self.cost_per_round[i]),
        } for i, k in enumerate(self.interceptor_ids)}
        armed = self.armed()
        threats = {tid: {"launched_mean": float(self.launched[:, :, j].sum(axis=0).mean()),
                         "intercepted_mean": float(self.killed[:, :, j].sum(axis=0).mean()),
                         "leaked_mean": float(self.leaked[:, :, j].sum(axis=0).mean()), "decoy": not armed[j]}
                   for j, tid in enumerate(self.threat_ids)}
        per_night = {name: [float(x) for x in getattr(self, attr).sum(axis=2).mean(axis=1)]
                     for name, attr in (("launched_mean", "launched"), ("intercepted_mean", "killed"),
                                        ("leaked_mean", "leaked"), ("value_lost_mean", "value_lost"))}
        # leakers and value lost night by night, with their 5-95% bands over replications
        per_night["leaked_band"] = [_band(x) for x in self.leaked.sum(axis=2)]
        per_night["value_lost_band"] = [_band(x) for x in self.value_lost.sum(axis=2)]
        loaded = self.loaded
        return {
            "campaign": loaded.campaign.name, "file": loaded.file, "generator": self._generator_name(),
            "start_date": str(loaded.campaign.start_date), "end_date": str(self.dates[-1]),
            "nights": self.nights, "replications": self.replications, "seed": self.seed,
            "stock_by_night": stock_by_night, "depletion_night": depletion_night, "totals": totals,
            "interceptors": interceptors, "threats_by_type": threats, "per_night": per_night,
            "raid_threats_cut_to_compiled_size": int(self.cut), "compiled_raids": self.compiles,
            "damage": None if not self.shows_damage else {
                "batteries_out_mean": [float(x) for x in self.batteries_out.mean(axis=1)],
                "asset_condition_end": {aid: _band(self.asset_condition[-1, :, a]) for a, aid in enumerate(self.asset_ids)},
            },
        }

    def _generator_name(self) -> str | None:
        """The raid generator as the campaign file names it: ``builtin:NAME``, the file as given,
        or ``inline`` (never a path of this machine's install)."""
        ref = self.loaded.campaign.generator
        if ref is None:
            return None
        if ref.builtin is not None:
            return f"builtin:{ref.builtin}"
        return str(ref.file) if ref.file is not None else "inline"

    def to_frame(self) -> "pd.DataFrame":
        """One row per replication and night."""
        import pandas as pd

        return pd.DataFrame(self._columns())

    def _columns(self) -> dict[str, Any]:
        """``to_frame``'s columns, a row per replication and night; dates to the millisecond
        (as pandas stores them in nights.parquet)."""
        N, R = self.nights, self.replications
        cols: dict[str, Any] = {
            "replication": np.tile(np.arange(R), N), "night": np.repeat(np.arange(1, N + 1), R),
            "date": np.repeat(np.array(self.dates, dtype="datetime64[D]"), R).astype("datetime64[ms]"),
        }
        flat = lambda a: a.reshape(N * R, *a.shape[2:])  # noqa: E731
        cols["launched"] = flat(self.launched).sum(axis=1)
        cols["intercepted"] = flat(self.killed).sum(axis=1)
        cols["leaked"] = flat(self.leaked).sum(axis=1)
        cols["expired"] = flat(self.expired).sum(axis=1)
        cols["value_lost"] = flat(self.value_lost).sum(axis=1)
        cols["interceptor_cost_usd"] = flat(self.interceptor_cost_usd)
        cols["threat_cost_destroyed_usd"] = flat(self.threat_cost_destroyed)
        for j, tid in enumerate(self.threat_ids):
            cols[f"launched/{tid}"] = flat(self.launched)[:, j]
            cols[f"leaked/{tid}"] = flat(self.leaked)[:, j]
        stock = self.stock
        for i, k in enumerate(self.interceptor_ids):
            cols[f"fired/{k}"] = flat(self.fired)[:, i]
            cols[f"delivered/{k}"] = flat(self.delivered)[:, i]
            cols[f"produced/{k}"] = flat(self.produced)[:, i]
            cols[f"moved/{k}"] = flat(self.moved)[:, i]
            cols[f"stock/{k}"] = flat(stock[1:])[:, i]
            cols[f"battery_stock/{k}"] = flat(self.battery_stock[1:])[:, i]
            cols[f"depot_stock/{k}"] = flat(self.depot_stock[1:])[:, i]
        for a, aid in enumerate(self.asset_ids):
            cols[f"value_lost/{aid}"] = flat(self.value_lost)[:, a]
        if self.shows_damage:
            cols["batteries_out"] = flat(self.batteries_out)
            for a, aid in enumerate(self.asset_ids):
                cols[f"condition/{aid}"] = flat(self.asset_condition[1:])[:, a]
        return cols

    def write(self, out_dir: str | Path, summary: dict[str, Any] | None = None) -> dict[str, Path]:
        """campaign.json (``summary``, made here if not given: at thousands of replications it
        takes a second) and nights.parquet."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"json": out / "campaign.json", "parquet": out / "nights.parquet", "input": out / CAMPAIGN_INPUT}
        summary = self.summary() if summary is None else summary
        paths["json"].write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        from shieldwall.arrow import write_numeric_parquet

        write_numeric_parquet(self._columns(), paths["parquet"])  # no pandas: ~0.25 s of a serial part
        paths["input"].write_text(campaign_input_text(self.loaded), encoding="utf-8")
        return paths


def campaign_input_text(loaded: "LoadedCampaign") -> str:
    """The campaign that ran, as one self-contained YAML file (campaign.load.self_contained)."""
    from shieldwall.campaign.load import self_contained
    from shieldwall.scenario.yaml_source import yaml_text

    origin = " ".join(str(loaded.file or "text").split())  # one comment line, whatever the path holds
    head = (f"# The campaign of this run, self-contained, as it ran (from {origin})."
            "\n# `shieldwall campaign` runs it again with the same results; the web app opens it in its editor.\n")
    return head + yaml_text(self_contained(loaded))
