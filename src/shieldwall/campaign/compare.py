"""Two options, the same raids and random numbers: paired differences with 95% intervals.

Both files are run with one seed. Campaigns then see the same generated raids night by night
and, where the threats are the same, the same per-threat random numbers; raid scenarios the
same per-threat random numbers. So ``B - A`` per replication holds the option's effect and
little noise, and a small effect shows with few replications."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from shieldwall.engine.results import mean_ci95
from shieldwall.errors import UsageError


def paired(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """Means of A and B and of B - A, with the 95% Student-t interval of the paired mean."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    diff, ci = _t_interval(b - a)
    return {"a_mean": float(a.mean()), "b_mean": float(b.mean()), "difference_mean": diff, "difference_ci95": ci}


def _t_interval(x: np.ndarray) -> tuple[float, list[float]]:
    from scipy import stats

    mean = float(x.mean())
    if len(x) < 2:
        return mean, [mean, mean]
    half = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
    return mean, [mean - half, mean + half]


def compare_files(a: str | Path, b: str | Path, *, replications: int, seed: int | None) -> dict[str, Any]:
    from shieldwall.campaign.load import is_campaign_file

    kinds = [is_campaign_file(a), is_campaign_file(b)]
    if kinds[0] != kinds[1]:
        which = lambda k: "a campaign" if k else "a raid scenario"  # noqa: E731
        raise UsageError(f"compare needs two campaigns or two raid scenarios: {a} is {which(kinds[0])}, "
                         f"{b} is {which(kinds[1])}")
    return (compare_campaigns if kinds[0] else compare_scenarios)(a, b, replications=replications, seed=seed)


def compare_scenarios(a: str | Path, b: str | Path, *, replications: int, seed: int | None) -> dict[str, Any]:
    from shieldwall.engine.runner import run
    from shieldwall.scenario.load import load_scenario

    sa, sb = load_scenario(a), load_scenario(b)
    seed = seed if seed is not None else (sa.seed if sa.seed is not None else 0)
    ra, rb = run(sa, replications=replications, seed=seed), run(sb, replications=replications, seed=seed)
    metrics = {
        "leaked": paired(ra.leaked.sum(axis=1), rb.leaked.sum(axis=1)),
        "intercepted": paired(ra.killed.sum(axis=1), rb.killed.sum(axis=1)),
        "value_lost": paired(ra.value_lost.sum(axis=1), rb.value_lost.sum(axis=1)),
        "interceptor_cost_usd": paired(ra.interceptor_cost_usd, rb.interceptor_cost_usd),
    }
    same = ra.compiled.n_threats == rb.compiled.n_threats and ra.compiled.threat_type_ids == rb.compiled.threat_type_ids
    return {"kind": "raid", "a": str(a), "b": str(b), "replications": replications, "seed": seed,
            "common_random_numbers": bool(same), "metrics": metrics, "depletion_night": {}}


def compare_campaigns(a: str | Path, b: str | Path, *, replications: int, seed: int | None) -> dict[str, Any]:
    from shieldwall.campaign.load import load_campaign
    from shieldwall.campaign.run import run_campaign

    ca, cb = load_campaign(a), load_campaign(b)
    seed = seed if seed is not None else ca.seed
    ra = run_campaign(ca, replications=replications, seed=seed)
    rb = run_campaign(cb, replications=replications, seed=seed)
    ta, tb = ra.totals_by_replication(), rb.totals_by_replication()
    metrics = {name: paired(ta[name], tb[name]) for name in
               ("leaked", "intercepted", "value_lost", "interceptor_cost_usd", "launched")}
    depletion: dict[str, Any] = {}
    da, db = ra.depletion_nights(), rb.depletion_nights()
    for k in ra.interceptor_ids:
        if k not in rb.interceptor_ids:
            continue
        # a stock that never runs out counts as running out the night after the campaign:
        # the difference is then a lower bound
        x = np.where(da[:, ra.interceptor_ids.index(k)] > 0, da[:, ra.interceptor_ids.index(k)], ra.nights + 1)
        y = np.where(db[:, rb.interceptor_ids.index(k)] > 0, db[:, rb.interceptor_ids.index(k)], rb.nights + 1)
        entry = paired(x, y)
        entry["a_never"] = float((x > ra.nights).mean())
        entry["b_never"] = float((y > rb.nights).mean())
        depletion[k] = entry
    same_raids = bool(np.array_equal(ta["launched"], tb["launched"]))
    return {"kind": "campaign", "a": str(a), "b": str(b), "replications": replications, "seed": seed,
            "nights": [ra.nights, rb.nights], "common_random_numbers": same_raids, "metrics": metrics,
            "depletion_night": depletion,
            "note": "depletion night: a stock that never runs out counts as nights + 1 (censored)"}


__all__ = ["compare_files", "mean_ci95", "paired"]
