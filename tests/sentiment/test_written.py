"""koubei's written review corpus: its file format, its leakage guard against the
benchmark corpora, and how its rows are weighted in training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from evaluation.sentiment import DATASETS, load_split
from sentiment.corpus import (
    WRITTEN_CORPUS,
    CorpusFileError,
    check_overlap,
    read_written,
    text_key,
    written_corpus,
)
from sentiment.linear import nb_log_count_ratio, train_linear
from sentiment.model import PACKAGE_MODELS
from sentiment.text import to_simplified
from sentiment.train import WRITTEN_WEIGHT
from tests.sentiment.conftest import NEGATIVE, POSITIVE, tiny_corpus


def _benchmark_texts(shared_dir: Path) -> list[str]:
    texts: list[str] = []
    for name in DATASETS:
        train, test = load_split(shared_dir / "datasets" / "sentiment", name)
        texts += [t for t, _ in train + test]
    return texts


def test_shipped_written_corpus_has_no_copy_of_any_benchmark_row(shared_dir: Path) -> None:
    """The leakage guard: no written review equals or nearly copies a row of the four
    benchmark corpora, train or test (5-gram containment, a shared 12-character run)."""
    rows = read_written()
    found = check_overlap([text for _, _, text in rows], _benchmark_texts(shared_dir))
    assert not found, [(rows[i][2], reason, ref[:80]) for i, (reason, ref) in list(found.items())[:10]]


def test_written_corpus_file_is_well_formed() -> None:
    rows = read_written()
    texts, labels = written_corpus()
    assert len(texts) == len(labels) == len(rows) > 0
    assert set(labels) <= {0, 1}
    assert len({text_key(t) for t in texts}) == len(texts)
    header = [line for line in WRITTEN_CORPUS.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    assert any("written for koubei" in line for line in header)  # the provenance note stays with the rows
    one = sorted({source for _, source, _ in rows})[0]
    assert written_corpus({one})[0] == [text for _, source, text in rows if source == one]


def test_overlap_check_catches_copies_of_real_benchmark_rows(shared_dir: Path) -> None:
    """The guard must fire on copies that differ only in punctuation, spacing, script or
    a little editing, and stay quiet on unrelated text."""
    long_rows = [t for t in _benchmark_texts(shared_dir)[:4000] if 40 <= len(t) <= 200][:3]
    short_row = next(t for t in _benchmark_texts(shared_dir) if 6 <= len(t.strip()) <= 10)
    a, b, c = long_rows
    candidates = [
        a.strip() + "！！",  # 0: punctuation added
        " ".join(short_row),  # 1: spaced out
        b[: len(b) // 2 + 8] + "，总之还行",  # 2: first half kept, ending changed
        "开头是我自己写的一句话，" + c[10:30] + "，结尾也是我自己写的",  # 3: a 20-character run copied
        "这是一条与任何评论都无关的测试句子，说的是天气和猫",  # 4: unrelated
    ]
    found = check_overlap(candidates, [a, short_row, b, c])
    assert set(found) == {0, 1, 2, 3}
    assert found[0][0] == "exact" and found[1][0] == "exact" and found[3][0] == "substring"


def test_written_file_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "w.tsv"
    path.write_text("# header\n1\thotel_a\t房间干净\n2\thotel_a\t还行\n", encoding="utf-8")
    with pytest.raises(CorpusFileError, match=r"w.tsv: line 3, field label"):
        read_written(path)
    path.write_text("1\thotel_a\t房间干净\n0\thotel_b\t房间干净\n", encoding="utf-8")
    with pytest.raises(CorpusFileError, match="line 2: same text as line 1"):
        read_written(path)
    path.write_text("1\t房间干净\n", encoding="utf-8")
    with pytest.raises(CorpusFileError, match="line 1: expected label<TAB>source<TAB>text"):
        read_written(path)


def test_sample_weight_is_sklearns_weighted_fit() -> None:
    """sample_weight weights the fit and the NB ratios; document frequencies are not weighted."""
    texts, labels = tiny_corpus(copies=2)
    weight = np.where(np.arange(len(texts)) % 3 == 0, 3.0, 0.5)
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
        sample_weight=weight.tolist(),
    )
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2)
    matrix = vec.fit_transform([to_simplified(t) for t in texts])
    y = np.array(labels)
    ratio = nb_log_count_ratio(matrix, y, 1.0, weight)
    plain = LogisticRegression(C=2.0, max_iter=3000).fit(matrix, y, sample_weight=weight)
    nb = LogisticRegression(C=1.0, max_iter=3000).fit(matrix.multiply(ratio[None, :]).tocsr(), y, sample_weight=weight)
    probe = POSITIVE + NEGATIVE + ["", "质量很好但是物流太慢"]
    x = vec.transform([to_simplified(t) for t in probe])
    expected = 0.5 * plain.decision_function(x) + 0.5 * nb.decision_function(x.multiply(ratio[None, :]).tocsr())
    assert np.allclose(model.raw_logits(probe), expected, atol=1e-9)
    unweighted = train_linear("t", texts, labels, synthetic=False, calibrate_folds=0, C=2.0, nb_mix=0.5)
    assert not np.allclose(unweighted.raw_logits(probe), expected, atol=1e-3)
    with pytest.raises(ValueError, match="sample_weight"):
        train_linear("t", texts, labels, sample_weight=[1.0])


def test_shipped_default_lists_the_written_rows_it_was_trained_on() -> None:
    """The harness leaves out test rows the model saw: the shipped default is trained
    with the written rows, and their keys are in its training_keys.txt."""
    meta = json.loads((PACKAGE_MODELS / "builtin" / "model.json").read_text(encoding="utf-8"))
    assert meta["corpus"] == "builtin+written" and meta["written_weight"] == WRITTEN_WEIGHT
    keys = set((PACKAGE_MODELS / "builtin" / "training_keys.txt").read_text(encoding="utf-8").split())
    texts, _ = written_corpus(meta.get("written_sources"))
    assert len(texts) == meta["n_written"] > 0
    assert {text_key(t) for t in texts} == keys
