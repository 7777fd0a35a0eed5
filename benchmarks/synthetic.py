"""The mention batches the scale benchmarks store: the columns each benchmark varies, and the rest
(link, rating, reach, times) filled the same way everywhere."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa

from storage.mentions import BATCH_SCHEMA


def mention_batch(ids: range, published: list[datetime], varied: dict[str, list[Any]]) -> pa.Table:
    """A BATCH_SCHEMA table for `ids`: `varied` holds source, native_id, brand, product, author_hash,
    text and language, one value per id; collected and updated at the time published."""
    count = len(ids)
    return pa.Table.from_pydict(
        {
            **varied,
            "url": [f"https://example.invalid/m/{i}" for i in ids],
            "rating": [float(i % 5 + 1) for i in ids],
            "published_at": published,
            "collected_at": published,
            "updated_at": published,
            "likes": [i % 97 for i in ids],
            "reposts": [i % 13 for i in ids],
            "replies": [i % 7 for i in ids],
            "content_hash": [None] * count,
            "raw": [None] * count,
            "approximate_time": [False] * count,
        },
        schema=BATCH_SCHEMA,
    )
