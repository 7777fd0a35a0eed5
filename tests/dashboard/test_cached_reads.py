"""The pages' cached reads are keyed by the store's stamp (dashboard/loaders.py store_stamp): read again
as soon as a write changed the store, never while it did not (issue 18 part 7: with a CACHE_TTL of
5 seconds every rerun after the TTL read the store again, and a rerun within it showed data from
before the last write)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dashboard import compare, data, exports
from dashboard.filters import Filters
from koubei.records import Mention
from reports.exports import count_rows
from storage import open_store, upsert_mentions
from storage.queries import MentionFilter

DAY = datetime(2026, 11, 10)
TZ = "Asia/Shanghai"


def mention(i: int, brand: str) -> Mention:
    return Mention(
        source="demo.jd",
        native_id=str(i),
        text=f"第{i}条",
        brand=brand,
        published_at=(DAY + timedelta(hours=i)).replace(tzinfo=UTC),
    )


def counted(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    """Counts the calls of module.name (a loader the cache wraps) in a list's length."""
    calls: list[int] = []
    load: Callable[..., Any] = getattr(module, name)

    def wrapped(*args: Any) -> Any:
        calls.append(1)
        return load(*args)

    monkeypatch.setattr(module, name, wrapped)
    return calls


def test_overview_comparison_and_export_counts_are_read_again_when_the_store_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bug: a rerun within CACHE_TTL of a write showed the data from before it, and every rerun after
    CACHE_TTL read an unchanged store again (a filter change at 10M recomputed every section)."""
    db = tmp_path / "cached.duckdb"
    with open_store(db) as store:
        upsert_mentions(store, [mention(1, "声浪"), mention(2, "律动")])
    f = Filters(DAY.date(), DAY.date() + timedelta(days=1), TZ)
    compared = MentionFilter(f.start, f.end, ("声浪", "律动"))
    overview_reads = counted(monkeypatch, data, "load_overview")
    comparison_reads = counted(monkeypatch, compare, "load_comparison")
    for cached in (data._overview, compare._comparison):
        cached.clear()

    def read() -> tuple[int, int, int]:
        shown = data.overview(str(db), f.query, None, TZ)
        shares = compare.comparison(str(db), compared, None, TZ)
        return shown.current.mentions, int(shares.channels["mentions"].sum()), shown.export_mentions

    assert read() == read() == (2, 2, 2)
    assert len(overview_reads) == len(comparison_reads) == 1, "an unchanged store is read once"
    with open_store(db) as store:
        upsert_mentions(store, [mention(3, "声浪")])
    assert read() == (3, 3, 3), "the next read after a write sees it"
    with open_store(db, read_only=True) as store:  # the counts shown are those of the downloads
        assert count_rows(store, exports.request(f, "mentions", "zh")) == 3
    assert len(overview_reads) == len(comparison_reads) == 2
