"""The learned triage layer: two linear models over features that transfer across phrasing,
combined with the rules of sentiment/triage.py.

The rules are precise on the phrasings they were written from and miss the others (an
injury in everyday words, a regulator the lexicon does not list). The layer reads every
mention the rules did not put in tier 5 and that names a harm or an authority
(sentiment/lexicons/crisis_anchors.tsv), with two logistic regressions:
  crisis  tier 5 or not;
  tier    tier 1-5 (multinomial).
Features: character 1-3-grams of the normalised text (simplified, lower case) and the rules'
own findings as tokens - the tier and reason kinds of the escalation words that counted and
of those a negation, frame or praise cancelled, triage's reading and why, the model's label
and score band, the motive, the anchors named and negated. Binary, L2-normalised.
How it combines with the rules:
  - the rules decide tier 5 and every mention without an anchor;
  - the crisis model raises to tier 5 when it is confident and an anchor stands in a
    clause that neither negates nor only asks about it; never a mention triage reads as
    praise (the praise guard stays: a review that praises is never escalated), nor a
    neutral one that asks (a question that mentions an allergy asks about it);
  - the tier model lowers a tier 3-4 on a mention triage reads as praise to tier 2 or less.
The model files live in sentiment/models/triage/ (model.json: vocabulary and settings;
weights.npz), written by `koubei train-triage` and loaded once per process. Scoring needs
numpy only; scikit-learn is for training (sentiment/triage_train.py).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from sentiment.reading import Reading, reading_lexicon
from sentiment.signals import Words, escalation_lexicon
from sentiment.text import to_simplified
from sentiment.triage import RED, URGENT, Triage, approves, names_a_person, negated_run, red_reply

MODEL_DIR = Path(__file__).resolve().parent / "models" / "triage"
NGRAMS = (1, 3)
# P(tier 5) at which the crisis model raises a mention with an anchor to tier 5. Trained on suites
# where a quarter of the rows are crises, the model is eager: at 0.5 it raised 94 of 10,000 benchmark
# reviews and posts the rules keep below tier 5, at 0.7 17 (most of them a scalp or food complaint
# that is one: 头皮特别痒, 菜花里有虫子), with crisis recall on the fresh suite 0.95 and 0.87.
CRISIS_RAISE = 0.7
PRAISE_LOWER = 0.6  # P(tier <= 2) at which the tier model lowers a praising tier 3-4 mention
_NEGATED_GAP = 3  # characters between a Chinese negator and the anchor it negates (没有任何过敏)
# A harm feared as what would happen: "I was scared the hair dye would burn my scalp" (not "I was scared the
# whole time the heater sparked": nothing supposed).
_FEARED_WOULD = re.compile(
    r"\b(?:scared|afraid|worried|nervous|feared|fear|worry)\b[^.!?;]{0,40}\b(?:would|might|could)\b[^.!?;]*$"
)
# Words between a doctor and the approval (医生也说可以用: 也; "the doctor also said it was fine").
_APPROVER_FILLER = re.compile(r"^(?:也|都|还|们|们也|also |too |even )")
_EMOTICON = re.compile(r"\[[^\[\]]{1,8}\]")
_EN_NEGATION = re.compile(r"\b(?:no|not|never|without|zero|n't|nothing|nor)\b(?:\W+\w+){0,2}\W*$")


@dataclass(frozen=True)
class Anchor:
    kind: str  # harm | authority
    word: str
    negated: bool  # negated, only asked about, or naming a person (a lawyer friend) in its clause


class Anchors:
    """crisis_anchors.tsv compiled, one Words per kind."""

    def __init__(self) -> None:
        text = resources.files("sentiment").joinpath("lexicons/crisis_anchors.tsv").read_text(encoding="utf-8")
        self.kind: dict[str, str] = {}
        for line in text.splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            kind, lang, field = line.split("\t")
            for word in (w.strip() for w in field.split(",") if w.strip()):
                self.kind[to_simplified(word) if lang == "zh-TW" else word.lower()] = kind
        self.words = Words(self.kind)

    def find(self, reading: Reading) -> list[Anchor]:
        text = reading.text
        if not self.words.search(text):
            return []
        out: list[Anchor] = []
        lexicon = reading_lexicon()
        emoticons = [m.span() for m in _EMOTICON.finditer(text)] if "[" in text else []
        for match, _ in self.words.matches(text):
            if any(start <= match.start() < end for start, end in emoticons):
                continue  # Weibo's [晕], [悲伤] name a mood, not a harm
            clause = reading.parsed.clause_at(match.start())
            offset = text.rfind(clause.text, 0, match.start() + len(clause.text))  # the clause holds the match
            before = clause.text[: match.start() - offset]
            negated = lexicon.negated_at_end(before, _NEGATED_GAP) or bool(_EN_NEGATION.search(before))
            kind = self.kind[match.group()]
            negated = negated or (kind == "harm" and negated_run(before))  # 从来没有发烫冒烟过
            asked = clause.question and not clause.rhetorical
            # "a journalist colleague", 当律师的朋友: the authority names someone, no step was taken
            person = kind == "authority" and names_a_person(clause.text[match.end() - offset :])
            start, end = match.start() - offset, match.end() - offset
            framed = _framed(clause.text, before, kind) or (kind == "harm" and _background(clause.text, start, end))
            # 医生也说可以用, dermatologist-approved: a doctor who approves the product names no visit
            approved = approves(_APPROVER_FILLER.sub("", clause.text[end:]))
            out.append(Anchor(kind, match.group(), negated or asked or person or framed or approved))
        return out


def _framed(clause: str, before: str, kind: str) -> bool:
    """A harm feared or supposed (怕孩子摔下来, 如果过敏) or any anchor inside hearsay (看了新闻说): triage's
    frames. A supposed authority is still a threat (如果再不退款就找记者), so frames before it do not count."""
    lexicon = escalation_lexicon()
    if kind == "harm" and (lexicon.frames.search(before) or _FEARED_WOULD.search(before)):
        return True
    start = len(before)
    return any(m.start() <= start < m.end() for m, _ in lexicon.frames.matches(clause))


def _background(clause: str, start: int, end: int) -> bool:
    """An anchor inside a longer word that is no signal (花生过敏 named as a trait, i'm allergic,
    过敏体质) or right before a word that makes it a condition or a rule (湿疹期间, 过热保护)."""
    lexicon = escalation_lexicon()
    inside = any(f.rule is None and f.start <= start < f.end for f in lexicon.find(clause))
    return inside or lexicon.frames_after.at(clause, end)


@lru_cache(maxsize=1)
def anchors() -> Anchors:
    return Anchors()


def char_ngrams(text: str) -> set[str]:
    low, high = NGRAMS
    text = " ".join(text.split())
    return {text[i : i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1)}


def rule_tokens(reading: Reading, result: Triage, label: str, score: float, found: Sequence[Anchor]) -> set[str]:
    """What the rules found, as tokens (prefixed with § so no character n-gram equals one).
    Neither the rules' tier nor the escalation words that counted are among them: trained with
    those, the models learnt to repeat the rules (on fresh reviews they raised nothing); without
    them they learn what a crisis reads like, which is what the layer is for."""
    tokens = {
        f"§reading:{result.reading}",
        f"§model:{label}",
        f"§score:{min(int(score * 5), 4)}",
        f"§motive:{result.motive or '-'}",
        f"§why:{reading.why.split(':')[0].split(' (')[0]}",
    }
    for word in escalation_lexicon().find(reading.text):
        if word.rule is not None and word.word not in result.signals:
            tokens.add(f"§cancelled:{word.rule.kind}")
    for anchor in found:
        tokens.add(f"§anchor:{anchor.kind}:{'negated' if anchor.negated else 'named'}")
    if any(c.question for c in reading.clauses):
        tokens.add("§question")
    if re.search(r"[a-z]{2}", reading.text):
        tokens.add("§latin")
    if re.search(r"[\u4e00-\u9fff]", reading.text):
        tokens.add("§cjk")
    return tokens


def tokens_of(reading: Reading, result: Triage, label: str, score: float, found: Sequence[Anchor]) -> set[str]:
    return char_ngrams(reading.text) | rule_tokens(reading, result, label, score, found)


@dataclass(frozen=True)
class TriageModel:
    vocabulary: dict[str, int]
    weights: np.ndarray  # (6, n): row 0 the crisis model, rows 1-5 the tier model's tiers 1-5
    bias: np.ndarray  # (6,)
    meta: dict[str, object]

    def probabilities(self, token_sets: Sequence[set[str]]) -> tuple[np.ndarray, np.ndarray]:
        """P(tier 5) by the crisis model, and P(tier 1..5) by the tier model, per text."""
        scores = np.empty((len(token_sets), 6))
        vocabulary, weights = self.vocabulary, self.weights
        for row, tokens in enumerate(token_sets):
            columns = [c for c in map(vocabulary.get, tokens) if c is not None]
            summed = weights[:, columns].sum(axis=1) if columns else np.zeros(6)
            scores[row] = summed / math.sqrt(max(len(tokens), 1)) + self.bias
        crisis = 1.0 / (1.0 + np.exp(-scores[:, 0]))
        tiers = np.exp(scores[:, 1:] - scores[:, 1:].max(axis=1, keepdims=True))
        return crisis, tiers / tiers.sum(axis=1, keepdims=True)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        order = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        meta = {**self.meta, "ngrams": list(NGRAMS), "vocabulary": order}
        (directory / "model.json").write_text(json.dumps(meta, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
        np.savez_compressed(directory / "weights.npz", weights=self.weights.astype(np.float32), bias=self.bias)


def load(directory: Path) -> TriageModel:
    meta = json.loads((directory / "model.json").read_text(encoding="utf-8"))
    order = meta.pop("vocabulary")
    with np.load(directory / "weights.npz") as stored:
        weights, bias = stored["weights"].astype(np.float64), stored["bias"]
    return TriageModel({t: i for i, t in enumerate(order)}, weights, bias, meta)


@lru_cache(maxsize=1)
def shipped_model() -> TriageModel | None:
    """The model in sentiment/models/triage/, loaded once per process; None without one
    (the rules alone decide)."""
    return load(MODEL_DIR) if (MODEL_DIR / "model.json").exists() else None


@dataclass(frozen=True)
class Candidate:
    """A mention the layer reads: the rules' outcome and what it needs to decide."""

    index: int
    reading: Reading
    result: Triage
    anchors: list[Anchor]
    tokens: set[str]


