"""Scenario files in, validated Scenario out, or one ScenarioError that lists every problem.

Pipeline: YAML with positions (yaml_source) -> pydantic shapes (model) -> cross-field checks
(checks). Pydantic's errors are written for programmers, so they are translated here into
located Problems that say what was expected and what was found, in the file's own terms.
"""

from __future__ import annotations

import difflib
import json
import types
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from shieldwall.catalog.builtin import builtin_catalog
from shieldwall.catalog.model import complete_overrides
from shieldwall.errors import Problem, ScenarioError
from shieldwall.scenario.checks import check_scenario
from shieldwall.scenario.model import Scenario
from shieldwall.scenario.yaml_source import (
    FieldPath,
    SourceMap,
    YamlSource,
    parse_yaml,
    read_yaml_file,
    sort_problems,
)

ID_WORDS = "an id (letters, digits, . _ -)"
FOUND_LIMIT = 60
# Close enough to suggest a key: keeps `latt`->`lat` and `speed`->`speed_mps`, drops `alt`->`lat`.
KEY_CUTOFF = 0.7
RANGE_ERRORS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})

# A type as pydantic sees one position: the bare annotation and its constraints (Ge, Gt, ...).
Typed = tuple[Any, list[Any]]


def load_scenario(path: str | Path) -> Scenario:
    """Read, validate and check a scenario file (YAML or JSON)."""
    return scenario_from_source(read_yaml_file(path))


def parse_scenario(text: str, file: str | None = None) -> Scenario:
    """Validate and check scenario text; ``file`` is only used to name it in messages."""
    return scenario_from_source(parse_yaml(text, file))


def scenario_from_source(source: YamlSource) -> Scenario:
    """A parsed file (read once: it may be a pipe) validated and checked as a scenario."""
    return build_scenario(source.data, source.source_map, source.file)


def build_scenario(data: Any, source_map: SourceMap, file: str | None) -> Scenario:
    """Plain data (a file's, or a variation's) to a checked Scenario, or one ScenarioError.
    Catalog entries that name a built-in id may give only the keys they change."""
    data = with_catalog_overrides(data)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(file, pydantic_problems(Scenario, exc, data, source_map)) from None
    check_scenario(scenario, source_map, file=file)
    return scenario


def with_catalog_overrides(data: Any, key: str = "catalog") -> Any:
    """``data`` with its ``key`` catalog's partial entries completed from the built-in catalog."""
    if isinstance(data, Mapping) and isinstance(data.get(key), Mapping):
        return {**data, key: complete_overrides(data[key], builtin_catalog())}
    return data


def pydantic_problems(
    model: type[BaseModel], exc: ValidationError, data: Any, source_map: SourceMap
) -> list[Problem]:
    """Every error of ``model.model_validate(data)`` as a located Problem, in file order."""
    return sort_problems(_problems(_unwrap(model), exc.errors(), data, source_map, ()))


# --- walking the model's types along an error location ---------------------------------------


