"""The compiled kernel's way into the per-epoch WTA algorithms (``numba.objmode`` can only pass
numbers): a policy's code, from the registry in ``shieldwall.policies``, names the algorithm."""

from __future__ import annotations

import numpy as np

from shieldwall.policies import POLICY_BY_CODE


def solve_epoch_by_code(code: int, gain: np.ndarray, threat: np.ndarray, battery: np.ndarray, pool: np.ndarray,
                        rounds: np.ndarray, channels_free: np.ndarray, rounds_free: np.ndarray,
                        time_limit_s: float) -> np.ndarray:
    """The set of candidates policy ``code``'s epoch algorithm chooses (indices, ascending)."""
    from shieldwall.wta.epoch import solve_epoch

    algorithm = POLICY_BY_CODE[code].epoch_algorithm
    assert algorithm is not None, "the greedy policy runs inside the kernel"
    return np.asarray(solve_epoch(algorithm, gain, threat, battery, pool, rounds, channels_free, rounds_free,
                                  time_limit_s=time_limit_s), dtype=np.int64)
