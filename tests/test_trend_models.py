"""The trend generator's models: state-space series (fit and forecast against closed forms), the
mixture of components, stacking by rolling-origin cross-validation, and the shipped fit's
intervals widening with the horizon."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import special, stats

from shieldwall.campaign.generator import Generator
from shieldwall.campaign.load import DATA_DIR, load_generator_file
from shieldwall.campaign.model import Component, StateSeries, Trend
from shieldwall.campaign.selection import CANDIDATES, crps_sample, select_weights, stack, weight_grid
from shieldwall.campaign.statespace import fit_series, fit_state_family, monthly_series, simulate_series
from shieldwall.campaign.trend import FamilyPaths, fit_family
from shieldwall.errors import ScenarioError


def test_crps_of_a_sample_closed_forms() -> None:
    # {0, 1} at 0: E|X - 0| = 1/2, E|X - X'| = 1/2 -> 1/2 - 1/4
    assert crps_sample(np.array([1.0, 0.0]), 0.0) == pytest.approx(0.25, abs=1e-12)
    # a point mass: |x - y|
    assert crps_sample(np.full(5, 3.0), 1.0) == pytest.approx(2.0, abs=1e-12)
    # N(0, 1) at y: z (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi) (Gneiting & Raftery 2007)
    x = np.random.default_rng(0).standard_normal(200_000)
    for y in (0.0, 0.5, -2.0):
        closed = y * (2 * stats.norm.cdf(y) - 1) + 2 * stats.norm.pdf(y) - 1 / math.sqrt(math.pi)
        assert crps_sample(x, y) == pytest.approx(closed, abs=4e-3)


def test_stacking_recovers_a_mixture_and_never_loses_to_a_single_candidate() -> None:
    assert len(weight_grid(3)) == math.comb(12, 2) and all(abs(sum(w) - 1) < 1e-12 for w in weight_grid(3))
    rng = np.random.default_rng(1)
    # the truth is half candidate a (N(0, 1)) and half b (N(4, 1)); c is off (N(10, 1))
    cases = []
    for _ in range(400):
        y = rng.normal(0.0 if rng.random() < 0.5 else 4.0, 1.0)
        cases.append((y, {"a": rng.normal(0, 1, 400), "b": rng.normal(4, 1, 400), "c": rng.normal(10, 1, 400)}))
    weights, score, single = stack(cases, ("a", "b", "c"))
    assert 0.4 <= weights[0] <= 0.6 and 0.4 <= weights[1] <= 0.6 and weights[2] == 0.0
    assert score <= min(single.values()) + 1e-12
    # weighting the cases: only the ones near b count -> b alone
    near_b = np.array([1.0 if abs(y - 4.0) < 1.5 else 0.0 for y, _ in cases])
    assert stack(cases, ("a", "b", "c"), case_weights=near_b)[0] == (0.0, 1.0, 0.0)


def test_local_level_fit_and_its_forecast_variance() -> None:
    rng = np.random.default_rng(7)
    months, level_sd, irregular_sd, known = 160, 0.2, 0.1, 0.01
    level = np.cumsum(rng.normal(0, level_sd, months)) + 3.0
    y = level + rng.normal(0, math.sqrt(irregular_sd ** 2 + known), months)
    fitted = fit_series(y, np.full(months, known), "local-level")
    assert fitted is not None and 0.13 < fitted["level_sd"] < 0.28 and fitted["slope_sd"] == 0.0
    assert abs(fitted["state"][0] - level[-1]) < 3 * math.sqrt(fitted["covariance"][0][0])
    assert fit_series(np.array([1.0, np.nan, 2.0, np.nan, np.nan]), np.full(5, 0.1), "local-level") is None


def test_local_linear_trend_recovers_a_slope_and_forecasts_with_the_closed_form_variance() -> None:
    rng = np.random.default_rng(8)
    months = 60
    y = 2.0 + 0.05 * np.arange(months) + rng.normal(0, 0.05, months)
    fitted = fit_series(y, np.full(months, 0.0025), "local-linear-trend")
    assert fitted is not None
    assert abs(fitted["state"][1] - 0.05) < 3 * math.sqrt(fitted["covariance"][1][1]) + 0.005
    # forecast variance at horizon h (the sampler's recursion, derived by hand):
    # P00 + 2h P01 + h^2 P11 + h level_sd^2 + slope_sd^2 sum_{j<h} (h - j)^2 + irregular_sd^2
    series = StateSeries(state=[1.0, 0.1], covariance=[[0.04, 0.01], [0.01, 0.02]], level_sd=0.1, slope_sd=0.05,
                         irregular_sd=0.2)
    draws = simulate_series(np.random.default_rng(9), series, 200_000, 6)
    for h in (0, 1, 3, 6):
        var = (0.04 + 2 * h * 0.01 + h * h * 0.02 + h * 0.1 ** 2 + 0.05 ** 2 * sum((h - j) ** 2 for j in range(1, h))
               + 0.2 ** 2)
        assert draws[:, h].var() == pytest.approx(var, rel=0.02)
        assert draws[:, h].mean() == pytest.approx(1.0 + 0.1 * h, abs=0.01)
    widths = np.diff(np.quantile(draws, [0.05, 0.95], axis=0), axis=0)[0]
    assert np.all(np.diff(widths) > 0)  # wider every month


def test_monthly_series_hand_computed() -> None:
    nights = [dt.date(2024, 1, 30), dt.date(2024, 1, 31), dt.date(2024, 2, 1), dt.date(2024, 2, 2),
              dt.date(2024, 2, 3)]
    s = monthly_series(nights, np.array([0, 5, 2, 0, 4]))
    assert s["nights"].tolist() == [2, 3] and s["came"].tolist() == [1, 2] and s["mean_size"].tolist() == [5.0, 3.0]


def _nights(months: int, start: dt.date = dt.date(2022, 1, 1)) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(int(months * 30.4375))]


def test_state_family_fit_on_a_steady_family() -> None:
    rng = np.random.default_rng(11)
    nights = _nights(24)
    comes = rng.random(len(nights)) < 0.6
    sizes = np.where(comes, 1 + rng.negative_binomial(2.0, 2.0 / (2.0 + 19.0), len(nights)), 0)
    fitted = fit_state_family(nights, sizes, "local-level")
    assert fitted is not None
    # P(comes) = 0.6 -> logit 0.405; mean size 20 -> log 3.0; k = 2
    assert abs(fitted["occurrence"]["state"][0] - special.logit(0.6)) < 3 * math.sqrt(
        fitted["occurrence"]["covariance"][0][0]) + 0.05
    assert abs(fitted["size"]["state"][0] - math.log(20.0)) < 3 * math.sqrt(fitted["size"]["covariance"][0][0]) + 0.05
    assert abs(fitted["log_dispersion"] - math.log(2.0)) < 0.2


def test_a_replication_follows_one_component_drawn_by_weight() -> None:
    still = StateSeries(state=[0.0, 0.0], covariance=[[0.0, 0.0], [0.0, 0.0]], level_sd=0.0, slope_sd=0.0,
                        irregular_sd=0.0)
    size = still.model_copy(update={"state": [math.log(11.0), 0.0]})
    trend = Trend(occurrence=[5.0, 0.0], occurrence_covariance=[[0, 0], [0, 0]], log_mean=[math.log(40.0), 0.0],
                  log_dispersion=0.0, size_covariance=[[0, 0, 0], [0, 0, 0], [0, 0, 0]],
                  month_effect={"sd": 0.0, "rho": 0.0, "last": 0.0})
    mixture = [Component(model="regression", weight=0.3),
               Component(model="local-level", weight=0.7, occurrence=still, size=size, log_dispersion=math.log(3.0))]
    n = 20_000
    paths = FamilyPaths(trend, mixture, dt.date(2024, 6, 30), np.random.default_rng(2), n, 3)
    p, mu, k = paths.night(dt.date(2024, 8, 15))
    state = paths.component == 1
    assert abs(state.mean() - 0.7) < 4 * math.sqrt(0.21 / n)
    assert np.allclose(p[state], 0.5) and np.allclose(mu[state], 10.0) and np.allclose(k[state], 3.0)
    assert np.allclose(p[~state], special.expit(5.0)) and np.allclose(mu[~state], 40.0) and np.allclose(k[~state], 1.0)


def test_cross_validation_weights_follow_the_data() -> None:
    """A family growing 8 % a month gives the local level (which cannot follow growth) little
    weight; every weight vector sums to 1; the scores are reported."""
    rng = np.random.default_rng(5)
    nights = _nights(20)
    mu = 20.0 * np.exp(0.08 * np.arange(len(nights)) / 30.4375)
    sizes = np.where(rng.random(len(nights)) < 0.7, 1 + rng.negative_binomial(3.0, 3.0 / (3.0 + mu)), 0)
    final = [{"regression": fit_family(nights, sizes, nights[-1], 12.0),
              **{k: fit_state_family(nights, sizes, k) for k in CANDIDATES[1:]}}]
    report = select_weights(nights, sizes[:, None], 12.0, final)[0]
    assert abs(sum(report["weights"].values()) - 1.0) < 1e-9 and report["months_scored"] >= 30
    assert report["weights"]["local-level"] <= 0.5
    assert report["crps"]["mixture"] <= min(report["crps"][c] for c in CANDIDATES) + 1e-9


def test_shipped_trend_fit_is_a_mixture_whose_intervals_widen_with_the_horizon() -> None:
    model = load_generator_file(DATA_DIR / "raids-2022-2024-trend.yaml")
    for family in model.families:
        assert family.mixture and abs(sum(c.weight for c in family.mixture) - 1.0) < 1e-6
    gen = Generator(model)
    nights = [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(365)]
    futures = gen.paths(np.random.default_rng(0), 1000, nights[0], nights[-1])
    totals = np.zeros((1000, 12))
    for i, night in enumerate(nights):
        totals[:, night.month - 1] += gen.sample(np.random.default_rng([0, i]), 1000, night, futures).sum(axis=1)
    lo, hi = np.quantile(np.log1p(totals), [0.05, 0.95], axis=0)
    width = hi - lo
    assert width[0] < width[5] < width[11]  # the 90 % interval of log monthly totals: months 1, 6, 12


def test_mixture_errors_are_located(tmp_path: Path) -> None:
    doc = yaml.safe_load((DATA_DIR / "raids-2022-2024-trend.yaml").read_text())
    doc["families"][0]["mixture"][0]["weight"] = 0.9
    bad = tmp_path / "gen.yaml"
    bad.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_generator_file(bad)
    assert "weights do not sum to 1" in str(err.value) and "families" in str(err.value)
    doc = yaml.safe_load((DATA_DIR / "raids-2022-2024-trend.yaml").read_text())
    del doc["families"][0]["mixture"][1]["size"]
    bad.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(ScenarioError, match="component needs `size`"):
        load_generator_file(bad)


def test_the_nightly_expit_is_scipys_value_for_value() -> None:
    """campaign.trend.expit stands in for scipy.special.expit on every campaign night (without the
    0.15-0.2 s import): the same doubles, tails and overflow included, in any array shape."""
    from shieldwall.campaign.trend import expit

    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(0.0, 3.0, 50_000), rng.uniform(-800.0, 800.0, 5_000),
                        [0.0, -0.0, 709.0, -709.0, 709.8, -709.8, 745.2, -745.2, 1e308, -1e308]])
    assert np.array_equal(expit(x), special.expit(x))
    assert np.array_equal(expit(x[:12].reshape(3, 4)), special.expit(x[:12].reshape(3, 4)))
    assert expit(np.array([])).shape == (0,)


def test_a_trend_campaign_runs_without_importing_scipy_special() -> None:
    """What every `shieldwall campaign` on a trend generator pays before its first night: the
    generator's caps (a binomial quantile) are only computed for stationary generators and the
    nightly expit is NumPy's and the C library's (above); importing scipy.special took 0.15-0.2 s."""
    import subprocess
    import sys

    code = ("import sys; from shieldwall.campaign.load import load_campaign; "
            "from shieldwall.campaign.run import run_campaign; "
            "c = load_campaign('examples/campaign-winter.yaml'); run_campaign(c, replications=2); "
            "print(sorted(m for m in sys.modules if m.startswith('scipy.special')))")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
