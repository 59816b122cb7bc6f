"""Designs: which points a sweep runs. A grid is every combination of the factors' levels;
sampling designs (random, Latin hypercube, Sobol') draw points in the unit cube and map each
coordinate through its factor's inverse distribution, so one mapping serves every design and the
Saltelli structure SALib's Sobol' analysis needs is kept (a coordinate's map is the same for
every point). Everything is drawn from the sweep's seed: the same file gives the same points."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from shieldwall.sweep.spec import Factor, LoadedSweep, SweepFile

DESIGN_STREAM = 7  # the design's random numbers: SeedSequence([seed, DESIGN_STREAM])
_EDGE = 1e-12  # inverse distributions are evaluated on [EDGE, 1 - EDGE]


def design_size(spec: SweepFile) -> int:
    d, k = spec.design, len(spec.factors)
    if d.kind == "grid":
        return math.prod(len(f.values) if f.values is not None else f.levels for f in spec.factors)
    if d.kind == "sobol":
        return int(d.n) * ((2 * k + 2) if d.second_order else (k + 2))  # type: ignore[operator]
    return int(d.n)  # type: ignore[arg-type]


def factor_value(factor: Factor, integer: bool, u: float) -> Any:
    """The factor's value at quantile ``u`` in [0, 1] (a whole number when ``integer``)."""
    if factor.values is not None:
        k = len(factor.values)
        return factor.values[min(int(u * k), k - 1)]
    u = min(max(float(u), _EDGE), 1.0 - _EDGE)
    if factor.range is not None:
        low, high = factor.range
        if integer:
            low, high = math.ceil(low), math.floor(high)
            return int(min(low + math.floor(u * (high - low + 1)), high))
        return low + u * (high - low)
    x = _ppf(factor, u)
    return int(round(x)) if integer else x


def _ppf(factor: Factor, u: float) -> float:
    from scipy import stats

    d = factor.distribution
    assert d is not None
    if d.kind == "uniform":
        return d.low + u * (d.high - d.low)  # type: ignore[operator]
    if d.kind == "loguniform":
        return math.exp(math.log(d.low) + u * (math.log(d.high) - math.log(d.low)))  # type: ignore[arg-type]
    if d.kind == "triangular":
        width = d.high - d.low  # type: ignore[operator]
        return float(stats.triang.ppf(u, (d.mode - d.low) / width, loc=d.low, scale=width))  # type: ignore[operator]
    low = -np.inf if d.low is None else (d.low - d.mean) / d.sd  # type: ignore[operator]
    high = np.inf if d.high is None else (d.high - d.mean) / d.sd  # type: ignore[operator]
    return float(stats.truncnorm.ppf(u, low, high, loc=d.mean, scale=d.sd))


def factor_levels(factor: Factor, integer: bool) -> list[Any]:
    """A grid's levels: the values, or ``levels`` evenly spaced over the range (ends included),
    or the distribution's quantiles at (i + 1/2) / levels; repeated levels dropped."""
    if factor.values is not None:
        return list(factor.values)
    if factor.range is not None:
        low, high = factor.range
        raw = [low + (high - low) * i / (factor.levels - 1) for i in range(factor.levels)]
        levels = [int(round(x)) if integer else x for x in raw]
    else:
        levels = [factor_value(factor, integer, (i + 0.5) / factor.levels) for i in range(factor.levels)]
    return list(dict.fromkeys(levels))


def factor_extremes(factor: Factor, integer: bool) -> list[Any]:
    if factor.values is not None:
        return list(dict.fromkeys(factor.values))
    return list(dict.fromkeys([factor_value(factor, integer, 0.0), factor_value(factor, integer, 1.0)]))


def unit_sample(spec: SweepFile) -> np.ndarray:
    """[point, factor] quantiles in [0, 1] of a sampling design."""
    d, k = spec.design, len(spec.factors)
    rng = np.random.default_rng(np.random.SeedSequence([spec.seed, DESIGN_STREAM]))
    if d.kind == "random":
        return rng.random((int(d.n), k))  # type: ignore[arg-type]
    if d.kind == "lhs":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d=k, rng=rng).random(int(d.n))  # type: ignore[arg-type]
    if d.kind == "sobol":
        from SALib.sample import sobol as saltelli

        problem = salib_problem(spec)
        seed = int(np.random.SeedSequence([spec.seed, DESIGN_STREAM]).generate_state(1)[0])
        return saltelli.sample(problem, int(d.n), calc_second_order=d.second_order, scramble=True,  # type: ignore[arg-type]
                               seed=seed)
    raise ValueError(f"not a sampling design: {d.kind}")


def salib_problem(spec: SweepFile) -> dict[str, Any]:
    """SALib's problem: every factor on its quantile scale [0, 1] (values are mapped after)."""
    return {"num_vars": len(spec.factors), "names": [f.label for f in spec.factors],
            "bounds": [[0.0, 1.0]] * len(spec.factors)}


def design_points(loaded: LoadedSweep) -> list[dict[str, Any]]:
    """Each point's factor values, keyed by factor label, in point order."""
    spec, labels = loaded.spec, [f.label for f in loaded.spec.factors]
    if spec.design.kind == "grid":
        levels = [factor_levels(f, loaded.integer[i]) for i, f in enumerate(spec.factors)]
        return [dict(zip(labels, combo)) for combo in itertools.product(*levels)]
    u = unit_sample(spec)
    return [{label: _plain(factor_value(f, loaded.integer[i], row[i]))
             for i, (label, f) in enumerate(zip(labels, spec.factors))} for row in u]


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, np.floating) else value


def changes_of(loaded: LoadedSweep, point: dict[str, Any]) -> dict[str, Any]:
    """A point's values keyed by path, for ``with_``."""
    return {f.path: point[f.label] for f in loaded.spec.factors}
