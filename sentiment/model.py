"""Models behind one interface, and how koubei.toml picks one.

Every model scores a batch of texts to P(positive) in [0, 1] and has a neutral
band: scores inside [low, high] are labelled neu. `Scorer` routes each text by
language: English to VADER, Chinese (traditional converted) to the configured
Chinese model.

Names: "builtin" (default, sentiment/models/builtin, rebuilt by
`koubei train --corpus builtin`), "snownlp" (as shipped), or the name of a
model trained by `koubei train --labels` under data/models/NAME.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from koubei.errors import ConfigError
from koubei.settings.sections import SentimentTable
from sentiment.reading import has_verdict
from sentiment.text import detect_languages, to_simplified

if TYPE_CHECKING:
    from koubei.config import Settings

PACKAGE_MODELS = Path(__file__).resolve().parent / "models"
USER_MODELS = Path("data/models")
DEFAULT_MODEL = "builtin"


class SentimentModel(Protocol):
    name: str
    neutral: tuple[float, float]

    @property
    def version(self) -> str: ...

    def score(self, texts: Sequence[str]) -> np.ndarray: ...


def label_of(score: float, neutral: tuple[float, float], verdict: bool = True) -> str:
    """pos/neu/neg from a score and the neutral band. A text without a verdict (a question,
    a request, a short plain statement: sentiment.reading.has_verdict) is neutral whatever
    its score: the char model scores "请问有停车场吗" 0.01 for no reason a reader would see."""
    if not verdict:
        return "neu"
    low, high = neutral
    if score < low:
        return "neg"
    if score > high:
        return "pos"
    return "neu"


# ---------------------------------------------------------------- snownlp
def _snow_scores(texts: Sequence[str]) -> list[float]:
    from snownlp import SnowNLP

    return [float(SnowNLP(t).sentiments) if t.strip() else 0.5 for t in texts]


class SnowNLPModel:
    """snownlp's naive Bayes as shipped. Its segmenter makes it slow (~200 texts/s
    a core), so large batches are split over worker processes; each chunk is
    scored by the same deterministic code, so results equal the serial ones."""

    name = "snownlp"
    # snownlp's 0.5 is badly calibrated (README of the datasets); its band is wide.
    neutral = (0.35, 0.65)

    def __init__(self, workers: int | None = None, parallel_min: int = 400) -> None:
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self.parallel_min = parallel_min

    @property
    def version(self) -> str:
        from importlib.metadata import version

        return version("snownlp")

    def score(self, texts: Sequence[str]) -> np.ndarray:
        texts = [to_simplified(t) for t in texts]
        import snownlp  # noqa: F401  - imported before forking so workers share it

        # Inside a scoring worker (sentiment/pipeline.py) the cores are already busy, and a
        # pool's worker may not start processes of its own.
        if self.workers <= 1 or len(texts) < self.parallel_min or multiprocessing.current_process().daemon:
            return np.array(_snow_scores(texts), dtype=np.float64)
        chunk = max(50, len(texts) // (self.workers * 4))
        chunks = [texts[i : i + chunk] for i in range(0, len(texts), chunk)]
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(self.workers) as pool:
            parts = pool.map(_snow_scores, chunks)  # map keeps chunk order
        return np.array([s for part in parts for s in part], dtype=np.float64)


# ---------------------------------------------------------------- English
class VaderModel:
    """VADER for English. compound in [-1, 1] maps to (compound + 1) / 2; VADER's
    own neutral band |compound| < 0.05 becomes [0.475, 0.525]."""

    name = "vader"
    neutral = (0.475, 0.525)

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()

    @property
    def version(self) -> str:
        return "3.3.2"

    def score(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([(self._analyzer.polarity_scores(t)["compound"] + 1.0) / 2.0 for t in texts])


@lru_cache(maxsize=1)
def _vader() -> VaderModel:
    return VaderModel()


# ---------------------------------------------------------------- registry
def model_dir(name: str, models_dir: Path | None = None) -> Path:
    if name == DEFAULT_MODEL:
        return PACKAGE_MODELS / DEFAULT_MODEL
    return (models_dir or USER_MODELS) / name


@lru_cache(maxsize=8)
def _load_linear(directory: str, mtime: float) -> SentimentModel:
    from sentiment.linear import LinearModel

    return LinearModel.load(Path(directory))


def load_model(name: str = DEFAULT_MODEL, models_dir: Path | None = None, workers: int | None = None) -> SentimentModel:
    if name == "snownlp":
        return SnowNLPModel(workers=workers)
    directory = model_dir(name, models_dir)
    meta = directory / "model.json"
    if not meta.exists():
        hint = (
            "koubei train --corpus builtin"
            if name == DEFAULT_MODEL
            else f"koubei train --labels FILE.csv --name {name}"
        )
        raise ConfigError(f"sentiment model {name!r} not found at {directory} (build it with `{hint}`)")
    return _load_linear(str(directory), meta.stat().st_mtime)


class Scorer:
    """The scoring entry point: language routing, one model name/version to store."""

    def __init__(
        self, chinese: SentimentModel, english: bool = True, neutral: tuple[float, float] | None = None
    ) -> None:
        self.chinese = chinese
        self.english = _vader() if english else None
        self.neutral = neutral or chinese.neutral

    @property
    def name(self) -> str:
        return self.chinese.name

    @property
    def version(self) -> str:
        return self.chinese.version + ("+vader" if self.english else "")

    def score(
        self,
        texts: Sequence[str],
        languages: Sequence[str | None] | None = None,
        verdicts: bool | Sequence[bool] = True,
    ) -> tuple[np.ndarray, list[str]]:
        """Scores and labels (pos/neu/neg). `languages` (as stored) win over detection.
        `verdicts`: whether each text judges anything (True: work it out with
        sentiment.reading.has_verdict; False: label by the band alone, as releases
        before the neutral class did)."""
        langs = _languages(texts, languages)
        scores = np.full(len(texts), 0.5)
        bands: list[tuple[float, float]] = [self.neutral] * len(texts)
        en = [i for i, lang in enumerate(langs) if lang.startswith("en")] if self.english else []
        english = set(en)
        zh = [i for i in range(len(texts)) if i not in english]
        if zh:
            scores[zh] = self.chinese.score([texts[i] for i in zh])
        if en and self.english is not None:
            scores[en] = self.english.score([texts[i] for i in en])
            for i in en:
                bands[i] = self.english.neutral
        if isinstance(verdicts, bool):
            judged = [has_verdict(t) for t in texts] if verdicts else [True] * len(texts)
        else:
            judged = list(verdicts)
        labels = [label_of(float(s), b, v) for s, b, v in zip(scores, bands, judged)]
        return scores, labels


def _languages(texts: Sequence[str], languages: Sequence[str | None] | None) -> list[str]:
    """Each text's language as stored, else as detected (for the batch at once)."""
    langs: list[str | None] = list(languages) if languages else [None] * len(texts)
    missing = [i for i, lang in enumerate(langs) if not lang]
    for i, lang in zip(missing, detect_languages([texts[i] for i in missing])):
        langs[i] = lang
    return [lang or "und" for lang in langs]


def scorer_from_settings(settings: Settings | None = None, model: str | None = None) -> Scorer:
    """The scorer [sentiment] configures (a `model` given wins over its `model`)."""
    section = settings.sentiment if settings is not None else SentimentTable()
    chosen = load_model(model or section.model, models_dir=Path(section.models_dir), workers=section.workers)
    return Scorer(chosen, english=section.english, neutral=section.neutral_band)
