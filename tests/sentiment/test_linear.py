"""The default model's fast scorer must compute exactly what sklearn computes."""

from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from sentiment.linear import LinearModel, gram_key, train_linear
from sentiment.model import PACKAGE_MODELS, load_model
from sentiment.text import to_simplified
from tests.sentiment.conftest import NEGATIVE, POSITIVE, tiny_corpus


def test_numpy_scoring_equals_sklearn() -> None:
    texts, labels = tiny_corpus()
    model = train_linear("t", texts, labels, synthetic=False, calibrate_folds=0, emoticon_weight=0.0)
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2)
    clf = LogisticRegression(C=1.0, max_iter=3000).fit(vec.fit_transform([to_simplified(t) for t in texts]), labels)
    probe = POSITIVE + NEGATIVE + ["", "  A  b\t\tC  ", "质量质量质量很好很好", "x", "全新的词汇完全没见过"]
    expected = clf.decision_function(vec.transform([to_simplified(t) for t in probe]))
    assert np.allclose(model.raw_logits(probe), expected, atol=1e-9)


def test_gram_keys_do_not_collide_across_lengths() -> None:
    assert gram_key("\u4e00") < 2**21 <= gram_key("aa") < 2**42 <= gram_key("aaa") < 2**63
    assert len({gram_key(g) for g in ["a", "ab", "abc", "b", "bc", "好", "好吃", "很好吃"]}) == 8


def test_save_load_roundtrip_and_reproducible_training(tmp_path: Path) -> None:
    texts, labels = tiny_corpus()
    first = train_linear("t", texts, labels, calibrate_folds=3)
    second = train_linear("t", texts, labels, calibrate_folds=3)
    first.save(tmp_path / "a")
    second.save(tmp_path / "b")
    assert (tmp_path / "a" / "weights.npz").read_bytes() == (tmp_path / "b" / "weights.npz").read_bytes()
    loaded = LinearModel.load(tmp_path / "a")
    assert loaded.version == first.version
    probe = ["质量很好", "太差了", "一般般吧"]
    assert np.allclose(loaded.score(probe), first.score(probe), atol=1e-5)


def test_shipped_default_separates_obvious_reviews() -> None:
    model = load_model("builtin")
    scores = model.score(
        [
            "质量非常好，物流很快，很满意",
            "太差了，用两天就坏了，退货",
            "送餐太慢，菜都凉了",
            "今天好开心[哈哈][爱你]",
            "又被放鸽子[泪][抓狂]",
        ]
    )
    assert scores[0] > 0.8 and scores[3] > 0.8
    assert scores[1] < 0.2 and scores[2] < 0.4 and scores[4] < 0.2
    # Traditional Chinese is converted, so it scores like its simplified form.
    trad, simp = model.score(["這個產品質量很差，客服態度也不好", "这个产品质量很差，客服态度也不好"])
    assert abs(trad - simp) < 1e-9


def test_batch_is_chunk_independent() -> None:
    model = LinearModel.load(PACKAGE_MODELS / "builtin")
    texts = (POSITIVE + NEGATIVE) * 7
    assert np.allclose(model.score(texts, chunk=9), model.score(texts), atol=1e-12)


def test_nb_weighting_folds_into_the_stored_weights() -> None:
    """NB-LR scales each normalised column by its log-count ratio; the scorer must give
    what sklearn gives on the scaled matrix, with no change to the scoring path."""
    from sentiment.linear import nb_log_count_ratio

    texts, labels = tiny_corpus()
    model = train_linear(
        "t", texts, labels, synthetic=False, calibrate_folds=0, emoticon_weight=0.0, lexicon_weight=0.0, nb_alpha=1.0
    )
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2)
    matrix = vec.fit_transform([to_simplified(t) for t in texts])
    ratio = nb_log_count_ratio(matrix, np.array(labels), 1.0)
    clf = LogisticRegression(C=1.0, max_iter=3000).fit(matrix.multiply(ratio[None, :]).tocsr(), labels)
    probe = POSITIVE + NEGATIVE + ["", "全新的词汇完全没见过", "质量很好但是物流太慢"]
    expected = clf.decision_function(vec.transform([to_simplified(t) for t in probe]).multiply(ratio[None, :]))
    assert np.allclose(model.raw_logits(probe), expected, atol=1e-9)
    # Negative-class grams get negative ratios: 差 is a negative word in the tiny corpus.
    assert ratio[vec.vocabulary_["差"]] < 0 < ratio[vec.vocabulary_["好"]]


