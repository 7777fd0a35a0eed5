"""Trust signals: ratings that contradict their text, template and copy-paste reviews.

- Rating conflict: 4-5 stars on a text the model calls negative, or 1-2 stars on
  one it calls positive (with the model's confidence beyond the neutral band).
- Default reviews: platform placeholders (系统默认好评, 此用户未填写评价) say nothing
  about the product and are excluded.
- Near-duplicates across accounts: texts that are the same after normalisation
  (punctuation, spaces, digits, emoji stripped, traditional converted), or that
  share a MinHash LSH band of their character bigrams and have a bigram
  Jaccard similarity >= `min_jaccard`, posted by >= `min_accounts`
  distinct accounts, form a group. The earliest member stays; the copies can be
  excluded from scores and spikes (see sentiment/pipeline.py: by default only
  the copies of mostly-positive groups, the 刷单 / 好评返现 templates).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from koubei.errors import Stopped
from sentiment.text import to_simplified

DEFAULT_REVIEW = re.compile(
    r"^(系统默认好评|此用户未填写评价内容|此用户没有填写评价|该用户未(填写|做出)评价|默认好评|用户未及时(作出|做出)?评价[，,]?系统默认好评)"
)
_NOISE = re.compile(r"[\W\d_]+", re.UNICODE)
_BANDS, _ROWS = 8, 3  # MinHash LSH: 8 bands of 3 hashes
_BUCKET_PROBES = 8
_STOP_EVERY = 1000  # texts between two looks at `stop`


def normalise(text: str) -> str:
    return _NOISE.sub("", to_simplified(text).lower())


def is_default_review(text: str) -> bool:
    return bool(DEFAULT_REVIEW.match(normalise(text) or text.strip())) or bool(DEFAULT_REVIEW.match(text.strip()))


def rating_conflict(rating: float | None, score: float, neutral: tuple[float, float]) -> str | None:
    if rating is None:
        return None
    if rating >= 4 and score < neutral[0]:
        return "high_rating_negative_text"
    if rating <= 2 and score > neutral[1]:
        return "low_rating_positive_text"
    return None


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)} or ({text} if text else set())


_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a fast, stable 64-bit hash of integer keys."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return (x ^ (x >> np.uint64(31))) & _MASK64


_SEEDS = _mix64(np.arange(1, _BANDS * _ROWS + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))


def minhash_bands(text: str) -> list[tuple[int, ...]]:
    """MinHash LSH of the text's character bigrams: _BANDS bands of _ROWS minima.
    Two texts with bigram Jaccard J share a band with probability
    1 - (1 - J**_ROWS)**_BANDS: 0.97 at J = 0.7, 0.2 at J = 0.3."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    keys = np.unique((codes[:-1] << np.uint64(21)) | codes[1:]) if len(codes) > 1 else codes
    if len(keys) == 0:
        return []
    minima = _mix64(keys[None, :] ^ _SEEDS[:, None]).min(axis=1)
    return [tuple(int(v) for v in minima[b * _ROWS : (b + 1) * _ROWS]) for b in range(_BANDS)]


@dataclass(frozen=True)
class DuplicateMember:
    source: str
    native_id: str
    group: str
    accounts: int
    excluded: bool


def find_duplicates(
    items: Sequence[tuple[str, str, str | None, str, datetime]],
    *,
    min_accounts: int = 3,
    min_chars: int = 10,
    min_jaccard: float = 0.7,
    stop: threading.Event | None = None,
) -> list[DuplicateMember]:
    """Groups of near-identical texts from >= min_accounts accounts.

    items: (source, native_id, author_hash, text, published_at). A mention without
    an author counts as its own account. Texts shorter than min_chars after
    normalisation ("质量很好物流很快") are too short to call a template: many people
    write them independently. Raises Stopped when `stop` is set before the groups are found.
    """
    norm = [normalise(text) for _, _, _, text, _ in items]
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    exact: dict[str, int] = {}
    buckets: dict[tuple[int, tuple[int, ...]], list[int]] = defaultdict(list)
    grams: dict[int, set[str]] = {}
    for i, text in enumerate(norm):
        if stop is not None and i % _STOP_EVERY == 0 and stop.is_set():
            raise Stopped
        if len(text) < min_chars:
            continue
        if text in exact:
            union(exact[text], i)
            continue
        exact[text] = i
        grams[i] = _bigrams(text)
        for band, values in enumerate(minhash_bands(text)):
            key = (band, values)
            # A few members per bucket are enough to join a group; comparing with
            # all of them made templated streams quadratic.
            for j in buckets[key][:_BUCKET_PROBES]:
                if find(i) == find(j):
                    continue
                # Sharing a band makes it a candidate; the bigram overlap decides.
                a, b = grams[i], grams[j]
                if len(a & b) / len(a | b) >= min_jaccard:
                    union(i, j)
            buckets[key].append(i)

    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(items)):
        if len(norm[i]) >= min_chars:
            groups[find(i)].append(i)
    members: list[DuplicateMember] = []
    for indices in groups.values():
        if len(indices) < 2:
            continue
        accounts = len({items[i][2] or f"{items[i][0]}/{items[i][1]}" for i in indices})
        if accounts < min_accounts:
            continue
        indices.sort(key=lambda i: (items[i][4], items[i][0], items[i][1]))
        group_id = hashlib.sha1(norm[indices[0]].encode("utf-8")).hexdigest()[:12]
        for rank, i in enumerate(indices):
            members.append(DuplicateMember(items[i][0], items[i][1], group_id, accounts, excluded=rank > 0))
    return members
