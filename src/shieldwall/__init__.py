"""shieldwall: analysis of layered air and missile defence on public data.

The notebook entry points are re-exported here; heavy modules load lazily so that
``import shieldwall`` and ``shieldwall --help`` stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from shieldwall.engine.results import RaidResult
    from shieldwall.scenario.model import Scenario

__all__ = ["__version__", "load_scenario", "run"]


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
