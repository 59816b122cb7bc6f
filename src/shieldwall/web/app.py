"""The local web app: browse run folders and their reports, open and edit a scenario with its
problems shown in place, start a run and watch it, compare two runs.

Everything it reads or writes is inside one runs folder (plus read-only example scenarios).
Names in URLs are checked against that folder, request bodies are capped, and every user
mistake is a 4xx answer with a message: the server keeps serving."""

from __future__ import annotations

import json
from dataclasses import asdict
from html import escape
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from shieldwall.errors import ScenarioError, ShieldwallError
from shieldwall.web.jobs import NAME_RE, JobManager

STATIC = Path(__file__).resolve().parent / "static"
MAX_UPLOAD_BYTES = 1 << 20  # 1 MiB: far more than any hand-written scenario
SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")


def _page(title: str, body: str, scripts: str = "") -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang=en><head><meta charset="utf-8"><title>{escape(title)} - shieldwall</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
        f'<link rel="stylesheet" href="/static/shieldwall.css"></head><body>'
        f'<header class="sw-top"><a class="sw-brand" href="/">shieldwall</a><a href="/">runs</a>'
        f'<a href="/editor">scenario editor</a><a href="/compare">compare</a></header>'
        f"<main>{body}</main>{scripts}</body></html>")


def create_app(runs_dir: str | Path, *, max_replications: int = 20000, examples_dir: str | Path | None = None,
               max_upload_bytes: int = MAX_UPLOAD_BYTES, max_active_runs: int = 4) -> FastAPI:
    runs = Path(runs_dir).resolve()
    runs.mkdir(parents=True, exist_ok=True)
    examples = Path(examples_dir).resolve() if examples_dir else (Path.cwd() / "examples").resolve()
    jobs = JobManager(runs, max_active=max_active_runs)
    app = FastAPI(title="shieldwall", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runs_dir, app.state.jobs = runs, jobs
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def _cap_bodies(request: Request, call_next: Any) -> Any:
        """Refuse an oversized body before anything parses it (multipart uploads included)."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_upload_bytes + 64 * 1024:  # room for form overhead
            return JSONResponse({"detail": f"request too large: {int(declared)} bytes, the limit for a scenario "
                                           f"is {max_upload_bytes}"}, status_code=413)
        return await call_next(request)

    @app.exception_handler(ShieldwallError)
    async def _user_error(request: Request, exc: ShieldwallError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    # -- paths: every name from a URL resolves inside the runs folder, or the request fails ----
    def run_folder(name: str) -> Path:
        if not NAME_RE.match(name) or ".." in name:
            raise HTTPException(400, f"bad run name {name!r}: letters, digits, '.', '_' and '-' only, "
                                     "inside the runs folder")
        path = (runs / name).resolve()
        if path.parent != runs:
            raise HTTPException(400, f"{name!r} is outside the runs folder")
        from shieldwall.report.rundir import is_run_folder

        if not is_run_folder(path):
            raise HTTPException(404, f"no run {name!r} in {runs}")
        return path

    def file_in(folder: Path, rel: str) -> Path:
        path = (folder / rel).resolve()
        if not path.is_relative_to(folder):
            raise HTTPException(400, f"{rel!r} is outside the run folder")
        if not path.is_file():
            raise HTTPException(404, f"no file {rel!r} in run {folder.name!r}")
        return path

    def example_file(name: str) -> Path:
        if not NAME_RE.match(name) or not name.endswith(SCENARIO_SUFFIXES):
            raise HTTPException(400, f"bad example name {name!r}")
        path = (examples / name).resolve()
        if path.parent != examples or not path.is_file():
            raise HTTPException(404, f"no example {name!r}")
        return path

    async def body_text(request: Request) -> str:
        """The request body as text, refused (413) past the upload cap."""
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_upload_bytes:
            raise HTTPException(413, f"scenario too large: {int(declared)} bytes, the limit is {max_upload_bytes}")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_upload_bytes:
                raise HTTPException(413, f"scenario too large: over {max_upload_bytes} bytes")
            chunks.append(chunk)
        try:
            return b"".join(chunks).decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPException(400, "the scenario is not UTF-8 text") from None

    async def json_body(request: Request) -> dict[str, Any]:
        text = await body_text(request)
        try:
            data = json.loads(text or "{}")
        except ValueError as exc:
            raise HTTPException(400, f"request body is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise HTTPException(400, "request body must be a JSON object")
        return data

    def check(text: str, file: str = "scenario.yaml") -> tuple[Any, list[dict[str, Any]]]:
        from shieldwall.scenario.load import parse_scenario

        if len(text.encode("utf-8")) > max_upload_bytes:
            raise HTTPException(413, f"scenario too large: over {max_upload_bytes} bytes")
        try:
            return parse_scenario(text, file=file), []
        except ScenarioError as exc:
            return None, [asdict(p) for p in exc.problems] or [{"message": str(exc)}]

    def list_runs() -> list[dict[str, Any]]:
        from shieldwall.report.rundir import is_run_folder

        out = []
        for path in sorted(runs.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True):
            if not is_run_folder(path) or not NAME_RE.match(path.name):
                continue
            row: dict[str, Any] = {"run": path.name, "modified": path.stat().st_mtime}
            try:
                summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
                tot = summary["totals"]
                row.update(scenario=summary.get("scenario"), replications=summary.get("replications"),
                           seed=summary.get("seed"), launched=tot.get("launched"), leaked_mean=tot.get("leaked_mean"),
                           value_lost_mean=tot.get("value_lost_mean"),
                           interceptor_cost_usd_mean=tot.get("interceptor_cost_usd_mean"))
            except (OSError, ValueError, KeyError, TypeError):
                row["scenario"] = None
            row["campaign"] = (path / "campaign.json").is_file()
            out.append(row)
        return out

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
    def sweep_report(name: str) -> FileResponse:
        from shieldwall.report.sweep_html import write_sweep_report

        folder = sweep_folders().get(name)  # only names listed: nothing else on disk is reachable
        if folder is None:
            raise HTTPException(404, f"no sweep {name!r} in {runs}")
        path = folder / "report.html"
        if not path.is_file() or path.stat().st_mtime < (folder / "sweep.json").stat().st_mtime:
            write_sweep_report(folder)
        return FileResponse(path, media_type="text/html")

    # -- JSON API ------------------------------------------------------------------------------
    @app.get("/api/runs")
    def api_runs() -> list[dict[str, Any]]:
        return list_runs()

    @app.get("/api/runs/{name}")
    def api_run(name: str) -> Any:
        folder = run_folder(name)
        path = folder / "summary.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    @app.get("/api/runs/{name}/scenario")
    def api_run_scenario(name: str) -> dict[str, Any]:
        import yaml

        path = file_in(run_folder(name), "scenario.json")
        data = json.loads(path.read_text(encoding="utf-8"))
        return {"name": f"{name}.yaml", "text": yaml.safe_dump(data, sort_keys=False, allow_unicode=True)}

    @app.get("/api/runs/{name}/replay")
    def api_replay(name: str) -> dict[str, Any]:
        from shieldwall.report.replay import replay_data
        from shieldwall.report.rundir import load_run

        run = load_run(run_folder(name))
        if run.scenario is None:
            raise HTTPException(404, f"run {name!r} has no scenario.json: {run.scenario_note}")
        return replay_data(run.scenario, run.events, run.seed)

    @app.get("/api/examples")
    def api_examples() -> list[str]:
        if not examples.is_dir():
            return []
        return sorted(p.name for p in examples.iterdir() if p.suffix in SCENARIO_SUFFIXES and NAME_RE.match(p.name))

    @app.get("/api/examples/{name}")
    def api_example(name: str) -> dict[str, Any]:
        return {"name": name, "text": example_file(name).read_text(encoding="utf-8")}

    @app.post("/api/validate")
    async def api_validate(request: Request) -> dict[str, Any]:
        data = await json_body(request)
        text = data.get("text")
        if not isinstance(text, str):
            raise HTTPException(400, "send {\"text\": \"<scenario YAML>\"}")
        scenario, problems = check(text, str(data.get("file") or "scenario.yaml"))
        return {"ok": scenario is not None, "problems": problems,
                "name": scenario.name if scenario is not None else None}

    @app.post("/api/upload")
    async def api_upload(file: UploadFile) -> dict[str, Any]:
        raw = await file.read(max_upload_bytes + 1)
        if len(raw) > max_upload_bytes:
            raise HTTPException(413, f"{file.filename}: too large, the limit is {max_upload_bytes} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPException(400, f"{file.filename}: not UTF-8 text") from None
        name = Path(file.filename or "upload.yaml").name
        scenario, problems = check(text, name)
        return {"name": name, "text": text, "ok": scenario is not None, "problems": problems}

    @app.post("/api/runs", status_code=202)
    async def api_start(request: Request) -> dict[str, Any]:
        data = await json_body(request)
        text, reps, seed, name = data.get("text"), data.get("replications", 1000), data.get("seed"), data.get("name")
        if not isinstance(text, str):
            raise HTTPException(400, "send {\"text\": \"<scenario YAML>\", \"replications\": N}")
        if not isinstance(reps, int) or isinstance(reps, bool) or reps < 1:
            raise HTTPException(422, f"replications must be a whole number >= 1, got {reps!r}")
        if reps > max_replications:
            raise HTTPException(422, f"replications {reps} is over this server's cap of {max_replications} "
                                     "(shieldwall serve --max-replications)")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
            raise HTTPException(422, f"seed must be a whole number >= 0, got {seed!r}")
        if name is not None and (not isinstance(name, str) or not NAME_RE.match(name)):
            raise HTTPException(422, "name: letters, digits, '.', '_' and '-' only")
        scenario, problems = check(text, str(data.get("file") or "scenario.yaml"))
        if scenario is None:
            return JSONResponse({"detail": "the scenario has problems", "problems": problems}, status_code=422)
        if jobs.active() >= jobs.max_active:
            raise HTTPException(429, f"{jobs.max_active} runs are already going; wait for one to finish")
        job = jobs.start(scenario, replications=reps, seed=seed, name=name)
        return {**job.to_dict(), "status_url": f"/api/jobs/{job.id}"}

    @app.get("/api/jobs/{job_id}")
    def api_job(job_id: str) -> dict[str, Any]:
        job = jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"no job {job_id!r}")
        return job.to_dict()

    # -- pages ---------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        rows = list_runs()
        body = [f"<h1>Runs</h1><p class=sw-meta>in {escape(str(runs))}. "
                '<a class="sw-button" href="/editor">New run from a scenario</a></p>']
        from shieldwall.report.rundir import is_run_folder

        if is_run_folder(runs):
            body.append(f'<p class="sw-note">{escape(str(runs))} is itself a run folder: serve the folder that holds '
                        f"it (<code>shieldwall serve --runs {escape(str(runs.parent))}</code>) to see it here.</p>")
        if not rows:
            body.append('<p class="sw-note">No runs yet: open the <a href="/editor">scenario editor</a> and '
                        "start one, or run <code>shieldwall run SCENARIO --out FOLDER</code> into this folder.</p>")
        else:
            body.append('<table class="sw-table sw-runs"><thead><tr><th>run</th><th>scenario</th><th>replications</th>'
                        "<th>launched</th><th>leaked (mean)</th><th>value lost</th><th>interceptor cost (USD)</th>"
                        "<th></th></tr></thead><tbody>")
            for r in rows:
                def num(key: str, fmt: str = "{:.1f}", r: dict[str, Any] = r) -> str:
                    return fmt.format(r[key]) if isinstance(r.get(key), (int, float)) else ""
                name = escape(r["run"])
                body.append(
                    f'<tr data-run="{name}"><td><a href="/runs/{name}/report">{name}</a></td>'
                    f"<td>{escape(str(r.get('scenario') or ''))}{' (campaign)' if r['campaign'] else ''}</td>"
                    f"<td>{num('replications', '{}')}</td><td>{num('launched', '{:g}')}</td>"
                    f"<td>{num('leaked_mean', '{:.2f}')}</td><td>{num('value_lost_mean')}</td>"
                    f"<td>{num('interceptor_cost_usd_mean', '{:,.0f}')}</td>"
                    f'<td><a href="/runs/{name}/report">report</a> · <a href="/runs/{name}/replay">replay</a> · '
                    f'<a href="/editor?run={name}">scenario</a></td></tr>')
            body.append("</tbody></table>")
            options = "".join(f'<option value="{escape(r["run"])}">{escape(r["run"])}</option>' for r in rows)
            body.append(f'<h2>Compare two runs</h2><form class="sw-form-row" action="/compare" method="get">'
                        f'<select name="a">{options}</select> with <select name="b">{options}</select>'
                        '<button class="sw-primary" type="submit">Compare</button></form>')
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
        return _page("runs", "".join(body))

    @app.get("/runs/{name}/report")
    def report(name: str) -> FileResponse:
        from shieldwall.report.html import write_report

        folder = run_folder(name)
        path = folder / "report.html"
        newest = max((folder / f).stat().st_mtime for f in ("summary.json", "campaign.json") if (folder / f).is_file())
        if not path.is_file() or path.stat().st_mtime < newest:
            write_report(folder)  # older runs, or runs made with --no-report
        return FileResponse(path, media_type="text/html")

    @app.get("/runs/{name}/files/{rel:path}")
    def run_file(name: str, rel: str) -> FileResponse:
        return FileResponse(file_in(run_folder(name), rel))

    @app.get("/runs/{name}/replay", response_class=HTMLResponse)
    def replay_page(name: str) -> HTMLResponse:
        folder = run_folder(name)
        body = (f'<h1>Replay: {escape(name)}</h1><p class=sw-meta>Replication 0. '
                f'<a href="/runs/{escape(name)}/report">full report</a></p>'
                '<div id="replay" tabindex="0"></div><p id="replay-error" class="sw-error" hidden></p>')
        scripts = ('<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css">'
                   '<script src="/static/vendor/leaflet/leaflet.js"></script><script src="/static/replay.js"></script>'
                   f"<script>Promise.all([fetch('/api/runs/{escape(folder.name)}/replay'),"
                   "fetch('/static/vendor/natural-earth/europe-50m.geojson')]).then(async ([d, o]) => {"
                   "if (!d.ok) throw new Error((await d.json()).detail);"
                   "ShieldwallReplay.mount(document.getElementById('replay'), await d.json(), await o.json());"
                   "}).catch(e => { const p = document.getElementById('replay-error'); p.hidden = false;"
                   "p.textContent = String(e.message || e); });</script>")
        return _page(f"replay {name}", body, scripts)

    @app.get("/editor", response_class=HTMLResponse)
    def editor() -> HTMLResponse:
        body = f"""<h1>Scenario editor</h1>
<div class="sw-form-row">
  <label>Open an example <select id="example"><option value="">choose...</option></select></label>
  <label>or a file <input id="upload" type="file" accept=".yaml,.yml,.json"></label>
  <span id="source" class="sw-muted"></span>
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
    <p id="no-problems" class="sw-ok" hidden>No problems: this scenario can run.</p>
    <h3>Run it</h3>
    <div class="sw-form-row">
      <label>replications <input id="replications" type="number" min="1" max="{max_replications}" value="200"
        style="width:7em"></label>
      <label>seed <input id="seed" type="number" min="0" placeholder="scenario's" style="width:7em"></label>
      <button id="run" class="sw-primary" type="button">Run</button>
    </div>
    <p class="sw-muted">At most {max_replications} replications. Each run gets a new folder in the runs folder.</p>
    <progress id="progress" max="1" value="0" hidden></progress>
    <div id="run-status" role="status"></div>
  </div>
</div>"""
        return _page("editor", body, '<script src="/static/editor.js"></script>')

    @app.get("/compare", response_class=HTMLResponse)
    def compare(a: str | None = None, b: str | None = None) -> HTMLResponse:
        from shieldwall.web.compare import compare_body

        if not a or not b:
            rows = list_runs()
            options = "".join(f'<option value="{escape(r["run"])}">{escape(r["run"])}</option>' for r in rows)
            return _page("compare", '<h1>Compare two runs</h1><form class="sw-form-row" action="/compare">'
                         f'<select name="a">{options}</select> with <select name="b">{options}</select>'
                         '<button class="sw-primary" type="submit">Compare</button></form>')
        fa, fb = run_folder(a), run_folder(b)
        return _page(f"{a} vs {b}", compare_body(fa, fb))

    return app
