"""Hypothesis strategies for every file a user hands shieldwall (scenarios, campaigns, WTA
instances, attack-record CSVs), valid and broken, and the one property they must all satisfy:

    whatever the file, the reader either accepts it or raises a ShieldwallError (exit 2) whose
    problems are located (a field path or a line), within a time bound: never another exception
    (a traceback), never a hang.

A valid scenario is also run (two replications, under a memory budget): it finishes, or is refused
by the budget with a message. tests/test_fuzz.py runs a few hundred cases on every CI;
``benchmarks/fuzz.py --cases 20000`` the long run (results in benchmarks/RESULTS.md).

The strategies start from real files (examples/small.yaml, the test campaign, the attack record's
header) and mutate them at two levels: the data (a value swapped for an edge value, a key dropped,
added or misspelt, a list grown, a subtree nested deep) and the text (characters inserted or
deleted, lines duplicated, YAML syntax such as anchors, tags and unquoted dates dropped in)."""

from __future__ import annotations

import copy
import math
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SMALL = yaml.safe_load((EXAMPLES / "small.yaml").read_text(encoding="utf-8"))
CASE_LIMIT_S = 60.0  # one case (read, validate, maybe two replications) may take at most this long

EDGE_VALUES: list[Any] = [
    0, -1, 1, 2**31, 2**63 - 1, 2**63, 10**30, -(10**30), 1e308, -1e308, 1e-300, 0.5, -0.0, math.inf, -math.inf,
    math.nan, "", " ", "x", "[/]", "[bold]x", "\x1b[31m", "\u202e", "é", "2024-02-30", "1e20", "null", "~", None,
    True, False, [], {}, [1, 2], {"a": 1}, "a" * 300, "../../etc/passwd", "%00", "<script>alert(1)</script>",
]
TEXT_SNIPPETS = [
    "2024-02-30", "2024-01-01 25:00:00", "&a", "*a", "*undefined", "!!python/object/apply:os.system ['true']",
    "!!binary", "<<: *a", "{", "}", "[", "]", ":", "- ", "\t", "'", '"', "#", "|", ">", "? ", "1e999", ".nan",
    "0x7fffffffffffffffff", "1" * 400, "\x00", "\x1b", "\ufeff", "%YAML 1.1\n", "---\n", "...\n",
]


