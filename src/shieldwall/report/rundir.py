"""A run folder as the report and the web app read it: whichever of summary.json,
scenario.json, events.parquet and campaign.json are there."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shieldwall.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from shieldwall.scenario.model import Scenario

RUN_FILES = ("summary.json", "campaign.json")


@dataclass
class RunFolder:
    path: Path
    summary: dict[str, Any] | None
    campaign: dict[str, Any] | None
    scenario: "Scenario | None"
    scenario_note: str | None  # why there is no scenario (no map), when there is none
    events: "pd.DataFrame | None"
    tracks: "pd.DataFrame | None" = None  # replication 0's threat paths (tracks.parquet)
    timelines: "pd.DataFrame | None" = None  # the resource timelines' bands (timelines.parquet)

    @property
    def name(self) -> str:
        campaign = self.campaign or {}
        return ((self.summary or {}).get("scenario") or campaign.get("campaign") or campaign.get("scenario")
                or self.path.name)

    @property
    def seed(self) -> int:
        for source in (self.summary, self.campaign):
            if source and isinstance(source.get("seed"), int):
                return int(source["seed"])
        if self.scenario is not None and self.scenario.seed is not None:
            return int(self.scenario.seed)
        return 0


def is_run_folder(path: Path) -> bool:
    try:
        return path.is_dir() and any((path / name).is_file() for name in RUN_FILES)
    except (OSError, ValueError):  # unreadable, or a name no file system takes
        return False


def read_json_object(path: Path) -> dict[str, Any] | None:
    """A run's JSON file as a dict, None if it is not there; anything else (cut short, nested
    without end, not an object) is a UsageError that names the file."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise UsageError(f"{path}: not readable JSON ({type(exc).__name__}: {str(exc)[:200]})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object")
    return data


def load_run(path: str | Path, scenario_file: str | Path | None = None,
             scenario: "Scenario | None" = None) -> RunFolder:
    """Read a run folder; ``scenario_file`` stands in for a missing scenario.json (older runs);
    ``scenario``: the run's own, from the command that has just run it and written its
    scenario.json (not read back and validated again)."""
    folder = Path(path)
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such run folder")
    summary = read_json_object(folder / "summary.json")
    campaign = read_json_object(folder / "campaign.json")
    if summary is None and campaign is None:
        raise UsageError(f"{folder}: not a run folder (no summary.json or campaign.json); "
                         "write one with `shieldwall run SCENARIO --out FOLDER`")
    note = None
    from shieldwall.errors import ScenarioError
    from shieldwall.scenario.load import load_scenario

    source = Path(scenario_file) if scenario_file is not None else folder / "scenario.json"
    if scenario is None and source.is_file():
        try:
            scenario = load_scenario(source)
        except ScenarioError as exc:
            if scenario_file is not None:
                raise
            note = f"scenario.json does not load ({exc.problems[0].message if exc.problems else exc})"
    elif scenario is None:
        note = ("this run folder has no scenario.json (written by shieldwall 0.1 and later); "
                "pass --scenario FILE to draw the map")
    events = None
    if (folder / "events.parquet").is_file():
        import pandas as pd

        import numpy as np

        try:
            events = pd.read_parquet(folder / "events.parquet")
            # an event without a finite time (a shot still in flight when its target leaked) has no
            # place on a timeline or a slider
            events = events[np.isfinite(events.time_s.to_numpy(float))].reset_index(drop=True)
        except Exception as exc:  # pyarrow's errors for a cut or foreign file have no common base
            raise UsageError(f"{folder / 'events.parquet'}: not a readable event log ({type(exc).__name__}: "
                             f"{str(exc)[:200]}); run it again, or delete the file to report without a replay") from None
    tracks = _optional_table(folder / "tracks.parquet", "tracks", "to replay without paths")
    timelines = _optional_table(folder / "timelines.parquet", "timelines", "to report without them")
    return RunFolder(folder, summary, campaign, scenario, note, events, tracks, timelines)


def _optional_table(path: Path, what: str, without: str) -> "pd.DataFrame | None":
    """A Parquet file of a run folder, None when it is not there; a cut or foreign one is a
    UsageError that says what to do."""
    if not path.is_file():
        return None
    import pandas as pd

    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow's errors for a cut or foreign file have no common base
        raise UsageError(f"{path}: not readable {what} ({type(exc).__name__}: {str(exc)[:200]}); run it again, "
                         f"or delete the file {without}") from None


# --- writing a run folder that tells the truth -------------------------------------------------
# A run is written into a fresh staging folder beside its target and moved into place only when
# it is complete; ``run.json`` (the manifest) says what state a folder is in and is written last.
# An interrupted run therefore never mixes with an older one in the target, and a run killed
# mid-way leaves a staging folder whose manifest still says "running" with a process that is gone.

MANIFEST = "run.json"
MANIFEST_FORMAT = 1
STAGING_MARK = ".partial-"
# What a run writes: an older run's copies of these leave the target when a new run moves in
# (anything else in the folder, such as other run folders inside it, is never touched).
RUN_OUTPUTS = (MANIFEST, "summary.json", "scenario.json", "events.parquet", "events.csv", "tracks.parquet", "replications",
               "engagements.parquet", "timelines.parquet",
               "report.html", "report.md", "campaign.json", "nights.parquet", "campaign-input.yaml")
STATES = ("running", "complete", "failed", "cancelled", "interrupted")


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_manifest(folder: Path, **fields: Any) -> dict[str, Any]:
    """Write (atomically: a reader sees the old manifest or the new one) ``run.json``."""
    import os
    import socket

    data = {"shieldwall_run": MANIFEST_FORMAT, "pid": os.getpid(), "host": socket.gethostname(), **fields}
    tmp = folder / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(folder / MANIFEST)
    return data


