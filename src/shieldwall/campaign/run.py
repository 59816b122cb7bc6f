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
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from shieldwall.campaign.ledger import Ledger, split_by_weight
from shieldwall.campaign.load import LoadedCampaign
from shieldwall.campaign.model import Damage
from shieldwall.engine.compile import Compiled, compile_scenario
from shieldwall.engine.runner import simulate
from shieldwall.scenario.model import Battery, Decoys, Raid, Scenario, TargetByKind, TargetRadar

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
        shares: list[np.ndarray] = []  # per slot: its share of each count 0..cap of its threat
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
                    shares.append(n_asset[m][:, a])
                    offset += cap
                    if decoys is not None:
                        self.slots.append(_Slot(t, m, a, True, offset, dcap))
                        shares.append(n_decoy[m][:, a])
                        offset += dcap
        self.n_threats = offset
        # what ``present`` looks up instead of splitting each night's counts again (a
        # replication's split depends on its own count alone): [slot, count] each slot's share,
        # and each compiled threat's slot and place in it
        self.share = np.zeros((len(self.slots), int(self.caps.max(initial=0)) + 1), np.int64)
        for s, row in enumerate(shares):
            self.share[s, :len(row)] = row
        self.slot_threat = np.array([slot.threat for slot in self.slots], np.int64)
        self.column_slot = np.repeat(np.arange(len(self.slots)), [slot.cap for slot in self.slots])
        self.column_place = np.concatenate([np.arange(slot.cap) for slot in self.slots] or [np.zeros(0, np.int64)])

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
        many threats did not fit (0 unless counts exceed ``caps``). Counts within the caps (all
        that ``Generator.sample`` draws) are looked up, whole nights at once; larger ones are
        split (``split_present``)."""
        counts = np.asarray(counts, np.int64)
        if not self.fits(counts).all():
            return self.split_present(counts)
        want = self.share[np.arange(len(self.slots))[None, :], counts[:, self.slot_threat]]  # [rep, slot]
        return self.column_place[None, :] < want[:, self.column_slot], 0

    def split_present(self, counts: np.ndarray) -> tuple[np.ndarray, int]:
        """``present`` by splitting each replication's counts over routes and target assets (the
        definition; also what counts above the caps take: the tail of a full block is cut)."""
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
    first needed, or ahead of time in parallel (``needed``)."""

    def __init__(self, loaded: LoadedCampaign, seed: int, batteries: list[Battery], caps: np.ndarray | None,
                 compiled: dict[tuple, tuple[Compiled, Scenario]] | None = None,
                 pending: dict[tuple, Future] | None = None) -> None:
        self.loaded = loaded
        self.seed = seed
        self.caps = caps  # what a generated raid is compiled for (``_GeneratedRaid``)
        self.batteries = batteries
        self.cache: dict[tuple, tuple[Compiled, Scenario]] = {**_COMPILED_HERE, **(compiled or {})}
        self.pending = pending or {}  # key -> a worker's compiles (``_compile_share``) that hold it
        self.used: set[tuple] = set()  # the keys this process asked for
        # stand-alone radars some night's raid attacks: out of action on later nights in some
        # replications, so every night's compile keeps their tracks apart (engine SensorLosses)
        self.losable_radars = _attacked_radars(loaded)

    def needed(self) -> dict[tuple, tuple[tuple[int, ...], int, Any, list[Raid]]]:
        """Every compiled raid the campaign may ask for, in the order of the first night that
        does: key -> the arguments of ``get``."""
        loaded = self.loaded
        active_from = _active_from(loaded)
        generated = _GeneratedRaid(loaded, self.caps) if loaded.generator is not None else None
        out: dict[tuple, tuple[tuple[int, ...], int, Any, list[Raid]]] = {}
        for t in range(loaded.nights):
            active = tuple(b for b in range(len(self.batteries)) if active_from[b] <= t)
            if t in loaded.explicit:
                raids = loaded.explicit[t]
                args: tuple = (active, t, tuple(r.model_dump_json() for r in raids), raids)
            elif generated is not None:
                args = (active, t, "generator", generated.raids)
            else:
                continue
            out.setdefault(self.key(*args[:3]), args)
        return out

    def key(self, active: tuple[int, ...], night: int, raid_key: Any) -> tuple:
        extra = _new_types(self.loaded, self.batteries, night)
        return active, tuple(sorted((b, k, n) for b, kinds in extra.items() for k, n in kinds.items())), raid_key

    def get(self, active: tuple[int, ...], night: int, raid_key: Any, raids: list[Raid]) -> tuple[Compiled, Scenario]:
        key = self.key(active, night, raid_key)
        self.used.add(key)
        if key not in self.cache and key in self.pending:
            self.cache.update(self.pending[key].result())  # compiled by a worker meanwhile
        if key not in self.cache:
            extra = _new_types(self.loaded, self.batteries, night)
            nominal = [self.batteries[b] for b in active]
            nominal = [b.model_copy(update={"interceptors": {**b.interceptors, **extra[b.id]}})
                       if b.id in extra else b for b in nominal]
            scenario = self.loaded.theatre.model_copy(update={"batteries": nominal, "raids": raids})
            self.cache[key] = (compile_scenario(scenario, self.seed, losable_radars=self.losable_radars), scenario)
        return self.cache[key]


