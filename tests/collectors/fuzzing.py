"""Mutations of a source's saved response, for the fuzz tests (tests/collectors/test_fuzz.py).

A JSON fixture is mutated as a document (a value's type swapped, a field removed, a value
nested deep, an item repeated), written back in one of the encodings sites use, then as
bytes (cut short, bytes flipped). An HTML or XML fixture is mutated as text (a slice cut or
repeated, tags nested deep, an attribute garbled) and then as bytes the same way.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

Path = tuple[str | int, ...]
DEEP = 3_000  # past Python's recursion limit and orjson's depth limit
DEEP_LIST, DEEP_OBJECT = "\x02deep list\x02", "\x02deep object\x02"  # markers _dumps writes out

# Values a field might hold instead of its own: every JSON type, and the awkward ones.
ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 2**31, 2**63, 2**64, 10**30, -(10**30)]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e300, -1e300, 1e-300, 0.5]),
    st.text(max_size=30),
    st.sampled_from(["", " ", "null", "0", "-1", "1e400", "刚刚", "2026-13-45 99:99:99", "\ud800", "\x00", "<b>"]),
    st.just([]),
    st.just({}),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def _paths(node: Any, at: Path = ()) -> list[Path]:
    found = [at]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*at, index))
    return found


def _get(node: Any, path: Path) -> Any:
    for step in path:
        node = node[step]
    return node


def _set(doc: Any, path: Path, value: Any) -> Any:
    if not path:
        return value
    _get(doc, path[:-1])[path[-1]] = value
    return doc


def _nested(value: Any, depth: int, as_list: bool) -> Any:
    for _ in range(depth):
        value = [value] if as_list else {"x": value}
    return value


@st.composite
def mutated_document(draw: st.DrawFn, doc: Any) -> Any:
    """`doc` with one to three mutations at random places."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        operation = draw(st.sampled_from(["swap", "swap", "remove", "nest", "deep", "repeat", "empty"]))
        target = _get(doc, path)
        if operation == "swap":
            doc = _set(doc, path, draw(ODD_VALUES))
        elif operation == "remove" and path:
            parent = _get(doc, path[:-1])
            del parent[path[-1]]
        elif operation == "nest":
            doc = _set(doc, path, _nested(target, draw(st.integers(1, 4)), draw(st.booleans())))
        elif operation == "deep":
            doc = _set(doc, path, draw(st.sampled_from([DEEP_LIST, DEEP_OBJECT])))
        elif operation == "repeat" and isinstance(target, list) and target:
            target.extend(copy.deepcopy(target[: draw(st.integers(1, len(target)))]))
        elif operation == "empty":
            doc = _set(doc, path, type(target)() if isinstance(target, (dict, list, str)) else None)
    return doc


def _dumps(doc: Any, ascii_only: bool) -> str:
    """JSON text; each DEEP_LIST / DEEP_OBJECT marker becomes a value nested DEEP levels deep
    (too deep for the standard library to write, as a hostile server would send it)."""
    text = json.dumps(doc, ensure_ascii=ascii_only)
    text = text.replace(json.dumps(DEEP_LIST), "[" * DEEP + "1" + "]" * DEEP)
    return text.replace(json.dumps(DEEP_OBJECT), '{"x":' * DEEP + "1" + "}" * DEEP)


ENCODINGS = ["utf-8", "utf-8", "utf-8", "gb18030", "utf-16", "latin-1"]


@st.composite
def mutated_bytes(draw: st.DrawFn, body: bytes) -> bytes:
    """`body` as is, or cut short, or with a few bytes flipped."""
    operation = draw(st.sampled_from(["keep", "keep", "truncate", "flip"]))
    if operation == "truncate" and body:
        return body[: draw(st.integers(0, len(body) - 1))]
    if operation == "flip" and body:
        data = bytearray(body)
        for _ in range(draw(st.integers(1, 8))):
            index = draw(st.integers(0, len(data) - 1))
            data[index] = draw(st.integers(0, 255))
        return bytes(data)
    return body


@st.composite
def mutated_json(draw: st.DrawFn, doc: Any, wrap: Callable[[str], str] = lambda text: text) -> bytes:
    """A mutated JSON document written in a drawn encoding, then mutated as bytes."""
    text = wrap(_dumps(draw(mutated_document(doc)), draw(st.booleans())))
    encoding = draw(st.sampled_from(ENCODINGS))
    return draw(mutated_bytes(text.encode(encoding, "replace")))


@st.composite
def mutated_markup(draw: st.DrawFn, text: str) -> bytes:
    """Mutated HTML or XML text: a slice cut or repeated, tags nested deep, a value garbled."""
    for _ in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 400)))
        operation = draw(st.sampled_from(["cut", "repeat", "deep", "garble", "insert"]))
        if operation == "cut":
            text = text[:start] + text[end:]
        elif operation == "repeat":
            text = text[:end] + text[start:end] * draw(st.integers(1, 50)) + text[end:]
        elif operation == "deep":
            tag = draw(st.sampled_from(["div", "p", "span", "item", "entry", "a"]))
            text = text[:start] + f"<{tag}>" * DEEP + text[start:end] + f"</{tag}>" * DEEP + text[end:]
        elif operation == "garble":
            text = text[:start] + draw(st.text(max_size=40)) + text[end:]
        else:
            snippet = draw(
                st.sampled_from(
                    [
                        '<span class="comment-time" title="not a time"></span>',
                        '<div class="comment-item" data-cid="">',
                        '<span class="allstar999 rating"></span>',
                        "<pubDate>Mon, 99 Foo 2026</pubDate>",
                        "<updated>9999-99-99</updated>",
                        "<![CDATA[",
                        "&#0;&#xd800;&bogus;",
                        "<item></item>",
                        "<entry><id></id></entry>",
                    ]
                )
            )
            text = text[:start] + snippet + text[start:]
    encoding = draw(st.sampled_from(ENCODINGS))
    return draw(mutated_bytes(text.encode(encoding, "replace")))
