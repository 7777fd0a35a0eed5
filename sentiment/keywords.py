"""Keywords that name what a set of mentions is about (e.g. a negative spike).

jieba's TF-IDF with its bundled IDF table, minus a stopword list of words that
say nothing about the topic (sentiment words, fillers, platform boilerplate).
With a `background` set, a word scores by how much more often it occurs in
`texts` than in the background, so a spike is named by what is new in it.
Each text is read as its bounded excerpt (sentiment/excerpt.py): jieba spent
38 s of one detection pass on a single 120k-character mention.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import Counter
from functools import lru_cache
from importlib import resources

from sentiment.excerpt import excerpt
from sentiment.segmenter import once_in_background, ready

_TOKEN_OK = re.compile(r"^[\u4e00-\u9fffA-Za-z][\u4e00-\u9fffA-Za-z0-9+\-]*$")
# Times of day and counts of days say when, not what ("三点", "上午", "两天").
_WHEN = re.compile(
    r"^(?:[一二三四五六七八九十两几半\d]+(?:点|点钟|号|日|天|周|个月|小时|分钟)"
    r"|上午|下午|中午|晚上|早上|凌晨|今天|昨天|前天|明天|今晚|昨晚)+$"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    text = resources.files("sentiment").joinpath("lexicons/stopwords.txt").read_text(encoding="utf-8")
    return frozenset(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


@lru_cache(maxsize=1)
def lexicon_words() -> frozenset[str]:
    """The words koubei's own lexicons know (aspects, polarity, triage signals): real words even
    where jieba's dictionary lacks them (发烫)."""
    words: set[str] = set()
    root = resources.files("sentiment").joinpath("lexicons")
    for name in ("aspects.tsv", "polarity.tsv", "triage.tsv"):
        for line in root.joinpath(name).read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                words.update(w.strip("+-") for w in re.split(r"[\t,]", line) if _CJK.search(w))
    return frozenset(words)


def _known(word: str, dictionary: dict[str, int]) -> bool:
    """A word jieba's dictionary or koubei's lexicons know, or a model name (P20): jieba's
    guesses at unknown words are often fragments across two words (宝一 of 充电宝一天)."""
    return not _CJK.search(word) or dictionary.get(word, 0) > 0 or word in lexicon_words()


_idf_lock = threading.Lock()  # the warm-up thread and a caller load the table once between them


@lru_cache(maxsize=1)
def _load_idf() -> tuple[dict[str, float], float]:
    """jieba's IDF table and its median, read as jieba.analyse's IDFLoader reads them, without
    importing jieba.analyse: that import loads jieba.posseg's tables, 0.78 of the 1.04 CPU
    seconds the table cost each new process (a `koubei run` pass's first incident)."""
    content = resources.files("jieba").joinpath("analyse", "idf.txt").read_bytes().decode("utf-8")
    idf: dict[str, float] = {}
    for line in content.splitlines():
        word, freq = line.strip().split(" ")
        idf[word] = float(freq)
    return idf, sorted(idf.values())[len(idf) // 2]


def _idf() -> tuple[dict[str, float], float]:
    with _idf_lock:
        return _load_idf()


def _warm() -> None:
    ready()
    _idf()


def warm_in_background() -> threading.Thread:
    """Load jieba's dictionary and its IDF table in a daemon thread, once per process: each
    `koubei run` is a new process, and its first incident paid for both on detection's path
    (2.9 s and 1.9 s of wall time at a load of 8; about 1.0 and 0.25 CPU s now). A pass starts
    this when it stores new mentions, so the loading overlaps scoring, where the main thread
    only waits for the workers. Where the workers take every core it competes with them: on 2
    cores the scoring stage grew by 1.3-1.6 s at the medians while detection's keyword steps
    shrank by 2-4 s (round 29 in docs/performance.md). A caller that needs either before it is done waits for
    the load under way (jieba's initialisation and _idf hold locks)."""
    return once_in_background("koubei-keywords-warm-up", _warm)


# A detection pass extracts keywords for every incident it updates: the scopes of one burst
# (brand, product, source, aspect) and their weeks before share most texts, and segmenting
# them again cost about 1 s per incident. Bounded: a pass reads a few thousand texts.
@lru_cache(maxsize=20_000)
def keyword_tokens(text: str) -> tuple[str, ...]:
    jieba = ready()
    stop = stopwords()
    out = []
    for word in jieba.lcut(excerpt(text)):
        word = word.strip()
        if len(word) < 2 or word.lower() in stop or not _TOKEN_OK.match(word) or _WHEN.match(word):
            continue
        if not _known(word, jieba.dt.FREQ):
            continue
        out.append(word)
    return tuple(out)


@lru_cache(maxsize=1)
def _vocabulary() -> bytes:
    """A digest of what keyword_tokens' output depends on besides the text: kept tokens keyed
    with it miss when a stopword list or lexicon changes."""
    words = "\n".join(sorted(stopwords())) + "\0" + "\n".join(sorted(lexicon_words()))
    return hashlib.blake2b(words.encode("utf-8"), digest_size=16).digest()


def token_key(text: str) -> int:
    """A signed 64-bit key of keyword_tokens(text) under this vocabulary (storage keeps tokens by it)."""
    digest = hashlib.blake2b(_vocabulary() + text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def _doc_freq(docs: list[tuple[str, ...]]) -> Counter[str]:
    """In how many texts each word occurs (a copy-pasted word counts once per text)."""
    counts: Counter[str] = Counter()
    for tokens in docs:
        counts.update(set(tokens))
    return counts


def top_keywords(texts: list[str], k: int = 10, background: list[str] | None = None) -> list[tuple[str, float]]:
    """The k words that best name `texts`, with weights (higher = more characteristic).

    Without background: document frequency x jieba IDF. With background: that
    weight times the smoothed lift of the word's share in `texts` over its share
    in `background`; words no more common than in the background are dropped.
    """
    texts = [t for t in texts if t and t.strip()]
    if not texts or k <= 0:
        return []
    docs = [keyword_tokens(t) for t in texts]
    return top_keywords_of(docs, k, [keyword_tokens(t) for t in background] if background else None)


def top_keywords_of(
    docs: list[tuple[str, ...]], k: int = 10, background: list[tuple[str, ...]] | None = None
) -> list[tuple[str, float]]:
    """top_keywords of texts already cut into their keyword_tokens (one tuple per non-blank text)."""
    if not docs or k <= 0:
        return []
    idf, median_idf = _idf()
    freq = _doc_freq(docs)
    n = len(docs)
    bg = _doc_freq(background) if background else None
    bg_n = len(background) if background else 0
    scored: list[tuple[str, float]] = []
    for word, df in freq.items():
        weight = (df / n) * idf.get(word, median_idf)
        if bg is not None:
            share = (df + 0.5) / (n + 1.0)
            bg_share = (bg.get(word, 0) + 0.5) / (bg_n + 1.0)
            lift = share / bg_share
            if lift <= 1.0:
                continue
            weight *= math.log1p(lift)
        scored.append((word, round(weight, 6)))
    # Ties broken by the word, so the result is deterministic.
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:k]
