"""The learned reading: a clause-aware polarity model that backs triage's rules on hard sentences.

The rules of sentiment/reading.py decide negation, contrast and sarcasm from the words they were
written from; on reviews written later they miss world-knowledge sarcasm ("感谢快递让我的包裹免费环游
世界") and read praise as a complaint when a negated flaw stands in it. This layer is a logistic
regression (pos | neu | neg, one-vs-rest) over hashed counts (BUCKETS) of:
  - character 1-3-grams of the whole normalised text;
  - character 1-2-grams of its verdict clause (the clauses from the last turn on, a long text's
    summing-up, else its last clause), marked apart so what follows "但" weighs on its own
    (its 3-grams added nothing on the held-out suites);
  - the rules' findings as tokens: their reading and why, the model's label and score band, a
    turn, a question, a negator.
Trained on the suites' expected polarity and 1,000 of the project's written everyday reviews
(sentiment/triage_train.py). It overrules the rules' reading of a short text when it is confident
(OVERRULE); the rules' reading is one of its features. Long texts keep the rules' reading, and so
does every text when no layer is shipped. Triage then runs on the reading that wins, so a text read
as a complaint gets a complaint's tier and one read as praise keeps the praise guard. Measured by
leaving each fresh and hold-out suite out in turn (`koubei eval triage --cross`); most of its fixes
are texts the rules leave to the char model's label.
The n-grams are hashed from the batch's code points in a few numpy operations, so the layer
costs a few microseconds a text (a set of n-gram strings per text cost more than the rest of
triage). The weights live in sentiment/models/triage/polarity.json and polarity.npz, written
by `koubei train-triage` with the crisis and tier layer; scoring needs numpy only.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from sentiment.reading import MARKER_CUES, STORY_CUES, Reading

POLARITIES = ("pos", "neu", "neg")
MODEL_DIR = Path(__file__).resolve().parent / "models" / "triage"
BUCKETS = 1 << 20  # hashed feature columns: few enough collisions among ~60,000 distinct n-grams
# Inverse regularisation: on the held-out suites hard pos/neg accuracy rose with C (1: 0.902, 4: 0.916,
# 16: 0.923, 32: 0.929, 100: 0.933); 32 is chosen short of the largest, as that choice is itself tuned there.
C = 32.0
SEED = 20261207
# P(its reading) at which the layer overrules the rules. With 1,000 written rows: held-out hard
# pos/neg 0.907 and benchmark 0.899 at 0.6-0.75, 0.902 / 0.897 at 0.9 (rules 0.897 / 0.898).
OVERRULE = 0.75
_CLAUSE_ENDS = "，。！？；,.!?;~～\n…"
_LAST_CLAUSE = re.compile(f"[^{_CLAUSE_ENDS}]+$")
_NEGATOR = re.compile(r"[不没無无未別别]|\b(?:no|not|never|n't)\b")
_LATIN = re.compile(r"[a-z]{2}")
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the top bits of the product are the bucket
_SHIFT = np.uint64(64 - BUCKETS.bit_length() + 1)
_TEXT, _VERDICT = 1, 2  # salts: the same n-gram of the text and of its verdict clause are two features


def verdict_clause(reading: Reading) -> str:
    """Where a text's verdict sits: after its last turn, in a long text's summing-up, else its last clause."""
    parsed = reading.parsed
    told = parsed.turn_text()
    if told:
        return told
    text = parsed.text.rstrip().rstrip(_CLAUSE_ENDS)
    last = _LAST_CLAUSE.search(text)
    return last.group() if last else text


def rule_tokens(reading: Reading, label: str, score: float) -> list[str]:
    """What the rules and the model found, as named features."""
    text = reading.text
    found = [
        f"rule:{reading.polarity}",
        f"why:{reading.why.split(':')[0].split(' (')[0]}",
        f"model:{label}",
        f"score:{min(int(score * 5), 4)}",
        f"rule-model:{reading.polarity}:{label}",
    ]
    if reading.parsed.turn_text():
        found.append("turn")
    if reading.asks:
        found.append("asks")
    if _NEGATOR.search(text):
        found.append("negator")
    if _LATIN.search(text):
        found.append("latin")
    return found + irony_tokens(reading.parsed.cues)


def irony_tokens(cues: frozenset[str]) -> list[str]:
    """The sarcasm cues of a short text (reading.ReadingLexicon.irony_cues) and how they combine: praise
    beside a story (a loss, a hyperbole, a measured wait) or beside a marker (a claim, a wink, a mocking
    frame) is what a reader takes irony from, whatever the words that tell it."""
    found = [f"cue:{c}" for c in sorted(cues)]
    story, marked = bool(cues & STORY_CUES), bool(cues & MARKER_CUES)
    if "praise" in cues and "confirmed" not in cues:  # a claim borne out (果然, lived up to) is no irony
        found += (
            ["cue:praise+story"] * story
            + ["cue:praise+marker"] * marked
            + ["cue:praise+story+marker"] * (story and marked)
        )
    return found


@lru_cache(maxsize=4096)
def _token_bucket(token: str) -> int:
    return zlib.crc32(token.encode("utf-8")) % BUCKETS


@dataclass(frozen=True)
class Features:
    """A batch's hashed features, flat and in no order: entry j is feature buckets[j] of text rows[j]
    (repeats count). Sums per text are bincounts: sorting a batch's entries cost more than the rest."""

    count: int  # texts
    rows: np.ndarray  # int64
    buckets: np.ndarray  # int64

    def sizes(self) -> np.ndarray:
        return np.maximum(np.bincount(self.rows, minlength=self.count), 1)

    def select(self, indices: Sequence[int]) -> Features:
        """The features of these texts, in this order."""
        new = np.full(self.count, -1, dtype=np.int64)
        new[np.asarray(indices, dtype=np.int64)] = np.arange(len(indices))
        kept = new[self.rows] >= 0
        return Features(len(indices), new[self.rows[kept]], self.buckets[kept])


