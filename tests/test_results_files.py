"""What a run writes: intervals, and the event log in both of its formats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import EXAMPLES
from shieldwall.engine.results import mean_ci95, mean_ci95_columns
from shieldwall.engine.runner import run


def test_intervals_of_all_columns_at_once_are_student_t() -> None:
    rng = np.random.default_rng(5)
    x = np.column_stack([rng.poisson(3.0, 40), rng.normal(0.0, 1.0, 40), rng.poisson(0.05, 40)])
    mean, lo, hi = mean_ci95_columns(x)
    for col in range(3):
        t_lo, t_hi = stats.t.interval(0.95, 39, loc=x[:, col].mean(), scale=stats.sem(x[:, col]))
        assert mean[col] == pytest.approx(x[:, col].mean())
        assert hi[col] == pytest.approx(t_hi)
        # clipped at zero only where the quantity cannot be negative (counts)
        expected_lo = max(t_lo, 0.0) if x[:, col].min() >= 0 else t_lo
        assert lo[col] == pytest.approx(expected_lo)
    assert lo[1] < 0.0 < hi[1]  # a signed column keeps its negative end
    assert mean_ci95(x[:, 0]) == (pytest.approx(mean[0]), [pytest.approx(lo[0]), pytest.approx(hi[0])])


def test_event_log_csv_holds_the_parquet_table(tmp_path) -> None:  # type: ignore[no-untyped-def]
    run(EXAMPLES / "small.yaml", replications=3, seed=4, out_dir=tmp_path)
    table = pd.read_parquet(tmp_path / "events.parquet")
    csv = pd.read_csv(tmp_path / "events.csv")
    assert len(table) > 0 and list(csv.columns) == list(table.columns)
    assert (csv.event.value_counts() == table.event.value_counts()).all()
    for name in ("time_s", "lat", "lon", "alt_m"):
        assert np.allclose(csv[name].to_numpy(float), table[name].to_numpy(float), equal_nan=True)
    assert (csv.battery.fillna("") == table.battery.fillna("")).all()
    assert (tmp_path / "scenario.json").is_file() and (tmp_path / "summary.json").is_file()
