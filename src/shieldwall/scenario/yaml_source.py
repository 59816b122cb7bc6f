"""Read a YAML (or JSON) file into plain data plus a map of where every key and value sits.

Validation errors are only useful to an analyst if they point at a line, so the loader keeps
the position of each node while it builds the data. Only PyYAML's safe loaders are used (its
``SafeLoader``, and libyaml's ``CSafeLoader`` for the package's own files: ``parse_yaml``): a
scenario file is data and must never be able to build arbitrary Python objects.
"""

from __future__ import annotations

import os
import re
import select
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from shieldwall import limits as L
from shieldwall.errors import Problem, ScenarioError

PathKey = Union[str, int]
FieldPath = tuple[PathKey, ...]
Location = tuple[int, int]  # (line, column), both 1-based

MERGE_TAG = "tag:yaml.org,2002:merge"
# Aliases can make a tiny file expand enormously ("billion laughs"); no scenario comes near this.
MAX_NODES = L.MAX_YAML_VALUES
PIPE_WAIT_S = 30.0  # a pipe or FIFO that sends nothing for this long is given up on
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


def read_text_once(path: str | Path, limit: int = L.MAX_FILE_BYTES) -> str:
    """A file's text, read exactly once and never more than ``limit`` bytes: a pipe such as
    ``<(cat file)`` can be read only once, ``/dev/zero`` never ends and a FIFO nobody writes to
    would block forever. Regular files, pipes and FIFOs are read; devices, sockets and folders
    are refused; every failure is a ScenarioError."""
    name = str(path)

    def fail(message: str, hint: str | None = None) -> ScenarioError:
        return ScenarioError(name, [Problem(f"cannot read the file: {message}", hint=hint)])

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise fail("it does not exist") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        raise fail(getattr(exc, "strerror", None) or str(exc)) from None
    if stat.S_ISDIR(mode):
        raise fail("it is a folder")
    pipe = stat.S_ISFIFO(mode)
    if not (stat.S_ISREG(mode) or pipe):
        kind = "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket or special file"
        raise fail(f"it is {kind}, not a file", hint="give a scenario file (or a pipe: <(command))")
    try:
        fd = os.open(path, os.O_RDONLY | (os.O_NONBLOCK if pipe else 0))  # a FIFO with no writer: no wait
    except OSError as exc:
        raise fail(exc.strerror or str(exc)) from None
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= limit:
            try:  # a FIFO that no one writes to reads as empty at once
                chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            except BlockingIOError:  # a writer that has not written yet
                if not select.select([fd], [], [], PIPE_WAIT_S)[0]:
                    raise fail(f"nothing arrived from the pipe in {PIPE_WAIT_S:g} s") from None
                continue
            except OSError as exc:
                raise fail(exc.strerror or str(exc)) from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise fail(f"it is larger than {limit // (1 << 20)} MiB", hint="scenario and campaign files are far smaller; "
                   "is this the right file?")
    raw = b"".join(chunks)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text (byte {exc.start})") from None