def _ngrams(texts: Sequence[str], longest: int, salt: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, bucket) of every character 1..longest-gram of each text, from the batch's code points."""
    joined = "\0".join(texts) + "\0"
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    ends = codes == 0
    row_of = np.concatenate([[0], np.cumsum(ends[:-1])]).astype(np.int64)
    rows, buckets = [], []
    hashed = np.zeros(len(codes), dtype=np.uint64)
    broken = np.zeros(len(codes), dtype=bool)  # a gram that crosses a text's end
    for n in range(1, longest + 1):
        size = len(codes) - n + 1
        hashed = hashed[:size] * np.uint64(1_000_003) + codes[n - 1 :] + np.uint64(salt * 7 + n)
        broken = broken[:size] | ends[n - 1 :]
        keep = ~broken
        rows.append(row_of[:size][keep])
        buckets.append(((hashed[keep] * _MULTIPLIER) >> _SHIFT).astype(np.int64) % BUCKETS)
    return np.concatenate(rows), np.concatenate(buckets)


def features(readings: Sequence[Reading], labels: Sequence[str], scores: Sequence[float]) -> Features:
    """The batch's features: text 1-3-grams, verdict-clause 1-2-grams, the rules' findings."""
    text_rows, text_buckets = _ngrams([r.text for r in readings], 3, _TEXT)
    clause_rows, clause_buckets = _ngrams([verdict_clause(r) for r in readings], 2, _VERDICT)
    named = [rule_tokens(r, label, s) for r, label, s in zip(readings, labels, scores)]
    token_rows = np.repeat(np.arange(len(named)), [len(t) for t in named])
    token_buckets = np.fromiter((_token_bucket(t) for found in named for t in found), dtype=np.int64)
    rows = np.concatenate([text_rows, clause_rows, token_rows]).astype(np.int64)
    return Features(len(readings), rows, np.concatenate([text_buckets, clause_buckets, token_buckets]))


