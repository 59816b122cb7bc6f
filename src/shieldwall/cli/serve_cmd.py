"""``shieldwall serve``: the local web app (FastAPI on uvicorn)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console


def serve_command(*, host: str, port: int, runs: Path, max_replications: int, examples: Path | None) -> None:
    import uvicorn

    from shieldwall.web.app import create_app

    app = create_app(runs, max_replications=max_replications, examples_dir=examples)
    Console(highlight=False).print(f"shieldwall: runs in {runs.resolve()}, serving http://{host}:{port}/ (Ctrl-C stops)")
    if host not in ("127.0.0.1", "localhost", "::1"):
        Console(stderr=True, highlight=False).print(
            f"warning: listening on {host}: anyone who can reach it can run simulations and read the runs folder")
    uvicorn.run(app, host=host, port=port, log_level="warning")
