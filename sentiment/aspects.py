"""Aspect tagging with the sentiment of each aspect in a mention.

An aspect is found by its keywords (sentiment/lexicons/aspects.tsv, plus the
aspects of koubei.toml, globally and per brand). A keyword ending in "+" or "-"
is itself a verdict (破损-, 好用+, 便宜+); "不便宜" flips it.

An aspect's polarity comes from its scope: the clauses that name it and the
clauses after them that name no aspect ("保修说好上门，结果一直没人来": the
second clause is still about 保修). Within the scope:
- a keyword after a negator is a failure ("客服半天不回复", "没发货");
- a turn (结果, 但是, 可是 ...) carries the verdict; a turn the lexicon cannot
  read takes the mention's label (in a complaint, what comes after 结果 is what went wrong);
- questions ("支持无线充电吗") and requests ("请尽快回复") judge nothing;
- otherwise the lexicon's signed score of the clauses plus the verdict keywords.
With no verdict found, the mention's own label decides ("物流三天才到" is a
complaint about 物流 in a negative mention), except that an aspect only asked
about is neutral.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from sentiment import clauses as grammar
from sentiment.clauses import Asking, once
from sentiment.lexicon import Lexicon, builtin_lexicon, trie_regex
from sentiment.text import to_simplified

if TYPE_CHECKING:
    from koubei.config import Settings

# Words built on 好/快 that praise nothing: 说好的 (as promised), 好几天, 尽快.
_NOT_PRAISE = re.compile(r"说好|约好|讲好|谈好|好像|好几|只好|正好|刚好|好不容易|好久|好歹|尽快|赶快|快点|快要")
# Words built on a negator that negate nothing: 没想到物流这么快 (surprise), 不管是包装还是质量都很好 and
# 无论 (concession), 不仅便宜 (not only), 七天无理由退货 (the no-questions-asked return policy). Left in,
# the lexicon's negator flipped the praise after them. 不管 alone stays: 客服根本不管 is a complaint.
_NOT_NEGATING = re.compile(r"没想到|想不到|无论|不论|不管(?=是|怎么|多|什么|哪|谁|有没有)|不仅|不但|不只|无理由|不得不")


def parse_keywords(words: Iterable[str]) -> tuple[tuple[str, ...], dict[str, float]]:
    """Keywords with their "+"/"-" verdict suffix removed, and the verdicts."""
    plain: list[str] = []
    verdicts: dict[str, float] = {}
    for word in words:
        word = word.strip()
        if len(word) > 1 and word[-1] in "+-":
            word, sign = word[:-1], word[-1]
            verdicts[word] = 1.0 if sign == "+" else -1.0
        if word:
            plain.append(word)
    return tuple(dict.fromkeys(plain)), verdicts


@lru_cache(maxsize=1)
def builtin_aspects() -> dict[str, tuple[str, ...]]:
    """{aspect: keywords}, verdict suffixes kept (parse_keywords strips them)."""
    text = resources.files("sentiment").joinpath("lexicons/aspects.tsv").read_text(encoding="utf-8")
    out: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        aspect, _, words = line.partition("\t")
        out[aspect.strip()] = tuple(w.strip() for w in words.split(",") if w.strip())
    return out


class _Clause(Asking):
    """A clause and the aspects it names; whether it asks, requests or turns is worked out
    only for the clauses an aspect's scope reaches."""

    def __init__(self, text: str, aspects: frozenset[str]) -> None:
        super().__init__(text)
        self.aspects = aspects
        self.score: float | None = None  # AspectTagger._score: once per clause, whichever aspects it serves

    @once
    def turn(self) -> bool:
        return bool(grammar.TURN.search(self.text))

    @property
    def judges(self) -> bool:
        return not (self.question or self.request)


