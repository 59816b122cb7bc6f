"""State-space models of a family's monthly intensity: a local level or a local linear trend
(stochastic slope), fitted by the Kalman filter's maximum likelihood (statsmodels), forecast by
simulating the state forward (docs/campaign.md#the-trend-generator).

Per family and calendar month ``m`` two series are modelled, each as ``value_m = level_m +
irregular_m`` (irregular ~ N(0, irregular_sd^2) plus the month's own sampling variance, known from
its nights):

- ``occurrence``: the logit of the share of nights the family came, ``logit((C + 1/2) / (D + 1))``
  (``C`` of ``D`` nights), sampling variance ``1 / ((D + 1) p (1 - p))``;
- ``size``: the log of the mean size on the nights it came, sampling variance
  ``(mu' + mu'^2 / k) / (C m^2)`` (``m`` the mean, ``mu' = m - 1``, ``k`` the negative binomial's
  dispersion); missing in a month it never came (the filter carries the state through).

Local level: ``level_{m+1} = level_m + eta`` (a random walk); local linear trend: also
``level_{m+1} = level_m + slope_m + eta``, ``slope_{m+1} = slope_m + zeta``. Why: the record's
intensity moves in steps and drifts that a fixed regression line cannot follow, and the forecast's
uncertainty must grow with the horizon (the random walk's variance grows with ``h``, a random slope's
with ``h^3``), while the known sampling variance keeps months of a few nights from being read as
changes of intensity. The forecast starts from the filtered state at the origin's month (its mean
and covariance: the uncertainty of the level and slope themselves)."""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

import numpy as np

KINDS = ("local-level", "local-linear-trend")
MIN_MONTHS = 4  # a series needs this many observed months to fit a state-space model
KNOWN_VAR_FLOOR = 1e-4


def _model_class() -> Any:
    from statsmodels.tsa.statespace.mlemodel import MLEModel

    class LocalTrend(MLEModel):  # type: ignore[misc]
        """level (+ slope) with an irregular whose variance adds to a known one per observation."""

        def __init__(self, y: np.ndarray, known_var: np.ndarray, kind: str) -> None:
            k = 1 if kind == "local-level" else 2
            super().__init__(y, k_states=k, k_posdef=k, initialization="diffuse")
            self.kind = kind
            self.known_var = np.asarray(known_var, float)
            self["design"] = np.eye(1, k)
            self["transition"] = np.eye(k) if k == 1 else np.array([[1.0, 1.0], [0.0, 1.0]])
            self["selection"] = np.eye(k)
            self["obs_cov"] = np.zeros((1, 1, len(y)))

        @property
        def param_names(self) -> list[str]:
            return ["irregular", "level", "slope"][: 1 + self.k_states]

        @property
        def start_params(self) -> np.ndarray:
            return np.full(1 + self.k_states, 0.1)

        def transform_params(self, unconstrained: np.ndarray) -> np.ndarray:
            return unconstrained ** 2  # variances from standard deviations: never negative

        def untransform_params(self, constrained: np.ndarray) -> np.ndarray:
            return np.sqrt(constrained)

        def update(self, params: np.ndarray, **kwargs: Any) -> None:
            params = super().update(params, **kwargs)
            self["obs_cov", 0, 0, :] = params[0] + self.known_var
            self["state_cov"] = np.diag(params[1:])

    return LocalTrend