def _flatten(metadata: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in metadata:
        out.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return out


def _union_arms(tp: Any) -> list[Any]:
    """The non-None members of a union, or [] for anything else."""
    if get_origin(tp) not in (Union, types.UnionType):
        return []
    return [arm for arm in get_args(tp) if arm is not type(None)]


def _unwrap(tp: Any, metadata: list[Any] | None = None) -> Typed:
    """Strip ``Annotated`` and ``Optional`` (pydantic adds no location step for either)."""
    meta = list(metadata or [])
    while True:
        if get_origin(tp) is Annotated:
            tp, *extra = get_args(tp)
            meta.extend(extra)
        elif len(_union_arms(tp)) == 1:
            tp = _union_arms(tp)[0]
        else:
            return tp, _flatten(meta)


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _file_keys(model: type[BaseModel]) -> dict[str, str]:
    """Every key a model accepts (field names and aliases) -> the key as files write it."""
    keys: dict[str, str] = {}
    for name, info in model.model_fields.items():
        keys[name] = keys[info.alias or name] = info.alias or name
    return keys


def _child(typed: Typed, key: Any) -> Typed | None:
    """The type one location step below ``typed``, or None where the model has no such key."""
    tp = typed[0]
    if _is_model(tp):
        for name, info in tp.model_fields.items():
            if key in (name, info.alias):
                return _unwrap(info.annotation, info.metadata)
        return None
    if get_origin(tp) is dict:
        return _unwrap(get_args(tp)[1])
    if get_origin(tp) is list:
        return _unwrap(get_args(tp)[0])
    return None


@dataclass
class _Walk:
    """An error location resolved against the types: the data path (union tags and ``[key]``
    dropped), the type there and its container's, and where a union cut the walk short."""

    path: FieldPath
    typed: Typed | None
    parent: Typed | None
    union: bool = False
    is_key: bool = False


def _walk(root: Typed, loc: tuple[Any, ...]) -> _Walk:
    typed: Typed | None = root
    parent: Typed | None = None
    path: FieldPath = ()
    index = 0
    while index < len(loc):
        if typed is not None and _union_arms(typed[0]):
            return _Walk(path, typed, parent, union=True)
        element = loc[index]
        path = (*path, element)
        if index + 1 < len(loc) and loc[index + 1] == "[key]" and typed and get_origin(typed[0]) is dict:
            return _Walk(path, _unwrap(get_args(typed[0])[0]), typed, is_key=True)
        parent, typed = typed, (_child(typed, element) if typed is not None else None)
        index += 1
    return _Walk(path, typed, parent)


_MISSING = object()


def _value_at(data: Any, path: FieldPath) -> Any:
    for key in path:
        if isinstance(data, Mapping) and key in data:
            data = data[key]
        elif isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
            data = data[key]
        else:
            return _MISSING
    return data


# --- errors to problems -----------------------------------------------------------------------


def _problems(
    root: Typed, errors: list[ErrorDetails], data: Any, source_map: SourceMap, prefix: FieldPath
) -> list[Problem]:
    """Translate errors relative to ``root`` (found at ``prefix`` in the file). Errors inside a
    union are gathered by location and become one problem there (see ``_union_problems``)."""
    plain: list[tuple[ErrorDetails, _Walk]] = []
    unions: dict[FieldPath, Typed] = {}
    for error in errors:
        walk = _walk(root, tuple(error["loc"]))
        if walk.union:
            unions[walk.path] = walk.typed  # type: ignore[assignment]
        else:
            plain.append((error, walk))
    suggested = {_suggestion_path(walk) for err, walk in plain if err["type"] == "extra_forbidden"}
    problems = [
        _problem(err, walk, source_map, prefix)
        for err, walk in plain
        # `latt` with a "did you mean `lat`?" already says that `lat` is missing.
        if not (err["type"] == "missing" and walk.path in suggested)
    ]
    for path, typed in unions.items():
        problems.extend(_union_problems(typed, _value_at(data, path), source_map, (*prefix, *path)))
    return problems


def _union_problems(typed: Typed, value: Any, source_map: SourceMap, path: FieldPath) -> list[Problem]:
    """Pydantic reports a failed union once per member, which reads as contradictions. When
    the value is a mapping and only one member takes mappings, the user clearly meant that one,
    so its own errors are precise; otherwise one problem lists the accepted forms."""
    arms = _union_arms(typed[0])
    mapping_arms = [arm for arm in arms if _takes_mapping(_unwrap(arm)[0])]
    if isinstance(value, Mapping) and len(mapping_arms) > 1:
        mapping_arms = _closest_arms(mapping_arms, value)
    if isinstance(value, Mapping) and len(mapping_arms) == 1:
        try:
            TypeAdapter(mapping_arms[0]).validate_python(value)
        except ValidationError as exc:
            return _problems(_unwrap(mapping_arms[0]), exc.errors(), value, source_map, path)
    return [
        source_map.problem(
            path,
            "not in an accepted form",
            expected=", or ".join(describe(_unwrap(arm)) for arm in arms),
            found=None if value is _MISSING else show(value),
        )
    ]


def _closest_arms(arms: list[Any], value: Mapping) -> list[Any]:
    """Of several mapping forms (``{kind: ...}``, ``{battery: ...}``), the one whose keys the
    mapping's keys are, or are closest to (``knd`` -> ``{kind: ...}``); all of them if no one
    form stands out."""
    def score(arm: Any) -> float:
        tp = _unwrap(arm)[0]
        if not _is_model(tp):
            return 0.0
        keys = list(_file_keys(tp))
        return sum(max((difflib.SequenceMatcher(None, str(k), key).ratio() for key in keys), default=0.0)
                   for k in value)
    scores = [score(arm) for arm in arms]
    best = max(scores, default=0.0)
    chosen = [arm for arm, sc in zip(arms, scores) if sc == best]
    return chosen if best >= KEY_CUTOFF * max(len(value), 1) and len(chosen) == 1 else arms


def _takes_mapping(tp: Any) -> bool:
    return _is_model(tp) or get_origin(tp) is dict


def _suggestion_path(walk: _Walk) -> FieldPath | None:
    close = _close_key(walk)
    return (*walk.path[:-1], close) if close else None


def _close_key(walk: _Walk) -> str | None:
    """The accepted key closest to an unknown one, e.g. `lat` for `latt`."""
    if walk.parent is None or not _is_model(walk.parent[0]):
        return None
    keys = _file_keys(walk.parent[0])
    close = difflib.get_close_matches(str(walk.path[-1]), list(keys), n=1, cutoff=KEY_CUTOFF)
    return keys[close[0]] if close else None


def _problem(error: ErrorDetails, walk: _Walk, source_map: SourceMap, prefix: FieldPath) -> Problem:
    kind = error["type"]
    path = (*prefix, *walk.path)
    if kind == "missing":
        expected = describe(walk.typed) if walk.typed else None
        return source_map.problem(path, f"missing required key `{walk.path[-1]}`", expected=expected)
    if kind == "extra_forbidden":
        message = f"unknown key `{walk.path[-1]}`"
        return source_map.problem(path, message, at_key=True, hint=_unknown_key_hint(walk))
    message = _message(error)
    if walk.is_key:
        message = f"key `{walk.path[-1]}`: {message}"
    return source_map.problem(
        path,
        message,
        at_key=walk.is_key,
        expected=_expected(error, walk),
        found=show(error["input"]),
        hint=_literal_hint(error, walk),
    )


def _unknown_key_hint(walk: _Walk) -> str | None:
    close = _close_key(walk)
    if close:
        return f"did you mean `{close}`?"
    if walk.parent is not None and _is_model(walk.parent[0]):
        return "allowed keys: " + ", ".join(dict.fromkeys(_file_keys(walk.parent[0]).values()))
    return None


def _literal_hint(error: ErrorDetails, walk: _Walk) -> str | None:
    """`drne` -> did you mean `drone`? (for fields with a fixed set of values)."""
    if error["type"] != "literal_error" or walk.typed is None:
        return None
    if get_origin(walk.typed[0]) is not Literal:
        return None
    options = [str(option) for option in get_args(walk.typed[0])]
    close = difflib.get_close_matches(str(error["input"]), options, n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def _message(error: ErrorDetails) -> str:
    """Short words for the kind of mistake; the expected/found lines carry the detail."""
    kind = error["type"]
    if kind in RANGE_ERRORS:
        return "out of range"
    words = {
        "int_from_float": "not a whole number",
        "string_pattern_mismatch": "not a valid id",
        "literal_error": "not one of the accepted values",
        "too_short": "too few entries",
        "too_long": "too many entries",
        "string_too_long": "too long",
        "finite_number": "not a finite number",
    }
    if kind in words:
        return words[kind]
    if kind.endswith(("_type", "_parsing")):
        return "wrong type"
    return error["msg"][:1].lower() + error["msg"][1:]


def _expected(error: ErrorDetails, walk: _Walk) -> str | None:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "too_short":
        return f"at least {ctx['min_length']} {'entry' if ctx['min_length'] == 1 else 'entries'}"
    if kind == "string_too_long":
        return f"at most {ctx['max_length']} characters"
    if walk.typed is not None:
        return describe(walk.typed)
    return str(ctx["expected"]) if "expected" in ctx else None


# --- words for types and values ---------------------------------------------------------------


def describe(typed: Typed) -> str:
    """What a type accepts, in an analyst's words: "a number >= 0", "one of drone, cruise"."""
    tp, meta = typed
    arms = _union_arms(tp)
    if arms:
        return ", or ".join(describe(_unwrap(arm)) for arm in arms)
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(str(option) for option in get_args(tp))
    if tp is bool:
        return "true or false"
    if tp in (int, float):
        return ("an integer" if tp is int else "a number") + _bounds(meta)
    if tp is str:
        return ID_WORDS if any(getattr(m, "pattern", None) for m in meta) else "text"
    if origin is list:
        return "a list, each item " + describe(_unwrap(get_args(tp)[0]))
    if origin is dict:
        key, value = (_unwrap(arg) for arg in get_args(tp))
        return f"a map of {_key_words(key)} to {describe(value)}"
    if _is_model(tp):
        return _describe_model(tp)
    return getattr(tp, "__name__", str(tp))


def _describe_model(model: type[BaseModel]) -> str:
    required = [info.alias or name for name, info in model.model_fields.items() if info.is_required()]
    if required:
        return "a mapping {" + ", ".join(f"{key}: ..." for key in required) + "}"
    return "a mapping with keys " + ", ".join(dict.fromkeys(_file_keys(model).values()))


def _key_words(typed: Typed) -> str:
    if get_origin(typed[0]) is Literal:
        return "/".join(str(option) for option in get_args(typed[0]))
    return "id" if typed[0] is str else describe(typed)


def _bounds(meta: list[Any]) -> str:
    """" >= 0", " > 0", " from -90 to 90" from annotated-types constraints."""
    found = {
        name: getattr(item, name)
        for item in meta
        for name in ("ge", "gt", "le", "lt")
        if getattr(item, name, None) is not None
    }
    def number(value: float) -> str:
        return f"{value:,}" if isinstance(value, int) else f"{value:g}"

    if "ge" in found and "le" in found:
        return f" from {number(found['ge'])} to {number(found['le'])}"
    symbols = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
    parts = [f"{symbols[name]} {number(value)}" for name, value in found.items()]
    return " " + " and ".join(parts) if parts else ""


def show(value: Any) -> str:
    """A value as the user wrote it, shortened: `"two"`, `-1`, `{"drone": 0}`."""
    if value is None:
        return "nothing (empty value)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        text = repr(value)
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= FOUND_LIMIT else text[: FOUND_LIMIT - 3] + "..."