_COMPILED_HERE: dict[tuple, tuple[Compiled, Scenario]] = {}  # in a worker: the raids it compiled itself


def _compile_share(loaded: LoadedCampaign, seed: int, caps: np.ndarray | None,
                   keys: list[tuple]) -> dict[tuple, tuple[Compiled, Scenario]]:
    """A worker's share of a parallel campaign's compiles: kept for the range it runs next (a
    pool lives for one campaign) and returned to the parent, pickled."""
    variants = _Variants(loaded, seed, loaded.batteries, caps)
    needed = variants.needed()
    _COMPILED_HERE.update({key: variants.get(*needed[key]) for key in keys})
    return {key: _COMPILED_HERE[key] for key in keys}


def run_campaign(loaded: LoadedCampaign, *, replications: int = 200, seed: int | None = None,
                 workers: int = 1, progress: Callable[[int], Any] | None = None,
                 keep_battery_ledger: bool = False, max_memory_bytes: int | None = None) -> "CampaignResult":
    """Simulate the campaign ``replications`` times; returns per-night, per-replication arrays.

    Replications never interact (each has its own stocks, damage and raids), so ``workers``
    processes each run the whole campaign for a consecutive range of them, in one pool kept for
    the whole campaign (a pool per night cost more than the night). Every random number is
    drawn as if for all replications and each range takes its own (the engine's chunks of
    replications included: ``engine.runner.simulate(span=...)``): the results are identical
    whatever the number of workers. The processes share out the campaign's compiles (one per set
    of batteries present and raid; each is a few tenths of a second): a worker keeps what it
    compiled for its own range and gets this process's share with it; this process picks up the
    workers' compiles on the first night that needs them (a raid compiled nowhere yet is compiled
    where it is needed). ``max_memory_bytes``: refuse a campaign estimated to need more."""
    from shieldwall.campaign.results import CampaignResult
    from shieldwall.errors import UsageError

    if replications < 1:
        raise UsageError(f"replications must be at least 1, got {replications}")
    loaded.check()  # the boundary: no unvalidated value reaches the run
    seed = loaded.seed if seed is None else int(seed)
    _check_memory(loaded, replications, keep_battery_ledger, max_memory_bytes)
    spans = [(int(a), int(b)) for a, b in zip(*(lambda e: (e[:-1], e[1:]))(
        np.linspace(0, replications, min(max(1, workers), replications) + 1).round().astype(int)))]
    drawn = _draw_generated(loaded, seed, replications)
    caps = None
    if drawn and loaded.generator is not None and loaded.generator.is_trend:  # no cap: compile what was drawn
        caps = np.maximum(np.max([c.max(axis=0) for c in drawn.values()], axis=0), 1)
    args = (loaded, replications, seed, keep_battery_ledger, max_memory_bytes, drawn, caps)
    if len(spans) == 1:
        return _run_range(*args, *spans[0], progress)
    from concurrent.futures import ProcessPoolExecutor

    from shieldwall.parallel import worker_context

    context = worker_context()
    fork = context.get_start_method() == "fork"
    n_proc = len(spans)
    variants = _Variants(loaded, seed, loaded.batteries, caps)
    needed = variants.needed()
    keys = list(needed)
    # forked workers are up at once and share the compiles; spawned ones would first import
    # and load everything (about a second), so this process compiles them all meanwhile
    share = n_proc if fork else 1
    global _OUT
    if fork:  # the ranges record into shared memory: nothing to pickle back, nothing to join
        _OUT = CampaignResult.empty(loaded, seed, replications, _interceptor_ids(loaded, loaded.batteries),
                                    _threat_ids(loaded), keep_battery_ledger, shared=True)
    pool = ProcessPoolExecutor(max_workers=n_proc - 1, mp_context=context)  # forks with the first submit
    try:
        pending: dict[tuple, Future] = {}
        for p in range(1, share):
            if keys[p::share]:
                future = pool.submit(_compile_share, loaded, seed, caps, keys[p::share])
                pending.update(dict.fromkeys(keys[p::share], future))
        for key in keys[0::share]:
            variants.get(*needed[key])
        if fork:
            assert _OUT is not None
            whole = _OUT
            futures = [pool.submit(_run_shared_range, *args, a, b, variants.cache) for a, b in spans[1:]]
            mine = _run_range(*args, *spans[0], progress, variants.cache, pending, out=whole.rows(*spans[0]))
            for future in futures:
                cut, used = future.result()
                mine.cut, mine.compiled_keys = mine.cut + cut, mine.compiled_keys | used
            whole.cut, whole.compiled_keys, whole.compiles = mine.cut, mine.compiled_keys, len(mine.compiled_keys)
            result = whole
        else:
            futures = [pool.submit(_run_range, *args, a, b, None, variants.cache) for a, b in spans[1:]]
            mine = _run_range(*args, *spans[0], progress, variants.cache)  # this process runs the first range
            result = CampaignResult.join([mine, *(f.result() for f in futures)])
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        _OUT = None
    # the workers are idle: wait for them to exit, so that no pool thread outlives the campaign
    # (with another thread running, the next parallel run could not fork: worker_context)
    pool.shutdown(wait=True)
    return result