class AspectTagger:
    def __init__(
        self,
        aspects: Mapping[str, Iterable[str]] | None = None,
        brand_aspects: Mapping[str, Mapping[str, Iterable[str]]] | None = None,
        lexicon: Lexicon | None = None,
        names: Iterable[str] = (),
    ) -> None:
        self.aspects = {a: tuple(w) for a, w in (aspects or builtin_aspects()).items()}
        self.brand_aspects = {b: {a: tuple(w) for a, w in extra.items()} for b, extra in (brand_aspects or {}).items()}
        self.lexicon = lexicon or builtin_lexicon()
        self._negators = tuple(self.lexicon.negators)  # str.endswith takes them all at once
        # Product and brand names name no aspect: 充电宝 holds 充电, 生鲜配送 holds 配送.
        names = sorted({n for n in names if n}, key=len, reverse=True)
        self._names = re.compile("|".join(map(re.escape, names))) if names else None
        self._compiled: dict[
            str | None, tuple[list[tuple[str, re.Pattern[str]]], re.Pattern[str], dict[str, float]]
        ] = {}

    def _for(self, brand: str | None) -> tuple[list[tuple[str, re.Pattern[str]]], re.Pattern[str], dict[str, float]]:
        """Per-aspect patterns, one pattern of every keyword, and the verdict keywords."""
        if brand not in self._compiled:
            merged: dict[str, tuple[str, ...]] = dict(self.aspects)
            for aspect, words in self.brand_aspects.get(brand or "", {}).items():
                merged[aspect] = merged.get(aspect, ()) + words
            patterns: list[tuple[str, re.Pattern[str]]] = []
            verdicts: dict[str, float] = {}
            every: set[str] = set()
            for aspect, words in merged.items():
                plain, marked = parse_keywords(words)
                verdicts.update(marked)
                every.update(plain)
                if plain:
                    patterns.append((aspect, _alternation(plain)))
            self._compiled[brand] = (patterns, _alternation(every or {"\x00"}), verdicts)
        return self._compiled[brand]

    def tag(self, text: str, label: str, brand: str | None = None) -> dict[str, str]:
        """{aspect: pos|neu|neg} for the aspects the text names."""
        patterns, every, verdicts = self._for(brand)
        text = to_simplified(text)
        if self._names:
            text = self._names.sub(" ", text)
        if every.search(text) is None:
            return {}  # most texts name no aspect: skip the clause work
        clauses = [
            _Clause(c, frozenset(a for a, p in patterns if p.search(c)) if every.search(c) else frozenset())
            for c in grammar.split(text)
        ]
        named = frozenset().union(*(c.aspects for c in clauses))
        found: dict[str, str] = {}
        for aspect in (a for a, _ in patterns if a in named):
            scope = _scope(clauses, aspect)
            # "希望商家重视" asks for something; it names no aspect the writer judged or asked about.
            if any(c.question or c.judges for c, named in scope if named):
                found[aspect] = self._polarity(scope, label, every, verdicts)
        return found

    def _polarity(
        self, scope: list[tuple[_Clause, bool]], label: str, every: re.Pattern[str], verdicts: dict[str, float]
    ) -> str:
        """The clauses naming the aspect speak first; the clauses after them only when those say nothing."""
        if not any(c.judges for c, named in scope if named):
            return "neu"  # only asked about: "支持无线充电吗"
        for named in (True, False):
            judged = [c for c, is_named in scope if c.judges and is_named == named]
            scores = [self._score(c, every, verdicts) for c in judged]
            turns = [s for c, s in zip(judged, scores) if c.turn]
            if turns:
                verdict = next((s for s in reversed(turns) if s), 0.0)
                return _sign(verdict) if verdict else label
            if sum(scores):
                return _sign(sum(scores))
        return label

    def _score(self, clause: _Clause, every: re.Pattern[str], verdicts: dict[str, float]) -> float:
        """_clause_score of a clause, worked out once: a clause naming two aspects serves both."""
        if clause.score is None:
            clause.score = self._clause_score(clause.text, every, verdicts)
        return clause.score

    def _clause_score(self, clause: str, every: re.Pattern[str], verdicts: dict[str, float]) -> float:
        """Lexicon score with the aspect keywords taken out (快递 holds 快), plus the verdict keywords."""
        total = 0.0
        for match in every.finditer(clause):
            before = clause[max(0, match.start() - 3) : match.start()]
            negated = before.endswith(self._negators)
            # A verdict flips when negated (不耐用); a plain keyword negated is a failure (不回复, 没发货).
            weight = verdicts.get(match.group(), -1.0 if negated else 0.0)
            total += -weight if negated and match.group() in verdicts else weight
        masked = _NOT_NEGATING.sub(" ", _NOT_PRAISE.sub(" ", every.sub(" ", clause)))
        return total + self.lexicon.score(masked).words


def _alternation(words: Iterable[str]) -> re.Pattern[str]:
    """The longest keyword at each position (a trie: the same matches as the alternation of the
    keywords longest first, found faster)."""
    return re.compile(trie_regex(sorted(words)))


def _scope(clauses: list[_Clause], aspect: str) -> list[tuple[_Clause, bool]]:
    """The clauses naming the aspect (True), each with the aspect-less turn right after it (False):
    "保修说好上门，结果一直没人来". Other clauses after it are often about something else
    ("客服半天不回复，女朋友很喜欢"), so they stay out."""
    scope: list[tuple[_Clause, bool]] = []
    for index, clause in enumerate(clauses):
        if aspect in clause.aspects:
            scope.append((clause, True))
            follower = clauses[index + 1] if index + 1 < len(clauses) else None
            if follower and follower.turn and not follower.aspects:
                scope.append((follower, False))
    return scope


def _sign(value: float) -> str:
    return "pos" if value > 0 else "neg"


def tagger_from_settings(settings: Settings | None) -> AspectTagger:
    """Built-in aspects, plus [sentiment.aspects] (name = [keywords]) and each
    [[brands]] entry's `aspects` table, from koubei.toml."""
    if settings is None:
        return AspectTagger()
    aspects = dict(builtin_aspects())
    for aspect, words in settings.sentiment.aspects.items():
        aspects[aspect] = tuple(dict.fromkeys(aspects.get(aspect, ()) + words))
    brands = settings.brands
    brand_aspects = {b.name: dict(b.aspects) for b in brands}
    names = [n for b in brands for n in [b.name, *b.keywords, *b.products]]
    return AspectTagger(aspects, brand_aspects, names=names)
