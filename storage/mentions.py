"""Idempotent writes of mentions: a merge on (source, native_id).

Ingesting a batch twice leaves one row per mention; a mention whose content
changed is updated in place (collected_at keeps the first sighting). Writes go
through one Arrow table per batch, never one INSERT per row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

from koubei.records import Mention
from storage.cursors import set_cursor
from storage.db import Store

# The author name is personal data: keep only a keyed hash, enough to count
# distinct authors and spot copy-paste campaigns across accounts.
AUTHOR_KEY_ENV = "KOUBEI_AUTHOR_KEY"

MENTION_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("native_id", pa.string()),
        ("brand", pa.string()),
        ("product", pa.string()),
        ("url", pa.string()),
        ("author_hash", pa.string()),
        ("text", pa.string()),
        ("rating", pa.float64()),
        ("language", pa.string()),
        ("published_at", pa.timestamp("us")),
        ("collected_at", pa.timestamp("us")),
        ("updated_at", pa.timestamp("us")),
        ("likes", pa.int64()),
        ("reposts", pa.int64()),
        ("replies", pa.int64()),
        ("content_hash", pa.string()),
        ("raw", pa.string()),
    ]
)
COLUMNS = MENTION_SCHEMA.names
UPDATED_ON_CHANGE = [c for c in COLUMNS if c not in ("source", "native_id", "collected_at")]


@dataclass(frozen=True)
class UpsertResult:
    inserted: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged


def author_hash(source: str, author: str | None) -> str | None:
    if not author:
        return None
    key = os.environ.get(AUTHOR_KEY_ENV, "koubei-author").encode()
    return hmac.new(key, f"{source}\x1f{author}".encode(), hashlib.sha256).hexdigest()[:20]


def _utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _content_hash(m: Mention, author: str | None) -> str:
    parts = [m.brand, m.product, m.url, author, m.text, m.rating, m.language,
             _utc_naive(m.published_at).isoformat(), m.likes, m.reposts, m.replies]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, default=str).encode()).hexdigest()[:24]


def mentions_table(mentions: Iterable[Mention], now: datetime | None = None) -> pa.Table:
    """Arrow table of a batch; a key seen twice keeps its last version."""
    stamp = _utc_naive(now or datetime.now(timezone.utc))
    latest: dict[tuple[str, str], Mention] = {}
    for m in mentions:
        latest[(m.source, m.native_id)] = m
    columns: dict[str, list[object]] = {name: [] for name in COLUMNS}
    for m in latest.values():
        hashed = author_hash(m.source, m.author)
        row = {
            "source": m.source, "native_id": m.native_id, "brand": m.brand, "product": m.product,
            "url": m.url, "author_hash": hashed, "text": m.text, "rating": m.rating,
            "language": m.language, "published_at": _utc_naive(m.published_at),
            "collected_at": stamp, "updated_at": stamp, "likes": m.likes, "reposts": m.reposts,
            "replies": m.replies, "content_hash": _content_hash(m, hashed),
            "raw": json.dumps(m.raw, ensure_ascii=False, default=str) if m.raw is not None else None,
        }
        for name in COLUMNS:
            columns[name].append(row[name])
    return pa.Table.from_pydict(columns, schema=MENTION_SCHEMA)


@dataclass(frozen=True)
class CursorUpdate:
    source: str
    state: dict[str, Any]
    scope: str = ""


def upsert_mentions(
    store: Store, mentions: Iterable[Mention], now: datetime | None = None, cursor: CursorUpdate | None = None
) -> UpsertResult:
    return upsert_table(store, mentions_table(mentions, now), cursor)


def upsert_table(store: Store, batch: pa.Table, cursor: CursorUpdate | None = None) -> UpsertResult:
    """Merge an Arrow batch (MENTION_SCHEMA) in one transaction, with the
    cursor that covers it, so the cursor never runs ahead of stored data."""
    if batch.num_rows == 0:
        if cursor is not None:
            with store.transaction():
                set_cursor(store, cursor.source, cursor.state, cursor.scope)
        return UpsertResult(0, 0, 0)
    con = store.con
    con.register("koubei_batch", batch)
    try:
        with store.transaction():
            existing, changed = con.execute(
                "SELECT count(*), count(*) FILTER (WHERE m.content_hash <> b.content_hash)"
                " FROM koubei_batch b JOIN mentions m USING (source, native_id)"
            ).fetchone()  # type: ignore[misc]
            assignments = ", ".join(f"{c} = excluded.{c}" for c in UPDATED_ON_CHANGE)
            con.execute(
                f"INSERT INTO mentions ({', '.join(COLUMNS)})"
                f" SELECT {', '.join(COLUMNS)} FROM koubei_batch"
                f" ON CONFLICT (source, native_id) DO UPDATE SET {assignments}"
                " WHERE mentions.content_hash <> excluded.content_hash"
            )
            if cursor is not None:
                set_cursor(store, cursor.source, cursor.state, cursor.scope)
    finally:
        con.unregister("koubei_batch")
    return UpsertResult(inserted=batch.num_rows - existing, updated=changed, unchanged=existing - changed)


def count_mentions(store: Store) -> int:
    return store.query("SELECT count(*) FROM mentions")[0][0]
