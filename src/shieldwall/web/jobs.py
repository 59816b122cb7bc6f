"""Runs started from the web app. Each runs in a child process of its own, writes into a fresh
staging folder and is moved into its run folder only when complete (report.rundir.StagedRun),
under a time and a memory budget: a watchdog stops a run that goes over either, a user can
cancel one, and a stopped run frees its slot at once. So no run, however large or stuck, holds
the app's slots or memory for ever, and the runs folder never shows half a run as finished.

A job's id is its run folder's name, so its state can still be told after the server restarts
(from the folder and its manifest: a run whose server died is "interrupted")."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shieldwall.report.rundir import NAME_RE, new_run_folder, slug  # noqa: F401  (the app's names)
from shieldwall.scenario.model import Scenario

WATCH_S = 0.2  # how often the watchdog looks at a running job
COMPARISON = "comparison.json"  # what a comparison job writes (web/compare.py shows it)
ERROR_FILE = ".error"


def rss_bytes(pid: int) -> int | None:
    """Resident memory of a process (Linux /proc), or None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _context() -> Any:
    """forkserver on Linux: each run starts as a fork of a clean process that has the engine
    loaded already (a fork of the threaded server itself would not be safe); spawn elsewhere."""
    if sys.platform.startswith("linux"):
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["shieldwall.web.jobs", "shieldwall.engine.runner", "shieldwall.report.html"])
        return ctx
    return multiprocessing.get_context("spawn")


JOB_KINDS = ("raid", "campaign", "compare")


def _child(kind: str, payload: str, replications: int, seed: int | None, stage: str, target: str,
           max_memory_bytes: int, done: Any) -> None:
    """The job, in its own process, writing into the staging folder; the parent moves the folder
    into place when this exits cleanly. ``payload`` (JSON): a raid's scenario; a campaign's
    self-contained text; a comparison's two inputs (inputs.load_input), each a scenario or a
    campaign."""
    folder = Path(stage)
    try:
        def progress(n: int) -> None:
            done.value += int(n)

        if kind == "raid":
            _run_raid(Scenario.model_validate_json(payload), replications, seed, folder, target, progress,
                      max_memory_bytes)
        elif kind == "campaign":
            _run_campaign(payload, replications, seed, folder, target, progress, max_memory_bytes)
        else:
            _run_compare(payload, replications, seed, folder, progress)
    except BaseException as exc:  # noqa: BLE001 - every failure is reported to the page
        from shieldwall.errors import ShieldwallError

        text = str(exc) if isinstance(exc, ShieldwallError) else f"{type(exc).__name__}: {exc}"
        (folder / ERROR_FILE).write_text(text, encoding="utf-8")
        sys.exit(1)


def _run_raid(scenario: Scenario, replications: int, seed: int | None, folder: Path, target: str, progress: Any,
              max_memory_bytes: int) -> None:
    from shieldwall.engine.runner import run
    from shieldwall.report.html import write_report
    from shieldwall.report.markdown import write_markdown_report

    result = run(scenario, replications=replications, seed=seed, out_dir=folder, progress=progress,
                 max_memory_bytes=max_memory_bytes)
    write_markdown_report(result.summary(), folder / "report.md")
    write_report(folder, shown_as=target)


def _run_campaign(text: str, replications: int, seed: int | None, folder: Path, target: str, progress: Any,
                  max_memory_bytes: int) -> None:
    from shieldwall.campaign.run import run_campaign
    from shieldwall.report.html import write_report
    from shieldwall.web.inputs import load_input

    loaded = load_input(json.loads(text))
    result = run_campaign(loaded, replications=replications, seed=seed, progress=progress,
                          max_memory_bytes=max_memory_bytes)
    result.write(folder)
    write_report(folder, shown_as=target)


def _run_compare(payload: str, replications: int, seed: int | None, folder: Path, progress: Any) -> None:
    from shieldwall.campaign.compare import compare_inputs
    from shieldwall.web.inputs import load_input

    data = json.loads(payload)
    a, b = load_input(data["a"]), load_input(data["b"])
    result = compare_inputs(a, b, labels=(data["a"]["label"], data["b"]["label"]), replications=replications,
                            seed=seed, progress=progress)
    (folder / COMPARISON).write_text(json.dumps(result, indent=2, allow_nan=False) + "\n", encoding="utf-8")


