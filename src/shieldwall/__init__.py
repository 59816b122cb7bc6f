"""shieldwall: analysis of layered air and missile defence on public data.

The notebook entry points are re-exported here; heavy modules load lazily so that
``import shieldwall`` and ``shieldwall --help`` stay fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from shieldwall.engine.results import RaidResult
    from shieldwall.scenario.model import Scenario

__all__ = ["__version__", "backtest_raids", "backtest_rates", "load_scenario", "load_theatre", "read_record", "run"]


def load_scenario(path: Any) -> "Scenario":
    """Read and validate a scenario file (YAML or JSON); raises ScenarioError on any mistake."""
    from shieldwall.scenario.load import load_scenario as _load

    return _load(path)


def run(scenario: Any, *, replications: int = 1000, seed: int | None = None, workers: int = 1,
        out_dir: Any = None, progress: Any = None) -> "RaidResult":
    """Run the raid Monte Carlo on a scenario (object or path) and return its results."""
    from shieldwall.engine.runner import run as _run

    return _run(scenario, replications=replications, seed=seed, workers=workers,
                out_dir=out_dir, progress=progress)


def read_record(path: Any, start: Any = None, end: Any = None, **kwargs: Any) -> Any:
    """Read the public attack record (a CSV in the format of the 2022-2024 file) into named
    attacks, with its semantics explicit (``shieldwall.scenario.record``)."""
    from shieldwall.scenario.record import read_record as _read

    return _read(path, start, end, **kwargs)


def load_theatre(path: Any = None) -> Any:
    """Read and check a national theatre file; without a path, the shipped default theatre."""
    from shieldwall.scenario.theatre import load_theatre as _load

    return _load(path)


def backtest_raids(record: Any, fit_until: Any, test_from: Any, test_until: Any = None, *, out_dir: Any = None,
                   **kwargs: Any) -> dict[str, Any]:
    """Fit the raid generator before ``fit_until``, forecast ``test_from``..``test_until``, compare
    with the record; the dict ``backtest-raids.json`` holds (also written, with the HTML page, to
    ``out_dir`` when given). Dates are ``datetime.date`` or ``YYYY-MM-DD`` strings."""
    from shieldwall.backtest.raids import backtest_raids as _backtest, write_backtest
    from shieldwall.report.backtest import render_raids, write_page

    doc = _backtest(record, _as_date(fit_until), _as_date(test_from), _as_date(test_until), **kwargs)
    if out_dir is not None:
        write_backtest(doc, out_dir, "backtest-raids.json")
        write_page(render_raids(doc), Path(out_dir) / "backtest-raids.html")
    return doc


def backtest_rates(record: Any, start: Any, until: Any, *, out_dir: Any = None, **kwargs: Any) -> dict[str, Any]:
    """Replay every recorded attack of ``start``..``until`` through the engine against a theatre
    (``theatre=``, default the shipped one); the dict ``backtest-rates.json`` holds (also written,
    with the HTML page, to ``out_dir`` when given)."""
    from shieldwall.backtest.raids import write_backtest
    from shieldwall.backtest.rates import backtest_rates as _backtest
    from shieldwall.report.backtest import render_rates, write_page

    doc = _backtest(record, _as_date(start), _as_date(until), **kwargs)
    if out_dir is not None:
        write_backtest(doc, out_dir, "backtest-rates.json")
        write_page(render_rates(doc), Path(out_dir) / "backtest-rates.html")
    return doc


def _as_date(value: Any) -> Any:
    import datetime as dt

    return dt.date.fromisoformat(value) if isinstance(value, str) else value
