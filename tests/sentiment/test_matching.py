"""The matching machinery's fast forms find what their plain forms find (sentiment/lexicon.py,
signals.py, text.py): speed work must not change a match."""

import gc
import random
import re
from re import _parser as sre_parse

from sentiment.analysis import analyse
from sentiment.aspects import AspectTagger
from sentiment.lexicon import trie_regex
from sentiment.model import Scorer
from sentiment.text import detect_language, detect_languages
from sentiment.trust import DEFAULT_REVIEW, is_default_review


def _random_words(rng: random.Random, alphabet: str, count: int) -> list[str]:
    return sorted({"".join(rng.choices(alphabet, k=rng.randint(1, 4))) for _ in range(count)})


def test_grouped_trie_finds_the_longest_word_at_each_position_as_a_flat_alternation_does() -> None:
    rng = random.Random(27)
    # Enough first characters (and children of one node) that trie_regex groups them behind look-aheads,
    # with characters a character class must escape.
    alphabet = "的不没很好差快慢贵吗呢了是有一二三四五六七八九十百千万亿天地人和风雨雷电山水火土木金东南西北上下左右前后abc-]^\\.，！"
    for _ in range(20):
        words = _random_words(rng, alphabet, rng.randint(200, 2000))
        flat = re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))
        trie = re.compile(trie_regex(words))
        assert trie.pattern.count("(?=[") > 2  # the root's children (and more) in groups
        for _ in range(50):
            text = "".join(rng.choices(alphabet + "   ", k=rng.randint(0, 80)))
            assert [m.span() for m in trie.finditer(text)] == [m.span() for m in flat.finditer(text)]


def test_languages_detected_for_a_batch_are_each_text_s_own() -> None:
    rng = random.Random(15)
    pieces = [
        "手机",
        "太烫",
        "iPhone",
        "a",
        "Z",
        "ok",
        " ",
        "\n",
        "123",
        "😀",
        "é",
        "\0",
        "\ud83d",
        "[哈哈]",
        "B2B",
        "xY",
    ]
    texts = ["", "a", "ab", "手", "This phone is terrible", "iPhone 手机太烫了", "😀😀 123"]
    texts += ["".join(rng.choices(pieces, k=rng.randint(0, 12))) for _ in range(2000)]
    assert detect_languages(texts) == [detect_language(t) for t in texts]
    assert detect_languages([]) == []


def test_every_default_review_phrase_holds_the_character_the_quick_test_looks_for() -> None:
    """trust._may_be_default skips normalising a text without 评: each alternative of DEFAULT_REVIEW
    must hold it, or that skip would miss a default review."""
    (group,) = [value for op, value in sre_parse.parse(DEFAULT_REVIEW.pattern) if str(op) == "SUBPATTERN"]
    ((branch, (_, alternatives)),) = list(group[-1])
    assert str(branch) == "BRANCH"
    for alternative in alternatives:
        assert ("LITERAL", ord("评")) in [(str(op), value) for op, value in alternative]
    assert is_default_review("系統默認好評") and is_default_review("此用户未填写评价内容！")
    assert not is_default_review("默认好") and not is_default_review("好评")


def test_analyse_leaves_the_garbage_collector_as_it_found_it(scorer: Scorer, tagger: AspectTagger) -> None:
    texts = ["充电宝冒烟了", "很好用"]
    assert gc.isenabled()
    first = analyse(scorer, tagger, texts)
    assert gc.isenabled()
    gc.disable()
    try:
        assert analyse(scorer, tagger, texts) == first
        assert not gc.isenabled()
    finally:
        gc.enable()
