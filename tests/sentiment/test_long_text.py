"""One very long mention costs what a long review does (issue 17, item 10): every stage reads
a bounded excerpt, so what comes after it changes nothing and costs nothing."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from sentiment.analysis import analyse
from sentiment.aspects import AspectTagger
from sentiment.excerpt import HEAD, LIMIT, SCAN, excerpt
from sentiment.keywords import top_keywords
from sentiment.model import scorer_from_settings

FILLER = "今天去商场逛了逛，顺便看了看新款耳机，外观还可以，价格也说得过去。"
THREAT = "充电宝充电时起火了，烫伤了孩子的手，我已经找了律师准备起诉。"
PRAISE = "音质清晰续航给力，客服热情周到，物流很快，非常满意，五星推荐。"


def _long(tail: str, length: int = 120_000) -> str:
    """A 120k-character post: filler for the part analysis reads, then `tail` over and over."""
    read = (FILLER * (HEAD + SCAN))[: HEAD + SCAN]
    return read + (tail * length)[: length - len(read)]


def test_what_comes_after_the_excerpt_changes_no_analysis() -> None:
    """Bug: a 120k-character mention was read whole by the model, aspects and triage (and
    jieba, 38 s in one detection pass): its cost grew with its length. Two texts that differ
    only past the excerpt now get the same analysis."""
    scorer, tagger = scorer_from_settings(), AspectTagger()
    threatening, praising = _long(THREAT), _long(PRAISE)
    first, second = analyse(scorer, tagger, [threatening, praising], brands=["声浪", "声浪"])
    assert first == second
    assert analyse(scorer, tagger, [excerpt(threatening)], brands=["声浪"])[0] == first


def test_keywords_read_the_excerpt_only() -> None:
    assert top_keywords([_long(THREAT)]) == top_keywords([_long(PRAISE)]) == top_keywords([excerpt(_long(THREAT))])


def test_a_risk_sentence_after_the_head_still_reaches_triage() -> None:
    text = FILLER * 200 + THREAT + FILLER * 3500
    assert len(text) > 100_000 and text.index(THREAT) > HEAD
    kept = excerpt(text)
    assert THREAT in kept and kept.startswith(text[:HEAD])
    (result,) = analyse(scorer_from_settings(), AspectTagger(), [text])
    assert result.triage.urgency == 5


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from([FILLER, THREAT, PRAISE, "。", "\n", "a" * 500, "律师" * 50, "起火了！"]), max_size=400),
    st.integers(0, 2**32 - 1),
)
def test_an_excerpt_is_bounded_and_short_texts_are_whole(pieces: list[str], seed: int) -> None:
    random.Random(seed).shuffle(pieces)
    text = "".join(pieces)
    kept = excerpt(text)
    assert len(kept) <= LIMIT
    assert kept == text if len(text) <= LIMIT else kept.startswith(text[:HEAD])
