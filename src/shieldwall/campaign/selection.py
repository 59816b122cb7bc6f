"""Which model a family's forecast follows, chosen by the fitted data alone: rolling-origin
cross-validation inside the fitting window, and stacking (docs/campaign.md#the-trend-generator).

Candidates per family: the ``regression`` (campaign/trend.py: log-linear trend, discounted ML,
AR(1) month effect), a ``local-level`` and a ``local-linear-trend`` state-space model
(campaign/statespace.py). The procedure, the same at every origin:

1. inner origins: the end of every calendar month of the window from the sixth on, except the
   last; at each, every candidate is fitted on the nights up to it and forecasts the following
   months (up to 6, never past the window) with 400 futures, drawn as a campaign draws them;
2. each forecast month is scored with the continuous ranked probability score (CRPS, a proper
   scoring rule: Gneiting & Raftery 2007) of ``log(1 + the family's monthly total)`` (the log keeps
   months of 300 and of 3,000 threats on one scale);
3. the weights (a grid of step 0.1 on the simplex) are those whose mixture (each future follows
   one candidate, drawn by weight) has the lowest mean CRPS over all scored months: stacking of
   predictive distributions (Yao, Vehtari, Simpson & Gelman 2018), here with the CRPS;
4. fewer than 6 scored months: equal weights. A candidate that cannot be fitted (a state-space
   model needs 4 months with the family) is replaced by the regression, in scoring and in the
   final mixture.

No number in it was tuned on a backtest: horizon 6 months (the campaigns' and the issue's), a
minimum of 6 months to fit, 400 futures, the grid's step."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import numpy as np

from shieldwall.campaign.model import Component, Trend
from shieldwall.campaign.statespace import KINDS, fit_state_family
from shieldwall.campaign.trend import FamilyPaths, draw_sizes, fit_family, month_index

CANDIDATES = ("regression", *KINDS)
HORIZON_MONTHS = 6
MIN_TRAIN_MONTHS = 6
MIN_SCORED_MONTHS = 6
CV_PATHS = 400
WEIGHT_STEP = 0.1
MAX_INNER_ORIGINS = 36  # a bound on the fit's time: older inner origins weigh < 1/8 after discounting
CV_SEED = 0x5E1EC7
DISCOUNT_SCORES = True


def crps_sample(samples: np.ndarray, observed: float) -> float:
    """CRPS of the empirical distribution of ``samples`` at ``observed``:
    ``E|X - y| - E|X - X'| / 2`` (exact for the sample's own distribution)."""
    x = np.sort(np.asarray(samples, float))
    n = len(x)
    spread = np.sum((2.0 * np.arange(1, n + 1) - n - 1.0) * x) / (n * n)
    return float(np.mean(np.abs(x - observed)) - spread)


def weight_grid(k: int, step: float = WEIGHT_STEP) -> list[tuple[float, ...]]:
    """Every weight vector of length k on the simplex with entries a multiple of ``step``."""
    units = int(round(1.0 / step))
    return [tuple(c / units for c in combo) for combo in itertools.product(range(units + 1), repeat=k)
            if sum(combo) == units]


def stack(cases: list[tuple[float, dict[str, np.ndarray]]], names: tuple[str, ...] = CANDIDATES,
          step: float = WEIGHT_STEP, case_weights: np.ndarray | None = None
          ) -> tuple[tuple[float, ...], float, dict[str, float]]:
    """(weights, the mixture's mean CRPS, each candidate's mean CRPS) over ``cases`` (observed,
    samples per candidate, all with as many samples; means weighted by ``case_weights``): the
    mixture with weights w takes the first ``round(w * n)`` samples of each candidate."""
    cw = np.ones(len(cases)) if case_weights is None else np.asarray(case_weights, float)
    cw = cw / cw.sum()
    single = {name: float(np.dot(cw, [crps_sample(s[name], obs) for obs, s in cases])) for name in names}
    best: tuple[float, tuple[float, ...]] | None = None
    for weights in weight_grid(len(names), step):
        score = 0.0
        for w_case, (obs, samples) in zip(cw, cases):
            n = len(samples[names[0]])
            counts = np.round(np.asarray(weights) * n).astype(int)
            score += w_case * crps_sample(np.concatenate([samples[nm][:c] for nm, c in zip(names, counts)]), obs)
        if best is None or score < best[0] - 1e-12:
            best = (score, weights)
    assert best is not None
    return best[1], float(best[0]), single


def fit_candidates(nights: list[dt.date], sizes: np.ndarray, half_life_months: float | None) -> dict[str, Any]:
    """Each candidate fitted on one family's nights (a state-space one None when it cannot be)."""
    out: dict[str, Any] = {"regression": fit_family(nights, sizes, nights[-1], half_life_months)}
    for kind in KINDS:
        out[kind] = fit_state_family(nights, sizes, kind)
    return out