@dataclass(frozen=True)
class PolarityModel:
    columns: np.ndarray  # the buckets with a weight
    weights: np.ndarray  # (3, len(columns)): pos, neu, neg
    bias: np.ndarray  # (3,)
    meta: dict[str, object]
    table: tuple[np.ndarray, ...] = field(init=False, repr=False, compare=False)  # per class, weight by bucket

    def __post_init__(self) -> None:
        # One contiguous float32 array per class: gathering from three 4 MB arrays is several times
        # faster than from one (BUCKETS, 3) float64 table.
        table = []
        for k in range(3):
            column = np.zeros(BUCKETS, dtype=np.float32)
            column[self.columns] = self.weights[k]
            table.append(column)
        object.__setattr__(self, "table", tuple(table))

    def probabilities(self, found: Features) -> np.ndarray:
        """P(pos, neu, neg) per text: the one-vs-rest scores' softmax."""
        if not found.count:
            return np.empty((0, 3))
        summed = np.column_stack(
            [np.bincount(found.rows, weights=t[found.buckets], minlength=found.count) for t in self.table]
        )
        scores = summed / np.sqrt(found.sizes())[:, None] + self.bias
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        meta = {**self.meta, "classes": list(POLARITIES), "buckets": BUCKETS}
        text = json.dumps(meta, ensure_ascii=False, indent=1) + "\n"
        (directory / "polarity.json").write_text(text, encoding="utf-8")
        np.savez_compressed(
            directory / "polarity.npz",
            columns=self.columns.astype(np.int32),
            weights=self.weights.astype(np.float32),
            bias=self.bias,
        )


def load(directory: Path) -> PolarityModel:
    meta = json.loads((directory / "polarity.json").read_text(encoding="utf-8"))
    with np.load(directory / "polarity.npz") as stored:
        columns, weights, bias = (
            stored["columns"].astype(np.int64),
            stored["weights"].astype(np.float64),
            stored["bias"],
        )
    return PolarityModel(columns, weights, bias, meta)


@lru_cache(maxsize=1)
def shipped_model() -> PolarityModel | None:
    """The shipped layer, loaded once per process; None without one (the rules alone read)."""
    return load(MODEL_DIR) if (MODEL_DIR / "polarity.json").exists() else None


def fit(found: Features, polarities: Sequence[str], meta: dict[str, object] | None = None) -> PolarityModel:
    """The layer on these rows (scikit-learn; counts scaled by 1/sqrt(features) as scoring does)."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    weight = 1.0 / np.sqrt(found.sizes())
    matrix = csr_matrix((weight[found.rows], (found.rows, found.buckets)), shape=(found.count, BUCKETS))
    matrix.sum_duplicates()
    used = np.unique(found.buckets)
    matrix = matrix[:, used]  # only the buckets some row has: a smaller problem, the same solution
    y = np.asarray(polarities)
    weights = np.zeros((3, len(used)))
    bias = np.full(3, -1e3)  # a class absent from the rows is never predicted
    for k, name in enumerate(POLARITIES):
        if not (y == name).any():
            continue
        one = LogisticRegression(
            C=C, class_weight="balanced", solver="liblinear", dual=True, max_iter=1000, random_state=SEED
        )
        one.fit(matrix, (y == name).astype(int))
        weights[k], bias[k] = one.coef_[0], one.intercept_[0]
    kept = np.flatnonzero(np.abs(weights).max(axis=0) >= 1e-4)  # a smaller file, the same scores to 1e-4
    info = {"rows": found.count, **{k: int((y == k).sum()) for k in POLARITIES}, **(meta or {})}
    return PolarityModel(used[kept], weights[:, kept], bias, info)


def relabel(
    readings: Sequence[Reading], labels: Sequence[str], scores: Sequence[float], model: PolarityModel | None = None
) -> list[Reading]:
    """Each short text's reading by the layer where it is confident (OVERRULE; the shipped layer
    unless one is given); the rules' otherwise. Long texts (SHORT_UNITS) keep the rules' reading:
    on the benchmark corpora's reviews the layer read long ones worse than the model does."""
    model = model or shipped_model()
    out = list(readings)
    chosen = [i for i, r in enumerate(readings) if r.parsed.short]
    if model is None or not chosen:
        return out
    found = model.probabilities(
        features([readings[i] for i in chosen], [labels[i] for i in chosen], [scores[i] for i in chosen])
    )
    for i, p in zip(chosen, found):
        k = int(p.argmax())
        reading = readings[i]
        if POLARITIES[k] != reading.polarity and p[k] >= OVERRULE:
            why = f"learned reading p={p[k]:.2f} (rules: {reading.polarity}, {reading.why})"
            out[i] = replace(reading, polarity=POLARITIES[k], why=why)
    return out
