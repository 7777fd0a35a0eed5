"""The triage page's reads, window first (storage/triage.py), give what the old whole-store joins gave:
the same rows in the same order, on the demo store and on a generated year store, over windows on
and off the rollups' 5-minute boundaries, with every filter, tier floor and limit the page can ask.

Bug (issue 18): the queue joined triage x mentions x sentiment x labels x flags whole before the
window applied, which took the dashboard server to 3.2 GB at 10M mentions; the tier counts and the
aspect summary joined the whole triage and aspect tables for a window's counts.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from storage import Store, open_store
from storage.db import LakeLocation
from storage.triage import aspect_summary, triage_counts, triage_queue
from tests.dashboard.conftest import with_corrections

# (tier floor, limit, include_excluded): the page's floors and limit, and the rest of the signature
ASKED = ((1, 500, False), (2, 500, False), (3, 20, True), (5, 7, False))


def _old_filter(
    brands: Sequence[str],
    sources: Sequence[str],
    start: datetime | None,
    end: datetime | None,
    include_excluded: bool,
    products: Sequence[str] = (),
) -> tuple[str, list[Any]]:
    """The filter of the old reads, as it was."""
    params: list[Any] = []
    where = ["TRUE"]
    if brands:
        where.append(f"m.brand IN ({', '.join('?' for _ in brands)})")
        params += list(brands)
    if products:
        where.append(f"m.product IN ({', '.join('?' for _ in products)})")
        params += list(products)
    if sources:
        where.append(f"m.source IN ({', '.join('?' for _ in sources)})")
        params += list(sources)
    if start is not None:
        where.append("m.published_at >= ?")
        params.append(start)
    if end is not None:
        where.append("m.published_at < ?")
        params.append(end)
    if not include_excluded:
        where.append("NOT coalesce(f.excluded, FALSE)")
    return " AND ".join(where), params


def old_queue(store: Store, min_urgency: int, limit: int, include_excluded: bool, **f: Any) -> pd.DataFrame:
    where, params = _old_filter(f["brands"], f["sources"], f["start"], f["end"], include_excluded, f["products"])
    return store.frame(
        "SELECT m.source, m.native_id, m.brand, m.product, m.published_at, m.url, m.text,"
        " coalesce(m.likes, 0) + coalesce(m.reposts, 0) + coalesce(m.replies, 0) AS reach,"
        " s.score, s.label, t.reading, t.urgency, t.motive, t.reason, t.reply,"
        " (SELECT string_agg(a.aspect || ':' || a.polarity, ' ' ORDER BY a.aspect) FROM mention_aspects a"
        "   WHERE a.source = m.source AND a.native_id = m.native_id) AS aspects,"
        " l.label AS corrected_label, tl.urgency AS corrected_tier, f.rating_conflict, f.duplicate_count"
        " FROM triage t JOIN mentions m USING (source, native_id)"
        " LEFT JOIN sentiment s USING (source, native_id)"
        " LEFT JOIN sentiment_labels l USING (source, native_id)"
        " LEFT JOIN triage_labels tl USING (source, native_id)"
        " LEFT JOIN mention_flags f USING (source, native_id)"
        f" WHERE t.urgency >= ? AND {where}"
        f" ORDER BY t.urgency DESC, reach DESC, m.published_at DESC, m.source, m.native_id LIMIT {int(limit)}",
        [min_urgency, *params],
    )


def old_counts(store: Store, include_excluded: bool, **f: Any) -> dict[int, int]:
    where, params = _old_filter(f["brands"], f["sources"], f["start"], f["end"], include_excluded, f["products"])
    rows = store.query(
        "SELECT t.urgency, count(*) FROM triage t JOIN mentions m USING (source, native_id)"
        f" LEFT JOIN mention_flags f USING (source, native_id) WHERE {where} GROUP BY 1",
        params,
    )
    return {int(tier): int(n) for tier, n in rows}


def old_aspects(store: Store, **f: Any) -> pd.DataFrame:
    where, params = _old_filter(f["brands"], f["sources"], f["start"], f["end"], True, f["products"])
    return store.frame(
        "SELECT a.aspect, a.polarity, count(*) AS mentions FROM mention_aspects a"
        " JOIN trusted_mentions m USING (source, native_id)"
        f" WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2",
        params,
    )


@pytest.fixture(scope="module")
def demo_corrected(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("triage-demo") / "koubei.duckdb"
    shutil.copyfile(demo_db, copy)
    with_corrections(copy)
    return copy


def filters(store: Store) -> list[dict[str, Any]]:
    """Filters the page can ask for: everything; the last 14 days on local-day boundaries (no edge rows);
    windows off the 5-minute boundaries (edge rows and rollups); a brand, a product, a source."""
    last, brand, product, source = store.query(
        "SELECT max(published_at), max(brand), max(product), max(source) FROM triage JOIN mentions USING (source, native_id)"
    )[0]
    day = datetime(last.year, last.month, last.day) - timedelta(hours=8)
    odd = last - timedelta(days=3, minutes=2, seconds=17)
    none: dict[str, Any] = {"brands": (), "products": (), "sources": (), "start": None, "end": None}
    return [
        none,
        {**none, "start": day - timedelta(days=13), "end": day + timedelta(days=1)},
        {**none, "start": odd, "end": last - timedelta(minutes=1, seconds=3)},
        {**none, "start": odd - timedelta(days=1), "end": odd + timedelta(seconds=40)},
        {**none, "brands": (brand,), "start": odd - timedelta(days=20), "end": day},
        {**none, "products": (product,), "start": odd - timedelta(days=20)},
        {**none, "sources": (source,), "end": odd},
        {**none, "brands": (brand,), "products": (product,), "sources": (source,)},
    ]


@pytest.fixture(params=["demo", "year", "demo on a lake"])
def db(request: pytest.FixtureRequest) -> Path | str:
    """The demo (with corrections), the generated year store and the demo copied into a lake (whose
    rollups are a log of signed counts)."""
    if request.param == "demo on a lake":
        lake: LakeLocation = request.getfixturevalue("demo_lake")
        return lake.address
    return request.getfixturevalue("demo_corrected" if request.param == "demo" else "year_db")


def test_the_triage_queue_is_the_old_queue(db: Path | str) -> None:
    with open_store(db, read_only=True) as store:
        tried = 0
        for f in filters(store):
            for min_urgency, limit, include_excluded in ASKED:
                old = old_queue(store, min_urgency, limit, include_excluded, **f)
                new = triage_queue(store, min_urgency=min_urgency, limit=limit, include_excluded=include_excluded, **f)
                pd.testing.assert_frame_equal(new, old)
                tried += len(old)
        assert tried > 1000  # the stores hold triaged mentions in these windows
        assert not store.query("SELECT * FROM duckdb_tables() WHERE temporary")  # its temp tables are gone


def test_the_tier_counts_and_aspects_are_the_old_joins(db: Path | str) -> None:
    with open_store(db, read_only=True) as store:
        for f in filters(store):
            for include_excluded in (False, True):
                assert triage_counts(store, include_excluded=include_excluded, **f) == old_counts(
                    store, include_excluded, **f
                )
            pd.testing.assert_frame_equal(aspect_summary(store, **f), old_aspects(store, **f))
        assert sum(old_counts(store, False, **filters(store)[0]).values()) > 100
