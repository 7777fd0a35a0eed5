"""Training the learned triage layer (sentiment/triage_model.py) with scikit-learn.

Rows: the team's suites (sentiment/corpora/triage_*.tsv) and the duty managers' stored tier
corrections (`koubei label --tier`). First the learned reading (sentiment/triage_polarity.py) on
the suites' expected polarity, its features from the rules alone; then each row is read by the
rules with that reading (sentiment.analysis.rule_triage), so the crisis and tier models' features
hold what the rules found as the product finds it. `koubei train-triage` writes the
shipped model; evaluation/triage.py cross-validates the same fit by domain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment.analysis import Ruled, rule_triage
from sentiment.aspects import AspectTagger
from sentiment.model import Scorer
from sentiment.triage_model import TriageModel, anchors, tokens_of
from sentiment.triage_polarity import Features, PolarityModel
from sentiment.triage_polarity import features as reading_features
from sentiment.triage_polarity import fit as fit_polarity

C_CRISIS = 4.0  # inverse regularisation of the crisis model (few rows, many n-grams: fairly strong)
C_TIER = 4.0
SEED = 20261207


@dataclass(frozen=True)
class Example:
    text: str
    reach: int
    tier: int
    group: str  # the domain of a suite row, "corrections" for a stored correction
    polarity: str = ""  # the expected polarity of a suite row ("" for a correction: it gives a tier)


def rule_pass(
    scorer: Scorer, tagger: AspectTagger, examples: Sequence[Example], learned_reading: PolarityModel | bool = True
) -> tuple[Ruled, list[set[str]]]:
    """The rules' triage of every example (their reading backed by this polarity layer, the
    shipped one, or none), and each example's feature tokens."""
    ruled = rule_triage(
        scorer, tagger, [e.text for e in examples], reaches=[e.reach for e in examples], learned_reading=learned_reading
    )
    return ruled, layer_tokens(ruled)


def layer_tokens(ruled: Ruled) -> list[set[str]]:
    """Each text's features for the crisis and tier models."""
    return [
        tokens_of(reading, result, label, score, anchors().find(reading))
        for reading, result, label, score in zip(ruled.readings, ruled.triages, ruled.labels, ruled.scores)
    ]


def reading_pass(scorer: Scorer, tagger: AspectTagger, examples: Sequence[Example]) -> tuple[Ruled, Features]:
    """The rules alone (no learned reading), and the examples' features for the polarity layer."""
    ruled = rule_triage(
        scorer, tagger, [e.text for e in examples], reaches=[e.reach for e in examples], learned_reading=False
    )
    return ruled, reading_features(ruled.readings, ruled.labels, ruled.scores)


def fit(token_sets: Sequence[set[str]], tiers: Sequence[int], meta: dict[str, object] | None = None) -> TriageModel:
    """The crisis and tier models on these rows (binary features, L2-normalised as scoring does)."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    vocabulary: dict[str, int] = {}
    rows, columns, values = [], [], []
    for row, tokens in enumerate(token_sets):
        weight = 1.0 / np.sqrt(max(len(tokens), 1))
        for token in tokens:
            rows.append(row)
            columns.append(vocabulary.setdefault(token, len(vocabulary)))
            values.append(weight)
    matrix = csr_matrix((values, (rows, columns)), shape=(len(token_sets), len(vocabulary)))
    y = np.asarray(tiers)
    crisis = LogisticRegression(C=C_CRISIS, class_weight="balanced", solver="liblinear", random_state=SEED)
    crisis.fit(matrix, (y == 5).astype(int))
    tier = OneVsRestClassifier(
        LogisticRegression(C=C_TIER, class_weight="balanced", solver="liblinear", random_state=SEED)
    )
    tier.fit(matrix, y)
    weights = np.zeros((6, len(vocabulary)))
    bias = np.full(6, -1e3)  # a tier absent from the rows is never predicted
    weights[0], bias[0] = crisis.coef_[0], crisis.intercept_[0]
    for k, label in enumerate(tier.classes_):  # one binary model per tier; scoring takes their softmax
        one = tier.estimators_[k]
        weights[int(label)], bias[int(label)] = one.coef_[0], one.intercept_[0]
    kept = np.flatnonzero(np.abs(weights).max(axis=0) >= 1e-4)  # a smaller file, the same scores to 1e-4
    order = sorted(vocabulary, key=vocabulary.__getitem__)
    vocabulary = {order[c]: i for i, c in enumerate(kept)}
    info = {"rows": len(token_sets), "tiers": {str(t): int((y == t).sum()) for t in range(1, 6)}, **(meta or {})}
    return TriageModel(vocabulary, weights[:, kept], bias, info)


def suite_examples() -> list[Example]:
    from evaluation.triage import load_suite, suite_paths

    return [Example(c.text, 0, c.tier, c.domain, c.polarity) for path in suite_paths() for c in load_suite(path)]


WRITTEN_ROWS = 1000  # everyday written reviews among the polarity rows (see written_examples)


def written_examples(rows: int = WRITTEN_ROWS) -> list[Example]:
    """Every n-th of the project's written everyday reviews (sentiment/corpora/written.tsv) as
    polarity rows: they teach the learned reading that on ordinary text the rules are mostly right.
    Measured on the held-out suites (hard pos/neg, the reading alone; rules 0.897) and 4,000
    benchmark test rows (rules 0.898), argmax on short texts: none 0.915 / 0.876, 1,000 0.904 / 0.896,
    3,000 0.891 / 0.903, all 14,000 0.869 / 0.906. No tier: never a row of the tier layer."""
    from sentiment.corpus import written_corpus

    texts, labels = written_corpus()
    step = max(1, len(texts) // rows)
    chosen = list(zip(texts, labels))[::step][:rows]
    return [Example(t, 0, 0, "written", "pos" if label else "neg") for t, label in chosen]


def train_triage(
    scorer: Scorer, tagger: AspectTagger, corrections: Sequence[tuple[str, int, int]], output: Path
) -> TriageModel:
    """The layer on every suite row and every stored correction (text, reach, tier), written to `output`."""
    examples = suite_examples()
    written = written_examples()
    _, found = reading_pass(scorer, tagger, examples + written)
    polarities = [e.polarity for e in examples + written]
    reading = fit_polarity(found, polarities, {"written": len(written), "seed": SEED})
    reading.save(output)
    examples += [Example(t, r, tier, "corrections") for t, r, tier in corrections]
    _, tokens = rule_pass(scorer, tagger, examples, learned_reading=reading)
    model = fit(tokens, [e.tier for e in examples], {"corrections": len(corrections), "seed": SEED})
    model.save(output)
    return model