def _pid_alive(pid: Any) -> bool:
    import os

    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process: alive as far as we can tell
    return True


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest as a dict with a known ``state``, or None when there is none or it is unreadable."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("state") not in (*STATES, "replacing"):
        return None
    return data


def run_state(folder: Path) -> str:
    """complete, running, failed, cancelled or interrupted. A folder without a manifest but with
    results was written before manifests existed: complete. "running" whose process is gone (on
    this machine) is "interrupted"; so is a folder caught half-way through being replaced."""
    import socket

    manifest = read_manifest(folder)
    if manifest is None:
        return "complete" if is_run_folder(folder) else "interrupted"
    state = manifest["state"]
    if state == "replacing":
        return "interrupted"
    if state == "running" and manifest.get("host") == socket.gethostname() and not _pid_alive(manifest.get("pid")):
        return "interrupted"
    return str(state)


def staging_target_name(path: Path) -> str | None:
    """The run name a staging folder (``.NAME.partial-XXXX``) is for, or None for anything else."""
    name = path.name
    if not name.startswith(".") or STAGING_MARK not in name:
        return None
    return name[1:name.rindex(STAGING_MARK)] or None


NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")  # a run folder's name: what the web app serves
DEFAULT_RUNS = Path("out")  # where `run` and `campaign` write by default, and `serve` looks


def slug(text: str) -> str:
    out = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:40]
    return out or "run"


def new_run_folder(runs_dir: Path, base: str) -> Path:
    """A folder name that was free: ``base-YYYYmmdd-HHMMSS[-n]``, reserved by creating it (empty,
    so it is not a run folder until a complete run moves in). The web app and the CLI's default
    ``--out`` both name runs this way, so a run from either is listed by ``shieldwall serve``."""
    from datetime import datetime, timezone

    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{runs_dir}: cannot make a run folder here ({exc.strerror or exc})") from None
    for n in range(1000):
        path = runs_dir / (f"{slug(base)}-{stamp}" + (f"-{n}" if n else ""))
        try:
            path.mkdir(parents=False, exist_ok=False)
            return path
        except FileExistsError:
            continue
    raise RuntimeError("could not find a free run folder name")  # pragma: no cover


def check_out_dir(out: Path) -> Path:
    """The target of a run, checked before any work: it may be missing or a folder, never a file."""
    out = Path(out)
    try:
        if out.exists() and not out.is_dir():
            raise UsageError(f"{out}: exists and is not a folder; give --out a folder (new or a run's)")
        parent = out.parent if str(out.parent) else Path(".")
        if parent.exists() and not parent.is_dir():
            raise UsageError(f"{parent}: is not a folder, so {out} cannot be made there")
    except (OSError, ValueError) as exc:
        raise UsageError(f"{out}: cannot be used as a run folder ({exc})") from None
    return out


class StagedRun:
    """A run folder being written: ``path`` is the staging folder to write into; ``commit()``
    moves it into the target when it is complete. Use as a context manager: leaving it with an
    exception marks the staging folder failed (or interrupted, on Ctrl-C) and leaves the target
    as it was; ``keep_failed=False`` removes the staging folder instead."""

    def __init__(self, target: str | Path, kind: str, *, keep_failed: bool = False, **info: Any) -> None:
        import secrets

        self.target = check_out_dir(Path(target))
        self.kind = kind
        self.info = info
        self.keep_failed = keep_failed
        parent = self.target.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self._clear_stale(parent)
            self.path = parent / f".{self.target.name}{STAGING_MARK}{secrets.token_hex(4)}"
            self.path.mkdir()
        except OSError as exc:
            raise UsageError(f"{self.target}: cannot write a run here ({exc.strerror or exc})") from None
        self.started = _now()
        write_manifest(self.path, state="running", kind=kind, target=self.target.name, started_utc=self.started,
                       **info)

    def _clear_stale(self, parent: Path) -> None:
        """Staging folders of this target left by runs that were killed (their process is gone)."""
        import shutil

        for old in parent.glob(f".{self.target.name}{STAGING_MARK}*"):
            if old.is_dir() and not old.is_symlink() and run_state(old) in ("interrupted",):
                shutil.rmtree(old, ignore_errors=True)

    def mark(self, state: str, error: str | None = None) -> None:
        write_manifest(self.path, state=state, kind=self.kind, target=self.target.name, started_utc=self.started,
                       finished_utc=_now(), **({"error": error} if error else {}), **self.info)

    def commit(self) -> Path:
        """Move the complete run into its target. The target's manifest says "replacing" while an
        older run's files leave and the new ones arrive, and the new manifest arrives last."""
        import shutil

        self.mark("complete")
        target = self.target
        if not target.exists():
            self.path.rename(target)
            return target
        write_manifest(target, state="replacing", kind=self.kind)
        trash = target.parent / f".{target.name}.old-{self.path.name.rsplit('-', 1)[-1]}"
        trash.mkdir(exist_ok=True)
        new = {p.name for p in self.path.iterdir()}
        for name in set(RUN_OUTPUTS) | new:
            old = target / name
            if name != MANIFEST and (old.exists() or old.is_symlink()):
                old.rename(trash / name)
        for entry in self.path.iterdir():
            if entry.name != MANIFEST:
                entry.rename(target / entry.name)
        (self.path / MANIFEST).replace(target / MANIFEST)
        shutil.rmtree(trash, ignore_errors=True)
        self.path.rmdir()
        return target

    def __enter__(self) -> "StagedRun":
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        import shutil

        if exc is None or not self.path.exists():
            return
        state = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        if self.keep_failed:
            try:
                self.mark(state, f"{type(exc).__name__}: {exc}")
            except OSError:
                pass
        else:
            shutil.rmtree(self.path, ignore_errors=True)
