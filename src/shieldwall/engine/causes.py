"""Why a threat leaked: the one table of leak causes, read by every layer.

The kernel (engine/kernel.py) and the SimPy model (tests/simpy_model.py) give each leaker one
cause by the same rule (docs/model.md, "Why a threat leaked"), recorded per replication and
threat in the outcome ``leak_cause`` (its ``code``); summary.json's ``leak_causes``, the report's
stacked bar, the API and the web app list the causes from this table, in its order. A new cause
(say "diverted", once electronic warfare exists) is a row here plus its rule in both models:
nothing downstream names a cause.

The rule, first match wins. A threat never engaged could be engaged at every decision epoch
inside one of its engagement windows, so what stopped it follows from its windows, the epoch
grid and when each battery ran dry (the outcome ``dry_s``): nothing needs recording in the
engine's hot loops, and the SimPy model applies the same rule to its own state.

1. ``missed``: it was engaged at least once, and every engagement missed (battery: the last
   that engaged it);
2. ``not_detected``: it had no engagement window, and no sensor network ever held a track of it;
3. ``out_of_reach``: it had no engagement window although tracked (no battery with an interceptor
   able to engage its class reached it while its network held a track);
4. ``held``: a decision epoch fell inside a window of a battery that still had rounds, and fire
   was held: the doctrine gives its class no engagements, or the shot would have cost more than it
   was expected to save (``doctrine.cost_weight``);
5. ``saturated``: a decision epoch fell inside a window of a battery that still had rounds, and
   it was not engaged: the battery's fire channels or loaded rounds were all taken (by other
   threats, launchers reloading, or a WTA policy's choice), or, rarely, the exact intercept failed
   at the envelope's edge;
6. ``magazine_empty``: every such epoch came after that battery had run out of the interceptor,
   and one of its windows was still open when it ran out;
7. ``out_of_reach`` again: its windows held no decision epoch (shorter than the grid's step).

Then, under ``mechanisms.detection``: a decoy given ``out_of_reach`` (2-3 or 7) that its network
identified before the last of its compiled windows closed is ``identified`` instead: it was
recognised for what it is, and its windows were closed there, not out of reach.

The battery a cause points at (``leak_battery``): for 4 and 5 the first (in the order its
windows open) whose window held an epoch while it had rounds, for 6 the first that ran dry with
the window open, for 7 the first window's; none for 2 and 3 and ``identified``.
"""

from __future__ import annotations

from typing import NamedTuple


class LeakCause(NamedTuple):
    id: str  # summary.json's key
    code: int  # the kernel's value in the outcome ``leak_cause`` (-1: did not leak)
    label: str  # what reports call it
    colour: str  # the report's stacked bar and the web app
    doc: str


LEAK_CAUSES: tuple[LeakCause, ...] = (
    LeakCause("not_detected", 0, "not detected", "#6b7280", "no sensor network held a track of it before impact"),
    LeakCause("out_of_reach", 1, "never inside an envelope", "#a3a3a3",
              "tracked, but no battery could reach it with an interceptor able to engage it"),
    LeakCause("magazine_empty", 2, "magazine empty", "#b91c1c",
              "every battery that could reach it had run out of rounds when it came in reach"),
    LeakCause("saturated", 3, "fire channels busy", "#f59e0b",
              "a battery with rounds could reach it, but its fire channels or loaded rounds were all taken"),
    LeakCause("held", 4, "fire held", "#7c3aed",
              "the doctrine held fire: no engagements for its class, or the shot cost more than it would save"),
    LeakCause("missed", 5, "engaged and missed", "#0891b2", "engaged, and every engagement missed"),
    LeakCause("identified", 6, "identified as a decoy", "#d6d3d1",
              "a decoy the network identified while a window of it was still to come, so no battery took it"),
)

CAUSE_IDS: tuple[str, ...] = tuple(c.id for c in LEAK_CAUSES)
CAUSE_BY_ID: dict[str, LeakCause] = {c.id: c for c in LEAK_CAUSES}
NO_BATTERY = "(none)"  # leak_causes_by_battery's key for leakers no battery could have engaged

# the kernel's codes, as module constants (numba folds them in)
LEAK_NOT_DETECTED = CAUSE_BY_ID["not_detected"].code
LEAK_OUT_OF_REACH = CAUSE_BY_ID["out_of_reach"].code
LEAK_MAGAZINE_EMPTY = CAUSE_BY_ID["magazine_empty"].code
LEAK_SATURATED = CAUSE_BY_ID["saturated"].code
LEAK_HELD = CAUSE_BY_ID["held"].code
LEAK_MISSED = CAUSE_BY_ID["missed"].code
LEAK_IDENTIFIED = CAUSE_BY_ID["identified"].code

assert [c.code for c in LEAK_CAUSES] == list(range(len(LEAK_CAUSES))), "codes index the table"
