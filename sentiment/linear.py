"""The default model: character 1-3-gram TF-IDF + logistic regression, plus lexicon.

Training uses scikit-learn. Scoring does not: the fitted vocabulary is stored
as a dictionary gram -> (weight, idf) and a text's score is computed directly
(sublinear tf, idf, L2 norm, dot product - exactly sklearn's arithmetic), which
avoids building sparse matrices and is several times faster in batches.

The final log-odds are the Platt-calibrated n-gram log-odds (calibrated on
out-of-fold predictions of the training corpus) plus two lexicon terms: the
emoticons ([泪], [哈哈]), which the training corpus cannot teach (it has none),
and, fading with text length, the lexicon's word score (negation and degree
aware), which carries short texts in vocabulary the corpus lacks.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sentiment.lexicon import Lexicon, builtin_lexicon
from sentiment.text import to_simplified

_WS = re.compile(r"\s\s+")
NGRAM = (1, 3)
MIN_DF = 2
LEXICON_LENGTH_SCALE = 40.0


def synthetic_lexicon_examples(lexicon: Lexicon) -> tuple[list[str], list[int]]:
    """Short phrases made from the hand-written lexicon ("很好吃", "不新鲜"), so the
    n-gram model learns words its corpus lacks (food delivery, logistics)."""
    texts: list[str] = []
    labels: list[int] = []
    for word, weight in sorted(lexicon.polarity.items()):
        label = int(weight > 0)
        for template in ("{}", "很{}", "太{}", "真的{}", "{}！", "非常{}", "有点{}"):
            texts.append(template.format(word))
            labels.append(label)
        if weight > 0:
            for template in ("不{}", "不太{}", "没有{}", "一点也不{}"):
                texts.append(template.format(word))
                labels.append(0)
    return texts, labels


# A gapped bigram ("不_好": two characters one apart) is stored as the trigram
# "不\x00好". Texts never contain U+0000 (_prepare and char_grams remove it), so
# its key, (a << 42) | b, cannot be a real trigram's, and it is >= 2**42, so it
# cannot be a bigram's either.
GAP = "\x00"


def gram_key(gram: str) -> int:
    """An n-gram (n <= 3) as one integer: code points packed 21 bits apart. Unigrams
    are < 2**21, bigrams < 2**42, trigrams < 2**63 (no text has U+0000), so the
    three ranges never collide and no hashing is needed."""
    key = 0
    for char in gram:
        key = (key << 21) | ord(char)
    return key


# Fibonacci hashing's multiplier. It is odd, so multiplying by it (mod 2**64) maps int64 to int64
# one to one: scrambled keys are as unique as the keys, and a gram's position is unchanged.
_SCRAMBLE = np.uint64(0x9E3779B97F4A7C15)


def _scrambled(keys: np.ndarray) -> np.ndarray:
    """Gram keys multiplied by _SCRAMBLE. Packed code points are far from random (a CJK bigram is
    two 15-bit numbers 21 bits apart) and pandas' hash of an int64 keeps much of that structure:
    looking up a batch's scrambled keys took 11 us a text on 20,000 benchmark texts, the keys
    themselves 15 us."""
    with np.errstate(over="ignore"):
        return (keys.astype(np.int64).view(np.uint64) * _SCRAMBLE).view(np.int64)


def _prepare(simplified: str) -> str:
    # sklearn's char analyzer: lowercase, then collapse runs of whitespace to one space.
    return _WS.sub(" ", simplified.replace("\x00", "").lower())


def char_grams(text: str) -> list[str]:
    """The training analyzer of a gapped model: sklearn's char 1-3-grams plus gapped
    bigrams. The gapped ones let a negation reach over a character ("不太好" gives
    "不_好", "没吃到" gives "没_到") with one feature the corpus sees often enough."""
    t = _WS.sub(" ", text.replace(GAP, "").lower())
    grams = list(t)
    grams += [t[i : i + 2] for i in range(len(t) - 1)]
    grams += [t[i : i + 3] for i in range(len(t) - 2)]
    grams += [t[i] + GAP + t[i + 2] for i in range(len(t) - 2)]
    return grams


@dataclass
class LinearModel:
    name: str
    keys: np.ndarray  # sorted int64 gram keys
    coef: np.ndarray  # float64, per key
    idf: np.ndarray  # float64, per key
    intercept: float
    platt: tuple[float, float] = (1.0, 0.0)  # calibrated log-odds = a * raw + b
    emoticon_weight: float = 2.0
    neutral: tuple[float, float] = (0.4, 0.6)
    meta: dict[str, Any] = field(default_factory=dict)
    lexicon: Lexicon = field(default_factory=builtin_lexicon)
    # Lexicon word score, squashed (tanh(words / 3)), weighted by exp(-length / scale):
    # it helps short texts (a food-delivery review of ten characters) where the
    # n-gram model has little to go on, and stays out of long ones.
    lexicon_weight: float = 2.0
    lexicon_length_scale: float = LEXICON_LENGTH_SCALE
    gapped: bool = False  # the vocabulary also has gapped bigrams (char_grams)

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "dev"))

    def _index(self) -> Any:
        """The vocabulary's keys, scrambled (_scrambled), as a pandas Index: its hash table finds
        a gram's position (in self.keys' order) in one probe or so."""
        import pandas as pd

        cached = self.__dict__.get("_key_index")
        if cached is None:
            cached = self.__dict__["_key_index"] = pd.Index(_scrambled(self.keys))
        return cached

    def raw_logits(self, texts: Sequence[str]) -> np.ndarray:
        """sklearn's TfidfVectorizer(char, 1-3, sublinear_tf) + decision_function,
        computed for the whole batch at once with numpy (with char_grams as the
        analyzer when the model is gapped)."""
        return self._raw_logits([to_simplified(t) for t in texts])

    def _raw_logits(self, simplified: Sequence[str]) -> np.ndarray:
        """raw_logits of texts already simplified (sentiment.text.to_simplified)."""
        n_docs = len(simplified)
        if n_docs == 0:
            return np.zeros(0)
        prepared = [_prepare(t) for t in simplified]
        lengths = np.fromiter((len(t) for t in prepared), dtype=np.int64, count=n_docs)
        cps = np.frombuffer("".join(prepared).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        docs = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        all_keys = [cps]
        all_docs = [docs]
        for n in range(2, NGRAM[1] + 1):
            if len(cps) < n:
                break
            key = cps[: len(cps) - n + 1].copy()
            for offset in range(1, n):
                key = (key << 21) | cps[offset : len(cps) - n + 1 + offset]
            same_doc = docs[: len(cps) - n + 1] == docs[n - 1 :]
            all_keys.append(key[same_doc])
            all_docs.append(docs[: len(cps) - n + 1][same_doc])
        if self.gapped and len(cps) >= 3:
            key = (cps[:-2] << 42) | cps[2:]  # gram_key(a + GAP + b): the middle code point is 0
            same_doc = docs[:-2] == docs[2:]
            all_keys.append(key[same_doc])
            all_docs.append(docs[:-2][same_doc])
        keys = np.concatenate(all_keys)
        doc_of = np.concatenate(all_docs)
        # A hash lookup (pandas' khash index): 3x faster than searchsorted here,
        # whose binary search misses the cache on a 700k-entry vocabulary.
        pos = self._index().get_indexer(_scrambled(keys))
        known = pos >= 0
        index = pos[known]
        doc_of = doc_of[known]
        # Term frequency of each (document, gram): runs of a combined key once sorted. The keys come in
        # runs already ordered by document (one run per gram length), which a stable sort (timsort)
        # merges in about half the time np.unique's quicksort takes; the result is the same.
        combined = np.sort(doc_of * len(self.keys) + index, kind="stable")
        starts = np.flatnonzero(np.concatenate(([True], combined[1:] != combined[:-1])))
        pairs = combined[starts]
        tf = np.diff(np.append(starts, len(combined)))
        doc_u = pairs // len(self.keys)
        idx_u = pairs % len(self.keys)
        value = (1.0 + np.log(tf)) * self.idf[idx_u]
        dot = np.bincount(doc_u, weights=value * self.coef[idx_u], minlength=n_docs)
        norm = np.sqrt(np.bincount(doc_u, weights=value * value, minlength=n_docs))
        with np.errstate(invalid="ignore", divide="ignore"):
            raw = np.where(norm > 0, dot / np.where(norm > 0, norm, 1.0), 0.0)
        return raw + self.intercept

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        a, b = self.platt
        simplified = [to_simplified(t) for t in texts]  # once for the n-grams and the lexicon
        z = a * self._raw_logits(simplified) + b
        if not (self.emoticon_weight or self.lexicon_weight):
            return z
        score = self.lexicon.score
        for i, text in enumerate(texts):
            # Beyond 8 length scales the word term is below 0.1% of its weight: skip the work.
            short = self.lexicon_weight and len(text) < 8 * self.lexicon_length_scale
            if short or (self.emoticon_weight and "[" in text):
                lex = score(simplified[i])
                z[i] += self.emoticon_weight * lex.emoticons
                if short and lex.words:
                    z[i] += (
                        self.lexicon_weight
                        * math.tanh(lex.words / 3.0)
                        * math.exp(-len(text) / self.lexicon_length_scale)
                    )
        return z

    def score(self, texts: Sequence[str], chunk: int = 5000) -> np.ndarray:
        parts = [self.logits(texts[i : i + chunk]) for i in range(0, len(texts), chunk)]
        z = np.concatenate(parts) if parts else np.zeros(0)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))

    # ------------------------------------------------------------------ files
    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer, keys=self.keys.astype(np.int64), coef=self.coef.astype(np.float32), idf=self.idf.astype(np.float32)
        )
        payload = buffer.getvalue()
        meta = dict(self.meta)
        if self.gapped:  # recorded only when set, so older models' model.json is unchanged
            meta["gapped"] = True
        meta.update(
            name=self.name,
            kind="linear",
            intercept=self.intercept,
            platt=list(self.platt),
            emoticon_weight=self.emoticon_weight,
            lexicon_weight=self.lexicon_weight,
            lexicon_length_scale=self.lexicon_length_scale,
            neutral=list(self.neutral),
            version=hashlib.sha256(
                payload
                + repr(
                    (self.intercept, self.platt, self.emoticon_weight, self.lexicon_weight, self.lexicon_length_scale)
                ).encode()
            ).hexdigest()[:12],
        )
        self.meta = meta
        (directory / "weights.npz").write_bytes(payload)
        (directory / "model.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: Path) -> LinearModel:
        meta = json.loads((directory / "model.json").read_text(encoding="utf-8"))
        with np.load(directory / "weights.npz") as data:
            keys = data["keys"].astype(np.int64)
            coef = data["coef"].astype(np.float64)
            idf = data["idf"].astype(np.float64)
        return cls(
            name=meta["name"],
            keys=keys,
            coef=coef,
            idf=idf,
            intercept=float(meta["intercept"]),
            platt=(float(meta["platt"][0]), float(meta["platt"][1])),
            emoticon_weight=float(meta.get("emoticon_weight", 0.0)),
            lexicon_weight=float(meta.get("lexicon_weight", 0.0)),
            lexicon_length_scale=float(meta.get("lexicon_length_scale", LEXICON_LENGTH_SCALE)),
            neutral=(float(meta["neutral"][0]), float(meta["neutral"][1])),
            meta=meta,
            gapped=bool(meta.get("gapped", False)),
            lexicon=builtin_lexicon(domain=bool(meta.get("domain_lexicon", False))),
        )


def lexicon_terms(lexicon: Lexicon, text: str, length_scale: float) -> tuple[float, float]:
    """(emoticon sum, faded word term) of one text, as LinearModel.logits adds them."""
    lex = lexicon.score(text)
    fade = math.exp(-len(text) / length_scale) if len(text) < 8 * length_scale else 0.0
    return lex.emoticons, math.tanh(lex.words / 3.0) * fade


def nb_log_count_ratio(matrix: Any, y: np.ndarray, alpha: float, sample_weight: np.ndarray | None = None) -> np.ndarray:
    """log((p / |p|) / (q / |q|)) over binarised features, p and q smoothed by alpha
    (with sample_weight, a row counts that much)."""
    present = (matrix > 0).astype(np.float64)
    if sample_weight is not None:
        present = present.multiply(sample_weight[:, None]).tocsr()
    p = alpha + np.asarray(present[y == 1].sum(axis=0)).ravel()
    q = alpha + np.asarray(present[y == 0].sum(axis=0)).ravel()
    return np.log((p / p.sum()) / (q / q.sum()))


def tfidf_vectorizer(gapped: bool = False) -> Any:
    """The features LinearModel scores: sklearn's char 1-3-gram TF-IDF (sublinear tf),
    with char_grams as the analyzer for a gapped model."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if gapped:
        return TfidfVectorizer(analyzer=char_grams, sublinear_tf=True, min_df=MIN_DF, dtype=np.float64)
    return TfidfVectorizer(analyzer="char", ngram_range=NGRAM, sublinear_tf=True, min_df=MIN_DF, dtype=np.float64)


