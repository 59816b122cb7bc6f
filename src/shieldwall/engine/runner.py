"""Monte Carlo driver: fixed-size chunks of replications, each with its own child seed.

Seeds are spawned per chunk (``SeedSequence(seed).spawn``), never per worker, and chunks have a
fixed size, so results are identical whatever the number of worker processes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from shieldwall.engine.budget import check_budget, check_geometry
from shieldwall.engine.compile import Compiled, compile_scenario
from shieldwall.engine.detection import no_detection
from shieldwall.engine.kernel import THREAT_EVENTS, simulate_chunk
from shieldwall.engine.paths import positions
from shieldwall.engine.records import Detection, LoggedEvents, LoggedRows, Outcomes, Uniforms, allocate_outcomes, event_log
from shieldwall.engine.results import ChunkResult, RaidResult
from shieldwall.parallel import shared_pool, submit
from shieldwall.scenario.model import Scenario
from shieldwall.scenario.vary import revalidated

CHUNK_SIZE = 128  # replications per seed chunk; part of the reproducibility contract
# replications whose every engagement a run logs by default (the engagement table and resource
# timelines, engine/engagements.py): all of a usual run, a sample of a very long one
DEFAULT_ENGAGEMENT_REPLICATIONS = 10_000


def draw_uniforms(compiled: Compiled, n_rep: int, seed_seq: np.random.SeedSequence,
                  rows: tuple[int, int] | None = None) -> Uniforms:
    """Every random number one chunk consumes, drawn up front: launch times, reliability, and
    one uniform per possible shot at each threat (common random numbers across options).
    ``rows`` = (lo, hi): only those replications' numbers, the same as the whole chunk's rows
    lo..hi (each double is one step of the generator, so the others are stepped over)."""
    rng = np.random.Generator(np.random.PCG64(seed_seq))
    lo, hi = rows if rows is not None else (0, n_rep)
    n_thr = compiled.n_threats

    def block(*per_rep: int) -> np.ndarray:
        width = int(np.prod(per_rep))
        rng.bit_generator.advance(lo * width)
        u = rng.random((hi - lo, *per_rep))
        rng.bit_generator.advance((n_rep - hi) * width)
        return u

    # mechanisms a scenario does not use draw nothing, so adding one never moves the others' numbers
    return Uniforms(launch=block(n_thr), reliability=block(n_thr), kill=block(n_thr, compiled.shots_per_threat),
                    ew=block(n_thr, 3 if compiled.ew_zone_ids else 0),
                    area=block(n_thr, compiled.area_attempts, 3),
                    detect=block(1 if compiled.detection_effects is not None else 0),
                    attack=block(n_thr if compiled.has_attacks else 0))


def detection_record(compiled: Compiled) -> Detection:
    """The kernel's detection record (an empty one when the switch is off)."""
    return compiled.detection if compiled.detection is not None else no_detection(compiled.n_threats)


def sensors_lost_before(compiled: Compiled, n_rep: int, radars_out: np.ndarray | None) -> np.ndarray:
    """[rep, losses row] when each sensor an attack can destroy was lost before the night: -inf
    for a stand-alone radar a campaign has out of action (``radars_out`` [rep, radar]), else inf."""
    losses = compiled.losses
    lost = np.full((n_rep, losses.unit.shape[0]), np.inf)
    if radars_out is not None:
        n_bat = len(compiled.battery_ids)
        for q, unit in enumerate(losses.unit.tolist()):
            if unit >= n_bat:
                lost[np.asarray(radars_out, bool)[:, unit - n_bat], q] = -np.inf
    return kernel_array(lost, np.float64)


def kernel_array(a: Any, dtype: Any) -> np.ndarray:
    """An array as the kernel takes it: C-contiguous, writable, of its one dtype. numba compiles
    the kernel again for every other layout (a read-only view from ``broadcast_to`` made a second
    signature and ~25 s of compiling), so every array crosses the boundary through here."""
    return np.require(a, dtype, ("C_CONTIGUOUS", "WRITEABLE", "ALIGNED"))


