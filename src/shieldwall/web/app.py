"""The local web app: browse run folders and their reports, open and edit a scenario with its
problems shown in place, start a run and watch (or cancel) it, compare two runs.

It obeys only its own pages (docs/viewer.md, "Security"): every request must name a loopback
host (or one allowed with ``serve --allow-host``), so a DNS-rebound name cannot read it; every
request that changes something must come from its own origin, carry the session token that only
its pages hold, and send JSON as ``application/json``, so another site's page cannot start runs;
request bodies are capped while they stream in; parsing and validation run off the event loop;
responses carry a strict Content-Security-Policy. Everything it reads or writes is inside one
runs folder (plus read-only example scenarios), and every user mistake or malformed file is a
4xx answer with a message: the server keeps serving."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from dataclasses import asdict
from html import escape
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from shieldwall.errors import ScenarioError, ShieldwallError, UsageError
from shieldwall.report.tables import usd
from shieldwall.static import STATIC_DIR
from shieldwall.web.jobs import NAME_RE, JobManager

STATIC = STATIC_DIR
MAX_UPLOAD_BYTES = 1 << 20  # 1 MiB: far more than any hand-written scenario
FORM_OVERHEAD_BYTES = 64 * 1024  # a multipart upload's boundaries and headers
SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
TOKEN_HEADER = "x-shieldwall-token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
VALIDATIONS_AT_ONCE = 2  # validation is CPU work: two at a time, in threads, never on the event loop
# The app's own pages: scripts from /static only, data only from this server.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
# A run's files: shown, never run (a unique origin, no scripts).
FILE_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def host_name(header: str) -> str:
    """``127.0.0.1:8000`` -> ``127.0.0.1``, ``[::1]:8000`` -> ``[::1]``; lower case."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[: header.find("]") + 1] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def allowed_hosts(bind: str | None = None, extra: tuple[str, ...] | list[str] = ()) -> tuple[str, ...]:
    """Loopback names, the address the server was deliberately bound to, and ``--allow-host``."""
    names = [*LOOPBACK_HOSTS, *(h.strip().lower() for h in extra if h.strip())]
    if bind and bind not in ("0.0.0.0", "::", ""):
        names.append(f"[{bind}]" if ":" in bind and not bind.startswith("[") else bind.lower())
    return tuple(dict.fromkeys(names))


def report_csp(html: bytes) -> str:
    """The self-contained report inlines its scripts; it may run exactly those (by hash) and
    reach nothing at all. And it runs sandboxed, in an opaque origin without pop-ups: a report.html
    is a file in the runs folder, which may come from anywhere (a run folder mailed or downloaded),
    and its scripts, allowed by their hashes whatever they are, once opened the editor in a
    same-origin window and pressed its Run button (issue 19: the app trusts nobody)."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(m).digest()).decode()}'"
                      for m in _INLINE_SCRIPT.findall(html))
    return (f"sandbox allow-scripts; default-src 'none'; script-src {hashes or chr(39) + 'none' + chr(39)}; "
            "style-src 'unsafe-inline'; "
            "img-src data:; connect-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'")


class Guard:
    """ASGI middleware in front of every route: host allow-list, origin and token on requests
    that change something, a body cap that holds while the body streams (chunked uploads
    included, so nothing over the cap is ever written to disk), and security headers."""

    def __init__(self, app: Any, *, hosts: tuple[str, ...], token: str, max_body: int) -> None:
        self.app = app
        self.hosts = hosts
        self.token = token
        self.max_body = max_body

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = host_name(headers.get("host", ""))
        if host not in self.hosts:
            await self._refuse(send, 421, f"host {host or '(none)'!r} is not served here: this app answers only "
                                          "on loopback (shieldwall serve --allow-host NAME to add one)")
            return
        if scope["method"] not in SAFE_METHODS:
            problem = self._unsafe_problem(headers)
            if problem:
                await self._refuse(send, 403, problem)
                return
            body = await self._read_capped(headers, receive)
            if body is None:
                await self._refuse(send, 413, f"request too large: the limit is {self.max_body} bytes")
                return
            receive = _replay(body)

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                present = {k.decode("latin-1").lower() for k, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k not in present]
                if "content-security-policy" not in present:
                    extra.append((b"content-security-policy", PAGE_CSP.encode()))
                if scope["path"].startswith("/api/") and "cache-control" not in present:
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _unsafe_problem(self, headers: dict[str, str]) -> str | None:
        """Why a state-changing request is refused, or None. Browsers send Origin and
        Sec-Fetch-Site with every such request; a page of another site cannot forge either, nor
        read the token (the pages that hold it are same-origin, and the Host check stops a
        DNS-rebound name from loading them)."""
        origin = headers.get("origin")
        if origin is not None and host_name(re.sub(r"^https?://", "", origin.lower())) not in self.hosts:
            return f"requests from {origin} are refused: only this app's own pages may change anything"
        if headers.get("sec-fetch-site") in ("cross-site", "same-site"):
            return "cross-site requests are refused: only this app's own pages may change anything"
        if not secrets.compare_digest(headers.get(TOKEN_HEADER, "").encode(), self.token.encode()):
            return ("missing or wrong session token: open the app's page (it sends the token with its requests); "
                    "scripts read it from the page's <meta name=\"shieldwall-token\">")
        return None

    async def _read_capped(self, headers: dict[str, str], receive: Any) -> bytes | None:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            return None
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    @staticmethod
    async def _refuse(send: Any, status: int, detail: str) -> None:
        body = json.dumps({"detail": detail}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close"), *((k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _replay(body: bytes) -> Any:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def _page(title: str, body: str, token: str, scripts: str = "") -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang=en><head><meta charset="utf-8"><title>{escape(title)} - shieldwall</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
        f'<meta name="shieldwall-token" content="{escape(token)}">'
        f'<link rel="stylesheet" href="/static/shieldwall.css"></head><body>'
        f'<header class="sw-top"><a class="sw-brand" href="/">shieldwall</a><a href="/">runs</a>'
        f'<a href="/editor">scenario editor</a><a href="/laydown">laydown</a><a href="/compare">compare</a></header>'
        f"<main>{body}</main>{scripts}</body></html>")


def _text_body(schema_text: str) -> dict[str, Any]:
    """The OpenAPI description of a JSON request body (the routes read the raw body themselves,
    to check its type and size before parsing)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": json.loads(schema_text)}}}}


