"""Issue 19 from the command line: every input a hostile or careless user gives ends in a located
message and exit 2 (never a traceback, never a hang or a machine out of memory), user text never
acts on the terminal, and run folders tell the truth about what is in them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLES, scenario_dict

SMALL = EXAMPLES / "small.yaml"
WINTER = EXAMPLES / "campaign-winter.yaml"


def shieldwall(*args: str, timeout: float = 180, **kwargs: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shieldwall", *args], capture_output=True, text=True,
                          timeout=timeout, **kwargs)  # type: ignore[call-overload]


def refused(proc: subprocess.CompletedProcess, *words: str) -> str:
    """Exit 2, no traceback, and each of ``words`` in the message."""
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "Traceback" not in out, out
    for word in words:
        assert word in out, (word, out)
    return out


def write(path: Path, data: object) -> Path:
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# --- inputs that used to hang or exhaust memory: now out of range, with their field path ---------


@pytest.mark.parametrize("change, path", [
    ({"raids": [{**scenario_dict()["raids"][0], "time_s": 1e308}]}, "raids[0].time_s"),
    ({"raids": [{**scenario_dict()["raids"][0], "time_s": 1e9}]}, "raids[0].time_s"),
    ({"raids": [{**scenario_dict()["raids"][0], "launch": {"lat": 51, "lon": 30.5, "spread_km": 1e9}}]},
     "raids[0].launch.spread_km"),
    ({"raids": [{**scenario_dict()["raids"][0], "count": 10**30}]}, "raids[0].count"),
    ({"raids": [{**scenario_dict()["raids"][0], "count": 10**6}]}, "raids[0].count"),
    ({"doctrine": {"salvo": 1_000_000}}, "doctrine.salvo"),
    ({"doctrine": {"max_engagements": 1_000_000}}, "doctrine.max_engagements"),
    ({"doctrine": {"decision_interval_s": 1e-9}}, "doctrine.decision_interval_s"),
    ({"assets": [{"id": "town", "lat": 50.45, "lon": 30.52, "value": 1e308}]}, "assets[0].value"),
    ({"batteries": [{**scenario_dict()["batteries"][0], "interceptors": {"test-missile": 2**63 - 1}}]},
     "batteries[0].interceptors.test-missile"),
    ({"seed": 2**64}, "seed"),
])
def test_values_that_hung_or_exhausted_memory_are_out_of_range(tmp_path: Path, change: dict, path: str) -> None:
    file = write(tmp_path / "s.yaml", scenario_dict(**change))
    refused(shieldwall("validate", str(file)), path, "out of range" if "salvo" not in path and "engagements"
            not in path else "accepted form")
    refused(shieldwall("run", str(file), "-n", "5", "--out", str(tmp_path / "o")), path)
    assert not (tmp_path / "o").exists()


def test_many_small_raids_are_refused_by_their_total(tmp_path: Path) -> None:
    raid = scenario_dict()["raids"][0]
    raids = [{**raid, "id": f"w{i}", "count": 60_000} for i in range(2)]
    refused(shieldwall("validate", str(write(tmp_path / "s.yaml", scenario_dict(raids=raids)))),
            "120,000 threats and decoys", "at most 100,000")


def test_a_run_whose_memory_estimate_is_over_the_budget_is_refused_before_it_starts(tmp_path: Path) -> None:
    doc = scenario_dict(doctrine={"salvo": 100, "max_engagements": 100})
    doc["raids"][0]["count"] = 20_000
    file = write(tmp_path / "s.yaml", doc)
    out = refused(shieldwall("run", str(file), "-n", "1000", "--max-memory", "1GiB", "--out", str(tmp_path / "o")),
                  "would need about", "over the budget of 1.0 GiB", "random numbers")
    assert "shots" in out and not (tmp_path / "o").exists()
    refused(shieldwall("run", str(SMALL), "-n", "10", "--max-memory", "lots"), "not an amount of memory")


def test_compiling_a_geometry_that_would_run_for_hours_is_refused(tmp_path: Path) -> None:
    from shieldwall.engine.budget import BudgetError, check_geometry
    from shieldwall.scenario.model import Scenario

    doc = scenario_dict()
    doc["catalog"]["threats"]["test-drone"]["speed_mps"] = 1
    doc["raids"][0].update(count=100_000, launch={"lat": -50, "lon": -150, "spread_km": 1000})
    with pytest.raises(BudgetError, match="path samples"):
        check_geometry(Scenario.model_validate(doc))
    check_geometry(Scenario.model_validate(scenario_dict()))  # an ordinary scenario is far below


@pytest.mark.parametrize("change, path", [
    ({"nights": 1_000_000_000}, "nights"),
    ({"deliveries": [{"date": "2025-01-03", "interceptor": "test-missile", "quantity": 10**20, "to": "central"}]},
     "deliveries[0].quantity"),
    ({"deliveries": [{"date": "2025-01-03", "interceptor": "test-missile", "quantity": 2**63 - 1,
                      "to": "central"}]}, "deliveries[0].quantity"),
    ({"depots": [{"id": "central", "stock": {"test-missile": 10**20}}]}, "depots[0].stock.test-missile"),
    ({"start_date": "9999-12-01", "nights": 3000}, "nights"),
])
def test_campaign_quantities_that_overflowed_are_located(tmp_path: Path, change: dict, path: str) -> None:
    from test_campaign import campaign_dict, theatre_dict

    write(tmp_path / "theatre.yaml", theatre_dict())
    doc = campaign_dict()
    doc.setdefault("depots", [{"id": "central", "stock": {}}])
    doc.update(change)
    file = write(tmp_path / "c.yaml", doc)
    refused(shieldwall("validate", str(file)), path)
    refused(shieldwall("campaign", str(file), "-n", "2", "--out", str(tmp_path / "o")), path)


# --- YAML that PyYAML turns into exceptions --------------------------------------------------------


@pytest.mark.parametrize("text, words", [
    ("a: " + "[" * 500 + "]" * 500 + "\n", ("nested more than 64 levels", ":1:")),
    ("a:\n" + "".join("  " * i + "- \n" for i in range(1, 300)), ("nested more than",)),
    ("name: x\ndescription: 2024-02-30\n",
     ("`2024-02-30` is not a valid date", ":2:14", "quote it", "expected: a real date YYYY-MM-DD")),
    ("name: 2024-01-01 25:00:00\n", ("is not a valid date or time", ":1:7")),
    ("name: x\nseed: 1" + "0" * 5000 + "\n", ("is not a valid integer", ":2:7")),
    ("x: &a [1]\n" + "".join(f"l{i}: &a{i} [*{'a' if i == 0 else f'a{i - 1}'}, *{'a' if i == 0 else f'a{i - 1}'}]\n"
                             for i in range(30)), ("aliases (*name) expand the file to more than",)),
])
def test_yaml_that_raised_python_errors_is_located(tmp_path: Path, text: str, words: tuple[str, ...]) -> None:
    refused(shieldwall("validate", str(write(tmp_path / "s.yaml", text))), *words)


def test_a_file_with_many_raids_is_refused_quickly_and_honestly(tmp_path: Path) -> None:
    raid = "  - {id: r%d, threat: shahed-136, count: 1, launch: {lat: 51, lon: 33}, target: a}\n"
    big = write(tmp_path / "big.yaml", "name: big\nassets: [{id: a, lat: 50, lon: 30}]\nraids:\n"
                + "".join(raid % i for i in range(100_000)))
    out = refused(shieldwall("validate", str(big), timeout=60), "larger than 4 MiB")
    assert "aliases" not in out
    some = write(tmp_path / "some.yaml", "name: big\nassets: [{id: a, lat: 50, lon: 30}]\nraids:\n"
                 + "".join(raid % i for i in range(20_000)))
    out = refused(shieldwall("validate", str(some), timeout=120), "more than 200,000 values")
    assert "aliases" not in out


def test_special_files_and_pipes(tmp_path: Path) -> None:
    refused(shieldwall("validate", "/dev/zero"), "it is a device")
    refused(shieldwall("validate", str(tmp_path)), "it is a folder")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    refused(shieldwall("validate", str(fifo), timeout=60), "the file is empty")  # nobody writes: no hang
    piped = subprocess.run(["bash", "-c", f"{sys.executable} -m shieldwall validate <(cat {SMALL})"],
                           capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0 and "is valid" in piped.stdout, piped.stdout + piped.stderr
    piped = subprocess.run(["bash", "-c", f"{sys.executable} -m shieldwall validate <(cat {WINTER})"],
                           capture_output=True, text=True, timeout=120, cwd=EXAMPLES)
    assert piped.returncode == 2 or "valid campaign" in piped.stdout  # its scenario path is relative to /dev/fd


# --- user text is never markup or terminal control ------------------------------------------------


@pytest.mark.parametrize("name", ["odd [/] name [bold]x", "esc \x1b[31mred\x1b[0m \x07 and \u202e"])
def test_names_are_printed_as_text(tmp_path: Path, name: str) -> None:
    file = tmp_path / "s.yaml"
    file.write_text(json.dumps(scenario_dict(name=name)), encoding="utf-8")
    out = tmp_path / "o"
    proc = shieldwall("run", str(file), "-n", "20", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout and "\u202e" not in proc.stdout
    if "[/]" in name:
        assert name in proc.stdout
    else:
        assert "\\x1b[31mred" in proc.stdout
    assert (out / "report.html").is_file() and (out / "report.md").is_file()
    assert json.loads((out / "summary.json").read_text())["scenario"] == name
    bad = tmp_path / "[bad]" / "x.yaml"
    bad.parent.mkdir()
    refused(shieldwall("validate", str(bad)), "[bad]")


def test_json_written_is_standard(tmp_path: Path) -> None:
    """value: 1e308 wrote bare Infinity; now every number a file can hold is bounded, and a strict
    JSON reader (JavaScript's JSON.parse) reads summary.json at the bounds."""
    from shieldwall import limits as L

    doc = scenario_dict()
    doc["assets"][0]["value"] = L.MAX_ASSET_VALUE
    doc["catalog"]["threats"]["test-drone"]["cost_usd"] = L.MAX_COST_USD
    doc["raids"][0]["count"] = 50
    out = tmp_path / "o"
    assert shieldwall("run", str(write(tmp_path / "s.yaml", doc)), "-n", "50", "--out", str(out)).returncode == 0

    def strict(text: str) -> object:
        return json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))

    strict((out / "summary.json").read_text())
    strict((out / "run.json").read_text())


