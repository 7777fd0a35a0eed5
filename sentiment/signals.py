"""The escalation words of triage (sentiment/lexicons/triage.tsv), compiled.

One pattern finds every escalation word of a text; each match maps back to its
Rule (tier, kind, scope, reason). The cue, frame and negator rows compile to
the patterns triage uses to decide whether a match counts (sentiment/triage.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from sentiment.lexicon import trie_regex
from sentiment.text import to_simplified

HARM_KINDS = ("injury", "hazard", "food")  # harm to a person: its words also read as complaint words
_EN_GAP = 2  # words allowed between an English negator and the word it cancels (didn't even break out)
_REGEX = re.compile(r"^/(.+)/$")
# \b would not do: Chinese characters are word characters too.
_ALONE_BEFORE, _ALONE_AFTER = r"(?<![a-z0-9])", r"(?![a-z0-9])"


def _rows() -> list[list[str]]:
    text = resources.files("sentiment").joinpath("lexicons/triage.tsv").read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _alternation(words: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))


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
    scope: str  # clause | cue | threat | own (see triage.tsv)
    reason: str


@dataclass(frozen=True)
class Signal:
    rule: Rule
    word: str  # the text that matched

    def describe(self) -> str:
        return f"{self.rule.reason}: {self.word}"


class EscalationLexicon:
    """triage.tsv compiled: one pattern of every escalation word, and the cue, frame and
    negation patterns that decide whether a match counts."""

    def __init__(self, rows: list[list[str]]) -> None:
        self.plain: dict[str, Rule | None] = {}  # None: a longer word that is no signal (发烧友)
        self.regexes: list[tuple[str, Rule | None]] = []
        extra: dict[tuple[str, str], list[str]] = {}  # (kind, lang) -> words of the cue/frame/negator rows
        for tier, kind, lang, scope, reason, field in rows:
            words = _words(field, lang)
            if tier == "-":
                extra.setdefault((kind, "en" if lang == "en" else "zh"), []).extend(words)
                continue
            rule = Rule(int(tier), kind, scope, reason)
            for word in words:
                found = _REGEX.match(word)
                if found:
                    self.regexes.append((found.group(1), rule))
                else:
                    self.plain[word] = rule
        for word in extra.get(("not", "zh"), []):
            found = _REGEX.match(word)
            if found:
                self.regexes.append((found.group(1), None))
            else:
                self.plain[word] = None
        zh = [w for w in self.plain if not w.isascii()]
        en = [w for w in self.plain if w.isascii()]
        parts = [f"(?P<zh>{trie_regex(zh)})", f"(?P<en>{standalone(en)})"]
        parts += [f"(?P<r{i}>{pattern})" for i, (pattern, _) in enumerate(self.regexes)]
        self.pattern = re.compile("|".join(parts))
        self.harm = [w for w, rule in self.plain.items() if rule is not None and rule.kind in HARM_KINDS]
        self.cues = _either(extra, "cue")
        self.contacts = _either(extra, "contact")
        self.frames = _either(extra, "frame")
        self.frames_after = _either(extra, "frame_after")
        negators = [
            ("" if w.startswith("n'") else _ALONE_BEFORE) + re.escape(w) for w in extra.get(("negator", "en"), [])
        ]
        self.negated_en = re.compile(rf"(?:{'|'.join(negators)}){_ALONE_AFTER}(?:\W+\w+){{0,{_EN_GAP}}}\W*$")

    def rule_of(self, match: re.Match[str]) -> Rule | None:
        if match.lastgroup in ("zh", "en"):
            return self.plain.get(match.group())
        return self.regexes[int(str(match.lastgroup)[1:])][1]


def standalone(words: list[str]) -> str:
    """A pattern of English words that stand alone: "12315" in "打了12315", not "fire" in
    "fireproof". A contraction's "n't" stands at the end of its word (didn't)."""
    whole = [w for w in words if not w.startswith("n'")]
    endings = [w for w in words if w.startswith("n'")]
    parts = [f"{_ALONE_BEFORE}(?:{_alternation(whole).pattern})"] if whole else []
    parts += [_alternation(endings).pattern] if endings else []
    return f"(?:{'|'.join(parts)}){_ALONE_AFTER}"


def _either(extra: dict[tuple[str, str], list[str]], kind: str) -> re.Pattern[str]:
    """One pattern of a cue/frame row's Chinese words and English whole words."""
    zh, en = extra.get((kind, "zh"), []), extra.get((kind, "en"), [])
    parts = [_alternation(zh).pattern] if zh else []
    if en:
        parts.append(standalone(en))
    return re.compile("|".join(parts) or "(?!)")


@lru_cache(maxsize=1)
def escalation_lexicon() -> EscalationLexicon:
    return EscalationLexicon(_rows())
