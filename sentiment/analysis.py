"""Everything koubei derives from one text: score, label, aspects, triage, trust flags.

Pure functions over lists; storage and files are the callers' business
(sentiment/pipeline.py for the database, sentiment/batch.py for CSV files).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sentiment.aspects import AspectTagger
from sentiment.model import Scorer
from sentiment.triage import Triage, triage
from sentiment.trust import is_default_review, rating_conflict


@dataclass(frozen=True)
class Analysis:
    score: float
    label: str
    aspects: dict[str, str]
    triage: Triage
    rating_conflict: str | None
    default_review: bool

    @property
    def needs_triage(self) -> bool:
        """Stored in the triage table: every negative mention, and anything tier 3+."""
        return self.label == "neg" or self.triage.urgency >= 3


def analyse(
    scorer: Scorer,
    tagger: AspectTagger,
    texts: Sequence[str],
    brands: Sequence[str | None] | None = None,
    reaches: Sequence[int] | None = None,
    ratings: Sequence[float | None] | None = None,
    languages: Sequence[str | None] | None = None,
) -> list[Analysis]:
    scores, labels = scorer.score(texts, languages)
    out: list[Analysis] = []
    for i, text in enumerate(texts):
        label = labels[i]
        aspects = tagger.tag(text, label, brands[i] if brands else None)
        reach = int(reaches[i]) if reaches else 0
        rating = ratings[i] if ratings else None
        out.append(
            Analysis(
                score=float(scores[i]),
                label=label,
                aspects=aspects,
                triage=triage(text, label, reach, aspects),
                rating_conflict=rating_conflict(rating, float(scores[i]), scorer.neutral),
                default_review=is_default_review(text),
            )
        )
    return out