# --- output folders and run folders ---------------------------------------------------------------


def test_out_that_is_a_file_is_refused_before_any_work(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    refused(shieldwall("run", str(SMALL), "-n", "5", "-o", str(afile)), "not a folder")
    refused(shieldwall("campaign", str(WINTER), "-n", "2", "-o", str(afile)), "not a folder")
    refused(shieldwall("run", str(SMALL), "-n", "5", "-o", str(afile / "sub")), "not a folder")
    assert afile.read_text() == "keep me"


def test_report_of_a_run_with_a_cut_events_file_is_located(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert shieldwall("run", str(SMALL), "-n", "20", "--out", str(out), "--no-report").returncode == 0
    events = out / "events.parquet"
    events.write_bytes(events.read_bytes()[:200])
    refused(shieldwall("report", str(out)), "events.parquet", "not a readable event log")
    (out / "summary.json").write_text('{"scenario": "x", "tot')
    refused(shieldwall("report", str(out)), "summary.json", "not readable JSON")
    (out / "summary.json").write_text('{"totals": 3}')
    (out / "events.parquet").unlink()
    refused(shieldwall("report", str(out)), "not what shieldwall writes")


def test_a_rerun_writes_a_new_folder_whole_and_an_interrupted_one_leaves_the_old(tmp_path: Path) -> None:
    from shieldwall.report.rundir import read_manifest, run_state

    out = tmp_path / "o"
    first = write(tmp_path / "first.yaml", scenario_dict(name="first"))
    assert shieldwall("run", str(first), "-n", "30", "--out", str(out)).returncode == 0
    assert read_manifest(out)["state"] == "complete" and run_state(out) == "complete"
    keep = out / "notes.txt"
    keep.write_text("mine")  # not a run file: never touched
    old = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    # a long rerun into the same folder, killed half-way (as by a crash or kill -9)
    second = scenario_dict(name="second")
    second["raids"][0]["count"] = 2000
    second["batteries"][0]["interceptors"]["test-missile"] = 5000
    proc = subprocess.Popen([sys.executable, "-m", "shieldwall", "run", str(write(tmp_path / "second.yaml", second)),
                             "-n", "20000", "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".o.partial-*/replications/part-*.parquet")) and not list(
            tmp_path.glob(".o.partial-*/events.parquet")):
        assert proc.poll() is None and time.monotonic() < deadline, "the rerun did not start writing"
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == old  # the old run, whole
    assert json.loads((out / "summary.json").read_text())["scenario"] == "first"
    (stage,) = tmp_path.glob(".o.partial-*")
    assert run_state(stage) == "interrupted"  # marked: its process is gone

    # Ctrl-C: the folder is left as it was, the staging folder removed
    proc = subprocess.Popen([sys.executable, "-m", "shieldwall", "run", str(tmp_path / "second.yaml"),
                             "-n", "20000", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as in a terminal
    while not [p for p in tmp_path.glob(".o.partial-*/events.parquet") if p.parent != stage]:
        assert proc.poll() is None and time.monotonic() < deadline + 60
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    said = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode != 0 and "Traceback" not in said, said
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == old
    assert not list(tmp_path.glob(".o.partial-*"))  # the killed one was cleared too

    # a finished rerun replaces the run files, and only those
    assert shieldwall("run", str(write(tmp_path / "third.yaml", scenario_dict(name="third"))), "-n", "30",
                      "--out", str(out), "--no-report").returncode == 0
    assert json.loads((out / "summary.json").read_text())["scenario"] == "third"
    assert json.loads((out / "scenario.json").read_text())["name"] == "third"
    assert not (out / "report.html").exists()  # the old run's report went with it
    assert keep.read_text() == "mine" and read_manifest(out)["state"] == "complete"
    assert not list(tmp_path.glob(".o.*"))


def test_a_file_over_the_value_cap_is_refused_before_it_is_composed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 19: a 3 MB file of 36,000 raids (under the 4 MiB cap) took 12 s and 330 MB to be refused,
    the pure-Python composer building every node first. libyaml's event parser counts the values
    first: the same located refusal as the composer's, and the composer is never started."""
    from shieldwall.errors import ScenarioError
    from shieldwall.scenario import yaml_source

    raid = "  - {id: r%d, threat: shahed-136, count: 1, launch: {lat: 51, lon: 33}, target: a}\n"
    text = "name: big\nassets: [{id: a, lat: 50, lon: 30}]\nraids:\n" + "".join(raid % i for i in range(36_000))
    with monkeypatch.context() as patched:  # the pure-Python composer's own count, for the reference
        patched.setattr(yaml_source, "FAST_COUNT_ABOVE_CHARS", len(text) + 1)
        with pytest.raises(ScenarioError) as slow:
            yaml_source.parse_yaml(text, "big.yaml")

    def never(*args: object) -> None:
        raise AssertionError("the composer was started")

    monkeypatch.setattr(yaml_source, "_BoundedLoader", never)
    with pytest.raises(ScenarioError) as fast:
        yaml_source.parse_yaml(text, "big.yaml")
    (a,), (b,) = slow.value.problems, fast.value.problems
    assert "more than 200,000 values" in b.message and (a.message, a.line, a.column) == (b.message, b.line, b.column)