def yaml_text(data: Any, *, width: int | None = None) -> str:
    """Plain data as YAML, keys in their order, Unicode kept: what shieldwall writes (run inputs,
    calibrated files, the editor's text). libyaml's emitter where PyYAML has it: the same text as
    PyYAML's pure-Python one (tests/test_yaml_source.py), 4-5x faster (a campaign writes its
    50 KB self-contained input on every run)."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=width)


def read_yaml_file(path: str | Path) -> YamlSource:
    """Read (once) and parse a YAML or JSON file; an unreadable file is a ScenarioError, not a traceback."""
    name = str(path)
    text = read_text_once(path)
    if name.lower().endswith(".json"):
        # JSON allows tabs as indentation, YAML does not. Outside strings a tab is only
        # whitespace, and inside a JSON string it must be escaped, so this keeps every column.
        text = text.replace("\t", " ")
    return parse_yaml(text, name, shipped=_is_shipped(path))


PACKAGE_DIR = Path(__file__).resolve().parents[1]  # src/shieldwall: the files shipped with it


def _is_shipped(path: str | Path) -> bool:
    """A file of the package itself (the built-in theatre, generators, record models)."""
    try:
        return Path(path).resolve().is_relative_to(PACKAGE_DIR)
    except (OSError, ValueError):
        return False


def parse_yaml(text: str, file: str | None = None, *, shipped: bool = False) -> YamlSource:
    """Parse YAML text into plain data and a SourceMap; syntax errors, duplicate keys and an
    empty document become one ScenarioError.

    A user's file is read by PyYAML's pure-Python composer, whose acceptance, messages and
    positions every error in this module is written from (libyaml accepts some text it refuses,
    a tab inside a plain key for one). A file ``shipped`` with the package (the built-in theatre
    is 50 KB, read by every campaign) is composed by libyaml (C, 5-7x faster), which gives the same
    nodes, positions included, for every shipped file (tests/test_yaml_source.py compares them);
    the same safe constructors build the data. Above FAST_COUNT_ABOVE_CHARS a user's file has its
    values counted on libyaml's event stream first, so that one over the cap is refused in about a
    second, not after the composer has built every node (a 3 MB file of 36,000 raids: 12 s, 330 MB).
    """
    if shipped or len(text) > FAST_COUNT_ABOVE_CHARS:
        within = _events_within_limits(text, file)
        if shipped and within:
            fast = _compose_with_libyaml(text, file)
            if fast is not None:
                return fast
    try:
        loader = _BoundedLoader(text)
    except yaml.reader.ReaderError as exc:  # a control character: PyYAML checks before parsing
        raise ScenarioError(file, [_reader_problem(text, exc)]) from None
    try:
        return _build(loader, file)
    except _Refused as exc:
        raise ScenarioError(file, [exc.problem]) from None
    except yaml.MarkedYAMLError as exc:
        raise ScenarioError(file, [_syntax_problem(exc)]) from None
    except yaml.YAMLError as exc:  # any other PyYAML error carries no position
        raise ScenarioError(file, [Problem(f"YAML syntax error: {exc}")]) from None
    finally:
        loader.dispose()


def _build(loader: Any, file: str | None) -> YamlSource:
    """Compose the single document, map its positions, construct its data (either loader)."""
    root = loader.get_single_node()
    if root is None:
        hint = "a scenario needs at least name, assets and raids"
        raise ScenarioError(file, [Problem("the file is empty", line=1, column=1, hint=hint)])
    source_map, duplicates = _map_nodes(root, file)
    if duplicates:
        raise ScenarioError(file, duplicates)
    return YamlSource(data=loader.construct_document(root), source_map=source_map, file=file)


FAST_COUNT_ABOVE_CHARS = 256 * 1024


def _events_within_limits(text: str, file: str | None) -> bool:
    """libyaml's event stream (flat, C) within the depth and value limits: True; over the value
    cap: the located ScenarioError the composer would raise; no libyaml, a syntax problem or too
    deep: False (the pure-Python composer says it). libyaml's composer recurses in C, so it is
    only started on a stream that passed."""
    if not hasattr(yaml, "CSafeLoader"):
        return False
    starts = (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)
    count = depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, starts):
                count += 1
                if count > MAX_NODES:
                    raise ScenarioError(file, [_too_many_values(event.start_mark)])
                if depth + 1 > L.MAX_YAML_DEPTH:
                    return False
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return False
    return True


def _compose_with_libyaml(text: str, file: str | None) -> YamlSource | None:
    """A shipped file composed by libyaml, or None where it finds anything to say (the caller
    reads it the slow way and says it there)."""
    loader = _LibyamlLoader(text)
    try:
        return _build(loader, file)
    except (_Refused, yaml.YAMLError, ScenarioError):
        return None
    finally:
        loader.dispose()


def _too_many_values(mark: Any) -> Problem:
    return _at(mark, f"the file holds more than {MAX_NODES:,} values",
               hint="a scenario or campaign is far smaller (docs/scenario.md, Bounds)").problem


class _Refused(Exception):
    """A located problem found while composing or constructing (too deep, too many values, a
    date that does not exist)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _at(node_or_mark: Any, message: str, **details: Any) -> _Refused:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return _Refused(Problem(message, line=mark.line + 1 if mark else None,
                            column=mark.column + 1 if mark else None, **details))


class _Guarded:
    """Scalars that look like dates, times or numbers but are not (2024-02-30, a 5,000-digit
    integer), which PyYAML turns into Python exceptions without a position, refused with one;
    mixed into both loaders."""

    def _guarded(self, node: Any, construct: Any, words: str, expected: str, hint: str) -> Any:
        try:
            return construct(self, node)
        except (ValueError, OverflowError):
            shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
            raise _at(node, f"`{shown}` is not a valid {words}", expected=expected,
                      found=node.value if len(node.value) <= 40 else f"{len(node.value)} characters",
                      hint=hint) from None

    def construct_yaml_timestamp(self, node: Any) -> Any:
        return self._guarded(node, yaml.SafeLoader.construct_yaml_timestamp, "date or time",
                             "a real date YYYY-MM-DD (or date and time HH:MM:SS)",
                             "check the day and month; quote it if it is text")

    def construct_yaml_int(self, node: Any) -> Any:
        return self._guarded(node, yaml.SafeLoader.construct_yaml_int, "integer", "an integer of at most a few "
                             "digits", "quote it if it is text; numbers here are far shorter")

    def construct_yaml_float(self, node: Any) -> Any:
        return self._guarded(node, yaml.SafeLoader.construct_yaml_float, "number", "a number of at most a few "
                             "digits", "quote it if it is text; numbers here are far shorter")


class _BoundedLoader(_Guarded, yaml.SafeLoader):
    """PyYAML's safe loader with limits: nesting depth (its composer recurses, so a file nested
    500 deep would end in RecursionError), the number of values in the file, and the guarded
    scalars (``_Guarded``)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if not self.check_event(yaml.AliasEvent):
            self._nodes += 1
            if self._nodes > MAX_NODES:
                raise _Refused(_too_many_values(self.peek_event().start_mark))
        self._depth += 1
        if self._depth > L.MAX_YAML_DEPTH:
            raise _at(self.peek_event().start_mark, f"nested more than {L.MAX_YAML_DEPTH} levels deep",
                      hint="a scenario nests a few levels; is a bracket or an indentation wrong?")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_LOADERS: list[Any] = [_BoundedLoader]
if hasattr(yaml, "CSafeLoader"):
    class _LibyamlLoader(_Guarded, yaml.CSafeLoader):  # type: ignore[misc,name-defined]
        """libyaml's safe loader (its limits are checked on the event stream first:
        ``_parse_with_libyaml``) with the guarded scalars."""

    _LOADERS.append(_LibyamlLoader)

for _loader in _LOADERS:
    for _tag, _method in (("timestamp", "construct_yaml_timestamp"), ("int", "construct_yaml_int"),
                          ("float", "construct_yaml_float")):
        _loader.add_constructor(f"tag:yaml.org,2002:{_tag}", getattr(_loader, _method))


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
            message = f"aliases (*name) expand the file to more than {MAX_NODES:,} values"
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
