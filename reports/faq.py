"""FAQ candidates: what customers asked most in the period, and where they asked it.

A question is a mention whose text asks (sentiment's own question grammar); questions are
grouped by the aspect they name (those naming none form one group), most asked first, each
with the channels it came from and its most-read questions (one per copy-paste group).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sentiment.clauses import QUESTION
from storage import Store
from storage.queries import MentionFilter
from storage.reports import Candidate, question_candidates

TOPICS = 5
EXAMPLES = 2
OTHER = ""  # the topic of questions that name no aspect


@dataclass(frozen=True)
class Topic:
    aspect: str  # OTHER for questions naming no aspect
    questions: int
    sources: tuple[tuple[str, int], ...]  # (source, questions), most first
    examples: tuple[Candidate, ...]


def asks(text: str) -> bool:
    return bool(QUESTION.search(text))


def group_questions(questions: list[Candidate], limit: int = TOPICS) -> tuple[Topic, ...]:
    """Questions (most reach first) grouped by their first aspect, the largest groups first."""
    by_topic: dict[str, list[Candidate]] = {}
    for q in questions:
        by_topic.setdefault(q.aspects[0] if q.aspects else OTHER, []).append(q)
    ranked = sorted(by_topic.items(), key=lambda item: (-len(item[1]), item[0] == OTHER, item[0]))[:limit]
    topics = []
    for aspect, members in ranked:
        examples: dict[str, Candidate] = {}
        for q in members:
            examples.setdefault(q.voice, q)
        sources = Counter(q.source for q in members).most_common()
        topics.append(Topic(aspect, len(members), tuple(sources), tuple(examples.values())[:EXAMPLES]))
    return tuple(topics)


def topics(store: Store, f: MentionFilter) -> tuple[Topic, ...]:
    # The engine's regex (RE2) reads \W as any non-ASCII-word character, a superset of Python's,
    # so it finds every question and some more; the Python pattern then decides.
    found = [c for c in question_candidates(store, f, QUESTION.pattern) if asks(c.text)]
    return group_questions(found)
