"""A raid generator that follows the trend: per family, a log-linear negative-binomial count model
with a trend (the ``regression``), fitted by (discounted) maximum likelihood, its parameter
uncertainty carried into every forecast; and the sampling of a family's futures when it is a
mixture of the regression and state-space models (``FamilyPaths``; campaign/statespace.py,
campaign/selection.py; docs/campaign.md#the-trend-generator).

Per family and night ``t`` (``tau`` = months from the last night fitted, negative before):

- the family comes with ``P = logistic(a + b tau)`` (a logistic regression with a trend);
- on a night it comes it brings ``1 + NegBinomial(mean mu, dispersion k)`` threats,
  ``log mu = c + d tau + u_month`` (a negative-binomial (NB2) log-linear regression with a trend);
- ``u_month`` is a month effect, AR(1) across months: the record's monthly totals vary more than
  nights drawn independently would (strike campaigns, pauses), and a month's level carries into the
  next. Its standard deviation and correlation come from the fitted months' residuals by moments
  (the nights' own sampling variance taken out); the forecast starts from the last month's effect,
  shrunk towards 0 by its precision (the best linear predictor).

Why these: counts of threats per night are over-dispersed (variance far above the mean), so a
Poisson model would understate every interval; a negative binomial with a log link is the standard
model for such counts, and its trend extrapolates growth multiplicatively, as production-driven
raids grow. Nothing caps a size at the largest seen.

Fit: maximum likelihood with scipy (BFGS on analytic scores). Observations are weighted
``0.5 ** (age / half_life)`` (``half_life_months``; default 12, ``None``: all nights alike), so the
trend follows the last year or so rather than the whole war. Uncertainty: the parameters'
covariance is the cluster-robust (sandwich) estimate with months as clusters, since nights of one
month share its effect and are not independent; each replication of a forecast draws its own
parameters from the normal approximation, so the uncertainty of the trend's extrapolation grows
with the horizon (the slope's variance times tau squared), and each draws its own month effects."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np

MONTH_DAYS = 30.4375
HALF_LIFE_MONTHS = 12.0
MAX_RHO = 0.95


def months_between(origin: dt.date, night: dt.date) -> float:
    return (night - origin).days / MONTH_DAYS


def _expit1(x: float) -> float:
    try:
        return 1.0 / (1.0 + math.exp(-x))
    except OverflowError:  # exp(-x) beyond the largest double: scipy gives 0 there too
        return 0.0


def expit(x: np.ndarray) -> np.ndarray:
    """``scipy.special.expit`` (1 / (1 + exp(-x))), value for value: the C library's exp, as
    SciPy's (NumPy's own vectorised exp differs in the last bit for ~2 % of inputs on some CPUs,
    which would make a campaign's raids depend on the machine). Every campaign night calls it;
    importing scipy.special for it cost 0.15-0.2 s of each campaign (tests/test_trend_models.py
    compares the two)."""
    flat = np.asarray(x, float)
    return np.fromiter(map(_expit1, flat.ravel().tolist()), float, flat.size).reshape(flat.shape)


def month_index(origin: dt.date, night: dt.date) -> int:
    """Calendar months after the origin's month (0: the origin's own month, negative before)."""
    return (night.year - origin.year) * 12 + night.month - origin.month


def _logistic_fit(tau: np.ndarray, come: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b), Hessian of the weighted negative log-likelihood, per-night scores."""
    from scipy import optimize, special

    X = np.stack([np.ones_like(tau), tau], axis=1)

    def nll(th: np.ndarray) -> tuple[float, np.ndarray]:
        eta = X @ th
        p = special.expit(eta)
        return float(-(w * (come * eta - np.logaddexp(0.0, eta))).sum()), -(X * (w * (come - p))[:, None]).sum(0)

    start = np.array([special.logit(np.clip(np.average(come, weights=w), 0.01, 0.99)), 0.0])
    th = optimize.minimize(nll, start, jac=True, method="BFGS").x
    p = special.expit(X @ th)
    hess = (X * (w * p * (1 - p))[:, None]).T @ X
    scores = X * (w * (come - p))[:, None]
    return th, hess, scores


