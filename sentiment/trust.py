"""Trust signals: ratings that contradict their text, template and copy-paste reviews.

- Rating conflict: 4-5 stars on a text the model calls negative, or 1-2 stars on
  one it calls positive (with the model's confidence beyond the neutral band).
- Default reviews: platform placeholders (系统默认好评, 此用户未填写评价) say nothing
  about the product and are excluded.
- Near-duplicates across accounts: texts that are the same after normalisation
  (punctuation, spaces, digits, emoji stripped, traditional converted), or that
  share a 16-bit band of their character-bigram SimHash and have a bigram
  Jaccard similarity >= `min_jaccard`, posted by >= `min_accounts`
  distinct accounts, form a group. The earliest member stays; the copies can be
  excluded from scores and spikes (see sentiment/pipeline.py: by default only
  the copies of mostly-positive groups, the 刷单 / 好评返现 templates).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sentiment.text import to_simplified

DEFAULT_REVIEW = re.compile(
    r"^(系统默认好评|此用户未填写评价内容|此用户没有填写评价|该用户未(填写|做出)评价|默认好评|用户未及时(作出|做出)?评价[，,]?系统默认好评)"
)
_NOISE = re.compile(r"[\W\d_]+", re.UNICODE)
_BANDS = 4  # 64-bit SimHash in 4 bands of 16 bits: near-duplicates share at least one band


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
    return {text[i:i + 2] for i in range(len(text) - 1)} or ({text} if text else set())


def simhash(text: str) -> int:
    weights = [0] * 64
    for gram in _bigrams(text):
        h = int.from_bytes(hashlib.blake2b(gram.encode("utf-8"), digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if h >> bit & 1 else -1
    return sum(1 << bit for bit in range(64) if weights[bit] > 0)


@dataclass(frozen=True)
class DuplicateMember:
    source: str
    native_id: str
    group: str
    accounts: int
    excluded: bool


def find_duplicates(items: Sequence[tuple[str, str, str | None, str, datetime]], *, min_accounts: int = 3,
                    min_chars: int = 10, min_jaccard: float = 0.7) -> list[DuplicateMember]:
    """Groups of near-identical texts from >= min_accounts accounts.

    items: (source, native_id, author_hash, text, published_at). A mention without
    an author counts as its own account. Texts shorter than min_chars after
    normalisation ("质量很好物流很快") are too short to call a template: many people
    write them independently.
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
    buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
    grams: dict[int, set[str]] = {}
    signatures: dict[int, int] = {}
    for i, text in enumerate(norm):
        if len(text) < min_chars:
            continue
        if text in exact:
            union(exact[text], i)
            continue
        exact[text] = i
        signature = simhash(text)
        signatures[i] = signature
        grams[i] = _bigrams(text)
        for band in range(_BANDS):
            key = (band, signature >> (16 * band) & 0xFFFF)
            for j in buckets[key]:
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
