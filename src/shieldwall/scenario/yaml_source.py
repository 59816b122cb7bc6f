"""Read a YAML (or JSON) file into plain data plus a map of where every key and value sits.

Validation errors are only useful to an analyst if they point at a line, so the loader keeps
the position of each node while it builds the data. Only PyYAML's ``SafeLoader`` is used: a
scenario file is data and must never be able to build arbitrary Python objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from shieldwall.errors import Problem, ScenarioError

PathKey = Union[str, int]
FieldPath = tuple[PathKey, ...]
Location = tuple[int, int]  # (line, column), both 1-based

MERGE_TAG = "tag:yaml.org,2002:merge"
# Aliases can make a tiny file expand enormously ("billion laughs"); no scenario comes near this.
MAX_NODES = 200_000
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")


def format_path(path: FieldPath) -> str:
    """Write a field path the way analysts read it: ``batteries[1].interceptors.pac3-mse``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f'["{part}"]'
    return out


@dataclass
class SourceMap:
    """Where each field path starts in the file. ``keys`` holds the position of a mapping key,
    ``values`` the position of its value (for list items both are the item's start)."""

    keys: dict[FieldPath, Location] = field(default_factory=dict)
    values: dict[FieldPath, Location] = field(default_factory=dict)

    def locate(self, path: FieldPath, *, at_key: bool = False) -> Location | None:
        """The position of ``path``; a path that is not in the file (a missing field) falls back
        to its nearest parent that is, so the message still points at the right block."""
        exact = (self.keys if at_key else self.values).get(path)
        if exact is not None:
            return exact
        for end in range(len(path) - 1, -1, -1):
            parent = path[:end]
            found = self.keys.get(parent) or self.values.get(parent)
            if found is not None:
                return found
        return None

    def problem(self, path: FieldPath, message: str, *, at_key: bool = False, **details: Any) -> Problem:
        """A Problem for ``path`` with its line and column filled in from this map."""
        where = self.locate(path, at_key=at_key)
        line, column = where if where is not None else (None, None)
        return Problem(message=message, path=format_path(path), line=line, column=column, **details)


@dataclass
class YamlSource:
    """A parsed file: its plain data, the source map, and the name used in messages."""

    data: Any
    source_map: SourceMap
    file: str | None


def read_yaml_file(path: str | Path) -> YamlSource:
    """Read and parse a YAML or JSON file; an unreadable file is a ScenarioError, not a traceback."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(name, [Problem("cannot read the file: it does not exist")]) from None
    except IsADirectoryError:
        raise ScenarioError(name, [Problem("cannot read the file: it is a folder")]) from None
    except UnicodeDecodeError as exc:
        problem = Problem(f"cannot read the file: not UTF-8 text (byte {exc.start})")
        raise ScenarioError(name, [problem]) from None
    except OSError as exc:
        raise ScenarioError(name, [Problem(f"cannot read the file: {exc.strerror or exc}")]) from None
    if name.lower().endswith(".json"):
        # JSON allows tabs as indentation, YAML does not. Outside strings a tab is only
        # whitespace, and inside a JSON string it must be escaped, so this keeps every column.
        text = text.replace("\t", " ")
    return parse_yaml(text, name)


def parse_yaml(text: str, file: str | None = None) -> YamlSource:
    """Parse YAML text into plain data and a SourceMap; syntax errors, duplicate keys and an
    empty document become one ScenarioError."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:  # a control character: PyYAML checks before parsing
        raise ScenarioError(file, [_reader_problem(text, exc)]) from None
    try:
        root = loader.get_single_node()
        if root is None:
            hint = "a scenario needs at least name, assets and raids"
            raise ScenarioError(file, [Problem("the file is empty", line=1, column=1, hint=hint)])
        source_map, duplicates = _map_nodes(root, file)
        if duplicates:
            raise ScenarioError(file, duplicates)
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        raise ScenarioError(file, [_syntax_problem(exc)]) from None
    except yaml.YAMLError as exc:  # any other PyYAML error carries no position
        raise ScenarioError(file, [Problem(f"YAML syntax error: {exc}")]) from None
    finally:
        loader.dispose()
    return YamlSource(data=data, source_map=source_map, file=file)


