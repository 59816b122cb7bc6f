"""The battle manager's per-epoch assignment: feasibility, policy ordering, and brute force on small epochs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from shieldwall.wta import WTAError
from shieldwall.wta.epoch import EPOCH_ALGORITHMS, solve_epoch


def random_epoch(rng: np.random.Generator, c: int = 9):
    n_thr, n_bat = 4, 3
    battery = rng.integers(0, n_bat, c)
    pool = battery * 2 + rng.integers(0, 2, c)  # two pools (interceptor types) per battery
    return dict(
        gain=rng.normal(0.5, 0.5, c),
        threat=rng.integers(0, n_thr, c),
        battery=battery,
        pool=pool,
        rounds=rng.integers(1, 3, c),
        channels_free=rng.integers(0, 3, n_bat),
        rounds_free=rng.integers(0, 4, 2 * n_bat),
    )


def feasible(sel, e) -> bool:
    sel = np.asarray(sel, dtype=np.int64)
    if np.any(e["gain"][sel] <= 0) or len(set(e["threat"][sel].tolist())) != sel.size:
        return False
    if np.any(np.bincount(e["battery"][sel], minlength=e["channels_free"].size) > e["channels_free"]):
        return False
    used = np.bincount(e["pool"][sel], weights=e["rounds"][sel], minlength=e["rounds_free"].size)
    return bool(np.all(used <= e["rounds_free"]))


def brute(e) -> float:
    c = e["gain"].size
    best = 0.0
    for r in range(c + 1):
        for sel in itertools.combinations(range(c), r):
            if feasible(list(sel), e):
                best = max(best, float(e["gain"][list(sel)].sum()))
    return best


def test_greedy_is_myopic_and_exact_is_not():
    # battery A (0) reaches threats 1 and 2, battery B (1) only threat 1, one channel each
    e = dict(gain=np.array([0.9, 0.8, 0.7]), threat=np.array([1, 1, 2]), battery=np.array([0, 1, 0]),
             pool=np.array([0, 1, 0]), rounds=np.array([1, 1, 1]), channels_free=np.array([1, 1]),
             rounds_free=np.array([4, 4]))
    assert solve_epoch("epoch-greedy", **e).tolist() == [0]  # (1, A): threat 2 is left unengaged
    assert solve_epoch("epoch-milp", **e).tolist() == [1, 2]  # (1, B) and (2, A)
    assert solve_epoch("epoch-exchange", **e).tolist() == [1, 2]


@pytest.mark.parametrize("seed", range(30))
def test_policies_on_random_epochs(seed):
    e = random_epoch(np.random.default_rng(seed))
    vals = {}
    for pol in EPOCH_ALGORITHMS:
        sel = solve_epoch(pol, **e, time_limit_s=1.0)
        assert sel.dtype == np.int64 and np.all(np.diff(sel) > 0)
        assert feasible(sel, e), pol
        vals[pol] = float(e["gain"][sel].sum())
        assert np.array_equal(sel, solve_epoch(pol, **e, time_limit_s=1.0))  # deterministic
    assert vals["epoch-milp"] >= vals["epoch-exchange"] - 1e-12 >= vals["epoch-greedy"] - 2e-12
    assert vals["epoch-milp"] == pytest.approx(brute(e), abs=1e-12)


def test_greedy_ties_by_index_and_never_negative():
    e = dict(gain=np.array([-1.0, 0.5, 0.5, 0.0]), threat=np.array([0, 1, 1, 2]), battery=np.zeros(4, int),
             pool=np.zeros(4, int), rounds=np.ones(4, int), channels_free=np.array([5]), rounds_free=np.array([5]))
    for pol in EPOCH_ALGORITHMS:
        assert solve_epoch(pol, **e).tolist() == [1]


def test_pool_rounds_bind():
    # two threats, one pool with 2 rounds: a 2-round shot (0.9) or two 1-round shots (0.5 + 0.5)
    e = dict(gain=np.array([0.9, 0.5, 0.5]), threat=np.array([0, 0, 1]), battery=np.zeros(3, int),
             pool=np.zeros(3, int), rounds=np.array([2, 1, 1]), channels_free=np.array([2]),
             rounds_free=np.array([2]))
    assert solve_epoch("epoch-greedy", **e).tolist() == [0]
    assert solve_epoch("epoch-milp", **e).tolist() == [1, 2]


def test_empty_and_bad_input():
    z = np.zeros(0)
    assert solve_epoch("epoch-milp", z, z, z, z, z, np.array([1]), np.array([1])).size == 0
    with pytest.raises(WTAError, match="epoch algorithm"):
        solve_epoch("best", np.ones(1), [0], [0], [0], [1], [1], [1])
    with pytest.raises(WTAError, match="out of range"):
        solve_epoch("epoch-greedy", np.ones(1), [0], [3], [0], [1], [1], [1])