def _monthly_totals(fitted: dict[str, Any], name: str, origin: dt.date, nights: list[dt.date], months: np.ndarray,
                    rng: np.random.Generator, paths: int) -> np.ndarray:
    """[paths, month] totals of one candidate's futures over ``nights`` (``months``: index of each)."""
    trend = Trend.model_validate(fitted["regression"]["trend"])
    part = fitted.get(name) if name != "regression" else None
    mixture = None if part is None else [Component.model_validate({**part, "weight": 1.0})]
    fp = FamilyPaths(trend, mixture, origin, rng, paths, max(month_index(origin, nights[-1]), 0))
    totals = np.zeros((paths, int(months.max()) + 1))
    for night, m in zip(nights, months):
        totals[:, m] += draw_sizes(rng, *fp.night(night))
    return totals


def select_weights(nights: list[dt.date], sizes: np.ndarray, half_life_months: float | None,
                   final: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per family (columns of ``sizes`` [night, family], every night of the window): the weights of
    its candidates and the cross-validation's scores. ``final``: each family's candidates fitted on
    the whole window (a state-space one that could not be fitted gets no weight)."""
    keys = np.array([n.year * 12 + n.month - 1 for n in nights])
    months = np.unique(keys)
    cases: list[list[tuple[float, dict[str, np.ndarray]]]] = [[] for _ in range(sizes.shape[1])]
    ages: list[list[float]] = [[] for _ in range(sizes.shape[1])]
    inner = months[MIN_TRAIN_MONTHS - 1:-1][-MAX_INNER_ORIGINS:]
    for j, key in enumerate(inner):
        train = keys <= key
        test = (keys > key) & (keys <= key + HORIZON_MONTHS)
        test_nights = [n for n, t in zip(nights, test) if t]
        test_month = keys[test] - key - 1
        train_nights = [n for n, t in zip(nights, train) if t]
        for f in range(sizes.shape[1]):
            if not (sizes[train, f] > 0).any():
                continue
            fitted = fit_candidates(train_nights, sizes[train, f], half_life_months)
            samples = {}
            for c, name in enumerate(CANDIDATES):
                rng = np.random.default_rng(np.random.SeedSequence([CV_SEED, j, f, c]))
                use = name if fitted.get(name) is not None else "regression"
                samples[name] = np.log1p(_monthly_totals(fitted, use, train_nights[-1], test_nights, test_month, rng,
                                                         CV_PATHS))
            observed = np.bincount(test_month, weights=sizes[test, f], minlength=samples["regression"].shape[1])
            for m in range(len(observed)):
                cases[f].append((float(np.log1p(observed[m])), {k: v[:, m] for k, v in samples.items()}))
                ages[f].append(float(months[-1] - (key + 1 + m)))
    out = []
    for f, family_cases in enumerate(cases):
        available = [name for name in CANDIDATES if name == "regression" or final[f].get(name) is not None]
        report: dict[str, Any] = {"months_scored": len(family_cases),
                                  "inner_origins": [f"{k // 12:04d}-{k % 12 + 1:02d}"
                                                    for k in (inner[:1].tolist() + inner[-1:].tolist())]}
        if len(family_cases) < MIN_SCORED_MONTHS:
            weights = {name: (1.0 / len(available) if name in available else 0.0) for name in CANDIDATES}
            report["rule"] = f"fewer than {MIN_SCORED_MONTHS} scored months: equal weights"
        else:
            age = np.asarray(ages[f])
            discount = (np.ones(len(age)) if half_life_months is None or not DISCOUNT_SCORES
                        else 0.5 ** (age / half_life_months))
            w, score, single = stack(family_cases, case_weights=discount)
            weights = dict(zip(CANDIDATES, w))
            report["crps"] = {**{k: round(v, 4) for k, v in single.items()}, "mixture": round(score, 4)}
            report["rule"] = "stacking: the weights whose mixture has the lowest mean CRPS"
        for name in CANDIDATES:
            if name not in available:
                weights["regression"] += weights[name]
                weights[name] = 0.0
        report["weights"] = {k: round(v, 6) for k, v in weights.items()}
        out.append(report)
    return out
