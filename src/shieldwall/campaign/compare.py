"""Two options, the same raids and random numbers: paired differences with 95% intervals.

Both are run with one seed. Campaigns then see the same generated raids night by night and,
where the threats are the same, the same per-threat random numbers; raid scenarios the same
per-threat random numbers. So ``B - A`` per replication holds the option's effect and little
noise, and a small effect shows with few replications.

A and B must be two options of one question: the same kind (two raid scenarios or two
campaigns), the same defended assets, the same raids (or the same campaign dates). Anything else
(``small`` against ``city-defence``) is refused with what differs: a difference between two
unrelated scenarios is not an option's effect. The CLI's ``compare`` and the web app's Compare
both call ``compare_files``/``compare_inputs``: one comparison, one set of rules. Each metric
says whether higher is better, so that a page can colour a difference by what it means.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from shieldwall.engine.results import mean_ci95
from shieldwall.errors import UsageError
from shieldwall.limits import CAMPAIGN_REPLICATIONS, RAID_REPLICATIONS

if TYPE_CHECKING:  # pragma: no cover
    from shieldwall.campaign.load import LoadedCampaign
    from shieldwall.scenario.model import Scenario

# metric -> (label, higher is better: True, False, or None where neither)
METRICS: dict[str, tuple[str, bool | None]] = {
    "launched": ("threats launched", None),
    "intercepted": ("intercepted", True),
    "leaked": ("leaked", False),
    "leaked_armed": ("leaked, armed (no decoys)", False),
    "value_lost": ("value lost (asset units)", False),
    "interceptor_cost_usd": ("interceptors spent", False),
}


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


def _metric(name: str, a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    label, higher_better = METRICS[name]
    return {**paired(a, b), "label": label, "higher_is_better": higher_better}


def verdict(metric: dict[str, Any]) -> str:
    """What B - A means for one metric: "better" or "worse" where its 95% interval excludes 0
    (by whether higher is better), "no clear difference" where it holds 0, "" where higher is
    neither (threats launched)."""
    lo, hi = metric["difference_ci95"]
    better = metric.get("higher_is_better")
    if better is None:
        return ""
    if lo <= 0.0 <= hi:
        return "no clear difference"
    return "better" if (lo > 0.0) == better else "worse"


def default_replications(is_campaign: bool) -> int:
    return CAMPAIGN_REPLICATIONS if is_campaign else RAID_REPLICATIONS


def compare_files(a: str | Path, b: str | Path, *, replications: int | None = None, seed: int | None = None,
                  workers: int = 1, progress: Callable[[int], Any] | None = None) -> dict[str, Any]:
    """B - A of two files of one kind (see the module's docstring); ``progress(n)`` as A's then
    B's replications (raids) or nights (campaigns) finish."""
    from shieldwall.campaign.load import is_campaign_file, load_campaign
    from shieldwall.scenario.load import load_scenario

    kinds = [is_campaign_file(a), is_campaign_file(b)]
    check_kinds(str(a), str(b), *kinds)
    if kinds[0]:
        inputs: tuple[Any, Any] = (load_campaign(a), load_campaign(b))
    else:
        inputs = (load_scenario(a), load_scenario(b))
    return compare_inputs(*inputs, labels=(str(a), str(b)), replications=replications, seed=seed, workers=workers,
                          progress=progress)


def check_kinds(a: str, b: str, a_is_campaign: bool, b_is_campaign: bool) -> None:
    if a_is_campaign != b_is_campaign:
        which = lambda k: "a campaign" if k else "a raid scenario"  # noqa: E731
        raise UsageError(f"compare needs two campaigns or two raid scenarios: {a} is {which(a_is_campaign)}, "
                         f"{b} is {which(b_is_campaign)}")


def compare_inputs(a: "Scenario | LoadedCampaign", b: "Scenario | LoadedCampaign", *, labels: tuple[str, str],
                   replications: int | None = None, seed: int | None = None, workers: int = 1,
                   progress: Callable[[int], Any] | None = None) -> dict[str, Any]:
    """B - A of two loaded scenarios or two loaded campaigns (what ``compare_files`` loads, or
    what the web app has), refused unless they are two options of one question."""
    from shieldwall.campaign.load import LoadedCampaign

    check_kinds(labels[0], labels[1], isinstance(a, LoadedCampaign), isinstance(b, LoadedCampaign))
    check_comparable(a, b, labels)
    n = replications if replications is not None else default_replications(isinstance(a, LoadedCampaign))
    if n < 2:
        raise UsageError(f"a comparison needs at least 2 replications for its intervals, got {n}")
    if isinstance(a, LoadedCampaign):
        result = _compare_campaigns(a, b, n, seed, workers, progress)  # type: ignore[arg-type]
    else:
        result = _compare_scenarios(a, b, n, seed, workers, progress)  # type: ignore[arg-type]
    return {"a": labels[0], "b": labels[1], **result}


def check_comparable(a: Any, b: Any, labels: tuple[str, str]) -> None:
    """Refuse, saying what differs, two inputs that are not options of one question: other
    defended assets, other raids, or (campaigns) other dates."""
    from shieldwall.campaign.load import LoadedCampaign

    def facts(x: Any) -> dict[str, Any]:
        if isinstance(x, LoadedCampaign):
            return {"name": x.campaign.name, "assets": [s.id for s in x.theatre.assets],
                    "dates": f"{x.campaign.start_date}, {x.nights} nights"}
        return {"name": x.name, "assets": [s.id for s in x.assets], "raids": [r.id for r in x.raids]}

    fa, fb = facts(a), facts(b)
    problems = []
    if set(fa["assets"]) != set(fb["assets"]):
        problems.append(f"they defend other assets ({', '.join(fa['assets'])} against {', '.join(fb['assets'])})")
    if "raids" in fa and set(fa["raids"]) != set(fb["raids"]):
        problems.append(f"they face other raids ({', '.join(fa['raids'])} against {', '.join(fb['raids'])})")
    if "dates" in fa and fa["dates"] != fb["dates"]:
        problems.append(f"they cover other nights ({fa['dates']} against {fb['dates']})")
    if problems:
        raise UsageError(
            f"A ({fa['name']}, {labels[0]}) and B ({fb['name']}, {labels[1]}) are not two options of one scenario: "
            + "; ".join(problems) + ". Compare a scenario with itself changed (a battery moved or added, a stock, "
            "the doctrine): the difference is then that option's effect, on common random numbers.")


def _compare_scenarios(sa: "Scenario", sb: "Scenario", replications: int, seed: int | None, workers: int,
                       progress: Callable[[int], Any] | None) -> dict[str, Any]:
    from shieldwall.engine.runner import run

    seed = seed if seed is not None else (sa.seed if sa.seed is not None else 0)
    ra, rb = (run(s, replications=replications, seed=seed, workers=workers, progress=progress, engagements=0)
              for s in (sa, sb))

    def armed(r: Any) -> np.ndarray:
        decoy = np.asarray(r.compiled.threat_type_decoy or [False] * r.leaked.shape[1], bool)
        return r.leaked[:, ~decoy].sum(axis=1)

    per = {"launched": lambda r: r.launched.sum(axis=1), "intercepted": lambda r: r.killed.sum(axis=1),
           "leaked": lambda r: r.leaked.sum(axis=1), "leaked_armed": armed,
           "value_lost": lambda r: r.value_lost.sum(axis=1), "interceptor_cost_usd": lambda r: r.interceptor_cost_usd}
    metrics = {name: _metric(name, f(ra), f(rb)) for name, f in per.items()}
    same = ra.compiled.n_threats == rb.compiled.n_threats and ra.compiled.threat_type_ids == rb.compiled.threat_type_ids
    return {"kind": "raid", "scenario": [sa.name, sb.name], "replications": replications, "seed": seed,
            "common_random_numbers": bool(same), "metrics": metrics, "depletion_night": {}}


def _compare_campaigns(ca: "LoadedCampaign", cb: "LoadedCampaign", replications: int, seed: int | None, workers: int,
                       progress: Callable[[int], Any] | None) -> dict[str, Any]:
    from shieldwall.campaign.run import run_campaign

    seed = seed if seed is not None else ca.seed
    ra, rb = (run_campaign(c, replications=replications, seed=seed, workers=workers, progress=progress)
              for c in (ca, cb))
    ta, tb = ra.totals_by_replication(), rb.totals_by_replication()
    metrics = {name: _metric(name, ta[name], tb[name]) for name in METRICS if name in ta}
    depletion: dict[str, Any] = {}
    da, db = ra.depletion_nights(), rb.depletion_nights()
    for k in ra.interceptor_ids:
        if k not in rb.interceptor_ids:
            continue
        # a stock that never runs out counts as running out the night after the campaign:
        # the difference is then a lower bound
        x = np.where(da[:, ra.interceptor_ids.index(k)] > 0, da[:, ra.interceptor_ids.index(k)], ra.nights + 1)
        y = np.where(db[:, rb.interceptor_ids.index(k)] > 0, db[:, rb.interceptor_ids.index(k)], rb.nights + 1)
        entry = {**paired(x, y), "label": f"night {k} runs out", "higher_is_better": True}
        entry["a_never"] = float((x > ra.nights).mean())
        entry["b_never"] = float((y > rb.nights).mean())
        depletion[k] = entry
    same_raids = bool(np.array_equal(ta["launched"], tb["launched"]))
    return {"kind": "campaign", "scenario": [ca.campaign.name, cb.campaign.name], "replications": replications,
            "seed": seed, "nights": [ra.nights, rb.nights], "common_random_numbers": same_raids, "metrics": metrics,
            "depletion_night": depletion,
            "note": "depletion night: a stock that never runs out counts as nights + 1 (censored)"}


__all__ = ["compare_files", "compare_inputs", "mean_ci95", "paired", "verdict"]
