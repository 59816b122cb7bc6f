"""``backtest raids``: fit the raid generator on the record before a date, forecast a later period
with it, and compare the forecast with what the record says happened (docs/validation.md).

The forecast is the generator a campaign would use, sampled as a campaign samples it: ``paths``
futures (replications), each with its own parameters and month effects, each night drawn from
them. Compared per family and for the whole night:

- the distribution of night sizes (threats on a night the family came): Kolmogorov-Smirnov
  distance ``sup_x |F_record(x) - F_forecast(x)|`` between the record's test nights and every
  forecast night pooled, and median / p90 / p95 / max of both (the forecast's max is the median over
  futures of each future's largest night);
- monthly totals: the share of test months whose recorded total lies inside the forecast's 90 %
  interval (its 5th to 95th percentile over futures);
- the ratio of medians (forecast / record), and how often the family came;
- ``monthly_crps_log``: the mean continuous ranked probability score of ``log(1 + monthly total)``
  (a proper score of the whole forecast distribution, lower is better; 0 for a forecast that put
  all its mass on the recorded total), so that forecasts can be ranked beyond interval counts."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from shieldwall.campaign.calibrate import FAMILY_IDS, calibrate_raids, family_members
from shieldwall.campaign.generator import Generator
from shieldwall.campaign.model import GeneratorModel
from shieldwall.campaign.selection import crps_sample
from shieldwall.errors import UsageError
from shieldwall.scenario.record import ModelMap, read_record

PATHS = 2000
MAX_PATHS = 100_000
MAX_TEST_NIGHTS = 3660
WHOLE = "all"


def ks_distance(observed: np.ndarray, forecast: np.ndarray) -> float:
    """sup_x |F_obs(x) - F_fc(x)| for two samples of integers (exact: both are step functions
    that only jump at integers, so the sup is attained at one of their values)."""
    if not len(observed) or not len(forecast):
        return float("nan")
    grid = np.union1d(observed, forecast)
    f_obs = np.searchsorted(np.sort(observed), grid, side="right") / len(observed)
    f_fc = np.searchsorted(np.sort(forecast), grid, side="right") / len(forecast)
    return float(np.max(np.abs(f_obs - f_fc)))


def _quantiles(x: np.ndarray) -> dict[str, float | None]:
    if not len(x):
        return {"median": None, "p90": None, "p95": None, "mean": None}
    q = np.quantile(x, [0.5, 0.9, 0.95])
    return {"median": float(q[0]), "p90": float(q[1]), "p95": float(q[2]), "mean": round(float(np.mean(x)), 3)}


def compare(observed: np.ndarray, forecast: np.ndarray, months: list[str], month_of: np.ndarray) -> dict[str, Any]:
    """The comparison of one family (or the whole night): ``observed`` [night], ``forecast``
    [path, night] sizes; ``month_of`` [night] = index into ``months``."""
    obs_on = observed[observed > 0]
    fc_on = forecast[forecast > 0]
    monthly = []
    inside = []
    crps = []
    for m, label in enumerate(months):
        sel = month_of == m
        total = int(observed[sel].sum())
        fc = forecast[:, sel].sum(axis=1)
        lo, med, hi = (float(v) for v in np.quantile(fc, [0.05, 0.5, 0.95]))
        inside.append(lo <= total <= hi)
        crps.append(crps_sample(np.log1p(fc), float(np.log1p(total))))
        monthly.append({"month": label, "nights": int(sel.sum()), "recorded": total, "p5": lo, "median": med,
                        "p95": hi, "inside_90": bool(inside[-1])})
    recorded_q, forecast_q = _quantiles(obs_on), _quantiles(fc_on)
    recorded_q["max"] = int(obs_on.max()) if len(obs_on) else None
    largest = forecast.max(axis=1)
    forecast_q["max"] = float(np.median(largest))
    forecast_q["max_p95"] = float(np.quantile(largest, 0.95))
    ratio = (forecast_q["median"] / recorded_q["median"]
             if recorded_q["median"] and forecast_q["median"] is not None else None)
    return {
        "nights": int(len(observed)), "nights_with": int(len(obs_on)),
        "share_of_nights": {"recorded": round(len(obs_on) / max(len(observed), 1), 4),
                            "forecast": round(float((forecast > 0).mean()), 4)},
        "ks_night_size": None if not len(obs_on) else round(ks_distance(obs_on, fc_on), 4),
        "median_ratio": None if ratio is None else round(ratio, 4),
        "monthly_coverage_90": round(float(np.mean(inside)), 4) if inside else None,
        "monthly_crps_log": round(float(np.mean(crps)), 4) if crps else None,
        "recorded": recorded_q, "forecast": forecast_q, "monthly": monthly,
        "total": {"recorded": int(observed.sum()), "forecast_median": float(np.median(forecast.sum(axis=1))),
                  "forecast_p5": float(np.quantile(forecast.sum(axis=1), 0.05)),
                  "forecast_p95": float(np.quantile(forecast.sum(axis=1), 0.95))},
    }


def forecast_nights(gen: Generator, nights: list[dt.date], paths: int, seed: int) -> np.ndarray:
    """[path, night, threat] counts: each path one future (a campaign's replication), each night
    drawn from its own stream (SeedSequence([seed, night index]))."""
    futures = gen.paths(np.random.default_rng(np.random.SeedSequence([seed, 0x7A7E])), paths, nights[0], nights[-1])
    out = np.zeros((paths, len(nights), len(gen.threat_ids)), np.int64)
    for i, night in enumerate(nights):
        rng = np.random.default_rng(np.random.SeedSequence([seed, i, 1]))
        out[:, i] = gen.sample(rng, paths, night, futures)
    return out


def backtest_raids(record: str | Path, fit_until: dt.date, test_from: dt.date, test_until: dt.date | None = None, *,
                   method: str = "trend", half_life_months: float | None = 12.0, paths: int = PATHS, seed: int = 0,
                   model_map: ModelMap | None = None, fit_from: dt.date | None = None) -> dict[str, Any]:
    """The backtest's JSON (a dict): the generator fitted on nights before ``fit_until``, its
    forecast of ``test_from`` .. ``test_until`` (default: the record's last night), compared."""
    if test_from < fit_until:
        raise UsageError(f"--test-from ({test_from}) is before --fit-until ({fit_until}): the test would see "
                         "fitted nights")
    if not 1 <= paths <= MAX_PATHS:
        raise UsageError(f"paths must be from 1 to {MAX_PATHS:,}, got {paths}")
    full = read_record(record, model_map=model_map)
    test_until = test_until or full.last
    if test_until < test_from:
        raise UsageError(f"--test-until ({test_until}) is before --test-from ({test_from})")
    if (test_until - test_from).days + 1 > MAX_TEST_NIGHTS:
        raise UsageError(f"the test period is longer than {MAX_TEST_NIGHTS} nights")
    if fit_until <= full.first:
        raise UsageError(f"--fit-until ({fit_until}) leaves no night to fit: the record starts on {full.first}")
    doc = calibrate_raids(record, method=method, start=fit_from, end=fit_until - dt.timedelta(days=1),
                          half_life_months=half_life_months, model_map=model_map)
    gen = Generator(GeneratorModel.model_validate(doc))
    nights = [test_from + dt.timedelta(days=i) for i in range((test_until - test_from).days + 1)]
    counts = forecast_nights(gen, nights, paths, seed)
    observed_nights = full.nights()
    members = family_members(full.model_map.as_dict())
    months = sorted({n.strftime("%Y-%m") for n in nights})
    month_of = np.array([months.index(n.strftime("%Y-%m")) for n in nights])
    by_family: dict[str, Any] = {}
    whole_obs = np.zeros(len(nights), np.int64)
    whole_fc = counts.sum(axis=2)
    for cls, threats in members.items():
        fid = FAMILY_IDS[cls]
        obs = np.array([sum(observed_nights.get(n, Counter()).get(t, 0) for t in threats) for n in nights])
        whole_obs += obs
        cols = [gen.threat_ids.index(t) for t in threats if t in gen.threat_ids]
        fc = counts[:, :, cols].sum(axis=2) if cols else np.zeros((paths, len(nights)), np.int64)
        by_family[fid] = compare(obs, fc, months, month_of)
    test = compare(whole_obs, whole_fc, months, month_of)
    test.update({"from": str(test_from), "until": str(test_until), "by_family": by_family})
    return {
        "kind": "backtest-raids",
        "record": full.bookkeeping(),
        "fit": {"until": str(fit_until), "last_night_fitted": doc["provenance"]["last_night"],
                "first_night_fitted": doc["provenance"]["first_night"], "method": method,
                "half_life_months": half_life_months if method != "stationary" else None, "generator": doc},
        "forecast": {"paths": paths, "seed": seed,
                     "note": "each path is one future (its own parameters and month effects), as a campaign "
                             "replication draws it"},
        "test": test,
    }


def write_backtest(doc: dict[str, Any], out: str | Path, name: str) -> Path:
    """``name`` (a JSON file) in ``out``, written whole or not at all."""
    import json
    import os

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    tmp = path.with_name(f".{name}.{os.getpid()}.part")
    tmp.write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
