"""A campaign, night by night: deliveries and production arrive, depots top batteries up, the
night's raid is simulated for every replication at once with each replication's own stock, and
the rounds fired come off the ledger.

Raids cost one compile per distinct (batteries present, raid) pair, not one per night: generated
nights share one compiled raid holding the most threats a night can bring, and each replication
masks it down to its own sampled raid (``present``). Seeds: one integer per night from the
campaign seed (``night_seed``), and one generator stream per night, so two options with the same
seed and the same threats see the same raids and the same random numbers."""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from shieldwall.campaign.ledger import Ledger, pro_rata, split_by_weight
from shieldwall.campaign.load import LoadedCampaign
from shieldwall.engine.compile import Compiled, compile_scenario
from shieldwall.engine.runner import simulate
from shieldwall.scenario.model import Battery, Decoys, Raid, Scenario, TargetByKind

if TYPE_CHECKING:  # pragma: no cover
    from shieldwall.campaign.results import CampaignResult

GENERATOR_STREAM = 1
DAMAGE_STREAM = 3
PATHS_STREAM = 4  # a trend generator's futures: one per replication, drawn once per campaign


def night_seed(seed: int, night: int) -> int:
    """The engine seed of night ``night`` (0-based) of a campaign run with ``seed``."""
    return int(np.random.SeedSequence([seed, night]).generate_state(1)[0])


def generator_rng(seed: int, night: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, night, GENERATOR_STREAM]))


@dataclass
class _Slot:
    """One block of compiled threats that a generated night fills from the front."""

    threat: int  # generator threat index
    template: int  # index among that threat's templates
    asset: int  # index among the template's target assets
    decoy: bool
    start: int
    cap: int


