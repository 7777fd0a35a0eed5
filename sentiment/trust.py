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
from functools import lru_cache

import numpy as np

from koubei.errors import Stopped
from sentiment.text import to_simplified, traditional_pairs

DEFAULT_REVIEW = re.compile(
    r"^(系统默认好评|此用户未填写评价内容|此用户没有填写评价|该用户未(填写|做出)评价|默认好评|用户未及时(作出|做出)?评价[，,]?系统默认好评)"
)
_NOISE = re.compile(r"[\W\d_]+", re.UNICODE)
_BANDS, _ROWS = 8, 3  # MinHash LSH: 8 bands of 3 hashes
_BUCKET_PROBES = 8
_STOP_EVERY = 1000  # texts between two looks at `stop`


def _may_be_default(text: str) -> bool:
    """Every default phrase holds 评: a text without it, or a character simplified to it, is none
    (one scan instead of normalising every text)."""
    return any(char in text for char in _review_chars())


@lru_cache(maxsize=1)
def _review_chars() -> tuple[str, ...]:
    """评 and the characters to_simplified makes 评 (評)."""
    return ("评", *(t for t, s in traditional_pairs() if s == "评"))


def normalise(text: str) -> str:
    return _NOISE.sub("", to_simplified(text).lower())


def is_default_review(text: str) -> bool:
    if not _may_be_default(text):
        return False
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


_BAND_SEEDS = _mix64(np.arange(1, _BANDS + 1, dtype=np.uint64))
_BATCH_GRAMS = 200_000  # bigrams hashed at once: _BANDS * _ROWS * 8 bytes each in flight


def _bigram_codes(text: str) -> np.ndarray:
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    return (codes[:-1] << np.uint64(21)) | codes[1:] if len(codes) > 1 else codes


def band_keys(texts: Sequence[str]) -> list[list[int]]:
    """MinHash LSH of each text's character bigrams, _BANDS bands of _ROWS minima, each band
    hashed with its number into one signed 64-bit key (the form the duplicate index stores).
    Two texts with bigram Jaccard J share a band with probability 1 - (1 - J**_ROWS)**_BANDS:
    0.97 at J = 0.7, 0.2 at J = 0.3. Hashed a batch of texts at a time (numpy per text cost
    more than the hashing)."""
    grams = [_bigram_codes(text) for text in texts]
    keys: list[list[int]] = [[] for _ in texts]
    start = 0
    while start < len(texts):
        end, size = start, 0
        while end < len(texts) and (end == start or size + len(grams[end]) <= _BATCH_GRAMS):
            size += len(grams[end])
            end += 1
        for i, row in zip(range(start, end), _batch_band_keys(grams[start:end]), strict=True):
            keys[i] = row
        start = end
    return keys


def _batch_band_keys(grams: Sequence[np.ndarray]) -> list[list[int]]:
    filled = [i for i, g in enumerate(grams) if len(g)]
    keys: list[list[int]] = [[] for _ in grams]
    if not filled:
        return keys
    lengths = np.array([len(grams[i]) for i in filled])
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    hashed = _mix64(np.concatenate([grams[i] for i in filled])[None, :] ^ _SEEDS[:, None])
    minima = np.minimum.reduceat(hashed, offsets, axis=1).T.reshape(len(filled), _BANDS, _ROWS)
    bands = np.broadcast_to(_BAND_SEEDS, (len(filled), _BANDS))
    for row in range(_ROWS):
        bands = _mix64(bands ^ minima[:, :, row])
    for i, row_keys in zip(filled, bands.view(np.int64).tolist(), strict=True):
        keys[i] = row_keys
    return keys


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

    def add(self, node: int, norm: str, bands: Sequence[int]) -> list[int]:
        """Group `norm` (long enough to count, its band_keys `bands`) as `node`; the bands it
        was filed under."""
        self.parent[node] = node
        key = text_key(norm)
        if key in self.exact:
            self.union(self.exact[key], node)
            return []
        self.exact[key] = node
        grams = self.grams[node] = _bigrams(norm)
        filed = []
        for band in bands:
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
    for start in range(0, len(items), _STOP_EVERY):
        if stop is not None and stop.is_set():
            raise Stopped
        norms = [(i, normalise(items[i][3])) for i in range(start, min(start + _STOP_EVERY, len(items)))]
        norms = [(i, norm) for i, norm in norms if len(norm) >= min_chars]
        for (i, norm), bands in zip(norms, band_keys([norm for _, norm in norms]), strict=True):
            grouper.add(i, norm, bands)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in grouper.parent:
        groups[grouper.find(i)].append(i)
    members: list[DuplicateMember] = []
    for indices in groups.values():
        members += describe_group([items[i] for i in indices], min_accounts)
    return members
