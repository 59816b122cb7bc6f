"""The rolling-origin table in docs/validation.md is what the code computes now: every row is
recomputed (2,000 futures, seed 0, as the docs say) and compared."""

from __future__ import annotations

import datetime as dt
import re

import pytest

import shieldwall
from conftest import ROOT

REAL = ROOT.parent / "shared" / "data" / "attacks" / "missile_attacks_daily_2022-2024.csv"
DOC = ROOT / "docs" / "validation.md"


def _rows() -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("<!-- rolling-origin-table")[1].split("<!-- end rolling-origin-table")[0]
    rows = [[c.strip().replace("**", "") for c in line.strip().strip("|").split("|")]
            for line in table.splitlines() if re.match(r"\|\s*\d{4}-\d\d-\d\d", line)]
    assert len(rows) == 9, "the table should hold 3 origins x 3 methods"
    return rows


@pytest.mark.slow
@pytest.mark.skipif(not REAL.exists(), reason="../shared/data/attacks is not here (a fresh clone has no ../shared)")
def test_rolling_origin_table_matches_the_code() -> None:
    for origin, method, inside, ks, ratio, crps, median, *_ in _rows():
        day = dt.date.fromisoformat(origin) + dt.timedelta(days=1)
        until = dt.date(day.year, 12, 31) if day.month == 7 else dt.date(day.year, 6, 30)
        test = shieldwall.backtest_raids(REAL, day, day, until, method=method, paths=2000, seed=0)["test"]
        where = f"{origin} {method}"
        assert inside.split()[0] == f"{sum(m['inside_90'] for m in test['monthly'])}/6", where
        assert float(ks) == pytest.approx(test["ks_night_size"], abs=0.0015), where
        assert float(ratio) == pytest.approx(test["median_ratio"], abs=0.006), where
        assert float(crps) == pytest.approx(test["monthly_crps_log"], abs=0.0015), where
        rec, fc = (float(x) for x in median.split("/"))
        assert (rec, fc) == (test["recorded"]["median"], test["forecast"]["median"]), where