class _GeneratedRaid:
    """The generator's threats over the theatre's routes, expanded to one sub-raid per
    (route, target asset) so that masking the tail of each keeps the engine's target split.
    Compiled for at most ``caps`` [generator threat] threats of each type; each block holds
    exactly the most that the split can send its way."""

    def __init__(self, loaded: LoadedCampaign, caps: np.ndarray | None = None) -> None:
        gen = loaded.generator
        assert gen is not None
        self.gen = gen
        self.caps = np.asarray(gen.caps if caps is None else caps, np.int64)
        self.values = np.array([a.value for a in loaded.theatre.assets], float)
        assets = loaded.theatre.assets
        self.raids: list[Raid] = []
        self.slots: list[_Slot] = []
        self.templates: list[list[Raid]] = []
        self.targets: list[list[list[int]]] = []
        offset = 0
        for t, tid in enumerate(gen.threat_ids):
            routes = [r for r in loaded.templates if r.threat == tid]
            self.templates.append(routes)
            self.targets.append([])
            for route in routes:
                if isinstance(route.target, TargetByKind):
                    idx = [i for i, a in enumerate(assets) if a.kind == route.target.kind]
                else:
                    idx = [next(i for i, a in enumerate(assets) if a.id == route.target)]
                self.targets[t].append(idx)
            # every allocation of 0..cap threats, to find each block's largest
            n_asset, n_decoy = self._split(t, np.arange(self.caps[t] + 1))
            for m, route in enumerate(routes):
                for a, i in enumerate(self.targets[t][m]):
                    cap = int(n_asset[m][:, a].max())
                    dcap = int(n_decoy[m][:, a].max()) if n_decoy[m] is not None else 0
                    if cap == 0:
                        continue
                    decoys = Decoys(threat=route.decoys.threat, count=dcap) if dcap else None
                    self.raids.append(route.model_copy(update={
                        "id": f"g{len(self.raids)}-{route.id}"[:64], "count": cap, "target": assets[i].id,
                        "decoys": decoys}))
                    self.slots.append(_Slot(t, m, a, False, offset, cap))
                    offset += cap
                    if decoys is not None:
                        self.slots.append(_Slot(t, m, a, True, offset, dcap))
                        offset += dcap
        self.n_threats = offset

    def _split(self, t: int, n: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        """Per route of threat t: [rep, target asset] threats and decoys for n [rep] threats."""
        routes = self.templates[t]
        per_route = split_by_weight(n, np.array([r.count for r in routes], float))
        threats, decoys = [], []
        for m, route in enumerate(routes):
            values = self.values[self.targets[t][m]]
            threats.append(split_by_weight(per_route[:, m], values))
            if route.decoys is None:
                decoys.append(None)
            else:
                d = np.floor(per_route[:, m] * route.decoys.count / route.count + 0.5).astype(np.int64)
                decoys.append(split_by_weight(d, values))
        return threats, decoys

    def fits(self, counts: np.ndarray) -> np.ndarray:
        return (counts <= self.caps[None, :]).all(axis=1)

    def present(self, counts: np.ndarray) -> tuple[np.ndarray, int]:
        """[rep, compiled threat] mask for the sampled counts [rep, generator threat]; and how
        many threats did not fit (0 unless counts exceed ``caps``)."""
        mask = np.zeros((counts.shape[0], self.n_threats), np.bool_)
        cut = 0
        by_route: dict[int, tuple] = {t: self._split(t, counts[:, t]) for t in range(len(self.templates))}
        placed = 0
        for slot in self.slots:
            threats, decoys = by_route[slot.threat]
            want = (decoys if slot.decoy else threats)[slot.template][:, slot.asset]
            mask[:, slot.start:slot.start + slot.cap] = np.arange(slot.cap)[None, :] < want[:, None]
            placed += int(np.minimum(want, slot.cap).sum())
        for t in range(len(self.templates)):
            threats, decoys = by_route[t]
            cut += sum(int(x.sum()) for x in threats) + sum(int(x.sum()) for x in decoys if x is not None)
        return mask, cut - placed


class _Variants:
    """Compiled raids, one per (batteries present, new interceptor types, raid), built when
    first needed."""

    def __init__(self, loaded: LoadedCampaign, seed: int, batteries: list[Battery]) -> None:
        self.loaded = loaded
        self.seed = seed
        self.batteries = batteries
        self.cache: dict[tuple, tuple[Compiled, Scenario]] = {}

    def get(self, active: tuple[int, ...], night: int, raid_key: Any, raids: list[Raid]) -> tuple[Compiled, Scenario]:
        extra = _new_types(self.loaded, self.batteries, night)
        key = (active, tuple(sorted((b, k, n) for b, kinds in extra.items() for k, n in kinds.items())), raid_key)
        if key not in self.cache:
            nominal = [self.batteries[b] for b in active]
            nominal = [b.model_copy(update={"interceptors": {**b.interceptors, **extra[b.id]}})
                       if b.id in extra else b for b in nominal]
            scenario = self.loaded.theatre.model_copy(update={"batteries": nominal, "raids": raids})
            self.cache[key] = (compile_scenario(scenario, self.seed), scenario)
        return self.cache[key]


def run_campaign(loaded: LoadedCampaign, *, replications: int = 200, seed: int | None = None,
                 workers: int = 1, progress: Callable[[int], Any] | None = None,
                 keep_battery_ledger: bool = False) -> "CampaignResult":
    """Simulate the campaign ``replications`` times; returns per-night, per-replication arrays."""
    from shieldwall.campaign.results import CampaignResult
    from shieldwall.errors import UsageError

    if replications < 1:
        raise UsageError(f"replications must be at least 1, got {replications}")
    seed = loaded.seed if seed is None else int(seed)
    c = loaded.campaign
    R, N = replications, c.nights
    batteries = loaded.batteries
    n_theatre = len(loaded.theatre.batteries)
    active_from = [0] * n_theatre + [
        loaded.night_of(d.date) for d in c.deliveries if d.system is not None and d.battery is not None]
    itc = _interceptor_ids(loaded, batteries)
    K, B, P = len(itc), len(batteries), len(c.depots)
    target = np.zeros((B, K), np.int64)  # what top-up restores: each battery's own first load
    for b, battery in enumerate(batteries):
        for kid, n in battery.interceptors.items():
            target[b, itc.index(kid)] = n

    threat_ids = _threat_ids(loaded)
    A = len(loaded.theatre.assets)
    drawn = _draw_generated(loaded, seed, R)
    caps = None
    if drawn and loaded.generator is not None and loaded.generator.is_trend:  # no cap: compile what was drawn
        caps = np.maximum(np.max([c.max(axis=0) for c in drawn.values()], axis=0), 1)
    generated = _GeneratedRaid(loaded, caps) if loaded.generator is not None else None
    variants = _Variants(loaded, seed, batteries)

    start = np.zeros((R, B, K), np.int64)
    start[:, :n_theatre] = target[:n_theatre]
    depot0 = np.zeros((R, P, K), np.int64)
    for d, depot in enumerate(c.depots):
        for kid, n in depot.stock.items():
            depot0[:, d, itc.index(kid)] = n
    ledger = Ledger(start, depot0)
    out = CampaignResult.empty(loaded, seed, R, itc, threat_ids, keep_battery_ledger)
    out.record_start(ledger)

    deliveries_on: dict[int, list] = {}
    for d in c.deliveries:
        deliveries_on.setdefault(loaded.night_of(d.date), []).append(d)
    battery_index = {b.id: i for i, b in enumerate(batteries)}
    depot_index = {d.id: i for i, d in enumerate(c.depots)}

    damage = c.damage
    condition = np.ones((R, A))  # assets: fraction of value left (damage carried over)
    out_until = np.full((R, B), -1)  # batteries: out of action up to this night (inclusive)

    for t in range(N):
        ledger.start_night()
        date = loaded.date_of(t)
        for d in deliveries_on.get(t, []):
            if d.system is not None:
                b = battery_index[d.battery.id]
                for kid, n in d.battery.interceptors.items():
                    ledger.deliver_battery(b, itc.index(kid), n)
            elif d.to in depot_index:
                ledger.deliver_depot(depot_index[d.to], itc.index(d.interceptor), d.quantity)
            else:
                ledger.deliver_battery(battery_index[d.to], itc.index(d.interceptor), d.quantity)
        for p in c.production:
            n = _produced_on(p, date, c.start_date)
            if n:
                ledger.produce(depot_index[p.to], itc.index(p.interceptor), n)
        active = tuple(b for b in range(B) if active_from[b] <= t)
        if c.redistribution.rule == "top-up" and P:
            for k in range(K):
                need = np.zeros((R, B), np.int64)
                cols = [b for b in active if target[b, k] > 0]
                if not cols:
                    continue
                need[:, cols] = np.maximum(target[cols, k][None, :] - ledger.battery[:, cols, k], 0)
                ledger.move(k, pro_rata(ledger.depot[:, :, k].sum(axis=1), need))

        fired = np.zeros_like(ledger.battery)
        usable = out_until < t  # [rep, battery]: batteries out of action keep their stock, do not fire
        if t in loaded.explicit:
            raids = loaded.explicit[t]  # nights with the same raids share one compile
            compiled, scenario = variants.get(active, t, tuple(r.model_dump_json() for r in raids), raids)
            rows = np.arange(R)
            _night(out, t, rows, compiled, scenario, ledger, fired, battery_index, itc, threat_ids,
                   night_seed(seed, t), None, workers, usable, condition if damage else None)
        elif generated is not None:
            counts = drawn[t]
            rows = np.flatnonzero(counts.sum(axis=1) > 0)  # replications with a raid tonight
            if len(rows):
                compiled, scenario = variants.get(active, t, "generator", generated.raids)
                present, cut = generated.present(counts[rows])
                out.cut += cut
                _night(out, t, rows, compiled, scenario, ledger, fired, battery_index, itc, threat_ids,
                       night_seed(seed, t), present, workers, usable, condition if damage else None)
        ledger.fire(fired)
        if damage is not None:
            condition += damage.asset_repair_per_night * (1.0 - condition)
            if damage.battery_loss_per_night > 0:
                for b in active:  # one stream per battery id and night: options keep common draws
                    key = zlib.crc32(batteries[b].id.encode())
                    u = np.random.default_rng(np.random.SeedSequence([seed, t, DAMAGE_STREAM, key])).random(R)
                    hit = (u < damage.battery_loss_per_night) & (out_until[:, b] < t)
                    out_until[hit, b] = t + damage.battery_repair_nights
            out.batteries_out[t] = (out_until[:, list(active)] > t).sum(axis=1) if active else 0
            out.asset_condition[t + 1] = condition
        ledger.check()
        out.record_night(t, ledger)
        if progress:
            progress(1)
    out.compiles = len(variants.cache)
    return out


def _night(out: Any, t: int, rows: np.ndarray, compiled: Compiled, scenario: Scenario, ledger: Ledger,
           fired: np.ndarray, battery_index: dict[str, int], itc: list[str], threat_ids: list[str],
           run_seed: int, present: np.ndarray | None, workers: int, usable: np.ndarray,
           condition: np.ndarray | None) -> None:
    """Simulate tonight's raid for replications ``rows`` from their own stock (batteries out of
    action fire nothing); record it. ``condition`` [rep, asset]: carried-over damage, updated."""
    if not compiled.n_threats:
        return
    bidx = np.array([battery_index[b] for b in compiled.battery_ids], np.int64)
    kidx = np.array([itc.index(k) for k in compiled.interceptor_ids], np.int64)
    stock = (ledger.battery * usable[:, :, None])[rows][:, bidx][:, :, kidx]
    result = _simulate(compiled, scenario, replications=len(rows), seed=run_seed, workers=workers,
                       stock=stock, present=present)
    if len(bidx) and len(kidx):
        fired[rows[:, None, None], bidx[None, :, None], kidx[None, None, :]] = result.rounds
    out.record_raid(t, rows, result, [threat_ids.index(x) for x in compiled.threat_type_ids],
                    None if condition is None else condition[rows])
    if condition is not None:
        condition[rows] *= result.survive


def _simulate(compiled: Compiled, scenario: Scenario, *, replications: int, seed: int, workers: int,
              stock: np.ndarray, present: np.ndarray | None) -> Any:
    """``engine.runner.simulate`` without the replay event log, which a campaign never reads.

    Same seeds, chunks and kernel, so the same numbers as ``simulate``. A workaround: the
    runner sizes the log at ``n_threats * (3 + 2 * max_engagements)`` events, which one
    threat can exceed (launch, detect, fire, miss, expire, ...), and the kernel then writes
    past the buffer. Use ``simulate`` again once it can run without the log (or sizes it right)."""
    if workers > 1:
        return simulate(compiled, scenario, replications=replications, seed=seed, workers=workers,
                        stock=stock, present=present)
    from shieldwall.engine.results import RaidResult
    from shieldwall.engine.runner import CHUNK_SIZE, run_chunk

    children = np.random.SeedSequence(seed).spawn(-(-replications // CHUNK_SIZE))
    result = RaidResult(compiled, scenario, seed, replications)
    result.initial_stock = stock
    for i, child in enumerate(children):
        lo, hi = i * CHUNK_SIZE, min((i + 1) * CHUNK_SIZE, replications)
        result.add(run_chunk(compiled, lo, hi - lo, child, False, stock[lo:hi],
                             None if present is None else present[lo:hi], out=result.outcome_rows(lo, hi)))
    result.finish()
    return result


def _draw_generated(loaded: LoadedCampaign, seed: int, R: int) -> dict[int, np.ndarray]:
    """Every generated night's [replication, threat] counts, drawn before the first night (each
    from its own stream, so the same as drawing them night by night); a trend generator's
    replications first draw their futures (``PATHS_STREAM``)."""
    gen = loaded.generator
    if gen is None:
        return {}
    nights = [t for t in range(loaded.nights) if t not in loaded.explicit]
    if not nights:
        return {}
    paths = gen.paths(np.random.default_rng(np.random.SeedSequence([seed, PATHS_STREAM])), R,
                      loaded.date_of(nights[0]), loaded.date_of(nights[-1]))
    return {t: gen.sample(generator_rng(seed, t), R, loaded.date_of(t), paths) for t in nights}


def _produced_on(p: Any, date: Any, campaign_start: Any) -> int:
    """Whole rounds produced on ``date``: the increase of floor(rate * days) since ``from``."""
    first = p.start or campaign_start
    if date < first or (p.until is not None and date > p.until):
        return 0
    per_day = p.per_month * 12.0 / 365.25
    days = (date - first).days
    return int(math.floor(per_day * (days + 1) + 1e-9) - math.floor(per_day * days + 1e-9))


def _interceptor_ids(loaded: LoadedCampaign, batteries: list[Battery]) -> list[str]:
    ids: list[str] = []
    c = loaded.campaign
    names = [k for b in batteries for k in b.interceptors]
    names += [k for d in c.depots for k in d.stock]
    names += [d.interceptor for d in c.deliveries if d.interceptor]
    names += [p.interceptor for p in c.production]
    for k in names:
        if k not in ids:
            ids.append(k)
    return ids


def _new_types(loaded: LoadedCampaign, batteries: list[Battery], night: int) -> dict[str, dict[str, int]]:
    """Interceptor types delivered to a battery that did not stock them at first, by ``night``:
    the compile gives them launchers and engagement windows from then on (not before, so a
    delivery changes nothing before its date)."""
    first = {b.id: b.interceptors for b in batteries}
    extra: dict[str, dict[str, int]] = {}
    for d in loaded.campaign.deliveries:
        if d.interceptor and d.to in first and first[d.to].get(d.interceptor, 0) == 0 \
                and loaded.night_of(d.date) <= night:
            kinds = extra.setdefault(d.to, {})
            kinds[d.interceptor] = max(kinds.get(d.interceptor, 0), d.quantity)
    return extra


def _threat_ids(loaded: LoadedCampaign) -> list[str]:
    ids: list[str] = []
    raids = [*loaded.templates, *(r for raids in loaded.explicit.values() for r in raids)]
    gen = loaded.generator.threat_ids if loaded.generator else []
    for tid in [*gen, *(x for r in raids for x in [r.threat] + ([r.decoys.threat] if r.decoys else []))]:
        if tid not in ids:
            ids.append(tid)
    return ids
