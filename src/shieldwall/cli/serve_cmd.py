"""``shieldwall serve``: the local web app (FastAPI on uvicorn)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.text import Text


def serve_command(*, host: str, port: int, runs: Path, max_replications: int, examples: Path | None,
                  allow_host: list[str] | None = None, max_run_seconds: float = 1800.0,
                  max_run_memory: str | None = None) -> None:
    import socket

    import uvicorn

    from shieldwall.errors import UsageError
    from shieldwall.engine.budget import parse_bytes
    from shieldwall.web.app import allowed_hosts, create_app

    hosts = allowed_hosts(host, allow_host or [])
    app = create_app(runs, max_replications=max_replications, examples_dir=examples, hosts=hosts,
                     max_run_seconds=max_run_seconds,
                     max_run_memory_bytes=parse_bytes(max_run_memory) if max_run_memory else None)
    # Bind once before saying "serving": a port in use was uvicorn's log line and exit 3 after it.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UsageError(f"--port {port}: cannot listen on {host}:{port} ({exc.strerror or exc}); "
                             f"is another server using it? Give --port another number") from None
    console = Console(highlight=False, markup=False, soft_wrap=True)  # one line in pipes and logs
    console.print(Text(f"shieldwall: runs in {runs.resolve()}, serving http://{host}:{port}/ (Ctrl-C stops)"))
    if host not in ("127.0.0.1", "localhost", "::1"):
        Console(stderr=True, highlight=False, markup=False, soft_wrap=True).print(Text(
            f"warning: listening on {host}: anyone who can reach it can run simulations and read the runs folder; "
            f"it answers requests for: {', '.join(hosts)}"))
    uvicorn.run(app, host=host, port=port, log_level="warning")
