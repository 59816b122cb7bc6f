"""The YAML reader's two paths (scenario/yaml_source.py, parse_yaml): libyaml (C) for the files
shipped with the package, PyYAML's pure-Python composer for every user's file and wherever libyaml
is missing or finds a problem. On shipped files (and the examples, read as if shipped) both give
the same data and positions, or the same located problems; a user's file never reaches libyaml's
composer (libyaml accepts text the pure-Python reader refuses: a tab inside a plain key)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from fuzzing import campaign_texts, scenario_texts
from shieldwall import limits as L
from shieldwall.errors import ScenarioError
from shieldwall.scenario import yaml_source

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted([*ROOT.glob("examples/*.yaml"), *ROOT.glob("src/shieldwall/**/*.yaml")])

pytestmark = pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML was built without libyaml")


def _read(text: str, *, python: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Any]:
    """("ok", (data, keys, values)) or ("error", problems as tuples), by one path."""
    with monkeypatch.context() as patched:
        if python:
            patched.setattr(yaml_source, "_compose_with_libyaml", lambda text, file: None)
        else:
            def no_fallback(*args: object) -> None:
                raise AssertionError("libyaml read this file, the slow path must not run")

            patched.setattr(yaml_source, "_BoundedLoader", no_fallback)
        try:
            source = yaml_source.parse_yaml(text, "f.yaml", shipped=True)
        except ScenarioError as exc:
            return "error", [(p.message, p.line, p.column, p.path, p.hint) for p in exc.problems]
    return "ok", (repr(source.data), source.source_map.keys, source.source_map.values)


def _both(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple[str, Any], tuple[str, Any]]:
    python = _read(text, python=True, monkeypatch=monkeypatch)
    try:  # as a shipped file: libyaml, falling back to the composer
        source = yaml_source.parse_yaml(text, "f.yaml", shipped=True)
        default: tuple[str, Any] = ("ok", (repr(source.data), source.source_map.keys, source.source_map.values))
    except ScenarioError as exc:
        default = ("error", [(p.message, p.line, p.column, p.path, p.hint) for p in exc.problems])
    return python, default


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_file_is_read_by_libyaml_to_the_same_data_and_positions(path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    text = path.read_text(encoding="utf-8")
    fast = _read(text, python=False, monkeypatch=monkeypatch)
    assert fast[0] == "ok"
    assert fast == _read(text, python=True, monkeypatch=monkeypatch)


TRICKY = {
    "anchors, aliases and a merge key": "base: &b {x: 1, y: [1, 2]}\nthis:\n  <<: *b\n  z: *b\n",
    "non-ASCII before a value": "name: Київ – é\nlist:\n  - {a: «ж», b: 2}\n  - c: 3\n",
    "CRLF line ends": "a: 1\r\nb:\r\n  - x\r\n  - y\r\n",
    "block scalars and comments": "# c\nd: |\n  two\n  lines\ne: >-\n  folded\n  text\nf: 'it''s' # c\n",
    "flow in block, dates and numbers": "when: 2024-02-29\nat: 2024-01-01 12:00:00\nn: [1, 1.5, .inf, 0x10, 1e3]\n",
    "a document marker and a tag": "--- !!map\na: !!str 1\nb: !!float 2\n...\n",
}


@pytest.mark.parametrize("text", TRICKY.values(), ids=list(TRICKY))
def test_tricky_but_valid_text_reads_the_same_both_ways(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _read(text, python=False, monkeypatch=monkeypatch)
    assert fast[0] == "ok" and fast == _read(text, python=True, monkeypatch=monkeypatch)


BROKEN = {
    "syntax": "a: [1, 2\nb: 3\n",
    "duplicate key": "a: 1\nb: 2\na: 3\n",
    "date that does not exist": "a: 1\nwhen: 2024-02-30\n",
    "empty": "# nothing\n",
    "tab indentation": "a:\n\t- 1\n",
    "control character": "a: b\x07c\n",
    "python tag": "a: !!python/object/apply:os.system ['true']\n",
    "undefined alias": "a: *nope\n",
    "nested too deep": "a: " + "[" * (L.MAX_YAML_DEPTH + 5) + "]" * (L.MAX_YAML_DEPTH + 5) + "\n",
    "nested far too deep for a recursive C composer": "[" * 200_000 + "]" * 200_000,
    "more values than the cap": "a: [" + "1, " * (yaml_source.MAX_NODES + 5) + "1]\n",
    "two documents": "a: 1\n---\nb: 2\n",
}


@pytest.mark.parametrize("text", BROKEN.values(), ids=list(BROKEN))
def test_every_problem_is_told_the_same_way_whichever_path_reads_it(text: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    python, default = _both(text, monkeypatch)
    assert python[0] == "error" and python == default
    assert all(line is not None for _, line, *_ in python[1]) or python[1][0][0].startswith("YAML syntax error")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=scenario_texts() | campaign_texts())
def test_a_users_file_never_reaches_libyamls_composer(text: str) -> None:
    """Fuzzed scenario and campaign text (valid and broken) as a user's file: read, or refused with
    a located problem, by the pure-Python composer alone."""
    def never(*args: object) -> None:
        raise AssertionError("a user's file reached libyaml's composer")

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(yaml_source, "_LibyamlLoader", never)
        try:
            yaml_source.parse_yaml(text, "f.yaml")
        except ScenarioError:
            pass


def test_only_the_packages_own_files_count_as_shipped(tmp_path: Path) -> None:
    from shieldwall.scenario.theatre import DEFAULT_THEATRE

    assert yaml_source._is_shipped(DEFAULT_THEATRE)
    copy = tmp_path / "ukraine-notional.yaml"
    copy.write_text(DEFAULT_THEATRE.read_text(encoding="utf-8"), encoding="utf-8")
    assert not yaml_source._is_shipped(copy) and not yaml_source._is_shipped(ROOT / "examples" / "small.yaml")
    assert not yaml_source._is_shipped(yaml_source.PACKAGE_DIR / ".." / "elsewhere.yaml")


def _shipped_data() -> list[Any]:
    from shieldwall.campaign.load import load_campaign, self_contained

    data = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in SHIPPED]
    data += [self_contained(load_campaign(p)) for p in sorted(ROOT.glob("examples/campaign-*.yaml"))]
    return data + [{"odd": ["é «ж»", "a: b", "- x", "#", "", " lead", "line\nbreak", "x" * 200, 1e20, None, True,
                            "2024-02-30", "0x10", "yes", "~"], "k y": {"[/]": "\u202e", 1: [[], {}]}}]


@pytest.mark.parametrize("width", [None, 110])
def test_what_shieldwall_writes_is_the_pure_python_emitters_text_and_reads_back(width: int | None) -> None:
    """yaml_text (libyaml's emitter) writes what PyYAML's pure-Python emitter writes, for every
    shipped file, the self-contained example campaigns (what `campaign` writes each run) and odd
    strings; the text reads back to the same data."""
    for data in _shipped_data():
        text = yaml_source.yaml_text(data, width=width)
        assert text == yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=width)
        assert yaml.safe_load(text) == _lists(data)


def _lists(data: Any) -> Any:
    """Tuples as YAML writes them (lists)."""
    if isinstance(data, dict):
        return {k: _lists(v) for k, v in data.items()}
    return [_lists(v) for v in data] if isinstance(data, (list, tuple)) else data