def test_gapped_scoring_equals_sklearn_with_the_same_analyzer(tmp_path: Path) -> None:
    """A gapped model's numpy scorer must give sklearn's decision function with
    char_grams as the analyzer, and keep doing so after save/load."""
    from sentiment.linear import GAP, char_grams

    texts, labels = tiny_corpus()
    model = train_linear("t", texts, labels, synthetic=False, calibrate_folds=0, emoticon_weight=0.0, gapped=True)
    vec = TfidfVectorizer(analyzer=char_grams, sublinear_tf=True, min_df=2)
    clf = LogisticRegression(C=1.0, max_iter=3000).fit(vec.fit_transform([to_simplified(t) for t in texts]), labels)
    probe = (
        POSITIVE
        + NEGATIVE
        + ["", "ab", "  A  b\t\tC  ", "质量质量质量很好很好", "不太好", "好\x00差", "全新的词汇完全没见过"]
    )
    expected = clf.decision_function(vec.transform([to_simplified(t) for t in probe]))
    assert np.allclose(model.raw_logits(probe), expected, atol=1e-9)
    assert any(GAP in g for g in vec.vocabulary_)  # the gapped grams are really in the vocabulary
    assert gram_key("a" + GAP + "b") >= 2**42 and gram_key("a" + GAP + "b") not in {gram_key("ab"), gram_key("aab")}
    model.save(tmp_path / "g")
    loaded = LinearModel.load(tmp_path / "g")
    assert loaded.gapped and np.allclose(loaded.raw_logits(probe), expected, atol=1e-5)
    # Not gapped: the same texts give different log-odds (the extra grams are not looked up).
    plain = LinearModel(name="p", keys=loaded.keys, coef=loaded.coef, idf=loaded.idf, intercept=loaded.intercept)
    assert not np.allclose(plain.raw_logits(probe[:4]), expected[:4], atol=1e-5)


def test_nb_mix_is_the_average_of_the_plain_and_the_nb_model() -> None:
    """nb_mix folds two linear models on the same TF-IDF vector into one weight vector:
    the scorer must give the average of sklearn's two decision functions."""
    from sentiment.linear import nb_log_count_ratio

    texts, labels = tiny_corpus()
    model = train_linear(
        "t",
        texts,
        labels,
        synthetic=False,
        calibrate_folds=0,
        emoticon_weight=0.0,
        lexicon_weight=0.0,
        C=2.0,
        nb_mix=0.5,
        nb_mix_C=1.0,
    )
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2)
    matrix = vec.fit_transform([to_simplified(t) for t in texts])
    ratio = nb_log_count_ratio(matrix, np.array(labels), 1.0)
    plain = LogisticRegression(C=2.0, max_iter=3000).fit(matrix, labels)
    nb = LogisticRegression(C=1.0, max_iter=3000).fit(matrix.multiply(ratio[None, :]).tocsr(), labels)
    probe = POSITIVE + NEGATIVE + ["", "全新的词汇完全没见过", "质量很好但是物流太慢"]
    x = vec.transform([to_simplified(t) for t in probe])
    expected = 0.5 * plain.decision_function(x) + 0.5 * nb.decision_function(x.multiply(ratio[None, :]).tocsr())
    assert np.allclose(model.raw_logits(probe), expected, atol=1e-9)
    assert model.meta["nb_mix"] == 0.5
    with pytest.raises(ValueError):
        train_linear("t", texts, labels, nb_mix=0.5, nb_alpha=1.0)
