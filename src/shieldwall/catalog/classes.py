"""Threat classes: the one table every layer reads.

A class decides how a threat flies (its kinematics), what a hit destroys when its type does not
say, and how reports and the map replay draw it. The scenario schema's class enum, the engine's
path model, the doctrine's per-class keys, the report's colours and legend and the replay's
JavaScript (through the replay data) all come from ``THREAT_CLASS_TABLE``: adding a class is a
row here, its catalog types, and (only for a new way of flying) a path model in
``engine/compile.py``. See docs/architecture.md, "How to add a mechanism".
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Kinematics = Literal["polyline", "ballistic"]


class ThreatClassInfo(NamedTuple):
    id: str
    label: str  # what reports call it
    kinematics: Kinematics  # polyline: waypoints at constant speed and altitude; ballistic: a parabola
    default_damage: float  # fraction of a target's value one hit destroys, when the type does not say
    colour: str  # reports and the map replay


# default damage: an assumption (docs/model.md): a one-way drone carries ~50 kg, a cruise or
# ballistic missile ~450-500 kg
THREAT_CLASS_TABLE: tuple[ThreatClassInfo, ...] = (
    ThreatClassInfo("drone", "drone", "polyline", 0.25, "#d97706"),
    ThreatClassInfo("cruise", "cruise missile", "polyline", 0.5, "#7c3aed"),
    ThreatClassInfo("ballistic", "ballistic missile", "ballistic", 0.5, "#dc2626"),
)

THREAT_CLASSES: tuple[str, ...] = tuple(c.id for c in THREAT_CLASS_TABLE)
CLASS_INFO: dict[str, ThreatClassInfo] = {c.id: c for c in THREAT_CLASS_TABLE}
ThreatClass = Literal[THREAT_CLASSES]  # type: ignore[valid-type]  # the schema's enum, from the table


def class_index(threat_class: str) -> int:
    """The class's position in the table: the engine's integer code for it."""
    return THREAT_CLASSES.index(threat_class)


def replay_classes() -> list[dict[str, str]]:
    """What the replay's JavaScript needs of each class (it draws from this, not its own copy)."""
    return [{"id": c.id, "label": c.label, "colour": c.colour, "kinematics": c.kinematics} for c in THREAT_CLASS_TABLE]
