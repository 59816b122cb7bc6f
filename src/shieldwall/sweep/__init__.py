"""Sweeps and decisions at scale: parameter studies over a scenario or a campaign (designs,
tasks of (point, seed chunks) on local processes or Dask, crash-safe Parquet shards read with
DuckDB, analysis with SALib) and the allocation of a delivery (docs/sweep.md)."""

from shieldwall.sweep.run import run_sweep
from shieldwall.sweep.spec import LoadedSweep, load_sweep

__all__ = ["LoadedSweep", "load_sweep", "run_sweep"]
