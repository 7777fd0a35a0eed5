"""Reading a table of koubei.toml into its type; what does not fit becomes one line.

    koubei.toml: [alerts] unknown key 'lookback_day' (did you mean 'lookback_days'?)
    koubei.toml: [alerts] lookback_days = 100000000.0: expected a number from 1 to 3650 (days)

msgspec checks the types, ranges and keys; its error says what failed and where
(`$.alerts.lookback_days`). That path leads through the data (which key is a
table, which value was given) and through the type (what is expected, which keys
exist) to the line above.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import msgspec
from msgspec import inspect as mi

from koubei.errors import ConfigError
from koubei.settings.toml import toml_key, toml_value
from koubei.settings.types import PARSED, decode

T = TypeVar("T")
Segment = str | int
_SEGMENT = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_ANY_KEY = "[...]"  # msgspec's name for "some key of a dict"
_MISSING = object()


def convert(raw: Mapping[str, Any], type_: type[T], file: str, table: str = "") -> T:
    """`raw` (the table `table` of `file`) as `type_`, or a ConfigError saying what does not fit."""
    try:
        return msgspec.convert(raw, type_, dec_hook=decode)
    except msgspec.ValidationError as exc:
        raise ConfigError(explain(str(exc), raw, type_, file, table)) from None


def suggest(word: str, known: Iterable[str]) -> str:
    """' (did you mean 'x'?)', or the valid names when none is close."""
    import difflib  # only when something is wrong

    names = sorted(known)
    if near := difflib.get_close_matches(word, names, n=1):
        return f" (did you mean {near[0]!r}?)"
    return f" (valid: {', '.join(names)})" if names else ""


def explain(message: str, raw: Mapping[str, Any], type_: type, file: str, table: str = "") -> str:
    text, at, where = message.rpartition(" - at `")
    if not at:
        text, where = message, "$`"
    path = _find_keys(message, _segments(where.rstrip("`")), raw, type_)
    tables = [table] if table else []
    keys: list[Segment] = []
    value: Any = raw
    node: mi.Type | None = mi.type_info(type_)
    for segment in path:
        value = _child(value, segment)
        node = _child_type(node, segment, value)
        if not keys and isinstance(segment, str) and isinstance(value, dict):
            tables.append(toml_key(segment))
        else:
            keys.append(segment)
    place = f"{file}: [{'.'.join(tables)}]" if tables else f"{file}:"
    key = key_text(keys)
    if match := re.fullmatch(r"Object contains unknown field `(.+)`", text):
        unknown = match.group(1)
        what = "table" if not tables and isinstance(_child(value, unknown), dict) else "key"
        return f"{place}{' ' + key + ':' if key else ''} unknown {what} {unknown!r}{suggest(unknown, _fields(node))}"
    if match := re.fullmatch(r"Object missing required field `(.+)`", text):
        missing = match.group(1)
        expected = describe(_child_type(node, missing, _MISSING))
        return f"{place}{' ' + key + ':' if key else ''} missing key {missing!r} (expected {expected})"
    if isinstance(_plain(node), mi.StructType) and not text.startswith(("Expected", "Invalid")):
        return f"{place} {key + ': ' if key else ''}{text}"  # a check of the table as a whole (__post_init__)
    shown = toml_value(value) if _writable(value) else repr(value)
    return f"{place} {key} = {shown}: expected {describe(node)}"


def describe(node: mi.Type | None) -> str:
    """What a value of this type looks like, in words: 'an integer from 1 to 20 (days)'."""
    note = ""
    if isinstance(node, mi.Metadata):
        note = str((node.extra_json_schema or {}).get("description", ""))
        node = node.type
    if note and isinstance(node, mi.StrType) and node.pattern:
        return note  # says in words what the pattern says
    text = _describe(node)
    return f"{text} ({note})" if note else text


def _describe(node: mi.Type | None) -> str:
    if isinstance(node, mi.IntType):
        return "an integer" + _bounds(node)
    if isinstance(node, mi.FloatType):
        return "a number" + _bounds(node)
    if isinstance(node, mi.BoolType):
        return "true or false"
    if isinstance(node, mi.StrType):
        if node.pattern:
            return f"a string matching {node.pattern}"
        return "a non-empty string" if node.min_length else "a string"
    if isinstance(node, mi.LiteralType):
        return "one of " + ", ".join(toml_value(v) for v in node.values)
    if isinstance(node, mi.CustomType) and issubclass(node.cls, PARSED):
        return node.cls.expected()
    if isinstance(node, mi.DateTimeType):
        return "a date and time such as 2026-11-20T12:00:00+08:00"
    if isinstance(node, mi.TupleType):
        items = {describe(t) for t in node.item_types}
        each = f", each {items.pop()}" if len(items) == 1 else ""
        return f"a list of {len(node.item_types)} values{each}"
    if isinstance(node, (mi.ListType, mi.VarTupleType)):
        size = " non-empty" if node.min_length else ""
        return f"a{size} list, each item {describe(node.item_type)}"
    if isinstance(node, mi.DictType):
        return f"a table, each value {describe(node.value_type)}"
    if isinstance(node, mi.StructType):
        return "a table"
    if isinstance(node, mi.UnionType):
        return " or ".join(describe(t) for t in node.types if not isinstance(t, mi.NoneType))
    return "a different value"


def _bounds(node: mi.IntType | mi.FloatType) -> str:
    if node.ge is not None and node.le is not None:
        return f" from {_number(node.ge)} to {_number(node.le)}"
    limits = (("at least", node.ge), ("above", node.gt), ("at most", node.le), ("below", node.lt))
    parts = [f"{word} {_number(limit)}" for word, limit in limits if limit is not None]
    return " " + " and ".join(parts) if parts else ""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _segments(where: str) -> list[Segment]:
    """`$.alerts.routes[1].min_tier` -> ["alerts", "routes", 1, "min_tier"]."""
    out: list[Segment] = []
    for name, index in _SEGMENT.findall(where.removeprefix("$")):
        out.append(name if name else (_ANY_KEY if index == "..." else int(index)))
    return out


def _find_keys(message: str, path: list[Segment], raw: Mapping[str, Any], type_: type) -> list[Segment]:
    """msgspec names a dict's keys `[...]`: find which key it was by converting each alone."""
    path = list(path)
    for i, segment in enumerate(path):
        if segment != _ANY_KEY:
            continue
        entries = _at(raw, path[:i])
        for key in entries if isinstance(entries, dict) else ():
            try:
                msgspec.convert(_with(raw, path[:i], {key: entries[key]}), type_, dec_hook=decode)
            except msgspec.ValidationError as exc:
                if str(exc) == message:
                    path[i] = key
                    break
    return path


