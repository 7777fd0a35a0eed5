"""What the topics page (dashboard/pages/topics.py) shows, without Streamlit: rising themes and the
page's data, read in one short read-only connection.

A theme is a word of jieba's segmentation with koubei's stop list (sentiment/keywords.py: no
stopwords, no times such as 上午, no fragments across two words such as 宝一 of 充电宝一天). It
rises when the share of mentions holding it grew against the previous period of the same length.
Texts are read as a bounded sample, never all texts of a period: the newest TEXTS // days mentions
of each day of each period for the themes (jieba reads about 180k characters a second, far fewer on
a loaded machine), the newest SAMPLE // days of each day for the FAQ candidates (one read of the
window, the themes' texts taken from it); only the sample's questions' aspects and copy-paste groups
are read. A day with fewer mentions is read whole. The aspects' sentiment over time is not sampled:
it counts every trusted mention of the period by each aspect's own polarity, from the rollups
(storage/topics.aspect_series).
Texts are segmented clause by clause with a cache: jieba never joins words across punctuation, and
reviews repeat clauses (物流很快, 质量不错) far more than whole texts.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

import pandas as pd

from dashboard.loaders import LOCK_TIMEOUT
from reports.faq import Topic, asks, group_questions
from sentiment.keywords import keyword_tokens
from storage import Store, open_store
from storage.queries import MentionFilter
from storage.topics import Sampled, aspect_series, per_day, period_sample, period_texts, question_candidates

TEXTS = 1400  # mentions read per period for themes (the newest TEXTS // days of each day)
SAMPLE = 10_000  # mentions of the period the FAQ candidates are counted in (the newest SAMPLE // days a day)
THEMES = 15
MIN_TEXTS = 3  # a theme must be in at least this many of the period's mentions
FINE_SPAN = timedelta(days=3)  # up to this span aspects are drawn per 6 hours, beyond it per day
TEXT_CHARS = 500  # of each text: a theme is in the first lines of a post
CLAUSE = re.compile(r"[\s，。！？、；：,.!?;:~～…（）()\[\]【】#]+")


# One segmentation at a time in a server: jieba's Python holds the GIL, so two sessions (or a session and
# the warm-up) cutting at once take as long as one after the other, and the later one finds the clauses
# the earlier one cut in clause_words' cache instead of cutting them again.
SEGMENTING = threading.Lock()
# A new server reads and cuts the default window's texts (warm_default_window) only for a store at
# least this large: below it the first topics page takes well under a second anyway (the demo), and
# the work would only compete with the first visit.
WARM_MIN_BYTES = 1 << 30


@lru_cache(maxsize=200_000)
def clause_words(clause: str) -> frozenset[str]:
    return frozenset(keyword_tokens(clause))


def doc_freq(texts: list[str]) -> Counter[str]:
    """In how many texts each word occurs (once per text however often it is there)."""
    counts: Counter[str] = Counter()
    for text in texts:
        words: set[str] = set()
        for clause in CLAUSE.split(text[:TEXT_CHARS]):
            if clause:
                words |= clause_words(clause)
        counts.update(words)
    return counts


@dataclass(frozen=True)
class Theme:
    word: str
    now: int  # mentions of the period holding it (of those read)
    before: int  # the same in the previous period
    share_now: float
    share_before: float

    @property
    def growth(self) -> float:
        """Change of its share, in points of 1 (0.05 = five percentage points)."""
        return self.share_now - self.share_before


def rising_themes(current: list[str], previous: list[str], k: int = THEMES, min_texts: int = MIN_TEXTS) -> list[Theme]:
    """The k words whose share of the texts grew most from `previous` to `current`."""
    if not current:
        return []
    with SEGMENTING:
        now, before = doc_freq(current), doc_freq(previous)
    n, m = len(current), len(previous)
    themes = [
        Theme(word, count, before.get(word, 0), count / n, before.get(word, 0) / m if m else 0.0)
        for word, count in now.items()
        if count >= min_texts
    ]
    rising = sorted((t for t in themes if t.growth > 0), key=lambda t: (-t.growth, t.word))
    return rising[:k]


def themes_frame(themes: list[Theme]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "word": t.word,
                "now": t.now,
                "before": t.before,
                "share_now": t.share_now,
                "share_before": t.share_before,
                "growth": t.growth * 100,
            }
            for t in themes
        ],
        columns=["word", "now", "before", "share_now", "share_before", "growth"],
    )


@dataclass
class TopicsData:
    aspects: pd.DataFrame  # storage.topics.aspect_series of the whole period
    themes: list[Theme]
    faq: tuple[Topic, ...]
    texts_now: int
    texts_before: int
    sampled: int  # the mentions the FAQ's questions were counted in
    texts_per_day: int  # the newest mentions of each day read for the themes
    sample_per_day: int  # the same for the FAQ candidates


def load_topics(db: str, f: MentionFilter, tz: str) -> TopicsData:
    bucket = timedelta(hours=6) if f.end - f.start <= FINE_SPAN else timedelta(days=1)
    with open_store(db, read_only=True, lock_timeout=LOCK_TIMEOUT) as store:
        sample = period_sample(store, f, max(TEXTS, SAMPLE))
        current, previous = newest_per_day(sample, f, TEXTS), period_texts(store, f.previous(), TEXTS)
        return TopicsData(
            aspects=aspect_series(store, f, bucket, tz),
            themes=rising_themes(current, previous),
            faq=sampled_faq(store, sample),
            texts_now=len(current),
            texts_before=len(previous),
            sampled=len(sample),
            texts_per_day=per_day(f, TEXTS),
            sample_per_day=per_day(f, max(TEXTS, SAMPLE)),
        )


def newest_per_day(sample: list[Sampled], f: MentionFilter, limit: int) -> list[str]:
    """The texts period_sample(f, limit) reads, taken from a larger sample of the same period."""
    most = per_day(f, limit)
    taken: Counter[int] = Counter()
    texts = []
    for m in sample:
        day = (m.published_at - f.start) // timedelta(days=1)
        if taken[day] < most:
            taken[day] += 1
            texts.append(m.text)
    return texts


def sampled_faq(store: Store, sample: list[Sampled]) -> tuple[Topic, ...]:
    """The FAQ candidates (reports/faq.py's grouping) among the sample's questions."""
    return group_questions(question_candidates(store, [m for m in sample if asks(m.text)]))


def warm_default_window(db: str, tz: str) -> TopicsData | None:
    """What the topics page opened with its default filters (every brand, the last DEFAULT_DAYS days with
    data) reads and cuts, done once in a new server before anyone asks (dashboard/serve.py): its first
    visitor finds the clauses cut and the file's pages in the OS cache. None when the store is empty."""
    from dashboard.filters import Filters, default_days
    from dashboard.loaders import load_filter_options

    options = load_filter_options(db)
    if options["last"] is None:
        return None
    _, start, end = default_days(options, tz)
    return load_topics(db, Filters(start, end, tz).query, tz)