_OUT: "CampaignResult | None" = None  # a parallel campaign's shared arrays, inherited by its forked workers


def _run_shared_range(loaded: LoadedCampaign, replications: int, seed: int, keep_battery_ledger: bool,
                      max_memory_bytes: int | None, drawn: dict[int, np.ndarray], caps: np.ndarray | None,
                      first: int, end: int,
                      compiled: dict[tuple, tuple[Compiled, Scenario]]) -> tuple[int, set]:
    """A forked worker's range, recorded into the inherited shared arrays; returns what is not
    in them (threats cut, compiles asked for)."""
    assert _OUT is not None
    part = _run_range(loaded, replications, seed, keep_battery_ledger, max_memory_bytes, drawn, caps, first, end, None,
                      compiled,
                      out=_OUT.rows(first, end))
    return part.cut, part.compiled_keys


def _check_memory(loaded: LoadedCampaign, replications: int, keep_ledger: bool, max_memory_bytes: int | None) -> None:
    """The campaign's own arrays ([night, replication, ...]) against the memory budget; each
    night's raid is checked by the engine as it is simulated."""
    from shieldwall.engine.budget import Estimate, refuse_over_budget

    c = loaded.campaign
    N, R = c.nights, replications
    K = len(_interceptor_ids(loaded, loaded.batteries))
    T, A, B = len(_threat_ids(loaded)), len(loaded.theatre.assets), len(loaded.batteries)
    per_night = 4 * T + A + 2 + 5 * K + 1
    parts = {"per night and replication": 2.0 * N * R * per_night * 8,
             "stocks": 2.0 * (N + 1) * R * (2 * K + A) * 8 + (N + 1) * R * B * K * 8 * keep_ledger,
             "ledger": 12.0 * R * (B + len(c.depots)) * K * 8}
    notes = {"per night and replication": f"{N:,} nights x {R:,} replications x {per_night} numbers, twice "
                                          "(the arrays and nights.parquet)"}
    refuse_over_budget(f"campaign {c.name!r} with {R:,} replications", Estimate(parts, notes), max_memory_bytes)


