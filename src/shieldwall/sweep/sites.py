"""New batteries over candidate sites: the template every new battery shares, the sites
(NOTIONAL positions: never real deployments), the batteries a choice of sites makes, and the
two simple ways to place them that the search must beat (docs/sweep.md).

- ``nearest-value``: the sites nearest the most valuable assets (assets by value, each taking
  the free site nearest to it, round again when every asset has one);
- ``spread``: sites spread evenly (the farthest-point rule of Gonzalez, 1985: the site nearest
  the value-weighted centre of the assets first, then each time the free site farthest from the
  ones taken)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import Field, create_model

from shieldwall.catalog.model import Id, Name, Strict
from shieldwall.errors import Problem, ScenarioError
from shieldwall.scenario.model import Battery, Point
from shieldwall.scenario.yaml_source import FieldPath, SourceMap
from shieldwall.sweep.regions import distance_km

SITE_FIELDS = ("id", "lat", "lon")  # what a site gives each battery; the template gives the rest

# every field of a battery but those a site gives: new battery fields reach allocations unchanged
BatteryTemplate = create_model(  # type: ignore[call-overload]
    "BatteryTemplate", __base__=Strict, __doc__="What every new battery is: system, stock on arrival, ...",
    **{name: (info.annotation, info) for name, info in Battery.model_fields.items() if name not in SITE_FIELDS})


class Site(Point):
    """A candidate position (NOTIONAL)."""

    id: Id = Field(description="Names the site; a battery there takes this id (or <id>-<n> for several).")
    name: Name | None = None


def battery_ids(site: str, per_site: int) -> list[str]:
    return [site] if per_site == 1 else [f"{site}-{n + 1}" for n in range(per_site)]


def new_battery(template: Any, site: Site, battery_id: str) -> dict[str, Any]:
    """A battery at ``site`` as plain data (validated where the campaign is)."""
    return {**template.model_dump(exclude_unset=True), "id": battery_id, "lat": site.lat, "lon": site.lon}


def reach_km(template: Any, catalog: Any) -> float:
    """The farthest any of the template's interceptors reaches."""
    return max((catalog.interceptors[k].max_range_km for k in template.interceptors if k in catalog.interceptors),
               default=0.0)


def nearest_value(sites: Sequence[Site], assets: Sequence[Any], count: int, per_site: int) -> list[int]:
    """``count`` site indices: assets by value (ties: file order), each the nearest site with room."""
    order = sorted(range(len(assets)), key=lambda i: (-assets[i].value, i))
    d = _distances(sites, [(a.lat, a.lon) for a in assets])  # [site, asset]
    used = np.zeros(len(sites), int)
    picks: list[int] = []
    while len(picks) < count:
        for a in order:
            if len(picks) == count:
                break
            free = np.flatnonzero(used < per_site)
            s = int(free[np.argmin(d[free, a])])
            used[s] += 1
            picks.append(s)
    return picks


def spread(sites: Sequence[Site], assets: Sequence[Any], count: int, per_site: int) -> list[int]:
    """``count`` site indices spread out: farthest-point order from the site nearest the
    value-weighted centre of the assets; once every site has one, round again in that order."""
    w = np.array([a.value for a in assets], float)
    w = np.ones_like(w) if w.sum() <= 0 else w
    centre = (float(np.average([a.lat for a in assets], weights=w)), float(np.average([a.lon for a in assets],
                                                                                      weights=w)))
    d = _distances(sites, [(s.lat, s.lon) for s in sites])
    first = int(np.argmin(_distances(sites, [centre])[:, 0]))
    order = [first]
    while len(order) < len(sites):
        gap = d[:, order].min(axis=1)
        gap[order] = -1.0
        order.append(int(np.argmax(gap)))
    return [order[i % len(sites)] for i in range(count)]


def _distances(sites: Sequence[Site], points: Sequence[tuple[float, float]]) -> np.ndarray:
    lat = np.array([s.lat for s in sites])[:, None]
    lon = np.array([s.lon for s in sites])[:, None]
    return distance_km(lat, lon, np.array([p[0] for p in points])[None, :], np.array([p[1] for p in points])[None, :])


def site_problems(error: ScenarioError, where: SourceMap, delivery_site: dict[int, int]) -> list[Problem]:
    """A campaign's problems with the candidate batteries (``deliveries[k].battery.<field>``),
    located in the allocation file: a site's own fields at the site, the rest at ``batteries``."""
    from shieldwall.scenario.vary import parse_path

    out: dict[tuple[str, str], Problem] = {}
    for p in error.problems:
        steps = [name for _, name in parse_path(p.path)] if p.path else []
        if len(steps) >= 3 and steps[0] == "deliveries" and steps[1] in delivery_site and steps[2] == "battery":
            rest = tuple(steps[3:])
            path: FieldPath = (("sites", delivery_site[int(steps[1])], *rest) if rest[:1] and rest[0] in SITE_FIELDS
                               else ("batteries", *rest))
        else:
            path = ("base",)
        problem = where.problem(path, p.message, expected=p.expected, found=p.found, hint=p.hint)
        out.setdefault((problem.path, problem.message), problem)  # the template's problem once, not per site
    return list(out.values())
