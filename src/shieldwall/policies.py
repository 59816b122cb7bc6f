"""The battle manager's weapon-target assignment policies: one registry, read by every layer.

A doctrine names a policy (``doctrine.policy``); the scenario schema's enum, the engine's integer
code for the compiled kernel, and the per-epoch algorithm of ``shieldwall.wta.epoch`` that a
policy hands its decisions to all come from ``POLICIES``. The epoch algorithms have names of
their own (``epoch-greedy``, ``epoch-exchange``, ``epoch-milp``): they are not the static WTA
solvers of ``shieldwall.wta`` that share the words greedy / local search / exact.

This module sits at the bottom of the layers (beside ``errors``) so that the scenario layer can
validate a policy without importing the engine.
"""

from __future__ import annotations

from typing import Literal, NamedTuple


class Policy(NamedTuple):
    name: str  # what a doctrine writes
    code: int  # the compiled kernel's switch (0: its own greedy, written out in the loop)
    epoch_algorithm: str | None  # shieldwall.wta.epoch algorithm each decision epoch goes to; None: in the kernel
    uses_time_limit: bool  # whether doctrine.epoch_time_limit_s bounds it (the others do bounded work)
    doc: str


POLICIES: tuple[Policy, ...] = (
    Policy("greedy", 0, None, False,
           "maximum marginal return inside the compiled engine: best gain first, ties by sooner impact, "
           "cheaper shot, scenario order"),
    Policy("local-search", 1, "epoch-exchange", False,
           "greedy improved by insert-with-ejection exchanges (bounded passes, never looks at the clock)"),
    Policy("exact", 2, "epoch-milp", True,
           "the epoch's integer program solved by HiGHS within doctrine.epoch_time_limit_s (best found if it hits)"),
)

GREEDY_CODE = 0
POLICY_BY_NAME: dict[str, Policy] = {p.name: p for p in POLICIES}
POLICY_BY_CODE: dict[int, Policy] = {p.code: p for p in POLICIES}
POLICY_NAMES: tuple[str, ...] = tuple(p.name for p in POLICIES)
PolicyName = Literal[POLICY_NAMES]  # type: ignore[valid-type]  # the schema's enum, from the registry

assert POLICY_BY_NAME["greedy"].code == GREEDY_CODE and len(POLICY_BY_CODE) == len(POLICIES)
