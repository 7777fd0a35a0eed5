"""Triage: urgency tier 1-5, complaint motive, the rule that decided, a reply.

Tiers and motives follow DOMAIN.md. The rules, in order:
  tier 5  a red-alert signal (safety, legal, regulator, media, mass impact) whose
          weight plus the reach bonus is >= 3: safety alone always; a legal,
          regulator, media or mass signal with reach >= 50, or two of them.
  tier 4  a weaker red-alert signal; or a critical signal (repeated failure,
          escalation); or a negative mention with reach >= 1000.
  tier 3  an urgent signal: the customer is losing money or time now.
  tier 2  any other negative mention.
  tier 1  suggestions and praise.
Reach bonus: 0 below 50 (likes + reposts + replies), 1 below 1000, 2 above.
Motive: the first of 补偿, 尊重, 建议 whose words occur, else 发泄 (negative) or
none (positive). Words live in sentiment/lexicons/{triage,motives,replies}.tsv.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from sentiment.text import to_simplified

RED_KINDS = ("safety", "legal", "regulator", "media", "mass")
VENT = "发泄"
REACH_STEPS = (50, 1000)


def _lines(name: str) -> list[list[str]]:
    text = resources.files("sentiment").joinpath(f"lexicons/{name}").read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _alternation(words: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))


@lru_cache(maxsize=1)
def _signals() -> dict[str, tuple[int, re.Pattern[str]]]:
    return {
        kind: (int(weight), _alternation([w.strip() for w in words.split(",") if w.strip()]))
        for kind, weight, words in _lines("triage.tsv")
    }


@lru_cache(maxsize=1)
def _motives() -> list[tuple[str, re.Pattern[str]]]:
    return [
        (motive, _alternation([w.strip() for w in words.split(",") if w.strip()]))
        for motive, words in _lines("motives.tsv")
    ]


@lru_cache(maxsize=1)
def _replies() -> dict[str, str]:
    return {key: reply for key, reply in _lines("replies.tsv")}


@dataclass(frozen=True)
class Triage:
    urgency: int
    motive: str  # 发泄 | 尊重 | 补偿 | 建议, or "" for praise
    reason: str
    reply: str


def reach_bonus(reach: int) -> int:
    return sum(reach >= step for step in REACH_STEPS)


def _reply(motive: str, aspects: Mapping[str, str], tier5: bool) -> str:
    replies = _replies()
    if tier5:
        return replies["tier5"]
    if not motive:
        return replies["praise"]
    ordered = sorted(aspects, key=lambda a: aspects[a] != "neg")  # negative aspects first
    for aspect in ordered:
        if f"{motive}:{aspect}" in replies:
            return replies[f"{motive}:{aspect}"]
    if ordered and f"{motive}:*" in replies:
        return replies[f"{motive}:*"].replace("{aspect}", ordered[0])
    return replies[motive]


def triage(text: str, label: str, reach: int = 0, aspects: Mapping[str, str] | None = None) -> Triage:
    text = to_simplified(text)
    aspects = aspects or {}
    found: dict[str, str] = {}
    for kind, (_, pattern) in _signals().items():
        match = pattern.search(text)
        if match:
            found[kind] = match.group()
    signals = _signals()
    red = {k: v for k, v in found.items() if k in RED_KINDS}
    red_weight = sum(signals[k][0] for k in red)
    bonus = reach_bonus(reach)
    why: list[str] = []

    if red and red_weight + bonus >= 3:
        tier = 5
        why.append(" + ".join(f"{k} {v}" for k, v in red.items()) + f" (reach {reach})")
    elif red:
        tier = 4
        why.append(" + ".join(f"{k} {v}" for k, v in red.items()) + f" at low reach {reach}")
    elif "critical" in found and label != "pos":
        tier = 4
        why.append(f"critical {found['critical']}")
    elif label == "neg" and bonus >= 2:
        tier = 4
        why.append(f"negative with reach {reach}")
    elif "urgent" in found and label != "pos":
        tier = 3
        why.append(f"urgent {found['urgent']}")
    elif label == "neg":
        tier = 2
        why.append("negative, no urgent signal")
    else:
        tier = 1
        why.append(f"{label}, no complaint signal")

    motive = ""
    for name, pattern in _motives():
        match = pattern.search(text)
        if match and (label != "pos" or name == "建议"):
            motive = name
            why.append(f"motive {name}: {match.group()}")
            break
    if not motive and (label == "neg" or tier >= 3):
        motive = VENT
        why.append(f"motive {VENT}: no remedy, respect or suggestion words")
    return Triage(
        urgency=tier, motive=motive, reason=f"tier {tier}: " + "; ".join(why), reply=_reply(motive, aspects, tier == 5)
    )
