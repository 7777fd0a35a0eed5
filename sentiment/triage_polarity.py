"""The learned reading: a clause-aware polarity model that backs triage's rules on hard sentences.

The rules of sentiment/reading.py decide negation, contrast and sarcasm from the words they were
written from; on reviews written later they miss world-knowledge sarcasm ("感谢快递让我的包裹免费环游
世界") and read praise as a complaint when a negated flaw stands in it. This layer is a logistic
regression (pos | neu | neg, one-vs-rest) over:
  - character 1-3-grams of the whole normalised text;
  - character 1-2-grams of its verdict clause (the clauses from the last turn on, a long text's
    summing-up, else its last clause), marked apart so what follows "但" weighs on its own
    (its 3-grams added nothing on the held-out suites);
  - the rules' findings as tokens: their reading and why, the model's label and score band, a
    turn, a question, a negator.
The layer decides the reading of every text (its argmax); the rules' reading is one of its
features, so it keeps the rules' decisions it has no reason to doubt. Measured by leaving each
fresh and hold-out suite out in turn (`koubei eval triage --cross`), it reads the hard categories
right where the rules miss (most fixes are texts the rules leave to the char model). Triage then
runs on this reading, so a text read as a complaint gets a complaint's tier and a text read as
praise keeps the praise guard.
The weights live in sentiment/models/triage/polarity.json and polarity.npz, written by
`koubei train-triage` with the crisis and tier layer; scoring needs numpy only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from sentiment.reading import Reading

POLARITIES = ("pos", "neu", "neg")
MODEL_DIR = Path(__file__).resolve().parent / "models" / "triage"
# Inverse regularisation: on the held-out suites hard pos/neg accuracy rose with C (1: 0.902, 4: 0.916,
# 16: 0.923, 32: 0.929, 100: 0.933); 32 is chosen short of the largest, as that choice is itself tuned there.
C = 32.0
SEED = 20261207
_CLAUSE_ENDS = "，。！？；,.!?;~～\n…"
_LAST_CLAUSE = re.compile(f"[^{_CLAUSE_ENDS}]+$")
_NEGATOR = re.compile(r"[不没無无未別别]|\b(?:no|not|never|n't)\b")
_LATIN = re.compile(r"[a-z]{2}")


def verdict_clause(reading: Reading) -> str:
    """Where a text's verdict sits: after its last turn, in a long text's summing-up, else its last clause."""
    parsed = reading.parsed
    told = parsed.turn_text()
    if told:
        return told
    text = parsed.text.rstrip().rstrip(_CLAUSE_ENDS)
    last = _LAST_CLAUSE.search(text)
    return last.group() if last else text


def _grams(text: str, mark: str, longest: int) -> set[str]:
    text = " ".join(text.split())
    return {mark + text[i : i + n] for n in range(1, longest + 1) for i in range(len(text) - n + 1)}


def tokens(reading: Reading, label: str, score: float) -> set[str]:
    """The features of one text (rule tokens start with §, verdict-clause n-grams with |)."""
    text = reading.text
    found = {
        f"§rule:{reading.polarity}",
        f"§why:{reading.why.split(':')[0].split(' (')[0]}",
        f"§model:{label}",
        f"§score:{min(int(score * 5), 4)}",
        f"§rule-model:{reading.polarity}:{label}",
    }
    if reading.parsed.turn_text():
        found.add("§turn")
    if reading.asks:
        found.add("§asks")
    if _NEGATOR.search(text):
        found.add("§negator")
    if _LATIN.search(text):
        found.add("§latin")
    return found | _grams(text, "", 3) | _grams(verdict_clause(reading), "|", 2)


@dataclass(frozen=True)
class PolarityModel:
    vocabulary: dict[str, int]
    weights: np.ndarray  # (3, n): pos, neu, neg
    bias: np.ndarray  # (3,)
    meta: dict[str, object]
    table: np.ndarray = field(init=False, repr=False, compare=False)  # weights by feature (n + 1, 3), last row 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", np.vstack([self.weights.T, np.zeros((1, 3))]))

    def probabilities(self, token_sets: Sequence[set[str]]) -> np.ndarray:
        """P(pos, neu, neg) per text: the one-vs-rest scores' softmax. One gather and one
        reduceat for the batch (a numpy call per text cost more than the sums)."""
        if not token_sets:
            return np.empty((0, 3))
        get, empty = self.vocabulary.get, len(self.vocabulary)  # column `empty` is zeros: no text is left without one
        columns: list[int] = []
        starts: list[int] = []
        sizes: list[int] = []
        for found in token_sets:
            starts.append(len(columns))
            columns.append(empty)
            columns.extend(c for c in map(get, found) if c is not None)
            sizes.append(max(len(found), 1))
        summed = np.add.reduceat(self.table[columns], starts, axis=0)
        scores = summed / np.sqrt(np.asarray(sizes, dtype=float))[:, None] + self.bias
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        order = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        meta = {**self.meta, "classes": list(POLARITIES), "vocabulary": order}
        text = json.dumps(meta, ensure_ascii=False, indent=0) + "\n"
        (directory / "polarity.json").write_text(text, encoding="utf-8")
        np.savez_compressed(directory / "polarity.npz", weights=self.weights.astype(np.float32), bias=self.bias)


def load(directory: Path) -> PolarityModel:
    meta = json.loads((directory / "polarity.json").read_text(encoding="utf-8"))
    order = meta.pop("vocabulary")
    with np.load(directory / "polarity.npz") as stored:
        weights, bias = stored["weights"].astype(np.float64), stored["bias"]
    return PolarityModel({t: i for i, t in enumerate(order)}, weights, bias, meta)


@lru_cache(maxsize=1)
def shipped_model() -> PolarityModel | None:
    """The shipped layer, loaded once per process; None without one (the rules alone read)."""
    return load(MODEL_DIR) if (MODEL_DIR / "polarity.json").exists() else None


def fit(token_sets: Sequence[set[str]], polarities: Sequence[str], meta: dict[str, object] | None = None) -> PolarityModel:
    """The layer on these rows (scikit-learn; binary features L2-normalised as scoring does)."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    vocabulary: dict[str, int] = {}
    rows, columns, values = [], [], []
    for row, found in enumerate(token_sets):
        weight = 1.0 / np.sqrt(max(len(found), 1))
        for token in sorted(found):  # sorted: the same columns, so the same file, on every run
            rows.append(row)
            columns.append(vocabulary.setdefault(token, len(vocabulary)))
            values.append(weight)
    matrix = csr_matrix((values, (rows, columns)), shape=(len(token_sets), len(vocabulary)))
    y = np.asarray(polarities)
    weights = np.zeros((3, len(vocabulary)))
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
    order = sorted(vocabulary, key=vocabulary.__getitem__)
    info = {"rows": len(token_sets), **{k: int((y == k).sum()) for k in POLARITIES}, **(meta or {})}
    return PolarityModel({order[c]: i for i, c in enumerate(kept)}, weights[:, kept], bias, info)


C = 4.0
SEED = 20261207


def relabel(
    readings: Sequence[Reading], labels: Sequence[str], scores: Sequence[float], model: PolarityModel | None = None
) -> list[Reading]:
    """Each text's reading by the layer (the shipped one unless one is given); the rules' where
    there is no layer or the layer agrees."""
    model = model or shipped_model()
    if model is None or not readings:
        return list(readings)
    found = model.probabilities([tokens(r, label, score) for r, label, score in zip(readings, labels, scores)])
    out = []
    for reading, p in zip(readings, found):
        polarity = POLARITIES[int(np.argmax(p))]
        if polarity != reading.polarity:
            why = f"learned reading p={p.max():.2f} (rules: {reading.polarity}, {reading.why})"
            reading = replace(reading, polarity=polarity, why=why)
        out.append(reading)
    return out
