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


def band_keys(text: str) -> list[int]:
    """minhash_bands as one signed 64-bit key per band (its number and minima hashed
    together), the form the duplicate index stores."""
    bands = minhash_bands(text)
    if not bands:
        return []
    values = np.array(bands, dtype=np.uint64)
    keys = _mix64(np.arange(len(bands), dtype=np.uint64) + np.uint64(1))
    for column in range(values.shape[1]):
        keys = _mix64(keys ^ values[:, column])
    return [int(k) for k in keys.view(np.int64)]


def text_key(norm: str) -> int:
    """A signed 64-bit hash of a normalised text: exact copies share it."""
    return int.from_bytes(hashlib.blake2b(norm.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b)


class Grouper:
    """The matching of find_duplicates, one text at a time, over nodes numbered in grouping
    order; a group's root is its smallest node. It starts empty (a full regroup) or with what
    the duplicate index holds about the texts to come (`know`: the stored representatives of
    their text keys and the stored members of their buckets, with their groups), and takes
    the same steps either way, so grouping new texts against the index equals regrouping all."""

    def __init__(self, min_jaccard: float = 0.7) -> None:
        self.min_jaccard = min_jaccard
        self.parent: dict[int, int] = {}
        self.exact: dict[int, int] = {}
        self.buckets: dict[int, list[int]] = defaultdict(list)
        self.grams: dict[int, set[str]] = {}

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)

    def know(self, node: int, group: int, norm: str | None = None) -> None:
        """A stored node of `group` (its smallest node); `norm` for a bucket member."""
        self.parent.setdefault(group, group)
        self.parent.setdefault(node, group)
        if norm is not None and node not in self.grams:
            self.grams[node] = _bigrams(norm)

    def add(self, node: int, norm: str, bands: Sequence[int] | None = None) -> list[int]:
        """Group `norm` (long enough to count) as `node`; the bands (band_keys(norm), computed
        when not given) it was filed under."""
        self.parent[node] = node
        key = text_key(norm)
        if key in self.exact:
            self.union(self.exact[key], node)
            return []
        self.exact[key] = node
        grams = self.grams[node] = _bigrams(norm)
        filed = []
        for band in band_keys(norm) if bands is None else bands:
            bucket = self.buckets[band]
            # A few members per bucket are enough to join a group; comparing with
            # all of them made templated streams quadratic.
            for j in bucket:
                # Sharing a band makes it a candidate; the bigram overlap decides.
                if self.find(node) != self.find(j) and _jaccard(grams, self.grams[j]) >= self.min_jaccard:
                    self.union(node, j)
            if len(bucket) < _BUCKET_PROBES:
                bucket.append(node)
                filed.append(band)
        return filed


@dataclass(frozen=True)
class DuplicateMember:
    source: str
    native_id: str
    group: str
    accounts: int
    excluded: bool


def describe_group(
    members: Sequence[tuple[str, str, str | None, str, datetime]], min_accounts: int
) -> list[DuplicateMember]:
    """One group's members (source, native_id, author_hash, text, published_at) as a
    duplicate group: the earliest stays, the others are copies; [] when fewer than
    `min_accounts` accounts posted it. A mention without an author counts as its own account."""
    if len(members) < 2:
        return []
    accounts = len({author or f"{source}/{native_id}" for source, native_id, author, _, _ in members})
    if accounts < min_accounts:
        return []
    ordered = sorted(members, key=lambda m: (m[4], m[0], m[1]))
    group_id = hashlib.sha1(normalise(ordered[0][3]).encode("utf-8")).hexdigest()[:12]
    return [DuplicateMember(m[0], m[1], group_id, accounts, excluded=rank > 0) for rank, m in enumerate(ordered)]


def find_duplicates(
    items: Sequence[tuple[str, str, str | None, str, datetime]],
    *,
    min_accounts: int = 3,
    min_chars: int = 10,
    min_jaccard: float = 0.7,
    stop: threading.Event | None = None,
) -> list[DuplicateMember]:
    """Groups of near-identical texts from >= min_accounts accounts, grouped in the order given.

    items: (source, native_id, author_hash, text, published_at). Texts shorter than min_chars
    after normalisation ("质量很好物流很快") are too short to call a template: many people
    write them independently. Raises Stopped when `stop` is set before the groups are found.
    """
    grouper = Grouper(min_jaccard)
    for i, (_, _, _, text, _) in enumerate(items):
        if stop is not None and i % _STOP_EVERY == 0 and stop.is_set():
            raise Stopped
        norm = normalise(text)
        if len(norm) >= min_chars:
            grouper.add(i, norm)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in grouper.parent:
        groups[grouper.find(i)].append(i)
    members: list[DuplicateMember] = []
    for indices in groups.values():
        members += describe_group([items[i] for i in indices], min_accounts)
    return members
