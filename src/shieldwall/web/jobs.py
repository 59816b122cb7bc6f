"""Runs started from the web app: each in its own new folder, in a background thread, with its
progress readable while it runs. A folder is created with ``mkdir(exist_ok=False)``, so two
runs never share one and no run ever writes into a folder that already existed."""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from shieldwall.scenario.model import Scenario

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def slug(text: str) -> str:
    out = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:40]
    return out or "run"


def new_run_folder(runs_dir: Path, base: str) -> Path:
    """A folder that did not exist before: ``base-YYYYmmdd-HHMMSS[-n]``."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        path = runs_dir / (f"{slug(base)}-{stamp}" + (f"-{n}" if n else ""))
        try:
            path.mkdir(parents=False, exist_ok=False)
            return path
        except FileExistsError:
            continue
    raise RuntimeError("could not find a free run folder name")  # pragma: no cover


@dataclass
class Job:
    id: str
    run: str
    folder: Path
    total: int
    done: int = 0
    state: str = "queued"  # queued, running, done, failed
    error: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "run": self.run, "state": self.state, "done": self.done, "total": self.total,
                "error": self.error, "elapsed_s": round((self.finished or time.time()) - self.started, 1),
                "report_url": f"/runs/{self.run}/report" if self.state == "done" else None}


class JobManager:
    def __init__(self, runs_dir: Path, max_active: int = 4) -> None:
        self.runs_dir = runs_dir
        self.max_active = max_active
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def active(self) -> int:
        with self._lock:
            return sum(j.state in ("queued", "running") for j in self._jobs.values())

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def start(self, scenario: Scenario, *, replications: int, seed: int | None, name: str | None) -> Job:
        folder = new_run_folder(self.runs_dir, name or scenario.name)
        job = Job(id=uuid.uuid4().hex[:12], run=folder.name, folder=folder, total=replications)
        with self._lock:
            self._jobs[job.id] = job
        thread = threading.Thread(target=self._work, args=(job, scenario, replications, seed),
                                  name=f"shieldwall-run-{job.id}", daemon=True)
        thread.start()
        return job

    def _work(self, job: Job, scenario: Scenario, replications: int, seed: int | None) -> None:
        from shieldwall.engine.runner import run
        from shieldwall.report.html import write_report
        from shieldwall.report.markdown import write_markdown_report

        def progress(n: int) -> None:
            job.done = min(job.total, job.done + int(n))

        job.state = "running"
        try:
            result = run(scenario, replications=replications, seed=seed, out_dir=job.folder, progress=progress)
            write_markdown_report(result.summary(), job.folder / "report.md")
            write_report(job.folder)
            job.state = "done"
        except Exception as exc:  # reported to the page; the server keeps serving
            job.error = f"{type(exc).__name__}: {exc}"
            job.state = "failed"
        finally:
            job.finished = time.time()
