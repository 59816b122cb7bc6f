"""A sweep's folder: what it is (spec.json), its points (design.parquet), one Parquet shard per
finished task (shards/), and the tables made from them (points.parquet, sweep.json).

Crash safety: a shard is written under a temporary name and renamed into place
(``os.replace``, atomic on POSIX and Windows), so a shard that exists is whole, and its name is
its task's (point, first chunk), so a task is never there twice. ``--resume`` runs the tasks
whose shard is missing; a sweep killed at any moment loses only the tasks in flight.

DuckDB reads the folder: ``connect(out_dir)`` gives a connection with the views ``replications``
(every shard), ``points`` and ``design``."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from shieldwall.errors import UsageError

SHARDS = "shards"
TMP_SUFFIX = ".tmp"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}{TMP_SUFFIX}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _parquet_bytes(columns: dict[str, Any]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue().to_pybytes()


class SweepStore:
    def __init__(self, out_dir: str | Path) -> None:
        self.dir = Path(out_dir)
        self.shards = self.dir / SHARDS

    # -- starting and resuming ----------------------------------------------------------------
    def prepare(self, fingerprint: str, spec: dict[str, Any], design: dict[str, list[Any]], *,
                resume: bool) -> None:
        """A new sweep's folder, or the same sweep's to resume; anything else is refused so that
        no result is lost or mixed with another sweep's."""
        marker = self.dir / "spec.json"
        if marker.exists():
            old = json.loads(marker.read_text(encoding="utf-8"))
            if not resume:
                raise UsageError(f"{self.dir} already holds a sweep: add --resume to finish it, or give another --out")
            if old.get("fingerprint") != fingerprint:
                raise UsageError(f"{self.dir} holds another sweep (its sweep file or base files have changed "
                                 "since it began): give another --out, or restore the files to resume it")
        elif self.dir.exists() and any(self._foreign()):
            raise UsageError(f"{self.dir} is not empty and holds no sweep: give a new or empty --out folder")
        self.shards.mkdir(parents=True, exist_ok=True)
        for leftover in self.shards.glob(f".*{TMP_SUFFIX}"):  # a shard being written when killed
            leftover.unlink()
        if not marker.exists():
            atomic_write_bytes(self.dir / "design.parquet", _parquet_bytes(design))
            atomic_write_text(marker, json.dumps({"fingerprint": fingerprint, **spec}, indent=2, sort_keys=True) + "\n")

    def _foreign(self) -> list[Path]:
        """What a sweep killed before it wrote spec.json cannot have left."""
        return [p for p in self.dir.iterdir() if not p.name.endswith(TMP_SUFFIX) and p.name != "design.parquet"
                and not (p.name == SHARDS and not any(p.iterdir()))]

    def done(self) -> set[str]:
        """Names of the tasks whose shard is in place."""
        return {p.stem for p in self.shards.glob("p*.parquet")}

    def write_shard(self, name: str, point: int, first_replication: int, columns: dict[str, np.ndarray]) -> None:
        n = len(next(iter(columns.values())))
        table = {"point": np.full(n, point, np.int32),
                 "replication": np.arange(first_replication, first_replication + n, dtype=np.int32), **columns}
        atomic_write_bytes(self.shards / f"{name}.parquet", _parquet_bytes(table))

    # -- reading ------------------------------------------------------------------------------
    def connect(self) -> Any:
        """A DuckDB connection with views over the folder: ``replications`` (every shard),
        ``design`` and, once the sweep has finished, ``points``."""
        import duckdb

        con = duckdb.connect()
        glob = str(self.shards / "p*.parquet").replace("'", "''")
        con.execute(f"CREATE VIEW replications AS SELECT * FROM read_parquet('{glob}')")
        for name in ("design", "points"):
            path = self.dir / f"{name}.parquet"
            if path.exists():
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{str(path).replace(chr(39), chr(39) * 2)}')")
        return con

    def replications(self) -> dict[str, np.ndarray]:
        """Every shard's rows, ordered by (point, replication), as NumPy columns."""
        con = self.connect()
        try:
            table = con.sql("SELECT * FROM replications ORDER BY point, replication").to_arrow_table()
        finally:
            con.close()
        return {name: table.column(name).to_numpy() for name in table.column_names}

    def write_points(self, columns: dict[str, Any]) -> Path:
        path = self.dir / "points.parquet"
        atomic_write_bytes(path, _parquet_bytes(columns))
        return path
