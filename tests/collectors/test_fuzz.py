"""Hostile input contained (issue 17, item 8): mutations of each source's saved response
(types swapped, fields removed, nesting, truncation, byte flips, encodings) never raise
anything but a collector's named errors, and whatever is parsed can be stored.

Bug: a mutation fuzzer over the shared fixtures found 287 uncaught exceptions in 3,352
cases (TypeError, ValueError, RecursionError ...); during `collect` one such item failed its
whole source with kind "bug" on every run. KOUBEI_FUZZ_EXAMPLES sets the examples per
source (default 60 in `make test`; the figures in the issue's closing note ran thousands).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors.base import ParseContext, registry
from collectors.sources.html import DEMO_SELECTORS
from koubei.errors import KoubeiError
from storage import Store, open_store, upsert_mentions
from tests.collectors.fuzzing import mutated_json, mutated_markup
from tests.conftest import SHARED

EXAMPLES = int(os.environ.get("KOUBEI_FUZZ_EXAMPLES", "60"))
FIXTURES = SHARED / "fixtures" / "sources"
OPTIONS: dict[str, dict[str, Any]] = {"html": {"selectors": DEMO_SELECTORS}, "appstore": {"cc": "cn"}}


def _jsonp(text: str) -> str:
    return f"fetchJSON_comment98vv122({text});"


def _json(name: str, wrap: Callable[[str], str] = lambda text: text) -> st.SearchStrategy[bytes]:
    return mutated_json(json.loads((FIXTURES / name).read_text(encoding="utf-8")), wrap)


def _markup(name: str) -> st.SearchStrategy[bytes]:
    return mutated_markup((FIXTURES / name).read_text(encoding="utf-8"))


# Each source with the saved responses it reads, as strategies of mutated bodies.
BODIES: dict[str, Callable[[], st.SearchStrategy[bytes]]] = {
    "jd": lambda: st.one_of(_json("jd_comments.json"), _json("jd_comments.json", _jsonp)),
    "weibo": lambda: st.one_of(_json("weibo_search.json"), _json("weibo_getindex_timeline.json")),
    "bilibili": lambda: _json("bilibili_replies.json"),
    "appstore": lambda: st.one_of(_json("appstore_reviews.json"), _json("appstore_reviews_jp_2020.json")),
    "hackernews": lambda: _json("hn_algolia.json"),
    "reddit": lambda: _json("reddit_listing.json"),
    "feed": lambda: st.one_of(_markup("news_rss.xml"), _markup("news_atom.xml")),
    "douban": lambda: _markup("douban_comments.html"),
    "html": lambda: _markup("douban_comments.html"),
}


def read_hostile(kind: str, body: bytes, store: Store) -> None:
    """Parse the body as `kind` reads a page; only a collector's named errors may come out,
    every mention parsed is stored, and every item skipped is named."""
    context = ParseContext(kind, origin="https://fuzz.example/page", options=OPTIONS.get(kind, {}))
    reader = registry()[kind].read_page  # type: ignore[attr-defined]
    try:
        mentions, _ = reader(body, context)
    except KoubeiError:
        return
    upsert_mentions(store, mentions)
    for error in context.errors:
        assert error.source == kind and error.item and str(error)


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    with open_store(":memory:") as opened:
        yield opened


def test_every_source_with_saved_responses_is_fuzzed() -> None:
    readers = {name for name, cls in registry().items() if getattr(cls, "read_page", None)}
    assert readers == set(BODIES)


@pytest.mark.parametrize("kind", sorted(BODIES))
def test_mutated_responses_raise_only_named_errors(kind: str, store: Store) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(BODIES[kind]())
    def fuzz(body: bytes) -> None:
        read_hostile(kind, body, store)

    fuzz()
