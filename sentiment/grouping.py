"""Duplicate and paid-post grouping of new mentions against the duplicate index.

A pass groups the mentions scored since the last one (storage/duplicates.py keeps them
pending), a chunk at a time in grouping order (first stored first): for each chunk it reads
from the index only the stored first copies of the chunk's texts and the stored members of
its texts' MinHash buckets, runs trust.Grouper over them, stores the chunk's index rows and
sets the flags of every group the chunk changed. Grouper takes the steps find_duplicates
takes over the whole window, so the groups equal a full regroup's while mentions arrive in
that order; memory and time follow the chunk, not the window.

Where they can differ (a rebuild, rebuild_duplicates, restores the full regroup's result):
a mention whose text changed is grouped again as the newest one; a mention that leaves the
window leaves the index but its group is not split or recounted until it gains a member.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from koubei.config import Settings
from koubei.errors import Stopped
from sentiment.trust import DuplicateMember, Grouper, band_keys, describe_group, normalise, text_key
from storage import Store
from storage import duplicates as index
from storage import sentiment as db

CHUNK = 20_000
MIN_CHARS = 10  # find_duplicates' default: shorter texts are not grouped


def copy_flags(
    members: Sequence[DuplicateMember], labels: dict[tuple[str, str], str | None], mode: str
) -> list[dict[str, Any]]:
    """The flag rows of duplicate groups. Which groups lose their copies is `mode`
    ([sentiment] exclude_duplicates): by default only groups that are mostly positive
    (刷单 / 好评返现 templates inflate the score). A negative copy-paste wave stays
    counted - it may be how a real crisis spreads, and hiding it from spikes would be
    worse than counting it - but is flagged."""
    groups: dict[str, list[str | None]] = {}
    for m in members:
        groups.setdefault(m.group, []).append(labels.get((m.source, m.native_id)))
    positive = {g for g, ls in groups.items() if sum(label == "pos" for label in ls) * 2 > len(ls)}
    return [
        {
            "source": m.source,
            "native_id": m.native_id,
            "group": m.group,
            "accounts": m.accounts,
            "excluded": m.excluded and (mode == "all" or (mode == "positive" and m.group in positive)),
        }
        for m in members
    ]


def _window_start(settings: Settings, now: datetime | None) -> datetime | None:
    days = settings.sentiment.duplicate_window_days
    return (now or datetime.now(UTC)) - timedelta(days=days) if days else None


def mark_duplicates(
    open_store: Callable[[], Store],
    settings: Settings,
    now: datetime | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Group the mentions scored since the last pass that were published in the last
    [sentiment] duplicate_window_days; returns how many copies the window's groups exclude.
    Raises Stopped when `stop` is set between two chunks (the chunks done are kept, the
    rest stays pending and marking owed)."""
    since = _window_start(settings, now)
    with open_store() as store:
        covers = db.marking_owed(store)
        index.prune(store, since)
        pending, keys = index.pending(store, since)
    for start in range(0, len(pending), CHUNK):
        if stop is not None and stop.is_set():
            raise Stopped
        with open_store() as store, store.transaction():
            _group_chunk(store, settings, pending[start : start + CHUNK], since)
    with open_store() as store:
        with store.transaction():
            index.done(store, keys)  # the rest: outside the window, gone, or grouped above
            if covers is not None:
                index.covered(store, covers)
        return index.excluded_copies(store, since)


def rebuild_duplicates(open_store: Callable[[], Store], settings: Settings, now: datetime | None = None) -> int:
    """Recreate the duplicate index and every group of the window from the stored mentions."""
    with open_store() as store:
        index.queue_window(store, _window_start(settings, now))
    return mark_duplicates(open_store, settings, now)


def _group_chunk(store: Store, settings: Settings, chunk: Sequence[index.Mention], since: datetime | None) -> None:
    """Group one chunk (inside the caller's transaction)."""
    stored = index.indexed(store, [(m[0], m[1]) for m in chunk])
    changed: set[int] = set()
    fresh: list[tuple[index.Mention, str]] = []
    for mention in chunk:
        norm = normalise(mention[3])
        known = stored.get((mention[0], mention[1]))
        if known is not None:
            changed.add(known[1])  # rescored: its label may have changed its group's flags
            if known[0] == text_key(norm):
                continue
        if len(norm) >= MIN_CHARS:
            fresh.append((mention, norm))
    index.remove(store, [(m[0], m[1]) for m, _ in fresh if (m[0], m[1]) in stored])
    changed |= _match(store, fresh, since)
    index.done(store, [(m[0], m[1]) for m in chunk])
    _flag_groups(store, settings, sorted(changed), since)


def _match(store: Store, fresh: Sequence[tuple[index.Mention, str]], since: datetime | None) -> set[int]:
    """Group `fresh` (mention, normalised text) against the index and store their rows; the
    groups (components) they changed."""
    if not fresh:
        return set()
    bands = band_keys([norm for _, norm in fresh])
    text_keys = [text_key(norm) for _, norm in fresh]
    grouper = Grouper()
    for key, seq, component in index.representatives(store, text_keys):
        grouper.know(seq, component)
        grouper.exact[key] = seq
    for band, seq, component, text in index.bucket_members(store, sorted({b for bs in bands for b in bs}), since):
        grouper.know(seq, component, normalise(text))
        grouper.buckets[band].append(seq)
    stored_groups = set(grouper.parent.values())
    first = index.next_seq(store)
    filed = [grouper.add(first + i, norm, bs) for i, ((_, norm), bs) in enumerate(zip(fresh, bands, strict=True))]
    texts, band_rows = [], []
    for i, ((mention, _), key, mention_bands) in enumerate(zip(fresh, text_keys, filed, strict=True)):
        seq = first + i
        texts.append(
            {
                "source": mention[0],
                "native_id": mention[1],
                "seq": seq,
                "published_at": mention[4],
                "text_key": key,
                "representative": grouper.exact[key] == seq,
                "component": grouper.find(seq),
            }
        )
        band_rows += [{"band": b, "source": mention[0], "native_id": mention[1]} for b in mention_bands]
    merged = {g: grouper.find(g) for g in stored_groups if grouper.find(g) != g}
    index.add(store, texts, band_rows, merged)
    return {grouper.find(first + i) for i in range(len(fresh))} | set(merged.values())


def _flag_groups(store: Store, settings: Settings, components: Sequence[int], since: datetime | None) -> None:
    """Set the flags of every member of `components` as a full regroup would."""
    section = settings.sentiment
    by_component: dict[int, list[index.Mention]] = {}
    labels: dict[tuple[str, str], str | None] = {}
    for component, mention, label in index.members(store, components, since):
        by_component.setdefault(component, []).append(mention)
        labels[(mention[0], mention[1])] = label
    members: list[DuplicateMember] = []
    for group in by_component.values():
        members += describe_group(group, section.duplicate_min_accounts)
    rows = copy_flags(members, labels, section.exclude_mode)
    index.write_groups(store, rows, scope=list(labels))