def _syntax_problem(exc: yaml.MarkedYAMLError) -> Problem:
    """One located Problem from PyYAML's error, in its own words (they are already concrete)."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "cannot parse"
    context = exc.context or ""
    if problem.startswith("but "):  # PyYAML splits "expected X, but found Y" over both fields
        problem, context = f"{context}, {problem}", ""
    hint = None
    if r"\t" in problem:  # PyYAML shows the tab escaped
        hint = "indent with spaces; YAML does not allow tabs"
    elif "constructor for the tag" in problem:
        hint = "scenario files are plain data; tags such as !!python/... are not allowed"
    elif context and exc.context_mark is not None:
        hint = f"{context} that starts at line {exc.context_mark.line + 1}"
        if "<block" in problem:  # PyYAML's words for a block that ends or starts too early
            hint = "check the indentation; " + hint
    return Problem(
        message=f"YAML syntax error: {problem}",
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
        hint=hint,
    )


def _reader_problem(text: str, exc: yaml.reader.ReaderError) -> Problem:
    """PyYAML gives a character offset for bad characters; analysts need a line and column."""
    before = text[: exc.position]
    line = before.count("\n") + 1
    column = exc.position - (before.rfind("\n") + 1) + 1
    return Problem(
        message=f"character #x{exc.character:04x} is not allowed in a YAML file",
        line=line,
        column=column,
        hint="remove the control character (often pasted from another program)",
    )


def _loc(node: Node) -> Location:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _map_nodes(root: Node, file: str | None) -> tuple[SourceMap, list[Problem]]:
    """Walk the node tree once: record positions and collect duplicate mapping keys."""
    source_map = SourceMap()
    source_map.values[()] = _loc(root)
    duplicates: list[Problem] = []
    budget = [MAX_NODES]

    def walk(node: Node, path: FieldPath, active: frozenset[int]) -> None:
        if id(node) in active:  # a recursive alias; its positions are already recorded
            return
        budget[0] -= 1
        if budget[0] < 0:
            message = f"the file expands to more than {MAX_NODES} values (too many aliases?)"
            raise ScenarioError(file, [Problem(message)])
        active = active | {id(node)}
        if isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                here = (*path, index)
                source_map.keys[here] = source_map.values[here] = _loc(item)
                walk(item, here, active)
        elif isinstance(node, MappingNode):
            walk_mapping(node, path, active)

    def walk_mapping(node: MappingNode, path: FieldPath, active: frozenset[int]) -> None:
        seen: dict[Any, Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:  # `<<: *defaults`: the merged keys live in the anchor
                for source in value_node.value if isinstance(value_node, SequenceNode) else [value_node]:
                    walk(source, path, active)
                continue
            if not isinstance(key_node, ScalarNode):
                continue  # complex keys never name a field; pydantic reports them
            key = key_node.value
            if key in seen:
                duplicates.append(_duplicate_problem(path, key, seen[key], key_node))
            seen[key] = key_node
            here = (*path, key)
            source_map.keys[here] = _loc(key_node)
            source_map.values[here] = _loc(value_node)
            walk(value_node, here, active)

    walk(root, (), frozenset())
    return source_map, duplicates


def _duplicate_problem(path: FieldPath, key: str, first: Node, second: Node) -> Problem:
    """YAML would silently keep the last of two equal keys; that hides typos, so it is an error."""
    line, column = _loc(second)
    return Problem(
        message=f"duplicate key `{key}` (first at line {_loc(first)[0]}, again at line {line})",
        path=format_path((*path, key)),
        line=line,
        column=column,
        hint="keep one of them; YAML would silently use the last",
    )


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """File order, so the report reads top to bottom; problems without a line go last."""
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0, p.column or 0))