_VALIDATE_BODY = _text_body('{"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}, '
                            '"file": {"type": "string"}}}')
_COMPARE_BODY = _text_body('{"type": "object", "required": ["a", "b"], "properties": {"a": {"type": "string"}, '
                           '"b": {"type": "string"}, "replications": {"type": "integer", "minimum": 2}, '
                           '"seed": {"type": "integer", "minimum": 0}}}')
_LAYDOWN_FIELDS = ('"text": {"type": "string"}, "file": {"type": "string"}, "threat": {"type": "string"}, '
                   '"altitude_m": {"type": "number", "minimum": 0}, "moves": {"type": "object", "additionalProperties": '
                   '{"type": "object", "required": ["lat", "lon"], "properties": {"lat": {"type": "number"}, '
                   '"lon": {"type": "number"}}}}')
_LAYDOWN_BODY = _text_body('{"type": "object", "required": ["text"], "properties": {' + _LAYDOWN_FIELDS + '}}')
_LAYDOWN_COMPARE_BODY = _text_body('{"type": "object", "required": ["text", "moves"], "properties": {' + _LAYDOWN_FIELDS
                                   + ', "replications": {"type": "integer", "minimum": 2}, '
                                     '"seed": {"type": "integer", "minimum": 0}}}')
_RUN_BODY = _text_body('{"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}, '
                       '"replications": {"type": "integer", "minimum": 1}, "seed": {"type": "integer", "minimum": 0}, '
                       '"name": {"type": "string"}, "file": {"type": "string"}}}')


