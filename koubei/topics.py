"""Which configured topics ([[topics]], each a watch query) a mention is in: at ingest, in Python,
for every source (collectors/runner.py, collectors/file_import.py), and for stored mentions when a
topic's query changes (`koubei retag`, in the database: storage/tagging.py). A mention is in every
topic whose query matches it; fields (brand:, product:) see the brand and product it was tagged with.
"""

from __future__ import annotations

from collections.abc import Sequence

from koubei.records import Mention
from koubei.settings.sections import Topic
from querylang import Document, matches, parse
from storage import Store
from storage.tagging import TopicRule, TopicTag, retag_topics, store_topics


def topic_rules(topics: Sequence[Topic]) -> tuple[TopicRule, ...]:
    return tuple(TopicRule(t.name, parse(t.query)) for t in topics)


def topic_tags(rules: Sequence[TopicRule], mentions: Sequence[Mention]) -> list[TopicTag]:
    """(source, native_id, topic) for each mention and each topic whose query matches it."""
    tags = []
    for m in mentions:
        document = Document(m.text, m.source, m.language, m.brand, m.product)
        tags += [(m.source, m.native_id, rule.topic) for rule in rules if matches(rule.query, document)]
    return tags


def tag_topics(store: Store, rules: Sequence[TopicRule], mentions: Sequence[Mention]) -> None:
    """Store the topics of mentions just written (as tagged: with the brand and product they were given)."""
    if rules:
        store_topics(store, [(m.source, m.native_id) for m in mentions], topic_tags(rules, mentions), rules)


def retag(store: Store, topics: Sequence[Topic]) -> int:
    """Apply the topics as configured now to every stored mention (only the topics whose query
    changed since the last retag are recomputed); how many (mention, topic) tags changed."""
    return retag_topics(store, topic_rules(topics))