def _leaves(data: Any, path: tuple = ()) -> list[tuple]:
    """Every path to a value in nested dicts and lists (containers included)."""
    out = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _leaves(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            out += _leaves(value, (*path, index))
    return out


def _set(data: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def _delete(data: Any, path: tuple) -> Any:
    if not path:
        return data
    node = data
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return data


def _nest(depth: int) -> Any:
    value: Any = 1
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


@st.composite
def mutated_data(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    """``base`` with 0-4 data-level mutations."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3, 4]))):  # unchanged files too: the valid side
        paths = _leaves(data)
        path = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(["edge", "number", "integer", "text", "delete", "unknown", "grow", "nest"]))
        try:
            if kind == "edge":
                data = _set(data, path, copy.deepcopy(draw(st.sampled_from(EDGE_VALUES))))
            elif kind == "number":
                data = _set(data, path, draw(st.floats(allow_nan=True, allow_infinity=True)))
            elif kind == "integer":
                data = _set(data, path, draw(st.integers(-(2**70), 2**70)))
            elif kind == "text":
                data = _set(data, path, draw(st.text(max_size=30)))
            elif kind == "delete" and path:
                data = _delete(data, path)
            elif kind == "unknown":
                node = data
                for key in path:
                    node = node[key]
                if isinstance(node, dict):
                    key = draw(st.sampled_from(["latt", "speed", "extra", "count ", "Count"]))
                    node[key] = draw(st.sampled_from(EDGE_VALUES[:12]))
            elif kind == "grow":
                node = data
                for key in path:
                    node = node[key]
                if isinstance(node, list) and node:
                    node.extend(copy.deepcopy(node[-1]) for _ in range(draw(st.integers(1, 50))))
            elif kind == "nest" and path:
                data = _set(data, path, _nest(draw(st.integers(1, 120))))
        except (KeyError, IndexError, TypeError):
            pass
    return data


@st.composite
def mutated_text(draw: st.DrawFn, text: str) -> str:
    """``text`` with 0-3 text-level mutations."""
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))):
        kind = draw(st.sampled_from(["insert", "snippet", "delete", "duplicate", "truncate", "swap"]))
        at = draw(st.integers(0, len(text)))
        if kind == "insert":
            text = text[:at] + draw(st.text(min_size=1, max_size=5)) + text[at:]
        elif kind == "snippet":
            text = text[:at] + draw(st.sampled_from(TEXT_SNIPPETS)) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        elif kind == "duplicate":
            lines = text.splitlines(keepends=True)
            if lines:
                i = draw(st.integers(0, len(lines) - 1))
                lines.insert(i, lines[i])
                text = "".join(lines)
        elif kind == "truncate":
            text = text[:at]
        else:
            lines = text.splitlines(keepends=True)
            if len(lines) > 1:
                i = draw(st.integers(0, len(lines) - 2))
                lines[i], lines[i + 1] = lines[i + 1], lines[i]
                text = "".join(lines)
    return text


def _dump(data: Any) -> str:
    try:
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    except (yaml.YAMLError, ValueError, RecursionError):
        return "name: unrepresentable\n"


# the small example with every mechanism of issue 18 in it: electronic warfare, area defences,
# acoustic sensors, a raid on a battery, every switch on (their keys and checks fuzzed too)
RICH: dict[str, Any] = {
    **copy.deepcopy(SMALL),
    "ew_zones": [{"id": "jam", "lat": 47.5, "lon": 34.0, "radius_km": 80, "affects": ["gnss"], "loss_per_km": 0.01,
                  "divert_share": 0.3}],
    "area_defences": [{"id": "mfg", "type": "mobile-fire-group", "lat": 48.7, "lon": 32.5, "radius_km": 40,
                       "units": 10, "stock": 2000}],
    "acoustic_sensors": [{"id": "ears", "type": "acoustic-node", "lat": 48.7, "lon": 32.5, "radius_km": 40,
                          "sensors": 200, "network": "main"}],
    "mechanisms": {"ballistic": True, "c2": True, "detection": True, "ins": True},
}
RICH["raids"] = [*copy.deepcopy(SMALL["raids"]),
                 {"id": "strike", "threat": "shahed-136", "count": 3, "launch": {"lat": 45.2, "lon": 36.2},
                  "window_s": 600, "target": {"battery": SMALL["batteries"][0]["id"]}}]


def scenario_texts(base: dict[str, Any] | None = None) -> st.SearchStrategy[str]:
    """Scenario files: mutants of examples/small.yaml, and of it with every mechanism of issue 18
    in it (``RICH``) (valid ones among them: about a third)."""
    data = mutated_data(base) if base is not None else st.one_of(mutated_data(SMALL), mutated_data(RICH))
    return data.map(_dump).flatmap(mutated_text)


def campaign_texts() -> st.SearchStrategy[str]:
    """Campaign files over the small example as theatre (``theatre.scenario: small.yaml``)."""
    base = {"name": "fuzz", "start_date": "2025-01-01", "nights": 3, "seed": 1,
            "theatre": {"scenario": "small.yaml"},
            "generator": {"builtin": "raids-2022-2024", "share": 0.2,
                          "routes": [{"id": "cruise-route", "threat": "kalibr", "count": 1,
                                      "launch": {"lat": 44.5, "lon": 33.5}, "target": "city-centre"},
                                     {"id": "ballistic-route", "threat": "iskander-m", "count": 1,
                                      "launch": {"lat": 47.0, "lon": 38.0}, "target": "power-plant"},
                                     {"id": "more-ballistic", "threat": "kn-23", "count": 1,
                                      "launch": {"lat": 47.0, "lon": 38.0}, "target": "power-plant"},
                                     {"id": "kinzhal-route", "threat": "kinzhal", "count": 1,
                                      "launch": {"lat": 47.0, "lon": 38.0}, "target": "city-centre"},
                                     {"id": "kh22", "threat": "kh-22", "count": 1,
                                      "launch": {"lat": 47.0, "lon": 38.0}, "target": "city-centre"},
                                     {"id": "kh101", "threat": "kh-101", "count": 1,
                                      "launch": {"lat": 47.0, "lon": 38.0}, "target": "city-centre"}]},
            "raids": [{"night": 2, "from_scenario": True}],
            "depots": [{"id": "central", "stock": {"iris-t": 8}}],
            "deliveries": [{"date": "2025-01-02", "interceptor": "iris-t", "quantity": 4, "to": "central"}],
            "production": [{"interceptor": "iris-t", "per_month": 6, "to": "central"}],
            "damage": {"asset_repair_per_night": 0.1, "battery_loss_per_night": 0.1}}
    return mutated_data(base).map(_dump).flatmap(mutated_text)


@st.composite
def wta_texts(draw: st.DrawFn) -> str:
    """Andersen (``m n mu``, values, ``i j p``) and square (``N``, values, matrix) instances."""
    if draw(st.booleans()):
        m, n = draw(st.integers(1, 4)), draw(st.integers(1, 5))
        mu = draw(st.sampled_from([0, 1, 2, 3, 100_000, 10**9, -1]))
        lines = [f"{m} {n} {mu}"] + [str(draw(st.integers(0, 100))) for _ in range(n)]
        lines += [f"{i} {j} {draw(st.floats(0, 1)):.4f}" for i in range(m) for j in range(n)]
    else:
        size = draw(st.integers(1, 5))
        lines = [str(size), " ".join(str(draw(st.integers(25, 100))) for _ in range(size))]
        lines += [" ".join(f"{draw(st.floats(0, 1)):.3f}" for _ in range(size)) for _ in range(size)]
    text = "\n".join(lines) + "\n"
    return draw(mutated_text(text))


RECORD_HEADER = "time_start,time_end,model,launch_place,target,launched,destroyed\n"
MODELS = ["Shahed-136/131", "X-101/X-555", "Kalibr", "Iskander-M/KN-23", "X-47 Kinzhal", "Reconnaissance UAV",
          "X-101/X-555 and Kalibr", "", "Shahed-136/131 and Iskander-M"]


@st.composite
def record_csv_texts(draw: st.DrawFn) -> str:
    """Attack records in the format of missile_attacks_daily_2022-2024.csv: mostly good rows, some
    broken ones, then text mutations."""
    import datetime as dt

    def good() -> bool:
        return draw(st.integers(0, 9)) < 9

    rows = []
    for _ in range(draw(st.integers(0, 12))):
        day = draw(st.dates(min_value=dt.date(2022, 9, 1), max_value=dt.date(2025, 12, 31)))
        hour = f"{day} {draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}"
        stamp = draw(st.sampled_from([f"{day}", hour])) if good() else draw(
            st.sampled_from(["2024-02-30", "yesterday", "", "2024-01-01 25:00"]))
        launched = str(draw(st.integers(0, 900))) if good() else draw(
            st.sampled_from(["", "5.0", "-3", "1e400", "nan", "many", "10000000000"]))
        destroyed = str(draw(st.integers(0, 900))) if good() else draw(st.sampled_from(["", "inf", "x", "-1"]))
        model = draw(st.sampled_from(MODELS))
        rows.append(f"{stamp},{stamp},{model},,Ukraine,{launched},{destroyed}\n")
    header = RECORD_HEADER if good() else draw(st.sampled_from([RECORD_HEADER.replace("launched,", ""), "",
                                                                 "\ufeff" + RECORD_HEADER]))
    text = header + "".join(rows)
    return draw(mutated_text(text)) if not good() else text


# --- the property ------------------------------------------------------------------------------


def located(exc: BaseException) -> bool:
    """A ShieldwallError names where the problem is: every problem has a field path or a line (or
    the message names the file and a line)."""
    problems = getattr(exc, "problems", None)
    if problems:
        return all(p.path or p.line is not None or "cannot read" in p.message for p in problems)
    return bool(str(exc))


def outcome(read: Callable[[], Any]) -> tuple[str, Any]:
    """("ok", value) or ("refused", ShieldwallError); anything else fails the property."""
    from shieldwall.errors import ShieldwallError

    import signal

    def hung(*_: object) -> None:
        raise TimeoutError(f"a case ran past {CASE_LIMIT_S:g} s")

    start = time.monotonic()
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(int(CASE_LIMIT_S))
    try:
        value = read()
    except ShieldwallError as exc:
        assert exc.exit_code == 2
        assert located(exc), f"not located: {exc}"
        result: tuple[str, Any] = ("refused", exc)
    else:
        result = ("ok", value)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    elapsed = time.monotonic() - start
    assert elapsed < CASE_LIMIT_S, f"took {elapsed:.1f} s"
    return result


def check_scenario_text(text: str, run_it: bool = True) -> str:
    from shieldwall.scenario.load import parse_scenario

    kind, value = outcome(lambda: parse_scenario(text, "fuzz.yaml"))
    if kind == "ok" and run_it:
        from shieldwall.engine.runner import run

        kind, _ = outcome(lambda: run(value, replications=2, seed=0, max_memory_bytes=512 << 20))
        return "ran" if kind == "ok" else "refused by budget"
    return kind


def check_campaign_text(text: str) -> str:
    from shieldwall.campaign.load import build_campaign
    from shieldwall.scenario.yaml_source import parse_yaml

    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "small.yaml").write_text((EXAMPLES / "small.yaml").read_text(encoding="utf-8"), encoding="utf-8")
        kind, _ = outcome(lambda: build_campaign(parse_yaml(text, "fuzz.yaml"), base))
    return kind


def check_file(text: str, suffix: str, read: Callable[[Path], Any]) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        path.write_bytes(text.encode("utf-8", errors="surrogatepass"))  # lone surrogates: invalid UTF-8
        kind, _ = outcome(lambda: read(path))
    return kind


def check_wta_text(text: str) -> str:
    from shieldwall.wta.problem import read_instance
    from shieldwall.wta.solvers import get_solver

    def read_and_solve(path: Path) -> Any:
        problem = read_instance(path)
        return get_solver("local-search", time_limit_s=0.05).solve(problem)

    return check_file(text, ".txt", read_and_solve)


def check_record_text(text: str) -> str:
    from shieldwall.campaign.calibrate import calibrate_raids

    return check_file(text, ".csv", calibrate_raids)


PROPERTIES: dict[str, tuple[Callable[[], st.SearchStrategy[str]], Callable[[str], str]]] = {
    "scenario": (scenario_texts, check_scenario_text),
    "campaign": (campaign_texts, check_campaign_text),
    "wta": (wta_texts, check_wta_text),
    "record": (record_csv_texts, check_record_text),
}