def _run_range(loaded: LoadedCampaign, replications: int, seed: int, keep_battery_ledger: bool,
               max_memory_bytes: int | None, drawn: dict[int, np.ndarray], caps: np.ndarray | None, first: int,
               end: int, progress: Callable[[int], Any] | None,
               compiled: dict[tuple, tuple[Compiled, Scenario]] | None = None,
               pending: dict[tuple, Future] | None = None, out: "CampaignResult | None" = None) -> "CampaignResult":
    """The campaign for replications [first, end) of ``replications``; ``drawn``: every generated
    night's counts for all replications (``_draw_generated``), ``caps``: what the generated raid is
    compiled for; ``compiled``: raids
    compiled already (``_Variants.needed``), ``pending``: raids being compiled by workers; the
    others are compiled when first needed. ``out``: record into these arrays
    (``CampaignResult.rows``), else new ones."""
    from shieldwall.campaign.results import CampaignResult

    c = loaded.campaign
    R, N = end - first, c.nights
    batteries = loaded.batteries
    n_theatre = len(loaded.theatre.batteries)
    active_from = _active_from(loaded)
    itc = _interceptor_ids(loaded, batteries)
    K, B, P = len(itc), len(batteries), len(c.depots)
    target = np.zeros((B, K), np.int64)  # what top-up restores: each battery's own first load
    for b, battery in enumerate(batteries):
        for kid, n in battery.interceptors.items():
            target[b, itc.index(kid)] = n

    threat_ids = _threat_ids(loaded)
    A = len(loaded.theatre.assets)
    generated = _GeneratedRaid(loaded, caps) if loaded.generator is not None else None
    variants = _Variants(loaded, seed, batteries, caps, compiled, pending)
    night = _NightRun(replications, first, end, battery_index={b.id: i for i, b in enumerate(batteries)}, itc=itc,
                      threat_ids=threat_ids, max_memory_bytes=max_memory_bytes)

    start = np.zeros((R, B, K), np.int64)
    start[:, :n_theatre] = target[:n_theatre]
    depot0 = np.zeros((R, P, K), np.int64)
    for d, depot in enumerate(c.depots):
        for kid, n in depot.stock.items():
            depot0[:, d, itc.index(kid)] = n
    ledger = Ledger(start, depot0)
    if out is None:
        out = CampaignResult.empty(loaded, seed, R, itc, threat_ids, keep_battery_ledger)
    out.record_start(ledger)

    deliveries_on: dict[int, list] = {}
    for d in c.deliveries:
        deliveries_on.setdefault(loaded.night_of(d.date), []).append(d)
    battery_index = night.battery_index
    depot_index = {d.id: i for i, d in enumerate(c.depots)}

    damage = c.damage
    attack_repair = (damage or Damage()).attack_repair_nights  # a battery destroyed by an attack
    condition = np.ones((R, A))  # assets: fraction of value left (damage carried over)
    out_until = np.full((R, B), -1)  # batteries: out of action up to this night (inclusive)
    radar_out_until = np.full((R, len(loaded.theatre.radars)), -1)  # stand-alone radars: the same

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
            ledger.top_up(np.where(np.isin(np.arange(B), active)[:, None], target, 0))

        fired = np.zeros_like(ledger.battery)
        usable = out_until < t  # [rep, battery]: batteries out of action keep their stock, do not fire
        if t in loaded.explicit:
            raids = loaded.explicit[t]  # nights with the same raids share one compile
            compiled, scenario = variants.get(active, t, tuple(r.model_dump_json() for r in raids), raids)
            night.simulate(out, t, np.arange(replications), compiled, scenario, ledger, fired, night_seed(seed, t),
                           None, usable, condition if damage else None, out_until, attack_repair, radar_out_until)
        elif generated is not None:
            counts = drawn[t]  # all replications', as one draw
            raid_rows = np.flatnonzero(counts.sum(axis=1) > 0)  # replications with a raid tonight
            mine = raid_rows[(raid_rows >= first) & (raid_rows < end)]
            if len(mine):
                compiled, scenario = variants.get(active, t, "generator", generated.raids)
                present, cut = generated.present(counts[mine])
                out.cut += cut
                night.simulate(out, t, raid_rows, compiled, scenario, ledger, fired, night_seed(seed, t), present,
                               usable, condition if damage else None, out_until, attack_repair, radar_out_until)
        ledger.fire(fired)
        if damage is not None:
            condition += damage.asset_repair_per_night * (1.0 - condition)
            if damage.battery_loss_per_night > 0:
                for b in active:  # one stream per battery id and night: options keep common draws
                    key = zlib.crc32(batteries[b].id.encode())
                    rng = np.random.default_rng(np.random.SeedSequence([seed, t, DAMAGE_STREAM, key]))
                    u = rng.random(replications)[first:end]
                    hit = (u < damage.battery_loss_per_night) & (out_until[:, b] < t)
                    out_until[hit, b] = t + damage.battery_repair_nights
            out.asset_condition[t + 1] = condition
        out.batteries_out[t] = (out_until[:, list(active)] > t).sum(axis=1) if active else 0
        ledger.check()
        out.record_night(t, ledger)
        if progress:
            progress(1)
    out.compiled_keys = set(variants.used)
    out.compiles = len(out.compiled_keys)
    return out


