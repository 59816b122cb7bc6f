"""Regions of an allocation: named groups of recipients, so that an allocation can be asked
"how many per region" and its results read per region (docs/sweep.md).

A region is given either by its recipients (batteries or depots: ``recipients: [...]``) or by
the assets it holds (``assets: [ids]`` or ``assets: {kind: ...}``). A battery (or candidate
site) belongs to the asset-given region whose assets within its reach carry the most value; an
asset belongs to the region that names it, else to the region of the nearest battery within
reach of it among the recipient-given regions' batteries, else to no region. Every asset is in
at most one region, so per-region values lost add up to the theatre's (with "outside")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import Field

from shieldwall import limits as L
from shieldwall.catalog.model import Id, Strict
from shieldwall.errors import Problem
from shieldwall.scenario.model import TargetByKind
from shieldwall.scenario.yaml_source import SourceMap

OUTSIDE = "(outside the regions)"
Position = tuple[float, float]  # (lat, lon)


class Region(Strict):
    """A named group: its recipients, or the assets it holds (exactly one of the two)."""

    id: Id
    recipients: list[Id] | None = Field(None, min_length=1, max_length=L.MAX_BATTERIES,
                                        description="Batteries or depots of the region.")
    assets: list[Id] | TargetByKind | None = Field(
        None, description="The region's assets (ids, or {kind: ...}); its recipients are the batteries that "
                          "defend them (most value within reach).")


@dataclass
class Regions:
    """Regions resolved against a theatre: per region, members (indices into the recipients)
    and assets (indices into the theatre's assets)."""

    ids: list[str]
    members: list[list[int]]
    assets: list[list[int]]
    value: np.ndarray  # per region: the value of its assets
    outside: list[int] = field(default_factory=list)  # assets in no region

    def region_of(self, member: int) -> int | None:
        return next((r for r, m in enumerate(self.members) if member in m), None)

    def value_lost(self, columns: Mapping[str, np.ndarray], asset_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """[replication] value lost per region (and outside them) from a run's per-asset
        columns ``value_lost/<asset>``."""
        out = {}
        for name, idx in [*zip(self.ids, self.assets), (OUTSIDE, self.outside)]:
            if name == OUTSIDE and not idx:
                continue
            out[name] = sum((np.asarray(columns[f"value_lost/{asset_ids[a]}"], float) for a in idx),
                            np.zeros(len(columns["value_lost"])))
        return out


def distance_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Geodesic distance on the WGS 84 ellipsoid (pyproj), broadcast over arrays."""
    from pyproj import Geod

    a, b, c, d = np.broadcast_arrays(*(np.asarray(x, float) for x in (lat1, lon1, lat2, lon2)))
    _, _, metres = Geod(ellps="WGS84").inv(b.ravel(), a.ravel(), d.ravel(), c.ravel())
    return np.asarray(metres, float).reshape(a.shape) / 1000.0


def within_reach(positions: Sequence[Position | None], assets: Sequence[Any], reach_km: float) -> np.ndarray:
    """[position, asset] True where the asset lies within ``reach_km``; a position of None (a
    depot) reaches nothing."""
    out = np.zeros((len(positions), len(assets)), bool)
    if not assets:
        return out
    lat = np.array([a.lat for a in assets])
    lon = np.array([a.lon for a in assets])
    for i, p in enumerate(positions):
        if p is not None:
            out[i] = distance_km(p[0], p[1], lat, lon) <= reach_km
    return out


def resolve_regions(regions: Sequence[Region], where: SourceMap, *, assets: Sequence[Any],
                    positions: Mapping[str, Position | None], candidates: Sequence[str], reach_km: float,
                    listed: Sequence[str] | None, strict: bool = True
                    ) -> tuple[list[str], Regions | None, list[Problem]]:
    """(recipients, regions, problems). ``positions``: every battery, depot (None) or site that
    may be a recipient; ``candidates``: those an asset-given region may take; ``listed``: the
    file's top-level recipients, or None (the recipients are the regions' members, in region
    order). ``strict``: every listed recipient must fall in a region and every region have one
    (deliveries of units); otherwise regions only group (candidate sites)."""
    problems: list[Problem] = []
    asset_index = {a.id: i for i, a in enumerate(assets)}
    owner: dict[int, int] = {}  # asset -> region that names it
    for r, region in enumerate(regions):
        if region.id in [g.id for g in regions[:r]]:
            problems.append(where.problem(("regions", r, "id"), f"region `{region.id}` is given twice"))
        if (region.recipients is None) == (region.assets is None):
            problems.append(where.problem(("regions", r), "give exactly one of `recipients` or `assets`",
                                          hint="a region is a set of batteries or depots, or the assets it holds"))
            continue
        if isinstance(region.assets, TargetByKind):
            idx = [(i, ("regions", r, "assets", "kind")) for i, a in enumerate(assets) if a.kind == region.assets.kind]
            if not idx:
                kinds = sorted({a.kind for a in assets})
                problems.append(where.problem(("regions", r, "assets", "kind"), f"no asset of kind "
                                              f"`{region.assets.kind}`", hint="kinds: " + ", ".join(kinds)))
        elif region.assets is not None:
            idx = []
            for j, aid in enumerate(region.assets):
                if aid not in asset_index:
                    problems.append(where.problem(("regions", r, "assets", j), f"unknown asset `{aid}`",
                                                  hint="assets: " + ", ".join(asset_index)))
                else:
                    idx.append((asset_index[aid], ("regions", r, "assets", j)))
        else:
            continue
        for i, at in idx:
            if i in owner:
                problems.append(where.problem(at, f"asset `{assets[i].id}` is also in region `{regions[owner[i]].id}`",
                                              hint="an asset belongs to one region"))
            else:
                owner[i] = r
    if problems:
        return [], None, problems

    # the asset-given regions take the candidates whose reach holds most of their value
    by_assets = [r for r, g in enumerate(regions) if g.assets is not None]
    named = {rid for g in regions for rid in (g.recipients or [])}
    reach = within_reach([positions.get(c) for c in candidates], assets, reach_km)
    values = np.array([a.value for a in assets], float)
    members: list[list[str]] = [list(g.recipients or []) for g in regions]
    for c, cid in enumerate(candidates):
        if cid in named or not by_assets:
            continue
        held = [float(values[[i for i, o in owner.items() if o == r and reach[c, i]]].sum()) for r in by_assets]
        if max(held) > 0:
            members[by_assets[int(np.argmax(held))]].append(cid)
    for r, region in enumerate(regions):
        if not members[r] and strict:
            problems.append(where.problem(("regions", r), f"region `{region.id}` has no recipient",
                                          hint=f"no candidate battery has its assets within reach ({reach_km:g} km)"))
        for j, rid in enumerate(region.recipients or []):
            if rid in region.recipients[:j] or any(rid in (g.recipients or []) for g in regions[:r]):
                problems.append(where.problem(("regions", r, "recipients", j), f"`{rid}` is in two regions"))
    order = [rid for m in members for rid in m]
    if listed is not None:
        for i, rid in enumerate(listed):
            if rid not in order and strict:
                problems.append(where.problem(("recipients", i), f"`{rid}` is in no region",
                                              hint="name it in a region's `recipients`, or give a region assets "
                                                   f"within its reach ({reach_km:g} km)"))
        for r, region in enumerate(regions):
            for j, rid in enumerate(region.recipients or []):
                if rid not in listed:
                    problems.append(where.problem(("regions", r, "recipients", j), f"`{rid}` is not among `recipients`",
                                                  hint="list it there too, or leave `recipients` out (the regions' "
                                                       "recipients are then the ones allocated to)"))
        order = list(listed)
    if problems:
        return [], None, problems

    # assets of the recipient-given regions: those nearest one of their batteries, within reach
    by_recipients = [r for r, g in enumerate(regions) if g.recipients is not None]
    for i, a in enumerate(assets):
        if i in owner or not by_recipients:
            continue
        best: tuple[float, int] | None = None
        for r in by_recipients:
            for rid in members[r]:
                p = positions.get(rid)
                if p is None:
                    continue
                d = float(distance_km(p[0], p[1], a.lat, a.lon))
                if d <= reach_km and (best is None or d < best[0]):
                    best = (d, r)
        if best is not None:
            owner[i] = best[1]
    region_assets = [[i for i in range(len(assets)) if owner.get(i) == r] for r in range(len(regions))]
    resolved = Regions(
        ids=[g.id for g in regions],
        members=[[order.index(rid) for rid in m] for m in members],
        assets=region_assets,
        value=np.array([values[idx].sum() for idx in region_assets], float),
        outside=[i for i in range(len(assets)) if i not in owner],
    )
    return order, resolved, []
