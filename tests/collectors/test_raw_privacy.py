"""No author name kept in clear beside its hash (issue 17, item 2): what each source keeps as raw
is declared (collectors/items.py RawFields), never a field that names a person, so no author
name of a source's saved responses survives anywhere in the database file or in a full export
of it (raw is zstd-compressed in the file, so the export is what shows a name kept in raw)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from collectors.base import registry
from collectors.file_import import import_file
from collectors.sources.html import DEMO_SELECTORS
from koubei.records import Mention
from storage import open_store, upsert_mentions

FIXTURES = {
    "jd": ("jd_comments.json", "jd_comments.jsonp"),
    "weibo": ("weibo_search.json", "weibo_getindex_timeline.json"),
    "bilibili": ("bilibili_replies.json",),
    "douban": ("douban_comments.html",),
    "html": ("douban_comments.html",),
    "appstore": ("appstore_reviews.json", "appstore_reviews_jp_2020.json"),
    "hackernews": ("hn_algolia.json",),
    "reddit": ("reddit_listing.json",),
    "feed": ("news_rss.xml", "news_atom.xml"),
}
CANARY = "raw-canary-7f3a"  # kept in raw on purpose: the export must show it


def _canary() -> Mention:
    return Mention("canary", "1", "text", datetime(2026, 1, 1, tzinfo=UTC), raw={"note": CANARY})


def _everything_stored(db: Path, export: Path) -> bytes:
    """The database file's bytes after a checkpoint, and a CSV export of every table."""
    with open_store(db) as store:
        store.con.execute("CHECKPOINT")
        store.con.execute(f"EXPORT DATABASE '{export}' (FORMAT csv)")
    return db.read_bytes() + b"".join(path.read_bytes() for path in sorted(export.iterdir()))


def test_every_source_with_saved_responses_is_checked() -> None:
    assert set(FIXTURES) == {name for name, cls in registry().items() if getattr(cls, "read_page", None)}


@pytest.mark.parametrize("kind", sorted(FIXTURES))
def test_no_author_name_of_a_source_survives_in_the_database(kind: str, fixtures_dir: Path, tmp_path: Path) -> None:
    """Bug: Hacker News raw kept Algolia's "author_<name>" tags beside the author's hash."""
    options = {"selectors": DEMO_SELECTORS} if kind == "html" else {}
    parse = registry()[kind].parse
    assert parse is not None
    mentions = [m for name in FIXTURES[kind] for m in parse((fixtures_dir / name).read_bytes(), **options)]
    names = {m.author for m in mentions if m.author}
    assert names or kind == "feed" and mentions
    with open_store(tmp_path / "k.duckdb") as store:
        upsert_mentions(store, [*mentions, _canary()])
    stored = _everything_stored(tmp_path / "k.duckdb", tmp_path / "export")
    assert CANARY.encode() in stored
    assert [name for name in names if name.encode() in stored] == []


def test_no_author_name_of_an_imported_file_survives_in_the_database(tmp_path: Path) -> None:
    """Bug: `koubei import` kept each whole input row in raw, author column included
    (150,000 of 150,000 imported rows)."""
    names = ["张小明", "李华华", "RealPerson42"]
    path = tmp_path / "export.csv"
    rows = [f"c{i},好评第{i}条,2026-11-01 10:0{i}:00,{name},5" for i, name in enumerate(names)]
    path.write_text("评论id,内容,评论时间,昵称,评分\n" + "\n".join(rows) + "\n", encoding="utf-8")
    import_file(path, "crm", None, lambda: open_store(tmp_path / "k.duckdb"))
    with open_store(tmp_path / "k.duckdb") as store:
        upsert_mentions(store, [_canary()])
        kept = store.query("SELECT raw FROM mentions WHERE source = 'crm' ORDER BY native_id")
    assert [row[0] for row in kept][
        0
    ] == '{"评论id":"c0","内容":"好评第0条","评论时间":"2026-11-01 10:00:00","评分":"5"}'
    stored = _everything_stored(tmp_path / "k.duckdb", tmp_path / "export")
    assert CANARY.encode() in stored
    assert [name for name in names if name.encode() in stored] == []