def _nb_scores(th: np.ndarray, tau: np.ndarray, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per-night scores (d log-likelihood / d (c, d, log k)), weighted."""
    from scipy import special

    c, d, lk = th
    k, mu = np.exp(lk), np.exp(c + d * tau)
    d_eta = k * (x - mu) / (k + mu)
    d_lk = k * (special.digamma(x + k) - special.digamma(k) + np.log(k / (k + mu)) + 1.0 - (x + k) / (k + mu))
    return np.stack([d_eta, d_eta * tau, d_lk], axis=1) * w[:, None]


def _nb_fit(tau: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(c, d, log k) of ``x ~ NB2(exp(c + d tau), k)``, Hessian, per-night scores."""
    from scipy import optimize, special

    def nll(th: np.ndarray) -> tuple[float, np.ndarray]:
        c, d, lk = th
        k, mu = np.exp(lk), np.exp(c + d * tau)
        ll = (special.gammaln(x + k) - special.gammaln(k) - special.gammaln(x + 1.0)
              + k * np.log(k / (k + mu)) + x * np.log(mu / (k + mu)))
        return float(-(w * ll).sum()), -_nb_scores(th, tau, x, w).sum(0)

    mean = max(float(np.average(x, weights=w)), 0.05)
    var = float(np.average((x - mean) ** 2, weights=w))
    k0 = mean * mean / (var - mean) if var > mean * 1.01 else 50.0
    th = optimize.minimize(nll, np.array([np.log(mean), 0.0, np.log(np.clip(k0, 0.05, 50.0))]), jac=True,
                           method="BFGS").x
    th[2] = np.clip(th[2], np.log(1e-3), np.log(1e4))
    # Hessian: central differences of the analytic total score
    hess = np.zeros((3, 3))
    for i in range(3):
        step = np.zeros(3)
        step[i] = 1e-5 * max(1.0, abs(th[i]))
        hess[:, i] = -(_nb_scores(th + step, tau, x, w).sum(0) - _nb_scores(th - step, tau, x, w).sum(0)) / (2 * step[i])
    hess = 0.5 * (hess + hess.T)
    return th, hess, _nb_scores(th, tau, x, w)


def _sandwich(hess: np.ndarray, scores: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """Cluster-robust covariance H^-1 (sum over clusters of g g') H^-1."""
    inv = np.linalg.pinv(hess)
    by_cluster = np.zeros((int(clusters.max()) + 1, scores.shape[1]))
    np.add.at(by_cluster, clusters, scores)
    cov = inv @ (by_cluster.T @ by_cluster) @ inv
    return 0.5 * (cov + cov.T)


def _month_effect(months: np.ndarray, x: np.ndarray, mu: np.ndarray, k: float, w: np.ndarray) -> dict[str, float]:
    """AR(1) month effect by moments from months' residuals log(observed / fitted) of the size mean."""
    ids = np.unique(months)
    r = np.zeros(len(ids))
    v = np.zeros(len(ids))
    wm = np.zeros(len(ids))
    for i, m in enumerate(ids):
        sel = months == m
        fitted = mu[sel].sum()
        r[i] = np.log((x[sel].sum() + 0.5) / (fitted + 0.5))
        v[i] = (mu[sel] + mu[sel] ** 2 / k).sum() / (fitted + 0.5) ** 2  # the nights' own sampling variance
        wm[i] = w[sel].mean()
    if len(ids) < 3:
        return {"sd": 0.0, "rho": 0.0, "last": 0.0}
    s2 = max(float(np.average(r * r - v, weights=wm)), 0.0)
    consecutive = np.diff(ids) == 1
    rho = 0.0
    if s2 > 0 and consecutive.any():
        lag = float(np.average((r[1:] * r[:-1])[consecutive], weights=wm[1:][consecutive]))
        rho = float(np.clip(lag / s2, 0.0, MAX_RHO))
    last = float(r[-1] * s2 / (s2 + v[-1])) if s2 > 0 else 0.0
    return {"sd": round(float(np.sqrt(s2)), 6), "rho": round(rho, 6), "last": round(last, 6)}


def fit_family(nights: list[dt.date], sizes: np.ndarray, origin: dt.date,
               half_life_months: float | None = HALF_LIFE_MONTHS) -> dict[str, Any]:
    """The ``trend`` block of one family from its size on every night of the window (0 = it did
    not come), plus the origin's probability and size for readers."""
    from scipy import special

    sizes = np.asarray(sizes, float)
    tau = np.array([months_between(origin, n) for n in nights])
    months = np.array([month_index(origin, n) for n in nights])
    months = months - months.min()
    w = np.ones(len(tau)) if half_life_months is None else 0.5 ** (-tau / float(half_life_months))
    come = (sizes > 0).astype(float)
    occ, occ_hess, occ_scores = _logistic_fit(tau, come, w)
    occ_cov = _sandwich(occ_hess, occ_scores, months)
    sel = sizes > 0
    if sel.sum() >= 3:
        size, size_hess, size_scores = _nb_fit(tau[sel], sizes[sel] - 1.0, w[sel])
        size_cov = _sandwich(size_hess, size_scores, months[sel])
        k = float(np.exp(size[2]))
        effect = _month_effect(months[sel], sizes[sel] - 1.0, np.exp(size[0] + size[1] * tau[sel]), k, w[sel])
    else:  # too few nights to fit a trend in the size: its mean, no trend, wide uncertainty
        mean = max(float(sizes[sel].mean() - 1.0) if sel.any() else 0.5, 0.05)
        size = np.array([np.log(mean), 0.0, 0.0])
        size_cov = np.diag([1.0, 0.01, 1.0])
        effect = {"sd": 0.0, "rho": 0.0, "last": 0.0}
    mu0, k0 = float(np.exp(size[0])), float(np.exp(size[2]))
    return {
        "probability": round(float(special.expit(occ[0])), 6),
        "size": {"distribution": "negative-binomial", "n": round(k0, 6), "p": round(k0 / (k0 + mu0), 8),
                 "max": int(sizes.max()) if sizes.max() > 0 else 1, "mean": round(1.0 + mu0, 3),
                 "observed_nights": int(sel.sum())},
        "trend": {
            "occurrence": [round(float(occ[0]), 6), round(float(occ[1]), 6)],
            "occurrence_covariance": np.round(occ_cov, 8).tolist(),
            "log_mean": [round(float(size[0]), 6), round(float(size[1]), 6)],
            "log_dispersion": round(float(size[2]), 6),
            "size_covariance": np.round(size_cov, 8).tolist(),
            "month_effect": effect,
        },
    }


# --- sampling ----------------------------------------------------------------------------------------


def _mvn(rng: np.random.Generator, mean: list[float], cov: list[list[float]], n: int) -> np.ndarray:
    """n draws of N(mean, cov); a covariance that is not positive semi-definite (rounding) is
    clipped to its nearest one."""
    cov_a = np.asarray(cov, float)
    values, vectors = np.linalg.eigh(0.5 * (cov_a + cov_a.T))
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    return np.asarray(mean, float)[None, :] + rng.standard_normal((n, len(mean))) @ root.T


class FamilyPaths:
    """One family's futures, one per replication: the component it follows (drawn by the
    mixture's weights; the regression alone without one), that component's parameters and month
    effects (regression) or monthly states (state-space), drawn once and used for every night."""

    def __init__(self, trend: Any, mixture: list[Any] | None, origin: dt.date, rng: np.random.Generator, n: int,
                 horizon: int) -> None:
        from shieldwall.campaign.statespace import simulate_series

        self.origin = origin
        parts = list(mixture) if mixture else [None]
        weights = np.array([1.0 if p is None else p.weight for p in parts], float)
        self.component = (rng.choice(len(parts), size=n, p=weights / weights.sum()) if len(parts) > 1
                          else np.zeros(n, np.int64))
        self.states: list[tuple[np.ndarray, np.ndarray, float] | None] = []
        for part in parts:
            if part is None or part.model == "regression":
                self.states.append(None)
            else:
                self.states.append((simulate_series(rng, part.occurrence, n, horizon),
                                    simulate_series(rng, part.size, n, horizon), float(np.exp(part.log_dispersion))))
        self.regression = trend is not None and any(s is None for s in self.states)
        if self.regression:
            self.occurrence = _mvn(rng, trend.occurrence, trend.occurrence_covariance, n)
            self.size = _mvn(rng, [*trend.log_mean, trend.log_dispersion], trend.size_covariance, n)
            eff = trend.month_effect
            u = np.zeros((n, horizon + 1))
            u[:, 0] = eff.last
            noise = eff.sd * np.sqrt(1.0 - eff.rho ** 2) * rng.standard_normal((n, horizon))
            for m in range(1, horizon + 1):
                u[:, m] = eff.rho * u[:, m - 1] + noise[:, m - 1]
            self.effects = u

    def night(self, night: dt.date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(P(comes), size mean - 1, dispersion k) per replication on ``night``."""
        n = len(self.component)
        p, mu, k = np.zeros(n), np.zeros(n), np.ones(n)
        m = month_index(self.origin, night)
        for c, state in enumerate(self.states):
            sel = self.component == c
            if not sel.any():
                continue
            if state is None:
                tau = months_between(self.origin, night)
                occ, size = self.occurrence[sel], self.size[sel]
                u = self.effects[sel, min(m, self.effects.shape[1] - 1)] if m >= 0 else 0.0
                p[sel] = expit(occ[:, 0] + occ[:, 1] * tau)
                mu[sel] = np.exp(size[:, 0] + size[:, 1] * tau + u)
                k[sel] = np.exp(size[:, 2])
            else:
                occ_s, size_s, disp = state
                col = min(max(m, 0), occ_s.shape[1] - 1)
                p[sel] = expit(occ_s[sel, col])
                mu[sel] = np.maximum(np.exp(np.minimum(size_s[sel, col], 30.0)) - 1.0, 0.0)
                k[sel] = disp
        return p, mu, k


class TrendPaths:
    """One forecast path per replication for every family (``FamilyPaths``), and the user's
    stated futures (``what_if``) in place of a family's fit."""

    def __init__(self, families: list[Any], origin: dt.date, rng: np.random.Generator, n: int,
                 last_night: dt.date, what_if: list[Any] | None = None, first_night: dt.date | None = None) -> None:
        self.origin = origin
        self.first_night = first_night or origin
        self.what_if = what_if or [None] * len(families)
        horizon = max(month_index(origin, last_night), 0)
        self.families = [FamilyPaths(f.trend, f.mixture, origin, rng, n, horizon) for f in families]

    def night(self, f: int, night: dt.date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(P(comes), size mean - 1, dispersion k) per replication for family f on ``night``."""
        p, mu, k = self.families[f].night(night)
        stated = self.what_if[f]
        if stated is not None:
            months = months_between(self.first_night, night)
            per_night = stated.per_month / MONTH_DAYS * (1.0 + stated.growth_per_month) ** months
            mu = np.maximum(per_night / np.maximum(p, 1e-9) - 1.0, 0.0)
        return p, mu, k


def draw_sizes(rng: np.random.Generator, p: np.ndarray, mu: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Threats of a family per replication: 0 unless it comes, then 1 + NegBinomial(mu, k)."""
    comes = rng.random(len(p)) < p
    mu = np.minimum(mu, 1e7)  # a bound on memory and time, far beyond any raid
    return np.where(comes, 1 + rng.negative_binomial(k, k / (k + mu)), 0).astype(np.int64)