def create_app(runs_dir: str | Path, *, max_replications: int = 20000, examples_dir: str | Path | None = None,
               max_upload_bytes: int = MAX_UPLOAD_BYTES, max_active_runs: int = 4,
               hosts: tuple[str, ...] | None = None, max_run_seconds: float = 1800.0,
               max_run_memory_bytes: int | None = None) -> FastAPI:
    from shieldwall.report import rundir

    runs = Path(runs_dir).resolve()
    try:
        runs.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file of that name, a folder it may not write: said, not a traceback
        raise UsageError(f"--runs {runs_dir}: cannot use it as the runs folder ({exc.strerror or exc}); "
                         "give a folder (it is created if missing)") from None
    if examples_dir is not None and not Path(examples_dir).is_dir():
        raise UsageError(f"--examples {examples_dir}: no such folder (the scenario and campaign files to offer)")
    examples = Path(examples_dir).resolve() if examples_dir else (Path.cwd() / "examples").resolve()
    jobs = JobManager(runs, max_active=max_active_runs, max_seconds=max_run_seconds,
                      max_memory_bytes=max_run_memory_bytes)
    token = secrets.token_urlsafe(32)
    app = FastAPI(title="shieldwall", docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    app.state.runs_dir, app.state.jobs, app.state.token = runs, jobs, token
    app.add_middleware(Guard, hosts=hosts or allowed_hosts(), token=token,
                       max_body=max_upload_bytes + FORM_OVERHEAD_BYTES)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    limiter = anyio.CapacityLimiter(VALIDATIONS_AT_ONCE)

    def page(title: str, body: str, scripts: str = "") -> HTMLResponse:
        return _page(title, body, token, scripts)

    @app.exception_handler(ShieldwallError)
    async def _user_error(request: Request, exc: ShieldwallError) -> JSONResponse:
        if isinstance(exc, ScenarioError) and request.url.path.startswith("/api/laydown"):
            # what the page was sent has problems: each located, as the editor lists them
            return JSONResponse({"detail": str(exc), "file": exc.file,
                                 "problems": [asdict(p) for p in exc.problems]}, status_code=422)
        return JSONResponse({"detail": str(exc)}, status_code=400)

    # -- paths: every name from a URL resolves inside the runs folder, or the request fails ----
    def checked_name(name: str) -> Path:
        if not NAME_RE.match(name) or ".." in name:
            raise HTTPException(400, f"bad run name {name[:100]!r}: letters, digits, '.', '_' and '-' only, "
                                     "inside the runs folder")
        try:
            path = (runs / name).resolve()
        except (OSError, ValueError, RuntimeError):
            raise HTTPException(400, f"bad run name {name[:100]!r}") from None
        if path.parent != runs:
            raise HTTPException(400, f"{name!r} is outside the runs folder")
        return path

    def run_folder(name: str) -> Path:
        path = checked_name(name)
        if not rundir.is_run_folder(path):
            raise HTTPException(404, f"no run {name!r} in {runs}")
        return path

    def file_in(folder: Path, rel: str) -> Path:
        try:
            path = (folder / rel).resolve()
            inside, is_file = path.is_relative_to(folder), path.is_file()
        except (OSError, ValueError, RuntimeError):
            raise HTTPException(400, f"bad file name {rel[:100]!r}") from None
        if not inside:
            raise HTTPException(400, f"{rel!r} is outside the run folder")
        if not is_file:
            raise HTTPException(404, f"no file {rel!r} in run {folder.name!r}")
        return path

    def example_file(name: str) -> Path:
        if not NAME_RE.match(name) or not name.endswith(SCENARIO_SUFFIXES):
            raise HTTPException(400, f"bad example name {name[:100]!r}")
        path = (examples / name).resolve()
        if path.parent != examples or not path.is_file():
            raise HTTPException(404, f"no example {name!r}")
        return path

    async def body_text(request: Request) -> str:
        """The request body as text (the Guard has capped it already)."""
        raw = await request.body()
        if len(raw) > max_upload_bytes:
            raise HTTPException(413, f"scenario too large: over {max_upload_bytes} bytes")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPException(400, "the request is not UTF-8 text") from None

    async def json_body(request: Request) -> dict[str, Any]:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise HTTPException(415, f"send JSON with Content-Type: application/json (got {kind or 'none'!r})")
        text = await body_text(request)
        try:
            data = json.loads(text or "{}")
        except (ValueError, RecursionError) as exc:
            raise HTTPException(400, f"request body is not JSON: {str(exc)[:200]}") from None
        if not isinstance(data, dict):
            raise HTTPException(400, "request body must be a JSON object")
        return data

    def check_now(text: str, file: str) -> tuple[Any, list[dict[str, Any]]]:
        """A raid scenario or a campaign (files it names are looked for among the examples)."""
        from shieldwall.web.inputs import check_text

        try:
            return check_text(text, file, examples), []
        except ScenarioError as exc:
            return None, [asdict(p) for p in exc.problems] or [{"message": str(exc)}]

    def text_and_name(text: Any, file: Any) -> tuple[str, str]:
        """A request's scenario text (under the size cap) and the file name its problems name."""
        if not isinstance(text, str):
            raise HTTPException(400, "send {\"text\": \"<scenario YAML>\"}")
        name = file if isinstance(file, str) and file else "scenario.yaml"
        if len(text.encode("utf-8")) > max_upload_bytes:
            raise HTTPException(413, f"scenario too large: over {max_upload_bytes} bytes")
        return text, Path(name).name[:200]

    async def check(text: Any, file: Any = None) -> tuple[Any, list[dict[str, Any]]]:
        """(inputs.Checked or None, problems), worked out off the event loop."""
        return await anyio.to_thread.run_sync(check_now, *text_and_name(text, file), limiter=limiter)

    def number(value: Any) -> float | int | None:
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def run_row(path: Path) -> dict[str, Any] | None:
        """One runs-list row, whatever the folder holds (a finished run, one still staging, one
        interrupted, a file cut short): never an exception."""
        target = rundir.staging_target_name(path)
        name = target or path.name
        if not NAME_RE.match(name) or path.is_symlink() or not path.is_dir():
            return None
        if target is None and not rundir.is_run_folder(path):
            return None
        row: dict[str, Any] = {"run": name, "modified": path.lstat().st_mtime, "state": rundir.run_state(path),
                               "campaign": (path / "campaign.json").is_file(), "scenario": None}
        if target is not None:
            manifest = rundir.read_manifest(path) or {}
            if manifest.get("kind") == "compare":  # a comparison on its way: the compare page follows it
                return None
            row["error"] = manifest.get("error") if isinstance(manifest.get("error"), str) else None
            return row
        try:
            summary = rundir.read_json_object(path / "summary.json") or rundir.read_json_object(
                path / "campaign.json") or {}
        except ShieldwallError as exc:
            row["error"] = str(exc)
            return row
        tot = summary.get("totals") if isinstance(summary.get("totals"), dict) else {}

        def total(name: str) -> float | int | None:
            """A raid's ``NAME_mean``, or a campaign's ``{NAME: {mean: ...}}`` (its whole campaign)."""
            value = tot.get(name)
            return number(value.get("mean")) if isinstance(value, dict) else number(tot.get(f"{name}_mean", value))

        name_of = summary.get("scenario") or summary.get("campaign")
        row.update(scenario=name_of if isinstance(name_of, str) else None,
                   replications=number(summary.get("replications")), seed=number(summary.get("seed")),
                   nights=number(summary.get("nights")) if row["campaign"] else None,
                   launched=total("launched"), leaked_mean=total("leaked"), leaked_armed_mean=total("leaked_armed"),
                   value_lost_mean=total("value_lost"),
                   interceptor_cost_usd_mean=total("interceptor_cost_usd"))
        return row

    def list_runs() -> list[dict[str, Any]]:
        out = []
        for path in runs.iterdir():
            try:
                row = run_row(path)
            except (OSError, ValueError):  # vanished while listed, or a name the OS refuses
                row = None
            if row is not None:
                out.append(row)
        return sorted(out, key=lambda r: (-r["modified"], r["run"]))

    # -- sweeps: folders with a sweep.json, in the runs folder or its sweep/ (the CLI's default) --
    def sweep_folders() -> dict[str, Path]:
        found: dict[str, Path] = {}
        for parent in (runs, runs / "sweep"):
            if parent.is_dir():
                for path in sorted(parent.iterdir()):
                    if NAME_RE.match(path.name) and (path / "sweep.json").is_file():
                        found.setdefault(path.name, path.resolve())
        return found

    def list_sweeps() -> list[dict[str, Any]]:
        out = []
        for name, path in sweep_folders().items():
            row: dict[str, Any] = {"sweep": name}
            try:
                data = json.loads((path / "sweep.json").read_text(encoding="utf-8"))
                row.update(base=data.get("base"), design=data.get("design", {}).get("kind"),
                           points=data.get("n_points"), replications=data.get("replications"),
                           outputs=data.get("outputs"))
            except (OSError, ValueError, AttributeError):
                row["base"] = None
            out.append(row)
        return out

    @app.get("/api/sweeps")
    def api_sweeps() -> list[dict[str, Any]]:
        return list_sweeps()

    @app.get("/sweeps/{name}/report")
    def sweep_report(name: str) -> Response:
        from shieldwall.report.sweep_html import write_sweep_report

        folder = sweep_folders().get(name)  # only names listed: nothing else on disk is reachable
        if folder is None:
            raise HTTPException(404, f"no sweep {name!r} in {runs}")
        path = folder / "report.html"
        if not path.is_file() or path.stat().st_mtime < (folder / "sweep.json").stat().st_mtime:
            write_sweep_report(folder)
        html = path.read_bytes()  # served like a run's report: only its own scripts may run
        return Response(html, media_type="text/html", headers={"content-security-policy": report_csp(html)})

    # -- JSON API ------------------------------------------------------------------------------
    @app.get("/api/runs")
    def api_runs() -> list[dict[str, Any]]:
        return list_runs()

    @app.get("/api/runs/{name}")
    def api_run(name: str) -> Any:
        return rundir.read_json_object(run_folder(name) / "summary.json") or {}

    @app.get("/api/runs/{name}/scenario")
    def api_run_scenario(name: str) -> dict[str, Any]:
        """What the run ran, as text for the editor: its scenario, or its campaign (self-contained)."""
        from shieldwall.scenario.yaml_source import yaml_text

        from shieldwall.campaign.results import CAMPAIGN_INPUT

        folder = run_folder(name)
        if (folder / "campaign.json").is_file():
            return {"name": f"{name}.yaml", "text": file_in(folder, CAMPAIGN_INPUT).read_text(encoding="utf-8")}
        data = rundir.read_json_object(file_in(folder, "scenario.json"))
        return {"name": f"{name}.yaml", "text": yaml_text(data)}

    @app.get("/api/runs/{name}/replay")
    def api_replay(name: str) -> dict[str, Any]:
        from shieldwall.report.replay import replay_data

        folder = run_folder(name)
        if (folder / "campaign.json").is_file():
            raise HTTPException(404, f"run {name!r} is a campaign: it has no single night to replay; its report has "
                                     "the stocks, the night each runs out and the leakers night by night")
        run = rundir.load_run(folder)
        if run.scenario is None:
            raise HTTPException(404, f"run {name!r} has no scenario to draw (an older run without scenario.json): "
                                     "open its scenario file in the editor (Open ... a file) and run it again")
        return replay_data(run.scenario, run.events, run.tracks)

    @app.get("/api/examples")
    def api_examples() -> list[str]:
        if not examples.is_dir():
            return []
        return sorted(p.name for p in examples.iterdir() if p.suffix in SCENARIO_SUFFIXES and NAME_RE.match(p.name))

    @app.get("/api/examples/{name}")
    def api_example(name: str) -> dict[str, Any]:
        return {"name": name, "text": example_file(name).read_text(encoding="utf-8")}

    @app.post("/api/validate", openapi_extra=_VALIDATE_BODY)
    async def api_validate(request: Request) -> dict[str, Any]:
        data = await json_body(request)
        checked, problems = await check(data.get("text"), data.get("file"))
        return {"ok": checked is not None, "problems": problems, "name": checked.name if checked else None,
                "kind": checked.kind if checked else None,
                "warnings": [asdict(w) for w in checked.warnings] if checked else []}

    @app.post("/api/upload")
    async def api_upload(file: UploadFile) -> dict[str, Any]:
        raw = await file.read(max_upload_bytes + 1)
        name = Path(file.filename or "upload.yaml").name[:200]
        if len(raw) > max_upload_bytes:
            raise HTTPException(413, f"{name}: too large, the limit is {max_upload_bytes} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPException(400, f"{name}: not UTF-8 text") from None
        checked, problems = await check(text, name)
        return {"name": name, "text": text, "ok": checked is not None, "problems": problems,
                "kind": checked.kind if checked else None}

    @app.post("/api/runs", status_code=202, openapi_extra=_RUN_BODY)
    async def api_start(request: Request) -> Any:
        data = await json_body(request)
        text, seed, name = data.get("text"), data.get("seed"), data.get("name")
        if not isinstance(text, str):
            raise HTTPException(400, "send {\"text\": \"<scenario or campaign YAML>\", \"replications\": N}")
        if name is not None and (not isinstance(name, str) or not NAME_RE.match(name)):
            raise HTTPException(422, "name: letters, digits, '.', '_' and '-' only")
        checked, problems = await check(text, data.get("file"))
        if checked is None:
            return JSONResponse({"detail": "the file has problems", "problems": problems}, status_code=422)
        reps = run_options(data, seed, checked.kind == "campaign")
        if jobs.active() >= jobs.max_active:
            raise HTTPException(429, f"{jobs.max_active} runs are already going; wait for one to finish or cancel one")
        if checked.kind == "raid":
            job = await anyio.to_thread.run_sync(lambda: jobs.start(checked.value, replications=reps, seed=seed,
                                                                    name=name))
        else:
            payload = json.dumps(checked.payload())
            job = await anyio.to_thread.run_sync(lambda: jobs.start_job(
                "campaign", payload, name=name or checked.name, total=reps * checked.steps, replications=reps,
                seed=seed))
        return {**job.to_dict(), "status_url": f"/api/jobs/{job.id}"}

    def run_options(data: dict[str, Any], seed: Any, campaign: bool = False) -> int:
        """The replications asked for (default by kind: limits.py), checked with the seed."""
        from shieldwall.limits import CAMPAIGN_REPLICATIONS, RAID_REPLICATIONS

        reps = data.get("replications")
        if reps is None:
            reps = CAMPAIGN_REPLICATIONS if campaign else RAID_REPLICATIONS
        if not isinstance(reps, int) or isinstance(reps, bool) or reps < 1:
            raise HTTPException(422, f"replications must be a whole number >= 1, got {str(reps)[:50]!r}")
        if reps > max_replications:
            raise HTTPException(422, f"replications {reps} is over this server's cap of {max_replications} "
                                     "(shieldwall serve --max-replications)")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63):
            raise HTTPException(422, f"seed must be a whole number from 0 to 2^63 - 1, got {str(seed)[:50]!r}")
        return reps

    def job_or_folder(job_id: str) -> dict[str, Any]:
        job = jobs.get(job_id)
        if job is not None:
            return job.to_dict()
        path = checked_name(job_id)  # an earlier server's job: its folder tells what became of it
        if rundir.is_run_folder(path):
            return {"id": job_id, "run": job_id, "state": "done" if rundir.run_state(path) == "complete" else
                    rundir.run_state(path), "report_url": f"/runs/{job_id}/report"}
        for stage in runs.glob(f".{job_id}{rundir.STAGING_MARK}*"):
            return {"id": job_id, "run": job_id, "state": rundir.run_state(stage), "report_url": None,
                    "error": (rundir.read_manifest(stage) or {}).get("error")}
        raise HTTPException(404, f"no job {job_id!r}")

    @app.get("/api/jobs/{job_id}")
    def api_job(job_id: str) -> dict[str, Any]:
        return job_or_folder(job_id)

    @app.post("/api/jobs/{job_id}/cancel", status_code=202)
    def api_cancel(job_id: str) -> dict[str, Any]:
        job = jobs.cancel(job_id)
        if job is None:
            return job_or_folder(job_id)
        return job.to_dict()

    # -- pages ---------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        rows = list_runs()
        body = [f"<h1>Runs</h1><p class=sw-meta>in {escape(str(runs))}. "
                '<a class="sw-button" href="/editor">New run from a scenario</a></p>']
        if rundir.is_run_folder(runs):
            body.append(f'<p class="sw-note">{escape(str(runs))} is itself a run folder: serve the folder that holds '
                        f"it (<code>shieldwall serve --runs {escape(str(runs.parent))}</code>) to see it here.</p>")
        if not rows:
            body.append('<p class="sw-note">No runs yet: open the <a href="/editor">scenario editor</a> and '
                        "start one, or run <code>shieldwall run SCENARIO --out FOLDER</code> into this folder.</p>")
        else:
            body.append('<table class="sw-table sw-runs"><thead><tr><th>run</th><th>state</th><th>scenario</th>'
                        "<th>kind</th><th>replications</th><th>launched</th><th>leaked (mean; armed)</th><th>value lost</th>"
                        "<th>interceptor cost</th><th></th></tr></thead><tbody>")
            for r in rows:
                def num(key: str, fmt: str = "{:.1f}", r: dict[str, Any] = r) -> str:
                    return escape(fmt.format(r[key])) if number(r.get(key)) is not None else ""
                name, done = escape(r["run"]), r["state"] == "complete" and not r.get("error")
                link = f'<a href="/runs/{name}/report">{name}</a>' if done else name
                if not done:
                    actions = escape(r.get("error") or "")
                elif r["campaign"]:
                    actions = (f'<a href="/runs/{name}/report">report</a> · '
                               f'<a href="/editor?run={name}">campaign</a>')
                else:
                    actions = (f'<a href="/runs/{name}/report">report</a> · <a href="/runs/{name}/replay">replay</a> · '
                               f'<a href="/editor?run={name}">scenario</a> · <a href="/laydown?run={name}">laydown</a>')
                kind = (f"campaign, {num('nights', '{:g}')} nights (totals)" if r["campaign"] else "raid (per raid)")
                cost = usd(r["interceptor_cost_usd_mean"]) if number(r.get("interceptor_cost_usd_mean")) is not None else ""
                # decoys do no damage: the armed leakers beside all of them (issue 20 item 3)
                leaked_armed = (f' <span class="sw-muted">({num("leaked_armed_mean", "{:.2f}")} armed)</span>'
                                if number(r.get("leaked_armed_mean")) is not None else "")
                body.append(
                    f'<tr data-run="{name}" data-state="{escape(r["state"])}" data-kind="'
                    f'{"campaign" if r["campaign"] else "raid"}"><td>{link}</td>'
                    f'<td class="sw-state-{escape(r["state"])}">{escape(r["state"])}</td>'
                    f"<td>{escape(str(r.get('scenario') or ''))}</td><td>{kind}</td>"
                    f"<td>{num('replications', '{}')}</td><td>{num('launched', '{:,.0f}')}</td>"
                    f"<td>{num('leaked_mean', '{:.2f}')}{leaked_armed}</td><td>{num('value_lost_mean')}</td>"
                    f"<td>{escape(cost)}</td><td>{actions}</td></tr>")
            body.append("</tbody></table>")
            body.append(compare_form([r for r in rows if r["state"] == "complete"]))
        comparisons = list_comparisons()
        if comparisons:
            body.append('<h2>Comparisons</h2><ul class="sw-comparisons">' + "".join(
                f'<li><a href="/compare/{escape(c["name"])}">{escape(c["name"])}</a> '
                f'<span class="sw-muted">{escape(c["what"])}</span></li>' for c in comparisons) + "</ul>")
        sweeps = list_sweeps()
        if sweeps:
            body.append('<h2>Sweeps</h2><table class="sw-table sw-sweeps"><thead><tr><th>sweep</th><th>base</th>'
                        "<th>design</th><th>points</th><th>replications</th><th>outputs</th></tr></thead><tbody>")
            for w in sweeps:
                name = escape(w["sweep"])
                body.append(f'<tr data-sweep="{name}"><td><a href="/sweeps/{name}/report">{name}</a></td>'
                            f"<td>{escape(str(w.get('base') or ''))}</td><td>{escape(str(w.get('design') or ''))}</td>"
                            f"<td>{escape(str(w.get('points') or ''))}</td><td>{escape(str(w.get('replications') or ''))}"
                            f"</td><td>{escape(', '.join(w.get('outputs') or []))}</td></tr>")
            body.append("</tbody></table>")
        return page("runs", "".join(body))

    def compare_form(rows: list[dict[str, Any]], a: str | None = None, b: str | None = None) -> str:
        def options(chosen: str | None) -> str:
            return "".join(f'<option value="{escape(r["run"])}"{" selected" if r["run"] == chosen else ""}>'
                           f'{escape(r["run"])} ({"campaign" if r["campaign"] else "raid"}: '
                           f'{escape(str(r.get("scenario") or ""))})</option>' for r in rows)
        return (f'<h2>Compare two runs</h2><form class="sw-form-row" id="compare-form" action="/compare" method="get">'
                f'<label>A <select name="a" id="compare-a">{options(a)}</select></label> '
                f'<label>B <select name="b" id="compare-b">{options(b)}</select></label>'
                '<label>replications <input id="compare-replications" type="number" min="2" '
                f'max="{max_replications}" placeholder="1,000 raid / 200 campaign" style="width:12em"></label>'
                '<label>seed <input id="compare-seed" type="number" min="0" placeholder="A\'s" style="width:6em"></label>'
                '<button class="sw-primary" type="submit" id="compare-run">Compare</button></form>'
                '<p class="sw-muted">Both run again with one seed, on common random numbers: B - A with its 95% '
                "interval, as <code>shieldwall compare</code> does. A and B must be two options of one scenario or "
                "campaign.</p>")

    def comparison_folders() -> dict[str, Path]:
        from shieldwall.web.jobs import COMPARISON

        found = {}
        for path in sorted(runs.iterdir()):
            if NAME_RE.match(path.name) and not path.is_symlink() and (path / COMPARISON).is_file():
                found[path.name] = path
        return found

    def list_comparisons() -> list[dict[str, str]]:
        from shieldwall.web.jobs import COMPARISON

        out = []
        for name, path in comparison_folders().items():
            try:
                data = rundir.read_json_object(path / COMPARISON) or {}
                what = f"{data.get('a')} vs {data.get('b')}, {data.get('replications')} replications"
            except ShieldwallError:
                what = "(unreadable)"
            out.append({"name": name, "what": what})
        return out

    @app.get("/runs/{name}/report")
    def report(name: str) -> Response:
        from shieldwall.report.html import write_report

        folder = run_folder(name)
        path = folder / "report.html"
        newest = max((folder / f).stat().st_mtime for f in ("summary.json", "campaign.json") if (folder / f).is_file())
        if not path.is_file() or path.stat().st_mtime < newest:
            write_report(folder)  # older runs, or runs made with --no-report
        html = path.read_bytes()
        return Response(html, media_type="text/html", headers={"content-security-policy": report_csp(html)})

    @app.get("/runs/{name}/files/{rel:path}")
    def run_file(name: str, rel: str) -> FileResponse:
        return FileResponse(file_in(run_folder(name), rel), headers={"content-security-policy": FILE_CSP})

    @app.get("/runs/{name}/replay", response_class=HTMLResponse)
    def replay_page(name: str) -> HTMLResponse:
        folder = run_folder(name)
        if (folder / "campaign.json").is_file():  # said on the page, not left to a failed fetch
            return page(f"replay {name}", f'<h1>Replay: {escape(name)}</h1><p class="sw-note">{escape(name)} is a '
                        "campaign: it has no single night to replay. Its "
                        f'<a href="/runs/{escape(name)}/report">report</a> has the stocks night by night, the '
                        "night each runs out and the leakers and value lost night by night.</p>")
        body = (f'<h1>Replay: {escape(name)}</h1><p class=sw-meta>Replication 0. '
                f'<a href="/runs/{escape(name)}/report">full report</a> · '
                f'<a href="/laydown?run={escape(name)}">move its batteries (laydown)</a></p>'
                f'<div id="replay" tabindex="0" data-run="{escape(folder.name)}"></div>'
                '<p id="replay-error" class="sw-error" hidden></p>')
        scripts = ('<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css">'
                   '<script src="/static/vendor/leaflet/leaflet.js"></script><script src="/static/replay.js"></script>'
                   '<script src="/static/replay-page.js"></script>')
        return page(f"replay {name}", body, scripts)

    @app.get("/editor", response_class=HTMLResponse)
    def editor() -> HTMLResponse:
        body = f"""<h1>Scenario and campaign editor</h1>
<div class="sw-form-row">
  <label>Open an example <select id="example"><option value="">choose...</option></select></label>
  <label>or a file <input id="upload" type="file" accept=".yaml,.yml,.json"></label>
  <span id="source" class="sw-muted"></span>
  <button id="download" type="button" title="Save the text as a file">Download</button>
  <button id="revert" type="button" title="Back to the file as it was opened" disabled>Revert</button>
  <button id="to-laydown" type="button" title="Move its batteries and radars on a map">Laydown</button>
</div>
<div class="sw-editor">
  <div>
    <div class="sw-editor-wrap"><div class="sw-gutter" id="gutter">1</div>
      <textarea id="scenario-text" class="sw-text" spellcheck="false" wrap="off"
        placeholder="name: my scenario&#10;assets: ...&#10;(or open an example above)"></textarea></div>
    <div id="status" class="sw-muted" role="status">Type or open a scenario; it is checked as you type.</div>
  </div>
  <div>
    <h3>Problems</h3>
    <ul id="problems" class="sw-problems"></ul>
    <p id="no-problems" class="sw-ok" hidden>No problems: this can run.</p>
    <h3>Run it</h3>
    <div class="sw-form-row">
      <label>replications <input id="replications" type="number" min="1" max="{max_replications}"
        placeholder="1,000" style="width:7em"></label>
      <label>seed <input id="seed" type="number" min="0" placeholder="scenario's" style="width:7em"></label>
      <button id="run" class="sw-primary" type="button">Run</button>
      <button id="cancel" type="button" hidden>Cancel</button>
    </div>
    <p class="sw-muted">Empty: 1,000 replications for a raid scenario, 200 for a campaign (at most
      {max_replications}). A campaign's files (its theatre's scenario) are looked for among the examples.
      Each run gets a new folder in the runs folder.</p>
    <progress id="progress" max="1" value="0" hidden></progress>
    <div id="run-status" role="status"></div>
  </div>
</div>"""
        return page("editor", body, '<script src="/static/editor.js"></script>')

    @app.get("/laydown", response_class=HTMLResponse)
    def laydown_page() -> HTMLResponse:
        """Move batteries and radars on the map of a scenario (?run=NAME, ?example=NAME, or the
        editor's text): the page's script asks /api/laydown for the rings and /api/laydown/compare
        for the comparison, shown in place."""
        body = f"""<h1>Laydown</h1>
<div class="sw-form-row">
  <label>Open an example <select id="laydown-example"><option value="">choose...</option></select></label>
  <span id="laydown-source" class="sw-muted"></span>
  <label>threat <select id="laydown-threat"></select></label>
  <label>at <input id="laydown-altitude" type="number" min="0" step="50" style="width:7em"> m</label>
  <button id="laydown-reset" type="button" title="Every unit back where the file has it">Reset</button>
  <button id="laydown-download" type="button" title="Save the moved scenario as a YAML file">Download</button>
  <button id="laydown-editor" type="button" title="Open the moved scenario in the editor">Open in the editor</button>
</div>
<p class="sw-muted">Drag a battery (green square) or a radar (white dot). Each battery shows its engagement ring
  against the threat type (green: the longest range of an interceptor it holds that may engage it, on the ground at
  that altitude) and its radar horizon for a target at that altitude (dashed blue: 4/3-earth); radars show their
  horizon. Grey dots: where the file has a moved unit.</p>
<div id="laydown" class="sw-replay sw-laydown"></div>
<div id="laydown-status" role="status"></div>
<ul id="laydown-problems" class="sw-problems"></ul>
<h2>Re-run and compare</h2>
<div class="sw-form-row">
  <label>replications <input id="laydown-replications" type="number" min="2" max="{max_replications}"
    placeholder="1,000" style="width:7em"></label>
  <label>seed <input id="laydown-seed" type="number" min="0" placeholder="scenario's" style="width:7em"></label>
  <button id="laydown-compare" class="sw-primary" type="button" disabled>Compare with the file as opened</button>
</div>
<p class="sw-muted">Both laydowns run with one seed on common random numbers, as <code>shieldwall compare</code> does:
  A is the file as opened, B the moved laydown.</p>
<progress id="laydown-progress" max="1" value="0" hidden></progress>
<div id="laydown-compare-status" role="status"></div>
<div id="laydown-result"></div>"""
        scripts = ('<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css">'
                   '<script src="/static/vendor/leaflet/leaflet.js"></script><script src="/static/replay.js"></script>'
                   '<script src="/static/laydown.js"></script>')
        return page("laydown", body, scripts)

    @app.get("/compare", response_class=HTMLResponse)
    def compare(a: str | None = None, b: str | None = None) -> HTMLResponse:
        """Pick two runs; the page's script starts the comparison (POST /api/compare) and follows it."""
        rows = [r for r in list_runs() if r["state"] == "complete"]
        body = ("<h1>Compare two runs</h1>" + compare_form(rows, a, b)
                + '<progress id="compare-progress" max="1" value="0" hidden></progress>'
                  '<div id="compare-status" role="status"></div>')
        return page("compare", body, '<script src="/static/compare.js"></script>')

    @app.get("/compare/{name}", response_class=HTMLResponse)
    def comparison(name: str) -> HTMLResponse:
        from shieldwall.web.compare import comparison_body
        from shieldwall.web.jobs import COMPARISON

        folder = comparison_folders().get(name)
        if folder is None:
            raise HTTPException(404, f"no comparison {name!r} in {runs}")
        return page(f"comparison {name}", comparison_body(rundir.read_json_object(folder / COMPARISON) or {}))

    @app.post("/api/compare", status_code=202, openapi_extra=_COMPARE_BODY)
    async def api_compare(request: Request) -> Any:
        """Run two finished runs' inputs again on common random numbers: the CLI's compare."""
        from shieldwall.campaign.compare import check_comparable, check_kinds
        from shieldwall.web.inputs import run_input

        data = await json_body(request)
        a, b = data.get("a"), data.get("b")
        if not isinstance(a, str) or not isinstance(b, str):
            raise HTTPException(400, "send {\"a\": RUN, \"b\": RUN} (run names from /api/runs)")
        fa, fb = run_folder(a), run_folder(b)

        def load() -> tuple[Any, Any]:
            ia, ib = run_input(fa), run_input(fb)
            check_kinds(a, b, ia.kind == "campaign", ib.kind == "campaign")
            check_comparable(ia.value, ib.value, (a, b))
            return ia, ib

        try:
            ia, ib = await anyio.to_thread.run_sync(load, limiter=limiter)
        except ShieldwallError as exc:
            raise HTTPException(422, str(exc)) from None
        if data.get("seed") is None:  # "A's": the seed run A ran with, so that A reproduces that run
            data = {**data, "seed": run_seed(fa)}
        return await start_compare(data, ia.payload(a), ib.payload(b), name=f"{a[:40]}-vs-{b[:40]}",
                                   campaign=ia.kind == "campaign", steps=ia.steps)

    def run_seed(folder: Path) -> int | None:
        """The seed a finished run ran with (its summary.json or campaign.json), None if unknown
        (then the compare job takes A's file's, as the CLI does)."""
        try:
            data = rundir.read_json_object(folder / "summary.json") or rundir.read_json_object(
                folder / "campaign.json") or {}
        except ShieldwallError:
            return None
        seed = data.get("seed")
        return seed if isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**63 else None

    async def start_compare(data: dict[str, Any], a: dict[str, Any], b: dict[str, Any], *, name: str,
                            campaign: bool = False, steps: int = 1) -> dict[str, Any]:
        """A comparison job of two checked inputs (inputs.input_payload): the runs page's and the
        laydown page's, both the CLI's compare, under the same replication cap and job slots."""
        seed = data.get("seed")
        reps = run_options(data, seed, campaign)
        if reps < 2:
            raise HTTPException(422, "a comparison needs at least 2 replications")
        if jobs.active() >= jobs.max_active:
            raise HTTPException(429, f"{jobs.max_active} runs are already going; wait for one to finish or cancel one")
        payload = json.dumps({"a": a, "b": b})
        job = await anyio.to_thread.run_sync(lambda: jobs.start_job(
            "compare", payload, name=name, total=2 * reps * steps, replications=reps, seed=seed))
        return {**job.to_dict(), "status_url": f"/api/jobs/{job.id}"}

    @app.get("/api/comparisons/{name}")
    def api_comparison(name: str) -> dict[str, Any]:
        """A finished comparison: its numbers and its table (web.compare), for a page to show in place."""
        from shieldwall.web.compare import comparison_table
        from shieldwall.web.jobs import COMPARISON

        folder = comparison_folders().get(name)
        if folder is None:
            raise HTTPException(404, f"no comparison {name!r} in {runs}")
        result = rundir.read_json_object(folder / COMPARISON) or {}
        if not result.get("metrics"):
            raise HTTPException(422, f"comparison {name!r} has no results ({COMPARISON})")
        return {"comparison": result, "html": comparison_table(result), "page_url": f"/compare/{name}"}

    # -- the laydown page: move batteries and radars, see their reach, compare in place ---------
    async def laydown_of(data: dict[str, Any]) -> Any:
        """(web.laydown.Laydown, its view) of a request, worked out off the event loop; problems
        (the file's, or the moves', located) are a ScenarioError: a 422 with the list."""
        from shieldwall.web.laydown import build_laydown, laydown_view

        text, name = text_and_name(data.get("text"), data.get("file"))

        def work() -> tuple[Any, Any]:
            laid = build_laydown(text, name, data.get("moves"))
            return laid, laydown_view(laid, data.get("threat"), data.get("altitude_m"))

        return await anyio.to_thread.run_sync(work, limiter=limiter)

    @app.post("/api/laydown", openapi_extra=_LAYDOWN_BODY)
    async def api_laydown(request: Request) -> dict[str, Any]:
        """The scenario with its batteries and radars moved: each one's engagement ring against
        the chosen threat type and radar horizon at the chosen altitude, and the moved file."""
        _, view = await laydown_of(await json_body(request))
        return view

    @app.post("/api/laydown/compare", status_code=202, openapi_extra=_LAYDOWN_COMPARE_BODY)
    async def api_laydown_compare(request: Request) -> Any:
        """The scenario as opened (A) against the moved laydown (B), on common random numbers."""
        from shieldwall.campaign.compare import check_comparable
        from shieldwall.web.inputs import input_payload

        data = await json_body(request)
        laid, _ = await laydown_of(data)
        if not laid.moved_ids:
            raise HTTPException(422, "nothing moved: drag a battery or a radar first")
        try:
            await anyio.to_thread.run_sync(check_comparable, laid.original, laid.moved, ("as opened", "moved"),
                                           limiter=limiter)
        except ShieldwallError as exc:
            raise HTTPException(422, str(exc)) from None
        return await start_compare(data, input_payload(laid.original, "as opened"), input_payload(laid.moved, "moved"),
                                   name=f"{laid.original.name[:40]}-laydown")

    return app