def _at(data: Any, path: list[Segment]) -> Any:
    for segment in path:
        data = _child(data, segment)
    return data


def _with(data: Any, path: list[Segment], replacement: Any) -> Any:
    """A copy of `data` with the value at `path` replaced (only the containers on the way are copied)."""
    if not path:
        return replacement
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {**data, head: _with(data[head], rest, replacement)}
    copy = list(data)
    copy[int(head)] = _with(copy[int(head)], rest, replacement)
    return copy


def _child(data: Any, segment: Segment) -> Any:
    if isinstance(data, dict):
        return data.get(segment, _MISSING)
    if isinstance(data, (list, tuple)) and isinstance(segment, int) and segment < len(data):
        return data[segment]
    return _MISSING


def _plain(node: mi.Type | None) -> mi.Type | None:
    return node.type if isinstance(node, mi.Metadata) else node


def _child_type(node: mi.Type | None, segment: Segment, value: Any) -> mi.Type | None:
    """The type of the value under `segment` (`value`, which picks the member of a union)."""
    node = _plain(node)
    if isinstance(node, mi.UnionType):
        tables, lists = (mi.StructType, mi.DictType), (mi.ListType, mi.TupleType, mi.VarTupleType)
        wanted = tables if isinstance(segment, str) else lists
        node = next((_plain(t) for t in node.types if isinstance(_plain(t), wanted)), None)
    if isinstance(node, mi.StructType):
        return next((f.type for f in node.fields if f.encode_name == segment), None)
    if isinstance(node, mi.DictType):
        return node.value_type
    if isinstance(node, (mi.ListType, mi.VarTupleType)):
        return node.item_type
    if isinstance(node, mi.TupleType) and isinstance(segment, int) and segment < len(node.item_types):
        return node.item_types[segment]
    return None


def _fields(node: mi.Type | None) -> list[str]:
    node = _plain(node)
    if isinstance(node, mi.UnionType):
        node = next((_plain(t) for t in node.types if isinstance(_plain(t), mi.StructType)), None)
    return [f.encode_name for f in node.fields] if isinstance(node, mi.StructType) else []


def key_text(keys: Sequence[Segment]) -> str:
    """["routes", 1, "min_tier"] -> routes[1].min_tier"""
    text = ""
    for key in keys:
        text += f"[{key}]" if isinstance(key, int) else (f".{toml_key(key)}" if text else toml_key(key))
    return text


def _writable(value: Any) -> bool:
    try:
        toml_value(value)
    except TypeError:
        return False
    return True
