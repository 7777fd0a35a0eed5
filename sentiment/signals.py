"""The escalation words of triage (sentiment/lexicons/triage.tsv), compiled.

Every escalation word of a text is found by a few patterns (Words: the Chinese
words as one trie, the English ones apart, each regular expression on its own -
one alternation of everything is several times slower); each match maps back to
its Rule (tier, kind, scope, reason). The cue, frame and negator rows compile to
the patterns triage uses to decide whether a match counts (sentiment/triage.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from re import _parser as sre_parse
from typing import Any

from sentiment.lexicon import trie_regex
from sentiment.text import to_simplified

HARM_KINDS = ("injury", "hazard", "food")  # harm to a person: its words also read as complaint words
# A threat stays a threat under a condition ("如果再不退款我就去12315", "if this isn't fixed I'll sue"):
# the hypothetical frames that cancel a harm word (担心会过敏, if it catches fire) do not cancel these.
THREAT_KINDS = ("legal", "regulator", "media")
_EN_GAP = 2  # words allowed between an English negator and the word it cancels (didn't even break out)
_CAUSING = r"(?:give|gives|gave|given|cause|causes|caused|leave|leaves|left|trigger|triggers|triggered)"
_REGEX = re.compile(r"^/(.+)/$")
# \b would not do: Chinese characters are word characters too.
_ALONE_BEFORE, _ALONE_AFTER = r"(?<![a-z0-9])", r"(?![a-z0-9])"
_LATIN = re.compile(r"[a-z0-9]")
_RANGE_LIMIT = 256  # a wider character range first in an expression counts as any character
_DIGITS = "0123456789０１２３４５６７８９"  # what \d matches in reviews (ASCII and full-width)


def _rows() -> list[list[str]]:
    text = resources.files("sentiment").joinpath("lexicons/triage.tsv").read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _entries(field: str) -> list[str]:
    """Comma-separated words; a /regex/ keeps its own commas."""
    out: list[str] = []
    pending: str | None = None
    for piece in field.split(","):
        if pending is not None:
            pending += "," + piece
        elif piece.strip().startswith("/"):
            pending = piece
        else:
            out.append(piece)
        if pending is not None and pending.strip().endswith("/") and len(pending.strip()) > 1:
            out.append(pending)
            pending = None
    return out + ([pending] if pending is not None else [])


def _words(field: str, lang: str) -> list[str]:
    words = [w.strip() for w in _entries(field) if w.strip()]
    return [to_simplified(w) for w in words] if lang == "zh-TW" else [w.lower() for w in words]


@dataclass(frozen=True)
class Rule:
    """One row of triage.tsv."""

    tier: int
    kind: str
    scope: str  # clause | cue | threat | loss | own | report (see triage.tsv)
    reason: str


@dataclass(frozen=True)
class Signal:
    rule: Rule
    word: str  # the text that matched

    def describe(self) -> str:
        return f"{self.rule.reason}: {self.word}"


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    word: str
    rule: Rule | None  # None: a longer word that is no signal (发烧友)


class Words:
    """Chinese words as one trie (the longest wins), English words standing alone and
    searched only in texts with Latin letters or digits, and regular expressions each
    on its own. Matches come back in order, none overlapping (the earliest wins, then
    the Chinese words, the English words and the expressions in that order)."""

    def __init__(self, words: Iterable[str], regexes: Iterable[str] = ()) -> None:
        words = set(words)
        chinese = sorted(w for w in words if not w.isascii())
        english = sorted(w for w in words if w.isascii())
        self.chinese = re.compile(trie_regex(chinese)) if chinese else None
        self.english = re.compile(standalone(english)) if english else None
        expressions = [(re.compile(r), i) for i, r in enumerate(regexes)]
        # An expression of Latin letters alone (fingers ... broken) cannot match a text without them.
        everywhere = [(p, i) for p, i in expressions if not p.pattern.isascii()]
        chinese_only = [(self.chinese, -1)] if self.chinese is not None else []
        with_english = chinese_only + ([(self.english, -1)] if self.english is not None else [])
        self._without_latin = tuple(chinese_only + everywhere)
        self._with_latin = tuple(with_english + expressions)
        # Whether any expression occurs: one pattern of them all behind a look-ahead on the characters
        # they can start with (a position no expression starts at fails at once). Tried each on its
        # own, 50 expressions cost more than the Chinese trie; one plain alternation of them is slower.
        guarded = [p.pattern for p, _ in expressions if first_chars(p.pattern) is not None]
        self._unguarded = tuple(p for p, _ in expressions if first_chars(p.pattern) is None)
        starts = sorted(set().union(*(first_chars(r) or () for r in guarded)))
        self._any_expression = (
            re.compile(f"(?=[{''.join(map(re.escape, starts))}])(?:{'|'.join(f'(?:{r})' for r in guarded)})")
            if guarded
            else None
        )
        self._words_without_latin = tuple(chinese_only)
        self._words_with_latin = tuple(with_english)

    def _patterns(self, text: str) -> tuple[tuple[re.Pattern[str], int], ...]:
        """The patterns worth trying on `text`, each with its regex index (-1: a word)."""
        return self._with_latin if _LATIN.search(text) else self._without_latin

    def search(self, text: str) -> bool:
        for pattern, _ in self._words_with_latin if _LATIN.search(text) else self._words_without_latin:
            if pattern.search(text):
                return True
        return self._expresses(text)

    def strip(self, text: str) -> str:
        """The text without these words (laughter left out of a clause's praise)."""
        for match, _ in reversed(self.matches(text)):
            text = text[: match.start()] + text[match.end() :]
        return text

    def at(self, text: str, position: int) -> bool:
        """Whether a word starts at `position`."""
        return any(p.match(text, position) for p, _ in self._patterns(text))

    def _expresses(self, text: str) -> bool:
        """Whether any expression occurs in `text` (one search of them all, as in search())."""
        if self._any_expression is not None and self._any_expression.search(text):
            return True
        return any(p.search(text) for p in self._unguarded)

    def matches(self, text: str) -> list[tuple[re.Match[str], int]]:
        """(match, regex index or -1 for a word) in text order."""
        latin = bool(_LATIN.search(text))
        patterns = self._with_latin if latin else self._without_latin
        if len(patterns) > 1 and not self._expresses(text):
            # No expression occurs: only the word patterns can match. Running each expression's
            # finditer to find nothing was most of triage's cost on texts with an escalation word.
            patterns = self._words_with_latin if latin else self._words_without_latin
        if len(patterns) == 1:  # Chinese words only: nothing to merge
            return [(m, patterns[0][1]) for m in patterns[0][0].finditer(text)]
        # at one position the longest match wins, as within one pattern: 没送到儿童医院 (no hospital
        # visit, a regex of the words that are no signal) over 没送到 (a lost parcel, a word)
        found = sorted(
            ((m, i) for p, i in patterns for m in p.finditer(text)),
            key=lambda item: (item[0].start(), -item[0].end()),
        )
        kept: list[tuple[re.Match[str], int]] = []
        for match, index in found:
            if not kept or match.start() >= kept[-1][0].end():
                kept.append((match, index))
        return kept


class EscalationLexicon:
    """triage.tsv compiled: every escalation word, and the cue, frame and negation patterns
    that decide whether a match counts."""

    def __init__(self, rows: list[list[str]]) -> None:
        self.plain: dict[str, Rule | None] = {}  # None: a longer word that is no signal (发烧友)
        regexes: list[tuple[str, Rule | None]] = []
        extra: dict[tuple[str, str], list[str]] = {}  # (kind, lang) -> words of the cue/frame/negator rows
        for tier, kind, lang, scope, reason, field in rows:
            words = _words(field, lang)
            rule = None if tier == "-" else Rule(int(tier), kind, scope, reason)
            if rule is None and kind != "not":
                extra.setdefault((kind, "en" if lang == "en" else "zh"), []).extend(words)
                continue
            for word in words:
                found = _REGEX.match(word)
                if found:
                    regexes.append((found.group(1), rule))
                else:
                    self.plain[word] = rule
        self.words = Words(self.plain, [r for r, _ in regexes])
        self._regex_rules = [rule for _, rule in regexes]
        self.not_signals = {w for w, rule in self.plain.items() if rule is None}
        self.harm = [w for w, rule in self.plain.items() if rule is not None and rule.kind in HARM_KINDS]
        self.cues = _either(extra, "cue")
        self.contacts = _either(extra, "contact")
        self.frames = _either(extra, "frame")
        self.frame_words = extra.get(("frame", "zh"), []) + extra.get(("frame", "en"), [])
        self.frames_after = _either(extra, "frame_after")
        self.elsewhere = _either(extra, "elsewhere")
        self.remedies = _either(extra, "remedy")
        self.causes = _either(extra, "cause")
        self.cures = _either(extra, "cure")
        self.undone = _either(extra, "undone")  # a harm or a loss undone: 退回, 拦下, reversed
        self.unhurt = _either(extra, "unhurt")  # nobody was hurt: 一点事都没有, without a scratch
        negators = standalone(extra.get(("negator", "en"), []))
        # A causing verb after the negator carries it on: "doesn't give me a rash", "never caused any breakouts".
        self.negated_en = re.compile(rf"{negators}(?:\W+{_CAUSING})?(?:\W+\w+){{0,{_EN_GAP}}}\W*$")

    def find(self, text: str) -> list[Found]:
        """Every escalation word in `text`, in order (with rule None for the words that are no signal)."""
        return [
            Found(m.start(), m.end(), m.group(), self.plain.get(m.group()) if i < 0 else self._regex_rules[i])
            for m, i in self.words.matches(text)
        ]


def first_chars(pattern: str) -> frozenset[str] | None:
    """The characters a match of `pattern` can start with; None when any could (or when that
    cannot be told from the pattern's parse)."""
    return _first(list(sre_parse.parse(pattern)))


def _first(items: list[tuple[Any, Any]]) -> frozenset[str] | None:
    for op, value in items:
        name = str(op)
        if name in ("ASSERT", "ASSERT_NOT", "AT"):
            continue  # zero width: the next element starts the match
        if name == "LITERAL":
            return frozenset(chr(value))
        if name == "IN":
            return _charset(value)
        if name == "BRANCH":
            parts = [_first(list(branch)) for branch in value[1]]
            return None if any(p is None for p in parts) else frozenset().union(*(p or () for p in parts))
        if name == "SUBPATTERN":
            return _first(list(value[-1]))
        if name in ("MAX_REPEAT", "MIN_REPEAT") and value[0] >= 1:
            return _first(list(value[2]))
        return None
    return None


def _charset(items: list[tuple[Any, Any]]) -> frozenset[str] | None:
    chars: set[str] = set()
    for op, value in items:
        name = str(op)
        if name == "LITERAL":
            chars.add(chr(value))
        elif name == "RANGE" and value[1] - value[0] < _RANGE_LIMIT:
            chars.update(chr(c) for c in range(value[0], value[1] + 1))
        elif name == "CATEGORY" and str(value) == "CATEGORY_DIGIT":
            chars.update(_DIGITS)
        else:
            return None  # a negated class, a wide range, a class of letters: any character
    return frozenset(chars)


def standalone(words: list[str]) -> str:
    """A pattern of English words that stand alone: "12315" in "打了12315", not "fire" in
    "fireproof". A contraction's "n't" stands at the end of its word (didn't). A trie, as
    Chinese words are: a plain alternation of many words is slow to fail at every position."""
    whole = [w for w in words if not w.startswith("n'")]
    endings = [w for w in words if w.startswith("n'")]
    parts = [f"{_ALONE_BEFORE}{trie_regex(whole)}"] if whole else []
    parts += [trie_regex(endings)] if endings else []
    return f"(?:{'|'.join(parts)}){_ALONE_AFTER}"


def _either(extra: dict[tuple[str, str], list[str]], kind: str) -> Words:
    """A cue/frame row's Chinese words and English whole words."""
    return Words(extra.get((kind, "zh"), []) + extra.get((kind, "en"), []))


@lru_cache(maxsize=1)
def escalation_lexicon() -> EscalationLexicon:
    return EscalationLexicon(_rows())