def run_chunk(compiled: Compiled, start: int, n_rep: int, seed_seq: np.random.SeedSequence,
              log_first: bool, stock: np.ndarray | None = None,
              present: np.ndarray | None = None, rows: tuple[int, int] | None = None, log_all: bool = False,
              radars_out: np.ndarray | None = None, out: Outcomes | None = None,
              log_events: bool = True) -> ChunkResult:
    """Replications [start, start + n_rep); ``stock`` [n_rep, battery, interceptor] overrides
    the scenario's initial stocks (a campaign's night starts with the last night's leftovers);
    ``present`` [n_rep, threat] leaves threats out of single replications; ``radars_out``
    [n_rep, radar] has a campaign's stand-alone radars out of action (they form no tracks).

    ``rows`` = (lo, hi) simulates only the chunk's replications start + lo .. start + hi - 1
    (``stock`` and ``present`` then cover those rows only). A replication depends on nothing but
    its own random numbers, so a chunk split across workers gives the same results as a whole
    one: its numbers come from the chunk's own seed, at their place in the chunk's stream.

    ``out``: the arrays to fill (``RaidResult.outcome_rows`` of those replications), new ones
    if None. ``log_events``: keep the replay log of the run's first replication (a campaign,
    which never reads it, says False). ``log_all``: log every replication of the chunk too (the
    engagement table and resource timelines: engine/engagements.py)."""
    rnd = draw_uniforms(compiled, n_rep, seed_seq, rows)
    if rows is not None:
        lo, hi = rows
        start, n_rep, log_first = start + lo, hi - lo, log_first and lo == 0
    log_first = log_first and log_events
    n_thr = compiled.n_threats
    n_bat, n_itc = compiled.stock.shape
    if out is None:
        out = allocate_outcomes(compiled.sizes(), n_rep)
    if stock is None:
        stock = np.broadcast_to(compiled.stock, (n_rep, n_bat, n_itc))
    n_logged = n_rep if log_all else int(log_first)
    log = event_log(n_logged * compiled.log_rows_per_replication(stock.max(axis=0)) if n_logged else 1, n_logged)
    if present is None:
        present = np.ones((n_rep, n_thr), np.bool_)
    epochs = simulate_chunk(compiled.paths, compiled.threats, compiled.batteries, compiled.interceptors,
                            compiled.windows, compiled.doctrine, compiled.ew, compiled.ew_zones, compiled.area,
                            compiled.area_layers, detection_record(compiled), compiled.losses, rnd, kernel_array(stock, np.int64),
                            kernel_array(present, np.bool_), sensors_lost_before(compiled, n_rep, radars_out), out, log,
                            n_logged > 0)
    events = None
    if log_first:  # the replay's log: replication 0's threat events, with their positions
        rows = np.flatnonzero(log.kind[:int(log.rep_end[0])] < THREAT_EVENTS)
        threat = log.threat[rows]
        events = LoggedEvents(time_s=log.time_s[rows], kind=log.kind[rows], threat=threat,
                              battery=log.battery[rows], interceptor=log.interceptor[rows], shots=log.shots[rows],
                              position_m=positions(threat, log.tau_s[rows], compiled.paths))
    logged = None
    if log_all:
        n_ev = int(log.count[0])
        replication = start + np.repeat(np.arange(n_rep), np.diff(log.rep_end, prepend=0))
        logged = LoggedRows(replication=replication, time_s=log.time_s[:n_ev], kind=log.kind[:n_ev],
                            threat=log.threat[:n_ev], battery=log.battery[:n_ev], interceptor=log.interceptor[:n_ev],
                            shots=log.shots[:n_ev])
    return ChunkResult(start, out, events=events, epochs=int(epochs), log=logged)