def train_linear(
    name: str,
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    C: float = 1.0,
    synthetic: bool = True,
    emoticon_weight: float = 2.0,
    lexicon_weight: float = 2.0,
    lexicon_length_scale: float = LEXICON_LENGTH_SCALE,
    calibrate_folds: int = 5,
    neutral: tuple[float, float] = (0.4, 0.6),
    seed: int = 0,
    nb_alpha: float = 0.0,
    gapped: bool = False,
    domain_lexicon: bool = False,
    nb_mix: float = 0.0,
    nb_mix_C: float = 1.0,
    synthetic_copies: int = 3,
    sample_weight: Sequence[float] | None = None,
    meta: dict[str, Any] | None = None,
) -> LinearModel:
    """Fit the model. Deterministic for the same inputs (liblinear-free lbfgs, fixed folds).

    nb_alpha > 0: NB-LR feature weighting, a recipe for models of the user's own labels
    (train.RECIPES), which learn their Platt scale and lexicon weights themselves.
    gapped: char_grams features; domain_lexicon: builtin_lexicon(domain=True) for the
    synthetic phrases and the lexicon term; nb_mix > 0: the average, with that weight
    on the second, of the plain model and an NB-LR model (alpha 1, C = nb_mix_C) on
    the same features. Both models are linear in the same TF-IDF vector, so their
    average is one weight vector and scoring is unchanged. These are the shipped
    default's (train.BUILTIN_OPTIONS). sample_weight: one per text, how much a row
    counts in the fits, the NB ratios and the calibration (synthetic phrases count 1;
    document frequencies are not weighted)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    if nb_mix and nb_alpha:
        raise ValueError("nb_mix averages a plain and an NB-LR model; it cannot be combined with nb_alpha")
    lexicon = builtin_lexicon(domain=domain_lexicon)
    train_texts = [to_simplified(t) for t in texts]
    train_labels = list(labels)
    if synthetic:
        syn_texts, syn_labels = synthetic_lexicon_examples(lexicon)
        # Three copies by default: enough to register against a corpus of tens of thousands.
        train_texts += syn_texts * synthetic_copies
        train_labels += syn_labels * synthetic_copies
    y = np.array(train_labels)
    weight: np.ndarray | None = None
    fit_kw: dict[str, Any] = {}
    if sample_weight is not None:
        if len(sample_weight) != len(texts):
            raise ValueError(f"sample_weight has {len(sample_weight)} values for {len(texts)} texts")
        weight = np.ones(len(y))
        weight[: len(texts)] = np.asarray(sample_weight, dtype=np.float64)
        fit_kw = {"sample_weight": weight}
    vectorizer = tfidf_vectorizer(gapped)
    matrix = vectorizer.fit_transform(train_texts)
    ratio = nb_log_count_ratio(matrix, y, nb_alpha, weight) if nb_alpha > 0 else None
    if ratio is not None:
        # NB-LR (Wang & Manning 2012): each normalised TF-IDF column scaled by its
        # log-count ratio. Scaling after the L2 norm means w . (x * r) = (w * r) . x,
        # so the stored weights are w * r and the scorer is unchanged.
        matrix = matrix.multiply(ratio[None, :]).tocsr()
    mix_ratio = nb_log_count_ratio(matrix, y, 1.0, weight) if nb_mix > 0 else None
    mix_matrix = matrix.multiply(mix_ratio[None, :]).tocsr() if mix_ratio is not None else None
    mix_classifier = LogisticRegression(C=nb_mix_C, max_iter=3000)
    classifier = LogisticRegression(C=C, max_iter=3000)
    platt = (1.0, 0.0)
    if calibrate_folds >= 2 and min(np.bincount(y)) >= calibrate_folds:
        folds = StratifiedKFold(n_splits=calibrate_folds, shuffle=True, random_state=seed)
        oof = cross_val_predict(classifier, matrix, y, cv=folds, method="decision_function", params=fit_kw)
        if mix_matrix is not None:  # the same folds (fixed seed): the averaged model's out-of-fold log-odds
            oof = (1.0 - nb_mix) * oof + nb_mix * cross_val_predict(
                mix_classifier, mix_matrix, y, cv=folds, method="decision_function", params=fit_kw
            )
        calibrator = LogisticRegression(C=1e6, max_iter=1000).fit(oof[:, None], y, **fit_kw)
        platt = (float(calibrator.coef_[0, 0]), float(calibrator.intercept_[0]))
    classifier.fit(matrix, y, **fit_kw)
    weights = classifier.coef_[0]
    intercept = float(classifier.intercept_[0])
    if mix_matrix is not None and mix_ratio is not None:
        mix_classifier.fit(mix_matrix, y, **fit_kw)
        weights = (1.0 - nb_mix) * weights + nb_mix * mix_classifier.coef_[0] * mix_ratio
        intercept = (1.0 - nb_mix) * intercept + nb_mix * float(mix_classifier.intercept_[0])
    grams = sorted(vectorizer.vocabulary_, key=gram_key)
    columns = np.array([vectorizer.vocabulary_[g] for g in grams], dtype=np.int64)
    keys = np.array([gram_key(g) for g in grams], dtype=np.int64)
    coef = weights[columns]
    if ratio is not None:
        coef = coef * ratio[columns]
    idf = vectorizer.idf_[columns]
    info = dict(meta or {})
    info.update(
        n_train=len(texts),
        n_synthetic=len(train_texts) - len(texts),
        C=C,
        ngram=list(NGRAM),
        min_df=MIN_DF,
        vocabulary=len(grams),
    )
    # Recorded only when used, so the shipped default's model.json is unchanged.
    if nb_alpha > 0:
        info["nb_alpha"] = nb_alpha
    if gapped:
        info["gapped"] = True
    if domain_lexicon:
        info["domain_lexicon"] = True
    if nb_mix > 0:
        info.update(nb_mix=nb_mix, nb_mix_C=nb_mix_C)
    return LinearModel(
        name=name,
        keys=keys,
        coef=coef,
        idf=idf,
        intercept=intercept,
        platt=platt,
        emoticon_weight=emoticon_weight,
        lexicon_weight=lexicon_weight,
        lexicon_length_scale=lexicon_length_scale,
        neutral=neutral,
        meta=info,
        lexicon=lexicon,
        gapped=gapped,
    )
