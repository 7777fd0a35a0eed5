"""Scoring the database: every mention without a current score, in batches.

"Current" means scored by the configured model and version from the same text
(md5 of the text is stored with the score), so re-running skips everything
already done and a changed text is re-scored. Each batch reads in one
short-lived Store and writes in another, so the database is free while the
model works (the dashboard can read between units of work). After scoring,
near-duplicate detection runs over the recent window and marks template copies
as excluded. Marking is owed from the moment a batch is stored (a watermark in
the database, storage/sentiment.py), so a run killed before its groups were
written marks them on the next run, even one with nothing left to score.

A `stop` event (SIGTERM in `koubei watch`) is looked at between chunks of a
batch and inside marking: the batch being analysed is dropped unwritten, marking
stays owed, and the stored batches are whole.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from koubei.config import Settings
from koubei.errors import Stopped
from sentiment.analysis import Analysis, analyse
from sentiment.aspects import AspectTagger, tagger_from_settings
from sentiment.model import Scorer, scorer_from_settings
from sentiment.trust import find_duplicates
from storage import Store
from storage import sentiment as db
from storage.sentiment import PendingMention

ANALYSE_CHUNK = 250  # texts analysed between two looks at `stop`: a stop waits for one chunk at most


@dataclass(frozen=True)
class ScoreSummary:
    scored: int
    negatives: int
    urgent: int  # tier 4-5
    model: str
    model_version: str
    duplicates_excluded: int = 0
    stopped: bool = False  # a stop was requested: what is stored is whole, the rest waits for the next run

    def line(self) -> str:
        stopped = " (stopped early: the rest is scored on the next run)" if self.stopped else ""
        return (
            f"scored {self.scored} mentions with {self.model} {self.model_version}: {self.negatives} negative,"
            f" {self.urgent} tier 4-5; {self.duplicates_excluded} template copies excluded{stopped}"
        )


def score_pending(
    open_store: Callable[[], Store],
    settings: Settings,
    batch_size: int = 2000,
    progress: Callable[[int, int], None] | None = None,
    model: str | None = None,
    stop: threading.Event | None = None,
) -> ScoreSummary:
    scorer = scorer_from_settings(settings, model)
    tagger = tagger_from_settings(settings)
    name, version = scorer.name, scorer.version
    with open_store() as store:
        total = db.count_pending(store, name, version)
    scored = negatives = urgent = 0
    after: tuple[str, str] | None = None
    stopped = False
    while True:
        with open_store() as store:
            batch = db.pending_mentions(store, name, version, batch_size, after=after)
        if not batch:
            break
        after = (batch[-1].source, batch[-1].native_id)
        results = _analyse_batch(scorer, tagger, batch, stop)
        if results is None:
            stopped = True
            break
        scores, aspects, triage_rows, flags = [], [], [], []
        for m, r in zip(batch, results):
            key = {"source": m.source, "native_id": m.native_id}
            scores.append(
                {
                    **key,
                    "score": r.score,
                    "label": r.label,
                    "model": name,
                    "model_version": version,
                    "text_hash": m.text_hash,
                }
            )
            aspects += [{**key, "aspect": a, "polarity": p} for a, p in r.aspects.items()]
            if r.needs_triage:
                t = r.triage
                triage_rows.append(
                    {
                        **key,
                        "urgency": t.urgency,
                        "motive": t.motive or None,
                        "reason": t.reason,
                        "reply": t.reply,
                        "reading": t.reading,
                        "flags": json.dumps(
                            {"rating_conflict": r.rating_conflict, "default_review": r.default_review},
                            ensure_ascii=False,
                        ),
                    }
                )
            flags.append(
                {
                    **key,
                    "rating_conflict": r.rating_conflict,
                    "default_review": r.default_review,
                    "duplicate_group": None,
                    "duplicate_count": None,
                    "excluded": r.default_review,
                }
            )
            negatives += r.label == "neg"
            urgent += r.needs_triage and r.triage.urgency >= 4
        with open_store() as store:
            db.write_scores(store, scores, aspects, triage_rows, flags)
        scored += len(batch)
        if progress:
            progress(scored, max(total, scored))
    # Groups only change when scores do: with marking not owed there is nothing to regroup
    # (keeps a `koubei watch` pass with no new mentions cheap).
    excluded = 0
    if not stopped:
        with open_store() as store:
            owed = db.marking_owed(store) is not None
        try:
            excluded = mark_duplicates(open_store, settings, stop=stop) if owed else 0
        except Stopped:
            stopped = True
    return ScoreSummary(scored, negatives, urgent, name, version, excluded, stopped)


def _analyse_batch(
    scorer: Scorer, tagger: AspectTagger, batch: Sequence[PendingMention], stop: threading.Event | None
) -> list[Analysis] | None:
    """The batch's analyses, a chunk at a time; None when `stop` was set before the end."""
    results: list[Analysis] = []
    for start in range(0, len(batch), ANALYSE_CHUNK):
        if stop is not None and stop.is_set():
            return None
        chunk = batch[start : start + ANALYSE_CHUNK]
        results += analyse(
            scorer,
            tagger,
            [m.text for m in chunk],
            brands=[m.brand for m in chunk],
            reaches=[m.reach for m in chunk],
            ratings=[m.rating for m in chunk],
            languages=[m.language for m in chunk],
        )
    return results


def mark_duplicates(
    open_store: Callable[[], Store],
    settings: Settings,
    now: datetime | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Find template / copy-paste groups among mentions of the last
    [sentiment] duplicate_window_days; returns how many copies are excluded.

    Which groups lose their copies is `exclude_duplicates`: by default only groups
    that are mostly positive (刷单 / 好评返现 templates inflate the score). A
    negative copy-paste wave stays counted - it may be how a real crisis spreads,
    and hiding it from spikes would be worse than counting it - but is flagged.
    Raises Stopped (nothing written, marking still owed) when `stop` is set meanwhile.
    """
    section = settings.sentiment
    mode = section.exclude_mode
    days = section.duplicate_window_days
    since = (now or datetime.now(UTC)) - timedelta(days=days) if days else None
    with open_store() as store:
        covers = db.marking_owed(store)
        items = db.recent_texts(store, since)
    members = find_duplicates([row[:5] for row in items], min_accounts=section.duplicate_min_accounts, stop=stop)
    labels = {(row[0], row[1]): row[5] for row in items}
    groups: dict[str, list[str | None]] = {}
    for m in members:
        groups.setdefault(m.group, []).append(labels.get((m.source, m.native_id)))
    positive_groups = {g for g, ls in groups.items() if sum(label == "pos" for label in ls) * 2 > len(ls)}
    rows = []
    for m in members:
        excluded = m.excluded and (mode == "all" or (mode == "positive" and m.group in positive_groups))
        rows.append(
            {
                "source": m.source,
                "native_id": m.native_id,
                "group": m.group,
                "accounts": m.accounts,
                "excluded": excluded,
            }
        )
    with open_store() as store:
        db.write_duplicate_groups(store, rows, scope=[(row[0], row[1]) for row in items], covers=covers)
    return sum(1 for r in rows if r["excluded"])
