"""The kernel's debug build (shieldwall/jit.py, SHIELDWALL_KERNEL_CHECKS=1) asserts its buffer
bounds and conservation identities. `make test` runs the engine's tests a second time in that
build with NUMBA_BOUNDSCHECK=1; these tests check there that the checks really fire."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_scenario
from shieldwall.engine.compile import compile_scenario
from shieldwall.engine.kernel import simulate_chunk
from shieldwall.engine.records import allocate_outcomes, event_log
from shieldwall.engine.runner import detection_record, draw_uniforms, kernel_array
from shieldwall.jit import KERNEL_CHECKS

pytestmark = pytest.mark.skipif(not KERNEL_CHECKS, reason="debug build only: `make test` runs it with "
                                "SHIELDWALL_KERNEL_CHECKS=1 (a normal build would write past the buffer)")


def _chunk(log_rows: int, stock_delta: int = 0):  # type: ignore[no-untyped-def]
    compiled = compile_scenario(make_scenario(), 1)
    n = 4
    stock = np.broadcast_to(compiled.stock, (n, *compiled.stock.shape)) + stock_delta
    return simulate_chunk(compiled.paths, compiled.threats, compiled.batteries, compiled.interceptors,
                          compiled.windows, compiled.doctrine, compiled.ew, compiled.ew_zones, compiled.area,
                          compiled.area_layers, detection_record(compiled), compiled.losses, draw_uniforms(compiled, n, np.random.SeedSequence(1)),
                          kernel_array(stock, np.int64), kernel_array(np.ones((n, compiled.n_threats)), np.bool_),
                          kernel_array(np.full((n, compiled.losses.unit.shape[0]), np.inf), np.float64),
                          allocate_outcomes(compiled.sizes(), n), event_log(log_rows), True)


def test_the_bound_the_runner_gives_the_replay_log_holds() -> None:
    compiled = compile_scenario(make_scenario(), 1)
    assert _chunk(compiled.log_rows_per_replication()) >= 1


def test_a_replay_log_too_small_is_caught() -> None:
    with pytest.raises(AssertionError, match="replay log overflow"):
        _chunk(2)


def test_rounds_out_of_bounds_are_caught() -> None:
    """Loaded rounds must stay between 0 and what the launchers hold: a negative stock (which
    the runner never passes) breaks that at the first replication's end."""
    with pytest.raises(AssertionError, match="loaded rounds out of bounds"):
        _chunk(64, stock_delta=-20)
