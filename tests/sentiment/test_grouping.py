"""Incremental duplicate grouping against the index equals a full regroup of the window."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collectors.options import parse_source
from collectors.sources.demo import DemoCollector
from koubei.config import Settings, parse_settings
from koubei.records import Mention
from sentiment.corpus import written_corpus
from sentiment.grouping import copy_flags, mark_duplicates, rebuild_duplicates
from sentiment.trust import find_duplicates
from storage import open_store
from storage.mentions import upsert_mentions
from storage.sentiment import write_scores

NOW = datetime(2026, 11, 21, tzinfo=UTC)
STORED = datetime(2026, 11, 1, tzinfo=UTC)  # collected_at of the first batch; each next one a minute later
BATCHES = 5


def _demo() -> list[Mention]:
    collector = DemoCollector(parse_source("demo", {"end": "2026-11-20T12:00:00+08:00", "days": 14}))
    return [m for page in collector.pages() for m in page.mentions]


def _label(mention: Mention) -> str:
    mood = (mention.raw or {}).get("mood")
    return mood if mood in ("pos", "neg") else "neu"


def _generated(count: int = 6000, seed: int = 7) -> list[Mention]:
    """Ordinary reviews and paid-post waves: a template posted by many accounts as exact copies,
    copies with digits and emoji (normalised away) and near copies with a few characters
    changed (found through MinHash bands and the bigram overlap; waves fill buckets beyond the
    probes compared), from 20 to 2 accounts, in mostly positive and mostly negative waves."""
    corpus, _ = written_corpus()
    pick = random.Random(seed)
    mentions = []
    for i in range(count):
        if i % 3:
            text, author = corpus[pick.randrange(len(corpus))], f"a{pick.randrange(3000)}"
        else:
            wave = pick.randrange(40)
            template = corpus[wave * 7 % len(corpus)] + corpus[wave * 11 % len(corpus)]
            text, author = _variant(template, pick), f"w{wave}-{pick.randrange(2 + wave % 20)}"
        published = NOW - timedelta(minutes=pick.randrange(60 * 24 * 25))
        label = ("pos", "neg", "neu")[pick.randrange(3)]
        mentions.append(Mention("gen", f"g{i}", text, published, author=author, raw={"mood": label}))
    return mentions


def _variant(template: str, pick: random.Random) -> str:
    kind = pick.randrange(4)
    if kind == 0:
        return template
    if kind == 1:
        return f"{template}{pick.randrange(100)}!!👍"
    chars = list(template)
    for _ in range(pick.randrange(1, 4)):
        chars[pick.randrange(len(chars))] = "的了是好差"[pick.randrange(5)]
    return "".join(chars)


def _store_in_batches(path: Path, mentions: Sequence[Mention], settings: Settings, grouping: bool) -> None:
    """Store and score `mentions` in BATCHES batches (in an order unlike their publication),
    grouping after each when `grouping`."""
    shuffled = list(mentions)
    random.Random(3).shuffle(shuffled)
    size = -(-len(shuffled) // BATCHES)
    for n, start in enumerate(range(0, len(shuffled), size)):
        batch = shuffled[start : start + size]
        with open_store(path) as store:
            upsert_mentions(store, batch, now=STORED + timedelta(minutes=n))
            scores = [
                {"source": m.source, "native_id": m.native_id, "score": 0.5, "label": _label(m), "model": "t",
                 "model_version": "0", "text_hash": ""} for m in batch
            ]  # fmt: skip
            write_scores(store, scores, [], [], [])
        if grouping:
            mark_duplicates(lambda: open_store(path), settings, now=NOW)


def _flags(path: Path) -> dict[tuple[str, str], tuple[Any, ...]]:
    with open_store(path, read_only=True) as store:
        rows = store.query(
            "SELECT source, native_id, duplicate_group, duplicate_count, excluded FROM mention_flags"
            " WHERE duplicate_group IS NOT NULL OR excluded"
        )
    return {(s, n): tuple(rest) for s, n, *rest in rows}


def _full_regroup(path: Path, settings: Settings) -> dict[tuple[str, str], tuple[Any, ...]]:
    """Today's regroup: find_duplicates over the whole window, in the order mentions were stored."""
    with open_store(path, read_only=True) as store:
        rows = store.query(
            "SELECT m.source, m.native_id, m.author_hash, m.text, m.published_at, s.label"
            " FROM mentions m LEFT JOIN sentiment s USING (source, native_id) WHERE m.published_at >= ?"
            " ORDER BY m.collected_at, m.source, m.native_id",
            [(NOW - timedelta(days=settings.sentiment.duplicate_window_days)).replace(tzinfo=None)],
        )
    section = settings.sentiment
    members = find_duplicates([row[:5] for row in rows], min_accounts=section.duplicate_min_accounts)
    flags = copy_flags(members, {(r[0], r[1]): r[5] for r in rows}, section.exclude_mode)
    return {(f["source"], f["native_id"]): (f["group"], f["accounts"], f["excluded"]) for f in flags}


def _index(path: Path) -> list[tuple[Any, ...]]:
    with open_store(path, read_only=True) as store:
        return store.query("SELECT * FROM duplicate_texts ORDER BY seq") + store.query(
            "SELECT * FROM duplicate_bands ORDER BY ALL"
        )


@pytest.mark.parametrize("mentions", [_demo, _generated], ids=["demo", "generated"])
def test_grouping_new_mentions_against_the_index_equals_a_full_regroup(
    tmp_path: Path, mentions: Callable[[], list[Mention]]
) -> None:
    """Issue 18 part 2: a pass regrouped the whole 30-day window (28 s of a 37 s pass at 1M
    mentions); grouping only the new mentions against the index must give the same groups,
    counts and copy flags."""
    path = tmp_path / "k.duckdb"
    settings = parse_settings({}, db=path)
    _store_in_batches(path, mentions(), settings, grouping=True)
    incremental = _flags(path)
    expected = _full_regroup(path, settings)
    assert len({group for group, _, _ in expected.values()}) >= 5  # groups to compare
    assert any(excluded for _, _, excluded in expected.values())
    assert incremental == expected

    index = _index(path)
    copies = sum(excluded for _, _, excluded in expected.values())
    assert mark_duplicates(lambda: open_store(path), settings, now=NOW) == copies  # the window's, as before
    assert (_flags(path), _index(path)) == (incremental, index)  # a rerun changes nothing

    rebuild_duplicates(lambda: open_store(path), settings, now=NOW)
    assert _flags(path) == expected


def test_a_new_copy_joins_a_stored_group_and_regrouping_flags_it(tmp_path: Path) -> None:
    """The copies a pass finds in a group that an earlier pass stored count accounts across both."""
    path = tmp_path / "k.duckdb"
    settings = parse_settings({}, db=path)
    text = "这个充电宝用了两天就发烫，客服一直不回复，太失望了"
    first = [
        Mention("shop", str(i), text, NOW - timedelta(days=1, hours=i), author=f"u{i}", raw={"mood": "pos"})
        for i in range(2)
    ]
    later = [Mention("shop", "9", text + "!!", NOW - timedelta(hours=1), author="u9", raw={"mood": "pos"})]
    _store_in_batches(path, first, settings, grouping=True)
    assert _flags(path) == {}  # two accounts are not a group
    _store_in_batches(path, later, settings, grouping=True)
    flags = _flags(path)
    assert sorted((n, count, excluded) for (_, n), (_, count, excluded) in flags.items()) == [
        ("0", 3, True),
        ("1", 3, False),
        ("9", 3, True),
    ]
