"""What a sweep measures: per-replication quantities of a raid or a campaign, by name. An output
``X_mean`` is the mean of quantity ``X`` over a point's replications, with its 95% interval.

Quantities: the totals (``leaked``, ``intercepted``, ``launched``, ``expired``, ``value_lost``,
``interceptor_cost_usd``, ``threat_cost_destroyed_usd``) and per entity ``leaked/<threat type>``,
``intercepted/<threat type>``, ``value_lost/<asset>``, ``fired/<interceptor>``, plus for raids
``hits/<asset>`` and ``remaining/<interceptor>``."""

from __future__ import annotations

import difflib
from typing import Any

import numpy as np

DEFAULT_OUTPUTS = ("leaked_mean", "value_lost_mean", "interceptor_cost_usd_mean")
TOTALS = ("leaked", "intercepted", "launched", "expired", "value_lost", "interceptor_cost_usd",
          "threat_cost_destroyed_usd")
# entity kind of each per-entity quantity, and which runs have it
PER_ENTITY = {"leaked": "threat", "intercepted": "threat", "value_lost": "asset", "fired": "interceptor",
              "hits": "asset", "remaining": "interceptor"}
RAID_ONLY = ("hits", "remaining")
HIGHER_IS_BETTER = ("intercepted", "threat_cost_destroyed_usd")
SUFFIX = "_mean"


def quantity_of(output: str) -> str:
    return output[: -len(SUFFIX)]


def higher_is_better(output: str) -> bool:
    return quantity_of(output).split("/")[0] in HIGHER_IS_BETTER


def _entities(kind: str, base: Any) -> dict[str, list[str]]:
    """Ids a per-entity quantity may name: the base's, and any in its catalog for types."""
    scenario = base.theatre if kind == "campaign" else base
    catalog = base.catalog if kind == "campaign" else scenario.catalog.merged_over(_builtin())
    return {"threat": sorted(catalog.threats), "asset": [a.id for a in scenario.assets],
            "interceptor": sorted(catalog.interceptors)}


def _builtin() -> Any:
    from shieldwall.catalog.builtin import builtin_catalog

    return builtin_catalog()


def check_output(name: str, kind: str, base: Any) -> tuple[str | None, str | None]:
    """(message, hint) for an output name the sweep cannot compute, or (None, None)."""
    if not name.endswith(SUFFIX):
        return f"unknown output `{name}`", f"outputs are a quantity with `{SUFFIX}`, e.g. leaked_mean"
    quantity = quantity_of(name)
    head, _, entity = quantity.partition("/")
    if not entity:
        if head in TOTALS:
            return None, None
        close = difflib.get_close_matches(head, TOTALS, n=1, cutoff=0.6)
        return (f"unknown output `{name}`", (f"did you mean `{close[0]}{SUFFIX}`? " if close else "")
                + "quantities: " + ", ".join(TOTALS))
    if head not in PER_ENTITY or (kind == "campaign" and head in RAID_ONLY):
        allowed = [k for k in PER_ENTITY if kind == "raid" or k not in RAID_ONLY]
        return f"unknown output `{name}`", "per-entity quantities: " + ", ".join(f"{k}/<id>" for k in allowed)
    known = _entities(kind, base)[PER_ENTITY[head]]
    if entity not in known:
        close = difflib.get_close_matches(entity, known, n=1, cutoff=0.6)
        return (f"unknown {PER_ENTITY[head]} `{entity}` in output `{name}`",
                (f"did you mean `{close[0]}`? " if close else "") + f"known: {', '.join(known)}")
    return None, None


def _column(ids: list[str], values: np.ndarray, entity: str) -> np.ndarray:
    """values[:, ids.index(entity)], or zeros where the point has no such entity."""
    return values[:, ids.index(entity)].astype(float) if entity in ids else np.zeros(values.shape[0])


def raid_quantities(result: Any, quantities: list[str]) -> dict[str, np.ndarray]:
    """[replication] arrays of a RaidResult (public arrays only)."""
    c = result.compiled
    totals = {
        "leaked": lambda: result.leaked.sum(axis=1), "intercepted": lambda: result.killed.sum(axis=1),
        "launched": lambda: result.launched.sum(axis=1), "expired": lambda: result.expired.sum(axis=1),
        "value_lost": lambda: result.value_lost.sum(axis=1), "interceptor_cost_usd": lambda: result.interceptor_cost_usd,
        "threat_cost_destroyed_usd": lambda: result.threat_cost_destroyed,
    }
    per = {
        "leaked": (list(c.threat_type_ids), lambda: result.leaked),
        "intercepted": (list(c.threat_type_ids), lambda: result.killed),
        "value_lost": (list(c.asset_ids), lambda: result.value_lost), "hits": (list(c.asset_ids), lambda: result.hits),
        "fired": (list(c.interceptor_ids), lambda: result.interceptors_fired),
        "remaining": (list(c.interceptor_ids), lambda: result.remaining.sum(axis=1)),
    }
    return _pick(quantities, totals, per)


def campaign_quantities(result: Any, quantities: list[str]) -> dict[str, np.ndarray]:
    """[replication] arrays of a CampaignResult, summed over the nights."""
    sums = result.totals_by_replication()
    totals = {name: (lambda name=name: sums[name]) for name in TOTALS}
    per = {
        "leaked": (list(result.threat_ids), lambda: result.leaked.sum(axis=0)),
        "intercepted": (list(result.threat_ids), lambda: result.killed.sum(axis=0)),
        "value_lost": (list(result.asset_ids), lambda: result.value_lost.sum(axis=0)),
        "fired": (list(result.interceptor_ids), lambda: result.fired.sum(axis=0)),
    }
    return _pick(quantities, totals, per)


def _pick(quantities: list[str], totals: dict[str, Any], per: dict[str, Any]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for q in quantities:
        head, _, entity = q.partition("/")
        if entity:
            ids, values = per[head]
            out[q] = _column(ids, values(), entity)
        else:
            out[q] = np.asarray(totals[head](), float)
    return out
