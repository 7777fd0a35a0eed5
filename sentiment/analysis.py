"""Everything koubei derives from one text: score, label, aspects, triage, trust flags.

Pure functions over lists; storage and files are the callers' business
(sentiment/pipeline.py for the database, sentiment/batch.py for CSV files).
The model scores the whole batch; triage's clause-aware reading
(sentiment/reading.py) then decides the polarity that aspects and the tier use,
with the model reading the clauses after a turn word on their own (one more
batch call for the texts that have such a turn).
Every stage reads a bounded excerpt of each text (sentiment/excerpt.py), so one
very long mention costs what a long review does.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from sentiment.aspects import AspectTagger
from sentiment.excerpt import excerpt
from sentiment.model import Scorer
from sentiment.reading import Parsed, Reading, decide, parse
from sentiment.triage import Triage, triage
from sentiment.triage_model import refine
from sentiment.triage_polarity import PolarityModel, relabel
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
        """Stored in the triage table: every question and complaint (tier 2+), and every
        mention the model calls negative (so a disagreement with triage's reading shows)."""
        return self.label == "neg" or self.triage.urgency >= 2


class Analysable(Protocol):
    """What a row needs to be analysed: a stored mention waiting for scores, a row of a file."""

    @property
    def text(self) -> str: ...
    @property
    def brand(self) -> str | None: ...
    @property
    def reach(self) -> int: ...
    @property
    def rating(self) -> float | None: ...
    @property
    def language(self) -> str | None: ...


def analyse_rows(scorer: Scorer, tagger: AspectTagger, rows: Sequence[Analysable]) -> list[Analysis]:
    return analyse(
        scorer,
        tagger,
        [r.text for r in rows],
        brands=[r.brand for r in rows],
        reaches=[r.reach for r in rows],
        ratings=[r.rating for r in rows],
        languages=[r.language for r in rows],
    )


@dataclass(frozen=True)
class Ruled:
    """A batch as the rules triage it, before the learned layer (sentiment/triage_model.py)."""

    texts: list[str]
    scores: list[float]
    labels: list[str]
    readings: list[Reading]
    aspects: list[dict[str, str]]
    triages: list[Triage]


def rule_triage(
    scorer: Scorer,
    tagger: AspectTagger,
    texts: Sequence[str],
    brands: Sequence[str | None] | None = None,
    reaches: Sequence[int] | None = None,
    languages: Sequence[str | None] | None = None,
    learned_reading: PolarityModel | bool = True,
) -> Ruled:
    """The batch read and triaged by the rules, the reading backed by the learned polarity layer
    (sentiment/triage_polarity.py: the shipped one when True, this one when given, none when False)."""
    texts = [excerpt(t) for t in texts]
    parsed = [parse(t) for t in texts]
    scores, labels = scorer.score(texts, languages, verdicts=[p.verdict for p in parsed])
    turn_labels = _turn_labels(scorer, parsed, languages)
    readings = [decide(parsed[i], labels[i], turn_labels.get(i)) for i in range(len(texts))]
    if learned_reading:
        model = None if learned_reading is True else learned_reading
        readings = relabel(readings, labels, [float(s) for s in scores], model)
    ruled = Ruled(texts, [float(s) for s in scores], list(labels), readings, [], [])
    return retriage(ruled, readings, tagger, brands, reaches)


def retriage(
    ruled: Ruled,
    readings: Sequence[Reading],
    tagger: AspectTagger,
    brands: Sequence[str | None] | None = None,
    reaches: Sequence[int] | None = None,
) -> Ruled:
    """The batch's aspects and triage on these readings (the rules', or the learned layer's)."""
    texts, labels = ruled.texts, ruled.labels
    tagged = [tagger.tag(t, r.polarity, brands[i] if brands else None) for i, (t, r) in enumerate(zip(texts, readings))]
    reach = [int(r) for r in reaches] if reaches else [0] * len(texts)
    ruled_triages = [triage(text, labels[i], reach[i], tagged[i], readings[i]) for i, text in enumerate(texts)]
    return Ruled(texts, ruled.scores, labels, list(readings), tagged, ruled_triages)


def analyse(
    scorer: Scorer,
    tagger: AspectTagger,
    texts: Sequence[str],
    brands: Sequence[str | None] | None = None,
    reaches: Sequence[int] | None = None,
    ratings: Sequence[float | None] | None = None,
    languages: Sequence[str | None] | None = None,
) -> list[Analysis]:
    with _collector_paused():
        return _analyse(scorer, tagger, texts, brands, reaches, ratings, languages)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for one batch, as it was after it. A batch builds some 20
    objects a text (clauses, readings, matches) that live until it ends; the collector kept walking
    them all, for nothing: 8% of analyse's time on 20,000 benchmark texts. What the batch leaves
    behind is collected at the next collection after it, as before."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _analyse(
    scorer: Scorer,
    tagger: AspectTagger,
    texts: Sequence[str],
    brands: Sequence[str | None] | None,
    reaches: Sequence[int] | None,
    ratings: Sequence[float | None] | None,
    languages: Sequence[str | None] | None,
) -> list[Analysis]:
    ruled = rule_triage(scorer, tagger, texts, brands, reaches, languages)
    triages = refine(ruled.readings, ruled.triages, ruled.labels, ruled.scores)
    return [
        Analysis(
            score=ruled.scores[i],
            label=ruled.labels[i],
            aspects=ruled.aspects[i],
            triage=triages[i],
            rating_conflict=rating_conflict(ratings[i] if ratings else None, ruled.scores[i], scorer.neutral),
            default_review=is_default_review(text),
        )
        for i, text in enumerate(ruled.texts)
    ]


def _turn_labels(scorer: Scorer, parsed: Sequence[Parsed], languages: Sequence[str | None] | None) -> dict[int, str]:
    """The model's label of each text's clauses after its last turn word, by text index."""
    turns = {i: turn for i, p in enumerate(parsed) if (turn := p.turn_text())}
    if not turns:
        return {}
    langs = [languages[i] for i in turns] if languages else None
    _, labels = scorer.score(list(turns.values()), langs, verdicts=False)
    return dict(zip(turns, labels))