def candidate(index: int, reading: Reading, result: Triage, label: str, score: float) -> Candidate | None:
    """A mention the layer could change: one below tier 5 that triage does not read as praise and
    that names a harm or an authority (the crisis model may raise it), or a tier 3-4 on a reading
    of praise (the tier model may lower it). Most mentions are neither and cost one search."""
    praise = result.reading == "pos"
    if result.urgency >= RED or (praise and result.urgency < URGENT):
        return None
    found = anchors().find(reading)
    if not (praise or any(not a.negated for a in found)):
        return None
    return Candidate(index, reading, result, found, tokens_of(reading, result, label, score, found))


def combine(item: Candidate, crisis: float, tiers: np.ndarray) -> Triage:
    """The rules' triage, adjusted by the models' probabilities (see the module's docstring)."""
    result, praise = item.result, item.result.reading == "pos"
    named = [a for a in item.anchors if not a.negated]
    asks = result.reading == "neu" and any(c.question for c in item.reading.clauses)  # 餐里有花生吗？孩子对花生过敏
    if not (praise or asks) and named and crisis >= CRISIS_RAISE:
        why = f"tier {RED}: model: crisis p={crisis:.2f} ({named[0].kind}: {named[0].word})"
        return replace(result, urgency=RED, reason=f"{why}; {result.reason}", reply=red_reply(), reading="neg")
    if praise and result.urgency >= URGENT and tiers[:2].sum() >= PRAISE_LOWER:
        tier = 1 + int(np.argmax(tiers[:2]))
        return replace(
            result, urgency=tier, reason=f"tier {tier}: model: praise p={tiers[:2].sum():.2f}; {result.reason}"
        )
    return result


def refine(
    readings: Sequence[Reading],
    results: Sequence[Triage],
    labels: Sequence[str],
    scores: Sequence[float],
    model: TriageModel | None = None,
) -> list[Triage]:
    """The rules' triage of a batch, adjusted by the learned layer (the shipped model unless
    one is given; the rules' own triage when there is none)."""
    model = model or shipped_model()
    out = list(results)
    if model is None:
        return out
    items = [
        c
        for i in range(len(results))
        if (c := candidate(i, readings[i], results[i], labels[i], float(scores[i]))) is not None
    ]
    if not items:
        return out
    crisis, tiers = model.probabilities([c.tokens for c in items])
    for item, p, t in zip(items, crisis, tiers):
        out[item.index] = combine(item, float(p), t)
    return out
