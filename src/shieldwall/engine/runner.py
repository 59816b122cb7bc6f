"""Monte Carlo driver: fixed-size chunks of replications, each with its own child seed.

Seeds are spawned per chunk (``SeedSequence(seed).spawn``), never per worker, and chunks have a
fixed size, so results are identical whatever the number of worker processes.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
import sys
import threading
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

import numpy as np

from shieldwall.engine.compile import Compiled, compile_scenario
from shieldwall.engine.kernel import simulate_chunk
from shieldwall.engine.paths import positions
from shieldwall.engine.results import ChunkResult, RaidResult, empty_outcomes
from shieldwall.scenario.model import Scenario

CHUNK_SIZE = 128  # replications per seed chunk; part of the reproducibility contract


def draw_uniforms(compiled: Compiled, n_rep: int, seed_seq: np.random.SeedSequence,
                  rows: tuple[int, int] | None = None) -> tuple:
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

    return block(n_thr), block(n_thr), block(n_thr, compiled.shots_per_threat)


def run_chunk(compiled: Compiled, start: int, n_rep: int, seed_seq: np.random.SeedSequence,
              log_first: bool, stock: np.ndarray | None = None,
              present: np.ndarray | None = None, rows: tuple[int, int] | None = None,
              out: tuple | None = None) -> ChunkResult:
    """Replications [start, start + n_rep); ``stock`` [n_rep, battery, interceptor] overrides
    the scenario's initial stocks (a campaign's night starts with the last night's leftovers);
    ``present`` [n_rep, threat] leaves threats out of single replications.

    ``rows`` = (lo, hi) simulates only the chunk's replications start + lo .. start + hi - 1
    (``stock`` and ``present`` then cover those rows only). A replication depends on nothing but
    its own random numbers, so a chunk split across workers gives the same results as a whole
    one: its numbers come from the chunk's own seed, at their place in the chunk's stream.

    ``out``: the arrays to fill (``RaidResult.outcome_rows`` of those replications), new ones
    if None."""
    rnd = draw_uniforms(compiled, n_rep, seed_seq, rows)
    if rows is not None:
        lo, hi = rows
        start, n_rep, log_first = start + lo, hi - lo, log_first and lo == 0
    n_thr = compiled.n_threats
    n_bat, n_itc = compiled.stock.shape
    if out is None:
        out = empty_outcomes(compiled, n_rep)
    n_log = n_thr * (3 + 2 * int(compiled.doc[1].max())) if log_first else 1
    log = (np.zeros(n_log), np.zeros(n_log, np.int64), np.zeros(n_log, np.int64), np.zeros(n_log, np.int64),
           np.zeros(n_log, np.int64), np.zeros(n_log, np.int64), np.zeros(n_log), np.zeros(1, np.int64))
    if stock is None:
        stock = np.broadcast_to(compiled.stock, (n_rep, n_bat, n_itc))
    stock = np.ascontiguousarray(stock, dtype=np.int64)
    if present is None:
        present = np.ones((n_rep, n_thr), np.bool_)
    epochs = simulate_chunk(compiled.geo, compiled.thr, compiled.bat, compiled.itc, compiled.pairs, compiled.doc,
                            rnd, stock, np.ascontiguousarray(present, np.bool_), out, log, log_first)
    events = None
    if log_first:
        n_ev = int(log[7][0])
        t, kind, j, b, k, n, tau = (a[:n_ev] for a in log[:7])
        events = (t, kind, j, b, k, n, positions(j, tau, compiled.geo))
    return ChunkResult(start, *out, events=events, epochs=int(epochs))


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


def _worker_context() -> BaseContext:
    """Fork where it is safe (POSIX, no other Python threads): workers then start in
    milliseconds with the compiled kernel already loaded. Otherwise (a web server's background
    run, Windows, macOS) spawn, which costs about a second per worker to import and load."""
    if "fork" in get_all_start_methods() and sys.platform.startswith("linux") and threading.active_count() == 1:
        return get_context("fork")
    return get_context("spawn")


_WORKER_COMPILED: Compiled | None = None


def _init_worker(compiled: Compiled) -> None:
    """Each worker receives the compiled scenario once, not with every chunk."""
    global _WORKER_COMPILED
    _WORKER_COMPILED = compiled


def _worker_job(args: tuple) -> ChunkResult:
    assert _WORKER_COMPILED is not None
    return run_chunk(_WORKER_COMPILED, *args)


def run(scenario: Scenario | str | Path, *, replications: int = 1000, seed: int | None = None,
        workers: int = 1, out_dir: str | Path | None = None,
        progress: Callable[[int], Any] | None = None, stock: np.ndarray | None = None,
        present: np.ndarray | None = None) -> RaidResult:
    """Simulate ``replications`` raids; ``progress(n)`` is called as chunks of n finish.

    ``stock`` optionally gives each replication its own initial rounds per (battery,
    interceptor), shape [replications, n_batteries, n_interceptors] in the compiled order
    (``RaidResult.compiled.battery_ids`` / ``interceptor_ids``). ``present`` optionally masks
    threats per replication, shape [replications, n_threats]: masked threats do not exist in
    that replication (a campaign draws each night's raid size this way from one compiled raid).
    Both leave the random numbers of the other threats untouched (common random numbers)."""
    if not isinstance(scenario, Scenario):
        from shieldwall.scenario.load import load_scenario

        scenario = load_scenario(scenario)
    if seed is None:
        seed = scenario.seed if scenario.seed is not None else 0
    compiled = compile_scenario(scenario, seed)
    return simulate(compiled, scenario, replications=replications, seed=seed, workers=workers,
                    out_dir=out_dir, progress=progress, stock=stock, present=present)


def simulate(compiled: Compiled, scenario: Scenario, *, replications: int, seed: int, workers: int = 1,
             out_dir: str | Path | None = None, progress: Callable[[int], Any] | None = None,
             stock: np.ndarray | None = None, present: np.ndarray | None = None,
             events: bool = True) -> RaidResult:
    """The Monte Carlo over an already compiled scenario (a campaign reuses one compile for
    many nights). Arguments as in ``run``; ``events=False`` skips replication 0's event log
    (callers that never replay it: backtests), with the same numbers otherwise."""
    if replications < 1:
        from shieldwall.errors import UsageError

        raise UsageError(f"replications must be at least 1, got {replications}")
    n_chunks = -(-replications // CHUNK_SIZE)
    children = np.random.SeedSequence(seed).spawn(n_chunks)
    if stock is not None:
        stock = np.asarray(stock, np.int64)
        if stock.shape != (replications, *compiled.stock.shape):
            raise ValueError(f"stock must have shape {(replications, *compiled.stock.shape)}, got {stock.shape}")
    if present is not None:
        present = np.asarray(present, np.bool_)
        if present.shape != (replications, compiled.n_threats):
            raise ValueError(f"present must have shape {(replications, compiled.n_threats)}, got {present.shape}")
    jobs, spans = [], []  # spans: the replications [first, end) each job simulates
    for i in range(n_chunks):
        start = i * CHUNK_SIZE
        n = min(CHUNK_SIZE, replications - start)
        for lo, hi in _pieces(n, _n_pieces(i, n_chunks, workers)):
            a, b = start + lo, start + hi
            jobs.append((compiled, start, n, children[i], events and i == 0, None if stock is None else stock[a:b],
                         None if present is None else present[a:b], None if (lo, hi) == (0, n) else (lo, hi)))
            spans.append((a, b))
    result = RaidResult(compiled, scenario, seed, replications, out_dir=out_dir)
    result.initial_stock = (np.broadcast_to(compiled.stock, (replications, *compiled.stock.shape))
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
    pool = ProcessPoolExecutor(max_workers=workers - 1, mp_context=_worker_context(),
                               initializer=_init_worker, initargs=(compiled,))
    try:
        futures = [pool.submit(_worker_job, job[1:]) for job in jobs]
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
