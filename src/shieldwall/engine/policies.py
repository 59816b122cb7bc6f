"""Registered weapon-target assignment policies of the battle manager.

The engine kernel is compiled; a policy id maps to the integer the kernel switches on.
"""

from __future__ import annotations

POLICY_CODES: dict[str, int] = {"greedy": 0}


def policy_ids() -> list[str]:
    return sorted(POLICY_CODES)