@dataclass
class Job:
    id: str
    run: str
    folder: Path
    total: int
    state: str = "queued"  # queued, running, done, failed, cancelled, interrupted
    error: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    done_value: Any = None
    process: Any = None
    cancel_asked: bool = False
    kind: str = "raid"  # JOB_KINDS

    @property
    def done(self) -> int:
        if self.state == "done":
            return self.total
        return min(self.total, int(self.done_value.value)) if self.done_value is not None else 0

    def to_dict(self) -> dict[str, Any]:
        page = f"/compare/{self.run}" if self.kind == "compare" else f"/runs/{self.run}/report"
        return {"id": self.id, "run": self.run, "kind": self.kind, "state": self.state, "done": self.done,
                "total": self.total, "error": self.error,
                "elapsed_s": round((self.finished or time.time()) - self.started, 1),
                "report_url": page if self.state == "done" else None,
                "cancel_url": f"/api/jobs/{self.id}/cancel" if self.state in ("queued", "running") else None}


class JobManager:
    """At most ``max_active`` runs at once, each under ``max_seconds`` and ``max_memory_bytes``."""

    def __init__(self, runs_dir: Path, max_active: int = 4, *, max_seconds: float = 1800.0,
                 max_memory_bytes: int | None = None) -> None:
        from shieldwall.engine.budget import default_max_memory_bytes

        self.runs_dir = runs_dir
        self.max_active = max_active
        self.max_seconds = max_seconds
        self.max_memory_bytes = max_memory_bytes or min(4 << 30, default_max_memory_bytes() // max(1, max_active))
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._ctx = _context()

    def active(self) -> int:
        with self._lock:
            return sum(j.state in ("queued", "running") for j in self._jobs.values())

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def start(self, scenario: Scenario, *, replications: int, seed: int | None, name: str | None) -> Job:
        """A raid run of ``scenario``."""
        return self.start_job("raid", scenario.model_dump_json(by_alias=True), name=name or scenario.name,
                              total=replications, replications=replications, seed=seed)

    def start_job(self, kind: str, payload: str, *, name: str, total: int, replications: int,
                  seed: int | None) -> Job:
        """A job of ``kind`` (JOB_KINDS) in a new folder of the runs folder; ``total``: the
        replications, nights or both runs' steps its progress counts to."""
        from shieldwall.report.rundir import StagedRun

        assert kind in JOB_KINDS, kind
        folder = new_run_folder(self.runs_dir, name)
        stage = StagedRun(folder, kind, keep_failed=True, replications=replications, seed=seed, source="web")
        job = Job(id=folder.name, run=folder.name, folder=folder, total=total, kind=kind,
                  done_value=self._ctx.Value("q", 0, lock=False))
        with self._lock:
            self._jobs[job.id] = job
        job.process = self._ctx.Process(
            target=_child, name=f"shieldwall-{kind}-{job.id}", daemon=True,
            args=(kind, payload, replications, seed, str(stage.path), folder.name, self.max_memory_bytes,
                  job.done_value))
        job.process.start()
        job.state = "running"
        threading.Thread(target=self._watch, args=(job, stage), name=f"shieldwall-watch-{job.id}",
                         daemon=True).start()
        return job

    def cancel(self, job_id: str) -> Job | None:
        job = self.get(job_id)
        if job is not None and job.state in ("queued", "running"):
            job.cancel_asked = True
        return job

    def _watch(self, job: Job, stage: Any) -> None:
        """Wait for the run; stop it when cancelled or over its budget; then move it into place
        or mark its staging folder with what happened."""
        proc = job.process
        reason = None
        while proc.is_alive():
            proc.join(WATCH_S)
            if not proc.is_alive():
                break
            rss = rss_bytes(proc.pid)
            if job.cancel_asked:
                reason = ("cancelled", "cancelled by the user")
            elif time.time() - job.started > self.max_seconds:
                reason = ("failed", f"stopped: over this server's time budget of {self.max_seconds:g} s per run "
                                    "(shieldwall serve --max-run-seconds)")
            elif rss is not None and rss > self.max_memory_bytes:
                reason = ("failed", f"stopped: over this server's memory budget of {self.max_memory_bytes >> 20} MiB "
                                    "per run (shieldwall serve --max-run-memory)")
            if reason:
                proc.kill()
                proc.join()
                break
        try:
            if reason is None and proc.exitcode == 0:
                stage.commit()
                job.state = "done"
            else:
                state, error = reason or ("failed", self._child_error(stage.path, proc.exitcode))
                stage.mark(state, error)
                job.state, job.error = state, error
                try:
                    job.folder.rmdir()  # the reserved name, still empty
                except OSError:
                    pass
        except OSError as exc:  # the runs folder went away or filled up
            job.state, job.error = "failed", f"could not finish the run folder: {exc}"
        job.finished = time.time()

    @staticmethod
    def _child_error(stage: Path, code: int | None) -> str:
        try:
            return (stage / ERROR_FILE).read_text(encoding="utf-8")[:2000]
        except OSError:
            return f"the run's process ended with status {code} (out of memory?)"
