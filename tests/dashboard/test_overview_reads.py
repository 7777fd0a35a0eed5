"""What the overview's reads take from the store: whole rows (with their texts) only for what is
shown, so a first render and a filter change cost what the window holds, not what it spans
(issue 18 part 3; benchmarks/bench_render.py measures it in the browser).

Measured with DuckDB's own profile of the query: how many rows each scan of `mentions` that reads
the text column emitted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from koubei.records import Mention
from storage import Store, open_store, queries, upsert_mentions
from storage.sentiment import write_scores

END = datetime(2026, 11, 20)
WINDOW = 3000  # mentions in the 14-day window
NEGATIVE_EVERY = 10


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    mentions = [
        Mention(
            source="demo.weibo",
            native_id=str(i),
            text=f"第{i}条 电池发热 客服不理人",
            published_at=(END - timedelta(seconds=i * 14 * 86400 // WINDOW + 1)).replace(tzinfo=UTC),
            brand="声浪",
            product="声浪X1耳机",
            url=f"https://example.com/{i}",
        )
        for i in range(WINDOW)
    ]
    scores = [
        {
            "source": "demo.weibo",
            "native_id": str(i),
            "score": 0.1 if i % NEGATIVE_EVERY == 0 else 0.8,
            "label": "neg" if i % NEGATIVE_EVERY == 0 else "pos",
            "model": "test",
            "model_version": "1",
            "text_hash": "-",
        }
        for i in range(WINDOW)
    ]
    with open_store(tmp_path / "reads.duckdb") as opened:
        upsert_mentions(opened, mentions)
        write_scores(opened, scores, [], [], [])
        yield opened


def text_rows_read(store: Store, tmp_path: Path, read: Callable[[], Any]) -> int:
    """Rows emitted by the scans of `mentions` that read the text column while `read` ran."""
    out = tmp_path / "profile.json"
    store.con.execute("SET enable_profiling = 'json'")
    store.con.execute(f"SET profiling_output = '{out}'")
    try:
        read()
    finally:
        store.con.execute("PRAGMA disable_profiling")

    def scans(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        info = node.get("extra_info") or {}
        if node.get("operator_type") == "TABLE_SCAN" and str(info.get("Table", "")).endswith(".mentions"):
            yield node
        for child in node.get("children", []):
            yield from scans(child)

    tree = json.loads(out.read_text())
    return sum(int(n["operator_cardinality"]) for n in scans(tree) if "text" in n["extra_info"].get("Projections", []))


def test_latest_negative_reads_whole_rows_of_the_shown_mentions_only(store: Store, tmp_path: Path) -> None:
    """Bug: latest_negative sorted every joined row of the window with its text to keep 50 (at 1M
    mentions 0.65-1.1 s of the overview's first render, against 34 ms keys first)."""
    f = queries.MentionFilter(END - timedelta(days=14), END)
    frame = queries.latest_negative(store, f, limit=50)
    assert len(frame) == 50
    assert frame["published_at"].is_monotonic_decreasing
    assert all(s == 0.1 for s in frame["score"])
    # Whole rows of the newest negatives' time span only (one in NEGATIVE_EVERY is negative), not the window's.
    read = text_rows_read(store, tmp_path, lambda: queries.latest_negative(store, f, limit=50))
    assert read <= 50 * NEGATIVE_EVERY < WINDOW
