"""The runner's write batches: 25,000 mentions (or 2 s) by default, `batch_items` per source."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from collectors.base import Collector, Page, SourceConfig
from collectors.options import BATCH_ITEMS, SourceOptions
from collectors.runner import RunResult, run_collector
from koubei.records import Mention
from storage import Store

T0 = datetime(2026, 11, 1, tzinfo=UTC)


class FastSource(Collector):
    """Pages as fast as they can be made: only the item cap closes a batch."""

    def __init__(self, options: SourceOptions, pages: int, per_page: int) -> None:
        super().__init__(SourceConfig("fast", "fast", options))
        self.count, self.per_page = pages, per_page

    def pages(self) -> Iterator[Page]:
        for page in range(self.count):
            yield Page(
                [Mention("fast", f"{page}-{i}", "好", T0 + timedelta(seconds=i)) for i in range(self.per_page)],
                cursor={"page": page},
            )


def _writes(collector: Collector, store_factory: Callable[[], Store]) -> list[int]:
    stored: list[int] = []
    result = run_collector(collector, store_factory, on_page=lambda r: stored.append(r.items))
    assert result.ok and result.inserted == collector.count * collector.per_page  # type: ignore[attr-defined]
    return stored


def test_default_batches_hold_25000_mentions(store_factory: Callable[[], Store]) -> None:
    assert BATCH_ITEMS == 25_000
    assert _writes(FastSource(SourceOptions(), pages=6, per_page=5_000), store_factory) == [25_000, 30_000]


def test_batch_items_option_sets_the_batch_size(store_factory: Callable[[], Store]) -> None:
    assert _writes(FastSource(SourceOptions(batch_items=2), pages=5, per_page=1), store_factory) == [2, 4, 5]


def test_a_batch_is_stored_with_its_last_cursor(store_factory: Callable[[], Store]) -> None:
    from storage.cursors import get_cursor

    seen: list[dict[str, Any] | None] = []

    def check(result: RunResult) -> None:
        with store_factory() as store:
            seen.append(get_cursor(store, "fast"))

    run_collector(FastSource(SourceOptions(batch_items=3), pages=4, per_page=1), store_factory, on_page=check)
    assert seen == [{"page": 2}, {"page": 3}]