@dataclass
class _NightRun:
    """How one range of replications runs a night's raid (see ``simulate``)."""

    replications: int  # of the whole campaign
    first: int  # this range: replications [first, end)
    end: int
    battery_index: dict[str, int]
    itc: list[str]
    threat_ids: list[str]
    max_memory_bytes: int | None

    def simulate(self, out: Any, t: int, raid_rows: np.ndarray, compiled: Compiled, scenario: Scenario,
                 ledger: Ledger, fired: np.ndarray, run_seed: int, present: np.ndarray | None, usable: np.ndarray,
                 condition: np.ndarray | None, out_until: np.ndarray, attack_repair: int,
                 radar_out_until: np.ndarray) -> None:
        """Tonight's raid for this range's replications among ``raid_rows`` (all of the
        campaign's replications that have a raid tonight, in order), from their own stock
        (batteries out of action fire nothing); record it. ``condition`` [rep, asset]:
        carried-over damage, updated. A battery in action that an attack destroys tonight is out
        of action for ``attack_repair`` nights: ``out_until`` [rep, battery] (the last night it
        is out) updated; it keeps its stock (docs/campaign.md, damage). A stand-alone radar an attack
        destroys is out for as long (``radar_out_until`` [rep, radar]): it forms no tracks."""
        if not compiled.n_threats:
            return
        lo, hi = np.searchsorted(raid_rows, [self.first, self.end])  # this range's place among them
        rows = raid_rows[lo:hi] - self.first  # local indices
        bidx = np.array([self.battery_index[b] for b in compiled.battery_ids], np.int64)
        kidx = np.array([self.itc.index(k) for k in compiled.interceptor_ids], np.int64)
        stock = (ledger.battery * usable[:, :, None])[rows][:, bidx][:, :, kidx]
        # replications lo .. hi - 1 of tonight's run over all of raid_rows: the same numbers in
        # whichever worker's range they fall
        radars_out = radar_out_until[rows] >= t  # [row, radar]: the theatre's radars, the compiled ones
        result = simulate(compiled, scenario, replications=len(raid_rows), seed=run_seed, stock=stock,
                          present=present, log_events=False, max_memory_bytes=self.max_memory_bytes,
                          span=(int(lo), int(hi)), radars_out=radars_out if radars_out.any() else None)
        if len(bidx) and len(kidx):
            fired[rows[:, None, None], bidx[None, :, None], kidx[None, None, :]] = result.rounds
        n_assets = compiled.n_assets  # the theatre's assets; attacked batteries (battery:ID) follow
        out.record_raid(t, rows, result, [self.threat_ids.index(x) for x in compiled.threat_type_ids],
                        None if condition is None else condition[rows], n_assets)
        if condition is not None:
            condition[rows] *= result.survive[:, :n_assets]
        if compiled.has_attacks:
            lost = np.isfinite(result.battery_lost_s) & usable[rows][:, bidx]  # [row, compiled battery]
            r_lost, b_lost = np.nonzero(lost)
            out_until[rows[r_lost], bidx[b_lost]] = t + attack_repair
            r_lost, i_lost = np.nonzero(np.isfinite(result.radar_lost_s) & ~radars_out)
            radar_out_until[rows[r_lost], i_lost] = t + attack_repair


def _attacked_radars(loaded: LoadedCampaign) -> frozenset[str]:
    """The stand-alone radars some explicit night's raid attacks ({radar: id}; a generator route
    cannot)."""
    return frozenset(r.target.radar for raids in loaded.explicit.values() for r in raids
                     if isinstance(r.target, TargetRadar))


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


def _active_from(loaded: LoadedCampaign) -> list[int]:
    """The first night of each of ``loaded.batteries``: 0 for the theatre's, the delivery night
    for a battery delivered later."""
    return [0] * len(loaded.theatre.batteries) + [
        loaded.night_of(d.date) for d in loaded.campaign.deliveries if d.system is not None and d.battery is not None]


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
