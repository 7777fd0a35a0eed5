"""Aspect tagging with the sentiment of each aspect in a mention.

An aspect is found by its keywords (sentiment/lexicons/aspects.tsv, plus the
aspects of koubei.toml, globally and per brand). Its polarity comes from the
clauses that name it: the lexicon's signed score of those clauses, and when
the lexicon finds nothing there, the mention's own label ("物流三天才到" has
no sentiment word, but in a negative mention it is a complaint about 物流).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources

from sentiment.lexicon import Lexicon, builtin_lexicon
from sentiment.text import to_simplified

_CLAUSE = re.compile(r"[，。！？；,.!?;~～\n…]+")


@lru_cache(maxsize=1)
def builtin_aspects() -> dict[str, tuple[str, ...]]:
    text = resources.files("sentiment").joinpath("lexicons/aspects.tsv").read_text(encoding="utf-8")
    out: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        aspect, _, words = line.partition("\t")
        out[aspect.strip()] = tuple(w.strip() for w in words.split(",") if w.strip())
    return out


class AspectTagger:
    def __init__(self, aspects: Mapping[str, Iterable[str]] | None = None,
                 brand_aspects: Mapping[str, Mapping[str, Iterable[str]]] | None = None,
                 lexicon: Lexicon | None = None) -> None:
        self.aspects = {a: tuple(w) for a, w in (aspects or builtin_aspects()).items()}
        self.brand_aspects = {b: {a: tuple(w) for a, w in extra.items()} for b, extra in (brand_aspects or {}).items()}
        self.lexicon = lexicon or builtin_lexicon()
        self._patterns: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}

    def _for(self, brand: str | None) -> list[tuple[str, re.Pattern[str]]]:
        if brand not in self._patterns:
            merged: dict[str, tuple[str, ...]] = dict(self.aspects)
            for aspect, words in self.brand_aspects.get(brand or "", {}).items():
                merged[aspect] = tuple(dict.fromkeys(merged.get(aspect, ()) + words))
            self._patterns[brand] = [
                (aspect, re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True)))))
                for aspect, words in merged.items() if words
            ]
        return self._patterns[brand]

    def tag(self, text: str, label: str, brand: str | None = None) -> dict[str, str]:
        """{aspect: pos|neu|neg} for the aspects the text names."""
        text = to_simplified(text)
        clauses = [c for c in _CLAUSE.split(text) if c.strip()]
        found: dict[str, str] = {}
        for aspect, pattern in self._for(brand):
            named = [c for c in clauses if pattern.search(c)]
            if not named:
                continue
            # The aspect's own words are not sentiment: 快递 contains 快 (fast).
            scores = [self.lexicon.score(pattern.sub(" ", c)) for c in named]
            total = sum(s.words for s in scores)
            if any(s.hits for s in scores) and total != 0:
                found[aspect] = "pos" if total > 0 else "neg"
            else:
                found[aspect] = label
        return found


def tagger_from_settings(settings: object | None) -> AspectTagger:
    """Built-in aspects, plus [sentiment.aspects] (name = [keywords]) and each
    [[brands]] entry's `aspects` table, from koubei.toml."""
    if settings is None:
        return AspectTagger()
    section = settings.section("sentiment")  # type: ignore[attr-defined]
    aspects = dict(builtin_aspects())
    for aspect, words in section.get("aspects", {}).items():
        aspects[aspect] = tuple(dict.fromkeys(aspects.get(aspect, ()) + tuple(words)))
    brand_aspects = {b["name"]: b.get("aspects", {}) for b in settings.brands if b.get("name")}  # type: ignore[attr-defined]
    return AspectTagger(aspects, brand_aspects)
