"""Validated variations: set values by path (``batteries[patriot-1].interceptors.pac3-mse``)
and check the result exactly as a file is checked, with the same located errors.

``model_copy(update=...)`` checks nothing (a battery at latitude 123 would run), so every
variation goes back through plain data: the model is dumped, the values are set there, and the
data is validated and cross-checked again. Paths name list items by id (``batteries[patriot-1]``)
or by position (``raids[0]``), map keys by name; problems are reported with the same id
selectors, so a user reads ``batteries[patriot-1].lat: out of range``.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Callable, Mapping
from typing import Any

from shieldwall.errors import Problem, ScenarioError
from shieldwall.scenario.yaml_source import FieldPath, SourceMap, format_path

# A path is dot-separated keys, each optionally followed by [selector]s; a key or selector
# holding dots or brackets is written quoted: ["a.b"].
_TOKEN = re.compile(r'\s*(?:\["([^"]*)"\]|\[([^\]"]*)\]|\.?([A-Za-z0-9_-]+))')

Step = tuple[str, str | int]  # ("key", name) or ("select", id or index)


def parse_path(text: str) -> list[Step]:
    """``batteries[patriot-1].interceptors.pac3-mse`` -> [key batteries, select patriot-1,
    key interceptors, key pac3-mse]. Raises ValueError (with the position) on bad syntax."""
    steps: list[Step] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"cannot read the path at character {pos + 1}: {text[pos:pos + 20]!r}")
        quoted, selector, key = match.groups()
        if key is not None:
            steps.append(("key", key))
        else:
            value = quoted if quoted is not None else selector.strip()
            steps.append(("select", int(value) if quoted is None and value.lstrip("-").isdigit() else value))
        pos = match.end()
    if not steps or steps[0][0] != "key":
        raise ValueError("a path starts with a key, e.g. `batteries[patriot-1].lat`")
    return steps


class PathError(Exception):
    """A path that does not lead anywhere in the data; carries the Problem to report."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def resolve(data: Any, steps: list[Step], text: str,
            materialize: Callable[[FieldPath], Any] | None = None) -> tuple[Any, str | int, FieldPath]:
    """The container holding the path's last step, that step as a key or index, and the data
    path to it. Missing maps on the way are created (a new catalog entry is a map of the keys it
    changes); ``materialize(path)`` may supply a missing value from elsewhere (a campaign's
    theatre from its scenario file) before one is created."""
    node, where = data, ()
    for i, (kind, name) in enumerate(steps):
        last = i == len(steps) - 1
        if isinstance(node, list):
            index = _list_index(node, name, where, text)
            if last:
                return node, index, (*where, index)
            node, where = node[index], (*where, index)
            continue
        if not isinstance(node, dict):
            raise PathError(Problem(f"`{format_path(where)}` holds a value, not a map or a list", path=text))
        key = str(name)
        if last:
            return node, key, (*where, key)
        if node.get(key) is None:
            supplied = materialize((*where, key)) if materialize else None
            node[key] = supplied if supplied is not None else {}
        node, where = node[key], (*where, key)
    raise AssertionError("unreachable")  # pragma: no cover


def _list_index(items: list[Any], name: str | int, where: FieldPath, text: str) -> int:
    if isinstance(name, int):
        if -len(items) <= name < len(items):
            return name % len(items)
        raise PathError(Problem(f"no item {name} in `{format_path(where)}` ({len(items)} items)", path=text))
    ids = [item.get("id") for item in items if isinstance(item, Mapping)]
    if name in ids:
        return ids.index(name)
    close = difflib.get_close_matches(str(name), [str(i) for i in ids if i is not None], n=1, cutoff=0.6)
    hint = (f"did you mean `{close[0]}`? " if close else "") + f"ids there: {', '.join(map(str, ids)) or 'none'}"
    raise PathError(Problem(f"no item with id `{name}` in `{format_path(where)}`", path=text, hint=hint))


def apply_changes(data: Any, changes: Mapping[str, Any],
                  materialize: Callable[[FieldPath], Any] | None = None) -> Any:
    """A deep copy of ``data`` with every ``path: value`` of ``changes`` set; bad paths raise
    one ScenarioError listing them all."""
    data = copy.deepcopy(data)
    problems: list[Problem] = []
    for text, value in changes.items():
        try:
            container, key, _ = resolve(data, parse_path(text), text, materialize)
        except ValueError as exc:
            problems.append(Problem(str(exc), path=text))
            continue
        except PathError as exc:
            problems.append(exc.problem)
            continue
        container[key] = copy.deepcopy(value)
    if problems:
        raise ScenarioError("variation", problems)
    return data


def get_value(data: Any, text: str) -> Any:
    """The value at a path in plain data (None where the path is valid but nothing is set)."""
    probe = copy.deepcopy(data)
    container, key, _ = resolve(probe, parse_path(text), text)
    if isinstance(container, list):
        return container[key]  # type: ignore[index]
    return container.get(key)


def id_selectors(data: Any) -> dict[str, str]:
    """Index paths of list items that have an id -> the same with id selectors:
    ``batteries[0]`` -> ``batteries[patriot-1]`` (problems are reported the way paths are written)."""
    out: dict[str, str] = {}

    def walk(node: Any, path: FieldPath, named: str) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                sub = format_path((*path, key))
                walk(value, (*path, key), named + sub[len(format_path(path)):])
        elif isinstance(node, list):
            for index, item in enumerate(node):
                has_id = isinstance(item, Mapping) and isinstance(item.get("id"), str)
                here = f"{named}[{item['id']}]" if has_id else f"{named}[{index}]"
                out[format_path((*path, index))] = here
                walk(item, (*path, index), here)

    walk(data, (), "")
    return out


def renamed(error: ScenarioError, data: Any, label: str) -> ScenarioError:
    """``error`` with its problems' list positions written as id selectors, under ``label``."""
    names = id_selectors(data)
    for problem in error.problems:
        problem.path = _rename(problem.path, names)
        problem.line = problem.column = None  # the data came from a variation, not from a file
    return ScenarioError(label if error.file in (None, "variation") else error.file, error.problems)


def _rename(path: str, names: dict[str, str]) -> str:
    for end in range(len(path), 0, -1):  # the longest prefix that names a list item
        if path[end - 1] == "]" and path[:end] in names:
            return names[path[:end]] + path[end:]
    return path


def vary_scenario(scenario: Any, changes: Mapping[str, Any], *, label: str | None = None) -> Any:
    """``scenario`` with ``changes`` ({path: value}) applied, validated and checked as a file."""
    from shieldwall.scenario.load import build_scenario

    label = label or f"variation of {scenario.name}"
    data = scenario.model_dump(by_alias=True)
    try:
        changed = apply_changes(data, changes)
        return build_scenario(changed, SourceMap(), None)
    except ScenarioError as exc:
        raise renamed(exc, locals().get("changed", data), label) from None


def revalidated(scenario: Any, *, label: str = "scenario") -> Any:
    """``scenario`` validated and cross-checked again, as a file is: the engine's boundary check
    (``compile_scenario``). A model made with ``model_copy(update=...)`` or ``model_construct``
    was never validated (a battery at latitude 123 would run); this raises the located
    ScenarioError a file would give (``batteries[patriot-1].lat: out of range``). About a
    millisecond for the largest example, against a compile of half a second."""
    return vary_scenario(scenario, {}, label=f"{label} {getattr(scenario, 'name', '')!s}".strip())
