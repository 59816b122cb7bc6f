"""From replications to answers: each point's outputs with 95% intervals (the ``points``
table), main effects per factor, Sobol' indices (SALib) for sampling designs, and the best
points. Everything here is computed in a fixed order from the replications sorted by (point,
replication), so the same shards give the same bytes whichever backend wrote them."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from shieldwall.engine.results import mean_ci95_columns
from shieldwall.sweep.outputs import higher_is_better, quantity_of
from shieldwall.sweep.spec import LoadedSweep

BINS = 5  # main effects of a sampled factor: the mean output in each fifth of its range
BEST = 5
SOBOL_RESAMPLES = 200


class IncompleteSweep(Exception):
    """The shards do not hold every replication of every point exactly once (a bug)."""


def points_table(loaded: LoadedSweep, points: list[dict[str, Any]], rows: dict[str, np.ndarray]) -> dict[str, Any]:
    """One row per point: its factor values, then per output the mean and its 95% interval."""
    n_points, reps = len(points), loaded.spec.replications
    expected_point = np.repeat(np.arange(n_points), reps)
    expected_rep = np.tile(np.arange(reps), n_points)
    if len(rows.get("point", [])) != n_points * reps or not (
            np.array_equal(rows["point"], expected_point) and np.array_equal(rows["replication"], expected_rep)):
        raise IncompleteSweep(f"the shards hold {len(rows.get('point', []))} replications, expected each of "
                              f"{n_points} points x {reps} exactly once")
    table: dict[str, Any] = {"point": np.arange(n_points, dtype=np.int32)}
    for factor in loaded.spec.factors:
        table[factor.label] = [p[factor.label] for p in points]
    for output in loaded.spec.outputs:
        values = np.asarray(rows[quantity_of(output)], float).reshape(n_points, reps)
        mean, low, high = mean_ci95_columns(values.T)
        table[output], table[f"{output}_ci95_low"], table[f"{output}_ci95_high"] = mean, low, high
    return table


def _num(x: Any) -> Any:
    """JSON has no NaN: an index that cannot be computed is null."""
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(float(x)) else float(x)
    if isinstance(x, np.integer):
        return int(x)
    return x


def analyse(loaded: LoadedSweep, points: list[dict[str, Any]], table: dict[str, Any],
            rows: dict[str, np.ndarray]) -> dict[str, Any]:
    spec = loaded.spec
    labels = [f.label for f in spec.factors]
    out: dict[str, Any] = {
        "base": spec.base, "kind": loaded.kind, "replications": spec.replications, "seed": spec.seed,
        "design": spec.design.model_dump(mode="json"), "n_points": len(points),
        "factors": [{"name": f.label, **f.model_dump(mode="json", exclude_none=True)} for f in spec.factors],
        "outputs": list(spec.outputs),
        "common_random_numbers": "every point runs the same seed chunks (engine seeds per chunk of replications)",
        "points": [
            {"point": i, "factors": points[i],
             "outputs": {o: {"mean": _num(table[o][i]), "ci95": [_num(table[f"{o}_ci95_low"][i]),
                                                                  _num(table[f"{o}_ci95_high"][i])]}
                         for o in spec.outputs}}
            for i in range(len(points))],
    }
    out["main_effects"] = {o: main_effects(loaded, points, np.asarray(table[o], float)) for o in spec.outputs}
    if spec.design.kind != "grid":
        out["sensitivity"] = {o: sensitivity(loaded, np.asarray(table[o], float)) for o in spec.outputs}
    out["ranking"] = {o: _ranking(out, o, labels) for o in spec.outputs}
    out["best"] = {o: _best(out["points"], o) for o in spec.outputs}
    return out


def main_effects(loaded: LoadedSweep, points: list[dict[str, Any]], y: np.ndarray) -> dict[str, list[dict[str, Any]]]:
    """Per factor: the mean of the points' outputs at each level (grids and listed values), or
    in each fifth of the factor's sampled range, with the number of points averaged."""
    effects: dict[str, list[dict[str, Any]]] = {}
    for factor in loaded.spec.factors:
        x = [p[factor.label] for p in points]
        if loaded.spec.design.kind == "grid" or factor.values is not None:
            levels = list(dict.fromkeys(x))
            groups = [(level, np.array([v == level for v in x])) for level in levels]
        else:
            xs = np.asarray(x, float)
            edges = np.quantile(xs, np.linspace(0, 1, BINS + 1))
            which = np.clip(np.searchsorted(edges, xs, side="right") - 1, 0, BINS - 1)
            groups = [(float(xs[which == b].mean()), which == b) for b in range(BINS) if (which == b).any()]
        effects[factor.label] = [{"value": _num(level), "mean": _num(y[mask].mean()), "n": int(mask.sum())}
                                 for level, mask in groups]
    return effects


def sensitivity(loaded: LoadedSweep, y: np.ndarray) -> dict[str, dict[str, Any]]:
    """Sobol' indices with SALib: first order S1 and total ST with their 95% bootstrap half
    widths for a sobol design (Saltelli sampling, Jansen/Saltelli estimators); for random and
    Latin hypercube designs RBD-FAST's S1 only (ST needs the sobol design's structure)."""
    from shieldwall.sweep.design import salib_problem, unit_sample

    spec = loaded.spec
    problem = salib_problem(spec)
    labels = problem["names"]
    if not np.isfinite(y).all() or float(np.var(y)) == 0.0:  # nothing varies: no factor explains anything
        return {label: {"S1": 0.0, "S1_conf": 0.0, "ST": 0.0, "ST_conf": 0.0} for label in labels}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if spec.design.kind == "sobol":
            from SALib.analyze import sobol

            res = sobol.analyze(problem, y, calc_second_order=spec.design.second_order, conf_level=0.95,
                                num_resamples=SOBOL_RESAMPLES, seed=spec.seed)
            return {label: {"S1": _num(res["S1"][i]), "S1_conf": _num(res["S1_conf"][i]),
                            "ST": _num(res["ST"][i]), "ST_conf": _num(res["ST_conf"][i])}
                    for i, label in enumerate(labels)}
        from SALib.analyze import rbd_fast

        res = rbd_fast.analyze(problem, unit_sample(spec), y, conf_level=0.95, seed=spec.seed)
        return {label: {"S1": _num(res["S1"][i]), "S1_conf": _num(res["S1_conf"][i]), "ST": None, "ST_conf": None}
                for i, label in enumerate(labels)}


def _ranking(out: dict[str, Any], output: str, labels: list[str]) -> list[dict[str, Any]]:
    """Factors from the most to the least important: by ST (sobol), S1 (other samples), or the
    spread of the main effect (grids)."""
    rows = []
    for label in labels:
        effect = [e["mean"] for e in out["main_effects"][output][label] if e["mean"] is not None]
        spread = (max(effect) - min(effect)) if effect else 0.0
        index = out.get("sensitivity", {}).get(output, {}).get(label, {})
        rows.append({"factor": label, "effect_range": spread, **index})
    key = "ST" if any(r.get("ST") is not None for r in rows) else "S1" if "sensitivity" in out else "effect_range"
    return sorted(rows, key=lambda r: -(r.get(key) if r.get(key) is not None else -math.inf))


def _best(points: list[dict[str, Any]], output: str) -> list[dict[str, Any]]:
    sign = -1.0 if higher_is_better(output) else 1.0
    ranked = sorted(points, key=lambda p: (sign * (p["outputs"][output]["mean"] or 0.0), p["point"]))
    return [{"point": p["point"], "factors": p["factors"], **p["outputs"][output]} for p in ranked[:BEST]]
