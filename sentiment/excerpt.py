"""What analysis reads of one text: a bounded excerpt, so that one very long mention
cannot stall scoring or alerting.

The database keeps the full text. The stages that read text - the model, aspects,
triage, trust flags (sentiment/analysis.py) and keywords (sentiment/keywords.py) -
read `excerpt(text)`: a text up to LIMIT characters as it is; a longer one as its
first HEAD characters, then the sentences holding an escalation word (triage's
words: injury, fire, lawyer, 12315 ...) among the next SCAN characters, up to
LIMIT characters in all. A complaint's point is nearly always at its start; a
safety or legal threat buried later in a long post still reaches triage. Nothing
after HEAD + SCAN characters is read, so one text costs at most that much.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from sentiment.lexicon import trie_regex

HEAD = 2_000
LIMIT = 4_000
SCAN = 20_000
SENTENCE_REACH = 150  # characters either side of a risk word kept when its sentence is longer
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")
# The rows of triage.tsv whose words are risk words: tiers 5 and 4 by number (the file since
# issue 15) or by kind (before it). Tier 3's words (今天, 马上) are everyday words.
_RISK_ROWS = frozenset(("5", "4", "safety", "legal", "regulator", "media", "mass", "critical"))


@lru_cache(maxsize=1)
def risk_words() -> re.Pattern[str]:
    """The tier 4-5 escalation words of sentiment/lexicons/triage.tsv (a row's last column,
    comma-separated; regular-expression entries left out), in any letter case."""
    text = resources.files("sentiment").joinpath("lexicons/triage.tsv").read_text(encoding="utf-8")
    words: set[str] = set()
    for line in text.splitlines():
        columns = line.split("\t")
        if line.startswith("#") or len(columns) < 3 or columns[0].strip() not in _RISK_ROWS:
            continue
        words.update(_plain_words(columns[-1]))
    return re.compile(trie_regex(sorted(words)) or "(?!)", re.IGNORECASE)


def _plain_words(field: str) -> list[str]:
    """The comma-separated words of a field, lower-cased; a /regular expression/ (which may hold
    commas of its own) is skipped whole."""
    words: list[str] = []
    in_regex = False
    for piece in field.split(","):
        word = piece.strip()
        if not in_regex and word.startswith("/"):
            in_regex = True
        if in_regex:
            in_regex = not (len(word) > 1 and word.endswith("/"))
            continue
        if word:
            words.append(word.lower())
    return words


def excerpt(text: str) -> str:
    """The text, or its head and the sentences around its risk words when it is longer than LIMIT."""
    if len(text) <= LIMIT:
        return text
    head, rest = text[:HEAD], text[HEAD : HEAD + SCAN]
    kept: list[str] = []
    room = LIMIT - HEAD
    covered = 0  # the end of the last sentence kept: a sentence with two risk words is kept once
    for match in risk_words().finditer(rest):
        if match.start() < covered:
            continue
        start, end = _sentence_around(rest, match.start(), match.end())
        sentence = rest[start:end].strip()
        if len(sentence) + 1 > room:
            break
        kept.append(sentence)
        room -= len(sentence) + 1
        covered = end
    return "\n".join([head, *kept])


def _sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The bounds of the sentence holding text[start:end], at most SENTENCE_REACH either side."""
    low = max(0, start - SENTENCE_REACH)
    before = [m.end() for m in _SENTENCE_END.finditer(text, low, start)]
    after = _SENTENCE_END.search(text, end, min(len(text), end + SENTENCE_REACH))
    return (before[-1] if before else low), (after.end() if after else min(len(text), end + SENTENCE_REACH))
