"""collectors/partial.py: the declared part of a document, exactly as a full decode gives it, or None."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.partial import LEAF, PartialDecoder

SHAPE = {"a": LEAF, "im:rating": {"label": LEAF}, "items": [{"id": LEAF, "sub": [{"x": LEAF}]}], "tags": [LEAF]}
DECODER = PartialDecoder(SHAPE)


def project(value: Any, shape: Any) -> tuple[bool, Any]:
    """What the partial decode must give for a fully decoded value: (fits, projected)."""
    if isinstance(shape, list):
        if not isinstance(value, list):
            return False, None
        out: list[Any] = []
        for item in value:
            if isinstance(shape[0], dict) and item is None:
                out.append(None)
                continue
            fits, projected = project(item, shape[0])
            if not fits:
                return False, None
            out.append(projected)
        return True, out
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return False, None
        out_map = {}
        for key, sub in shape.items():
            if key not in value:
                continue
            if value[key] is None or sub is LEAF:
                out_map[key] = value[key]
                continue
            fits, projected = project(value[key], sub)
            if not fits:
                return False, None
            out_map[key] = projected
        return True, out_map
    return True, value


def test_keeps_declared_keys_drops_the_rest_and_tells_missing_from_null() -> None:
    body = orjson.dumps(
        {
            "a": [1, {"z": 2}],
            "im:rating": {"label": "5", "other": 1},
            "junk": {"deep": [1]},
            "items": [{"id": 1, "sub": None, "junk": [1, 2]}, None, {"sub": [{"x": 1, "y": 2}]}],
            "tags": ["a", 1],
        }
    )
    assert DECODER.decode(body) == {
        "a": [1, {"z": 2}],
        "im:rating": {"label": "5"},
        "items": [{"id": 1, "sub": None}, None, {"sub": [{"x": 1}]}],
        "tags": ["a", 1],
    }
    assert DECODER.decode(b"{}") == {} and DECODER.decode('{"im:rating": null}') == {"im:rating": None}


def test_a_document_that_does_not_fit_gives_none() -> None:
    for body in (
        b"[]",
        b'{"items": 5}',
        b'{"items": [7]}',
        b'{"im:rating": "5"}',
        b"{not json",
        b"",
        "好评".encode("gbk"),
        b'{"a": 1',
    ):
        assert DECODER.decode(body) is None, body


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "x", "id", "sub", "zz"]), inner, max_size=3)
    ),
    max_leaves=12,
)
documents = st.fixed_dictionaries(
    {},
    optional={
        "a": json_values,
        "im:rating": json_values | st.fixed_dictionaries({}, optional={"label": json_values}),
        "items": json_values
        | st.lists(
            st.none()
            | st.fixed_dictionaries(
                {},
                optional={
                    "id": json_values,
                    "sub": json_values | st.lists(st.dictionaries(st.sampled_from(["x", "y"]), json_values)),
                    "junk": json_values,
                },
            ),
            max_size=3,
        ),
        "tags": json_values,
        "other": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_partial_decode_is_the_projection_of_the_full_decode(document: dict[str, Any]) -> None:
    body = orjson.dumps(document)
    fits, projected = project(orjson.loads(body), SHAPE)
    assert DECODER.decode(body) == (projected if fits else None)
