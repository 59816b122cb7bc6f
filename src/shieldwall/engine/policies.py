"""Registered weapon-target assignment policies of the battle manager.

``greedy`` runs inside the compiled kernel; the others hand each decision epoch's candidates to
``shieldwall.wta.epoch.solve_epoch`` (a Python call from the kernel, within a time budget).
"""

from __future__ import annotations

import numpy as np

POLICY_CODES: dict[str, int] = {"greedy": 0, "local-search": 1, "exact": 2}


def policy_ids() -> list[str]:
    return sorted(POLICY_CODES)


def solve_epoch_by_code(code: int, gain: np.ndarray, threat: np.ndarray, battery: np.ndarray, pool: np.ndarray,
                        rounds: np.ndarray, channels_free: np.ndarray, rounds_free: np.ndarray,
                        time_limit_s: float) -> np.ndarray:
    """The kernel's way into the WTA solvers (it can only pass numbers)."""
    from shieldwall.wta.epoch import solve_epoch

    name = next(n for n, c in POLICY_CODES.items() if c == code)
    return np.asarray(solve_epoch(name, gain, threat, battery, pool, rounds, channels_free, rounds_free,
                                  time_limit_s=time_limit_s), dtype=np.int64)
