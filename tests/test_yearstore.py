"""The shared benchmark year store (benchmarks/yearstore.py): built once through the storage path,
left as a watch leaves a scored store, reused only when its build finished."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import yearstore
from storage import open_store
from storage.rollups import rebuild, snapshot


def test_the_year_store_is_scored_grouped_and_counted_as_the_normal_path_leaves_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOUBEI_BENCH_DATA", str(tmp_path))
    crashed = yearstore.store_path(7_300).with_name("year-7300-v1.duckdb.building-1")
    crashed.write_text("a build that died")
    path = yearstore.year_store(7_300)
    assert path == tmp_path / f"year-7300-v{yearstore.GENERATOR_VERSION}.duckdb"
    assert yearstore.ready_marker(path).exists() and not crashed.exists()
    with open_store(path, read_only=True) as store:
        (count, brands, sources, first, last) = store.query(
            "SELECT count(*), count(DISTINCT brand), count(DISTINCT source), min(published_at), max(published_at)"
            " FROM mentions"
        )[0]
        assert 6_500 < count < 8_000 and brands == 20 and sources == len(yearstore.SOURCES)
        assert first >= yearstore.START and last < yearstore.END and (last - first).days >= 360
        assert store.query("SELECT count(*) FROM sentiment")[0][0] == count
        assert store.query("SELECT count(*) FROM score_queue")[0][0] == 0
        assert store.query("SELECT count(*) FROM duplicate_pending")[0][0] == 0
        assert store.query("SELECT count(*) FROM duplicate_texts")[0][0] > 0
        lengths = dict(store.query("SELECT source, avg(length(text)) FROM mentions GROUP BY source"))
        assert lengths["weibo"] < lengths["jd"] < lengths["douban"]
        english = store.query("SELECT avg((language = 'en')::INT) FROM mentions")[0][0]
        assert 0.07 < english < 0.13
    with open_store(path) as store:
        kept = snapshot(store)
        rebuild(store)
        assert snapshot(store) == kept
    built = path.stat().st_mtime_ns
    assert yearstore.year_store(7_300) == path and path.stat().st_mtime_ns == built  # reused, not rebuilt