def _n_pieces(i: int, n_chunks: int, workers: int) -> int:
    """Into how many pieces chunk i is cut for ``workers`` processes. Whole chunks would leave
    workers idle at the end of a run (one finishes while another is still on its last chunk) and
    idle throughout a run of fewer chunks than workers; so a short run is cut into about two
    pieces per worker, and a long run's last chunks into quarters."""
    if workers <= 1:
        return 1
    if n_chunks < 2 * workers:
        return min(8, -(-2 * workers // n_chunks))
    return 4 if i >= n_chunks - workers else 1


def _pieces(n: int, k: int) -> list[tuple[int, int]]:
    """Rows [0, n) in k nearly equal, non-empty pieces."""
    bounds = np.linspace(0, n, min(k, n) + 1).round().astype(int)
    return [(int(lo), int(hi)) for lo, hi in zip(bounds[:-1], bounds[1:])]


def _chunk_job(compiled: Compiled, args: tuple) -> ChunkResult:
    """A pool worker's job: run_chunk on the compiled scenario it holds (shieldwall.parallel)."""
    return run_chunk(compiled, *args)


def run(scenario: Scenario | str | Path, *, replications: int = 1000, seed: int | None = None,
        workers: int = 1, out_dir: str | Path | None = None,
        progress: Callable[[int], Any] | None = None, stock: np.ndarray | None = None,
        present: np.ndarray | None = None, max_memory_bytes: int | None = None,
        engagements: int | None = None) -> RaidResult:
    """Simulate ``replications`` raids; ``progress(n)`` is called as chunks of n finish.

    ``stock`` optionally gives each replication its own initial rounds per (battery,
    interceptor), shape [replications, n_batteries, n_interceptors] in the compiled order
    (``RaidResult.compiled.battery_ids`` / ``interceptor_ids``). ``present`` optionally masks
    threats per replication, shape [replications, n_threats]: masked threats do not exist in
    that replication (a campaign draws each night's raid size this way from one compiled raid).
    Both leave the random numbers of the other threats untouched (common random numbers).
    ``max_memory_bytes``: refuse (BudgetError) a run estimated to need more (engine.budget).
    ``engagements``: log every engagement of the first so many replications (default: all, up to
    DEFAULT_ENGAGEMENT_REPLICATIONS; 0: none), for ``RaidResult.engagements_frame`` and the
    resource timelines."""
    if not isinstance(scenario, Scenario):
        from shieldwall.scenario.load import load_scenario

        scenario = load_scenario(scenario)
    scenario = revalidated(scenario)  # before the geometry budget reads it (compile checks again)
    if seed is None:
        seed = scenario.seed if scenario.seed is not None else 0
    check_geometry(scenario)
    compiled = compile_scenario(scenario, seed)
    return simulate(compiled, scenario, replications=replications, seed=seed, workers=workers,
                    out_dir=out_dir, progress=progress, stock=stock, present=present,
                    max_memory_bytes=max_memory_bytes,
                    engagements=DEFAULT_ENGAGEMENT_REPLICATIONS if engagements is None else engagements)


def simulate(compiled: Compiled, scenario: Scenario, *, replications: int, seed: int, workers: int = 1,
             out_dir: str | Path | None = None, progress: Callable[[int], Any] | None = None,
             stock: np.ndarray | None = None, present: np.ndarray | None = None,
             log_events: bool = True, max_memory_bytes: int | None = None,
             span: tuple[int, int] | None = None, engagements: int = 0,
             radars_out: np.ndarray | None = None) -> RaidResult:
    """The Monte Carlo over an already compiled scenario (a campaign reuses one compile for
    many nights). Arguments as in ``run``; ``log_events=False`` keeps no replay log;
    ``engagements``: log every engagement of the run's first so many replications (none by
    default here).

    ``span`` = (first, end): only replications first .. end - 1 of the run of ``replications``
    (a sweep's task, a campaign worker's range), with exactly the numbers they have in the whole
    run: a replication depends on nothing but its chunk's seed and its place in the chunk. The
    result then holds end - first replications (``RaidResult.first_replication`` = first), and
    ``stock``/``present`` cover those rows only. ``radars_out`` [rep, radar]: a campaign's
    stand-alone radars out of action (destroyed on an earlier night: they form no tracks; the
    compile must have them among its losable sensors, ``compile_scenario(losable_radars=...)``)."""
    from shieldwall.errors import UsageError

    if replications < 1:
        raise UsageError(f"replications must be at least 1, got {replications}")
    first, end = (0, replications) if span is None else (int(span[0]), int(span[1]))
    if not 0 <= first < end <= replications:
        raise UsageError(f"span {span} is not inside the run's {replications} replications")
    n_rep = end - first
    engagements = max(0, min(int(engagements), end)) if log_events else 0
    check_budget(compiled, scenario, replications=n_rep, workers=workers, max_memory_bytes=max_memory_bytes,
                 engagement_replications=max(0, engagements - first))
    children = np.random.SeedSequence(seed).spawn(-(-replications // CHUNK_SIZE))
    if stock is not None:
        stock = np.asarray(stock, np.int64)
        if stock.shape != (n_rep, *compiled.stock.shape):
            raise ValueError(f"stock must have shape {(n_rep, *compiled.stock.shape)}, got {stock.shape}")
    if present is not None:
        present = np.asarray(present, np.bool_)
        if present.shape != (n_rep, compiled.n_threats):
            raise ValueError(f"present must have shape {(n_rep, compiled.n_threats)}, got {present.shape}")
    if radars_out is not None:
        radars_out = np.asarray(radars_out, np.bool_)
        if radars_out.shape != (n_rep, len(compiled.radar_ids)):
            raise ValueError(f"radars_out must have shape {(n_rep, len(compiled.radar_ids))}, got {radars_out.shape}")
    chunks = range(first // CHUNK_SIZE, -(-end // CHUNK_SIZE))
    jobs, spans = [], []  # spans: the rows [a, b) of the result each job simulates
    for i in chunks:
        start = i * CHUNK_SIZE
        n = min(CHUNK_SIZE, replications - start)
        lo_i, hi_i = max(first, start) - start, min(end, start + n) - start  # the chunk's rows in the span
        for lo, hi in _pieces(hi_i - lo_i, _n_pieces(i - chunks.start, len(chunks), workers)):
            lo, hi = lo + lo_i, hi + lo_i
            a, b = start + lo - first, start + hi - first
            jobs.append((compiled, start, n, children[i], i == 0 and log_events, None if stock is None else stock[a:b],
                         None if present is None else present[a:b], None if (lo, hi) == (0, n) else (lo, hi),
                         start + lo < engagements, None if radars_out is None else radars_out[a:b]))
            spans.append((a, b))
    result = RaidResult(compiled, scenario, seed, n_rep, out_dir=out_dir, first_replication=first,
                        engagement_replications=engagements)
    result.initial_stock = (np.broadcast_to(compiled.stock, (n_rep, *compiled.stock.shape))
                            if stock is None else stock)
    if workers <= 1 or len(jobs) == 1:
        for job, (first, end) in zip(jobs, spans):
            chunk = run_chunk(*job, out=result.outcome_rows(first, end))
            result.add(chunk)
            if progress:
                progress(chunk.n_rep)
    else:
        _run_parallel(compiled, jobs, spans, result, workers, progress)
    result.finish()
    return result


def simulate_chunks(compiled: Compiled, scenario: Scenario, *, replications: int, seed: int,
                    chunks: range) -> RaidResult:
    """Seed chunks ``chunks`` of the run ``simulate(compiled, scenario, replications=...,
    seed=...)``, alone, as a RaidResult of just those replications: their arrays equal the
    whole run's rows ``chunks.start * CHUNK_SIZE`` onwards (same child seeds, same chunk sizes).
    A sweep runs a point's chunks as separate tasks on any worker and joins them by replication.
    No replay event log is kept."""
    n_chunks = -(-replications // CHUNK_SIZE)
    if not (0 <= chunks.start < chunks.stop <= n_chunks and chunks.step == 1):
        raise ValueError(f"chunks must be a non-empty range within 0..{n_chunks}, got {chunks}")
    span = (chunks.start * CHUNK_SIZE, min(chunks.stop * CHUNK_SIZE, replications))
    return simulate(compiled, scenario, replications=replications, seed=seed, span=span, log_events=False)


def _run_parallel(compiled: Compiled, jobs: list[tuple], spans: list[tuple[int, int]], result: RaidResult,
                  workers: int, progress: Callable[[int], Any] | None) -> None:
    """``workers`` processes: this one and workers - 1 in a pool. Every job is submitted to
    the pool in order; while the result this process needs next is still being computed, it
    claims the next job the pool has not started (a pending future can be cancelled) and runs it
    itself, into the run's arrays. So it computes instead of waiting, while the pool starts and
    between results, and a 2-core machine runs two busy processes, not three (2 workers went
    from 1.67x to 1.77x over 1 at 4,000 replications, medians of 6 paired runs). The kernel
    releases the GIL, so the pool's threads here feed the workers meanwhile. Results are taken
    in order of their replications, whoever computed them."""
    pool = shared_pool(workers - 1, compiled)
    try:
        futures = [submit(pool, _chunk_job, job[1:]) for job in jobs]
        mine: dict[int, ChunkResult] = {}
        cursor = 0  # the next job this process may claim
        for i in range(len(jobs)):
            while i not in mine and not futures[i].done() and cursor < len(jobs):
                if futures[cursor].cancel():  # not started in the pool: this process runs it
                    mine[cursor] = run_chunk(*jobs[cursor], out=result.outcome_rows(*spans[cursor]))
                cursor += 1
            chunk = mine.pop(i) if i in mine else futures[i].result()
            result.add(chunk)
            if progress:
                progress(chunk.n_rep)
    finally:  # the workers exit on their own while the results are written
        pool.shutdown(wait=False, cancel_futures=True)
