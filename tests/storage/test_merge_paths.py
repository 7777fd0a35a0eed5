"""The merge as rewritten for speed (anti-join append + update of changed keys): same counts,
same rows, and `raw` still the item's JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from koubei.records import Mention
from storage import upsert_mentions

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def mention(native_id: str, text: str = "好评", **kw: object) -> Mention:
    kw.setdefault("published_at", T0)
    return Mention(source="test", native_id=native_id, text=text, **kw)  # type: ignore[arg-type]


def test_a_mixed_batch_counts_new_changed_and_unchanged_keys(store) -> None:
    upsert_mentions(store, [mention(str(i), likes=1) for i in range(6)], now=T0)
    batch = [mention(str(i), likes=1) for i in range(3)]  # unchanged
    batch += [mention(str(i), likes=5) for i in range(3, 6)]  # changed
    batch += [mention(str(i)) for i in range(6, 10)]  # new
    later = T0 + timedelta(hours=2)
    result = upsert_mentions(store, batch, now=later)
    assert (result.inserted, result.updated, result.unchanged) == (4, 3, 3)
    rows = store.query("SELECT native_id, likes, collected_at, updated_at FROM mentions ORDER BY native_id::INT")
    naive0, naive_later = T0.replace(tzinfo=None), later.replace(tzinfo=None)
    assert rows[:3] == [(str(i), 1, naive0, naive0) for i in range(3)]
    assert rows[3:6] == [(str(i), 5, naive0, naive_later) for i in range(3, 6)]
    assert rows[6:] == [(str(i), None, naive_later, naive_later) for i in range(6, 10)]


def test_an_update_can_move_published_at_which_is_indexed(store) -> None:
    upsert_mentions(store, [mention("1")])
    moved = Mention(source="test", native_id="1", text="好评", published_at=T0 + timedelta(days=1))
    assert upsert_mentions(store, [moved]).updated == 1
    assert store.query("SELECT count(*) FROM mentions WHERE published_at > ?", [T0.replace(tzinfo=None)]) == [(1,)]


def test_raw_round_trips_as_the_items_json(store) -> None:
    raw = {
        "id": 12345678901234,
        "nested": {"颜色": "深空灰", "list": [1, 2.5, None, True]},
        "emoji": "👍",
        "quote": 'a "b" \\ c',
        "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    }
    upsert_mentions(store, [mention("1", raw=raw), mention("2")])
    stored = dict(store.query("SELECT native_id, raw FROM mentions"))
    assert json.loads(stored["1"]) == {**raw, "when": "2026-01-02T03:04:05+00:00"}
    assert stored["2"] is None


def test_published_at_is_stored_as_the_same_utc_instant(store) -> None:
    beijing = datetime(2026, 11, 1, 16, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
    upsert_mentions(store, [Mention(source="test", native_id="1", text="x", published_at=beijing)])
    assert store.query("SELECT published_at FROM mentions") == [(datetime(2026, 11, 1, 8, 30, 15, 123456),)]


def test_a_relative_time_refetched_later_is_not_a_change_and_keeps_the_first_time(store) -> None:
    # Weibo's "15分钟前" resolves against the fetch time: the refetch lands a little later.
    first = mention("w1", published_at=T0, approximate_time=True)
    refetched = mention("w1", published_at=T0 + timedelta(minutes=1, seconds=3), approximate_time=True)
    upsert_mentions(store, [first])
    assert upsert_mentions(store, [refetched]).unchanged == 1
    # A real change (more likes) updates the row but keeps the first sighting's time.
    liked = mention("w1", published_at=T0 + timedelta(minutes=40), approximate_time=True, likes=9)
    assert upsert_mentions(store, [liked]).updated == 1
    assert store.query("SELECT likes, published_at FROM mentions") == [(9, T0.replace(tzinfo=None))]
    # An exact time, when the site gives one, replaces the approximate one.
    exact = mention("w1", published_at=T0 + timedelta(minutes=2), likes=9)
    assert upsert_mentions(store, [exact]).updated == 1
    assert store.query("SELECT published_at FROM mentions") == [((T0 + timedelta(minutes=2)).replace(tzinfo=None),)]