def fit_series(values: np.ndarray, known_var: np.ndarray, kind: str) -> dict[str, Any] | None:
    """The block of one series (``StateSeries`` in the generator file), or None with fewer than
    MIN_MONTHS observed months (NaN = not observed) or when the likelihood cannot be maximised."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    values = np.asarray(values, float)
    if np.isfinite(values).sum() < MIN_MONTHS:
        return None
    model = _model_class()(values, np.maximum(np.nan_to_num(known_var, nan=0.0), KNOWN_VAR_FLOOR), kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = model.filter(model.fit(disp=False, maxiter=500, method="bfgs", return_params=True), cov_type="none")
        except (np.linalg.LinAlgError, ValueError):
            return None
    state = np.asarray(res.filtered_state[:, -1], float)
    cov = np.asarray(res.filtered_state_cov[:, :, -1], float)
    params = np.asarray(res.params, float)
    if not (np.isfinite(state).all() and np.isfinite(cov).all() and np.isfinite(params).all()):
        return None
    if kind == "local-level":
        state, cov = np.array([state[0], 0.0]), np.array([[cov[0, 0], 0.0], [0.0, 0.0]])
    cov = 0.5 * (cov + cov.T)
    sds = np.sqrt(np.maximum(params, 0.0))
    return {"state": [round(float(v), 6) for v in state], "covariance": np.round(cov, 8).tolist(),
            "level_sd": round(float(sds[1]), 6), "slope_sd": round(float(sds[2]) if kind != "local-level" else 0.0, 6),
            "irregular_sd": round(float(sds[0]), 6)}


def monthly_series(nights: list[dt.date], sizes: np.ndarray) -> dict[str, np.ndarray]:
    """Per calendar month of the window (in order): nights ``D``, nights the family came ``C``,
    mean size on those nights (NaN where none)."""
    keys = np.array([n.year * 12 + n.month - 1 for n in nights])
    months = np.unique(keys)
    sizes = np.asarray(sizes, float)
    D = np.array([(keys == m).sum() for m in months], float)
    C = np.array([((keys == m) & (sizes > 0)).sum() for m in months], float)
    mean = np.array([sizes[(keys == m) & (sizes > 0)].mean() if c else np.nan for m, c in zip(months, C)])
    return {"month_key": months, "nights": D, "came": C, "mean_size": mean, "key_of_night": keys}


def _dispersion(sizes: np.ndarray, keys: np.ndarray, months: np.ndarray, mean: np.ndarray) -> float:
    """k of ``size - 1 ~ NegBinomial(mean of its month - 1, k)`` by maximum likelihood: the nights'
    spread around their own month's mean (what a month's state cannot explain)."""
    from scipy import optimize, special

    came = sizes > 0
    x = sizes[came] - 1.0
    mu = np.maximum(mean[np.searchsorted(months, keys[came])] - 1.0, 1e-3)

    def nll(log_k: float) -> float:
        k = np.exp(log_k)
        return float(-np.sum(special.gammaln(x + k) - special.gammaln(k) - special.gammaln(x + 1.0)
                             + k * np.log(k / (k + mu)) + x * np.log(mu / (k + mu))))

    return float(np.exp(optimize.minimize_scalar(nll, bounds=(np.log(1e-2), np.log(1e4)), method="bounded").x))


def fit_state_family(nights: list[dt.date], sizes: np.ndarray, kind: str) -> dict[str, Any] | None:
    """A state-space component of one family (``model``, ``occurrence``, ``size``,
    ``log_dispersion``), from its size on every night of the window (0 = it did not come); None
    when either series cannot be fitted."""
    from scipy import special

    sizes = np.asarray(sizes, float)
    if (sizes > 0).sum() < 3:
        return None
    s = monthly_series(nights, sizes)
    D, C, mean = s["nights"], s["came"], s["mean_size"]
    k = _dispersion(sizes, s["key_of_night"], s["month_key"], mean)
    p = (C + 0.5) / (D + 1.0)
    occurrence = fit_series(special.logit(p), 1.0 / ((D + 1.0) * p * (1.0 - p)), kind)
    extra = np.where(C > 0, mean - 1.0, 0.0)
    size_var = np.where(C > 0, (extra + extra ** 2 / k) / (np.maximum(C, 1.0) * np.where(C > 0, mean, 1.0) ** 2), 0.0)
    size = fit_series(np.where(C > 0, np.log(np.where(C > 0, mean, 1.0)), np.nan), size_var, kind)
    if occurrence is None or size is None:
        return None
    return {"model": kind, "occurrence": occurrence, "size": size, "log_dispersion": round(float(np.log(k)), 6)}


def simulate_series(rng: np.random.Generator, series: Any, n: int, horizon: int) -> np.ndarray:
    """[n, horizon + 1] values of a series for months 0 (the origin's) .. horizon: each replication
    draws its state at month 0 from the filter's (mean, covariance), then moves it forward with
    the level's and slope's shocks; each month adds its irregular."""
    cov = np.asarray(series.covariance, float)
    values, vectors = np.linalg.eigh(0.5 * (cov + cov.T))
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    state = np.asarray(series.state, float)[None, :] + rng.standard_normal((n, 2)) @ root.T
    out = np.empty((n, horizon + 1))
    shocks = rng.standard_normal((horizon + 1, 3, n))
    for m in range(horizon + 1):
        if m:
            state[:, 0] += state[:, 1] + series.level_sd * shocks[m, 1]
            state[:, 1] += series.slope_sd * shocks[m, 2]
        out[:, m] = state[:, 0] + series.irregular_sd * shocks[m, 0]
    return out
