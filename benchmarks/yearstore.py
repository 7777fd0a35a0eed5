"""The cached benchmark store every 10-million benchmark shares (issue 18, part 7).

`year_store(n)` builds once, then returns, a store of `n` mentions over the year ending
2026-12-01 for 20 brands (10 of them competitors of the other 10), each with a few products:

- channels with their own text lengths: weibo short (two or three clauses), jd and the app
  store medium (three to six), douban and tieba long (ten to twenty); the clauses are cut from
  the project's written corpus (sentiment/corpora/written.tsv) and joined at random, so texts
  rarely repeat; one mention in ten is English;
- crises: a few times a month, hours of negative mentions about one brand's product;
- paid-post waves: near-identical positive texts (one template, a varied tail) from hundreds
  of accounts within a day;
- stored a day at a time in publishing order through storage.mentions.upsert_table (so the
  rollups and the score queue are kept as a collect keeps them), scored as a `watch` keeps a
  store scored (write_scores with the configured model and version, so the queue is empty),
  and grouped by mark_duplicates after each batch as a pass at END groups: the mentions of the
  last duplicate_window_days are in the duplicate index and their groups flagged; older ones
  are not grouped (grouping costs about 0.1 ms a mention and would add 20 minutes at 10M).

The scores are pre-computed, not scored per mention: each corpus text is analysed once by the
configured model and tagger, and a mention takes the analysis of its first clause's text
(crises are negative texts, paid posts positive ones). That keeps a 10M build within the
hour on two cores while every row goes through the storage API a real pass uses.

The cache is $KOUBEI_BENCH_DATA (default .bench-data/ in the repository); the file is named
by n and GENERATOR_VERSION and written under a temporary name, renamed, and then marked
`.ready`: a crashed build leaves no ready file and is rebuilt, never reused. Readers open the
store read-only; a benchmark that writes copies it first (copy_store).

Run: `.venv/bin/python -m benchmarks.yearstore 10000000`.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import re
import shutil
import sys
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from benchmarks.synthetic import mention_batch
from koubei.config import Settings, parse_settings
from sentiment.analysis import Analysis, analyse_rows
from sentiment.aspects import tagger_from_settings
from sentiment.corpus import read_written
from sentiment.grouping import mark_duplicates
from sentiment.model import scorer_from_settings
from sentiment.pipeline import score_rows
from storage import Store, open_store
from storage.mentions import upsert_table
from storage.queue import PendingMention, queue_for_model
from storage.sentiment import write_scores

GENERATOR_VERSION = 1  # bump when what is generated changes: the cached files are named by it
END = datetime(2026, 12, 1)
DAYS = 365
START = END - timedelta(days=DAYS)
BATCH_MIN = 20_000  # mentions per stored batch at least (days are merged up to this); bigger batches
# cost more per mention: taking 100k keys off the score queue deleted from its key index for 108 s
OWN_BRANDS = {
    "声浪": ("X1耳机", "P20充电宝", "Pad平板"),
    "鲜到家": ("生鲜配送", "会员卡"),
    "云帆": ("智能手表", "运动耳机", "体脂秤"),
    "星禾": ("空气炸锅", "电饭煲"),
    "青橙": ("手机", "平板", "充电器"),
    "极光": ("投影仪", "音箱"),
    "木森": ("床垫", "枕头", "沙发"),
    "海屿": ("面膜", "防晒霜", "洗面奶"),
    "暖芯": ("取暖器", "电热毯"),
    "启程": ("行李箱", "双肩包", "旅行枕"),
}
COMPETITORS = {
    "律动": ("声浪", ("Air耳机", "M10充电宝")),
    "邻鲜": ("鲜到家", ("买菜", "月卡")),
    "风驰": ("云帆", ("手环", "跑步耳机")),
    "禾丰": ("星禾", ("空气炸锅", "破壁机")),
    "橘子": ("青橙", ("手机", "耳机")),
    "流光": ("极光", ("投影仪", "幕布")),
    "林语": ("木森", ("床垫", "乳胶枕")),
    "澜湾": ("海屿", ("精华", "防晒喷雾")),
    "炉火": ("暖芯", ("油汀", "暖风机")),
    "远行": ("启程", ("拉杆箱", "登山包")),
}
# source: (share of mentions, fewest and most clauses per text)
SOURCES = {
    "weibo": (0.38, 2, 3),
    "jd": (0.24, 3, 6),
    "appstore": (0.10, 3, 6),
    "douban": (0.14, 10, 20),
    "tieba": (0.14, 10, 20),
}
ENGLISH = (
    "The {p} died after two days, terrible product",
    "Great {p}, fast delivery, very happy with it",
    "Support never answered my emails about the {p}",
    "Sound quality is fine for the price",
    "Returned the {p}, it overheated while charging",
    "Honestly the best {p} I have bought this year",
    "Packaging was damaged but the {p} works",
    "Battery life is worse than advertised",
)
AUTHORS = 2_000_000
CRISES_PER_MONTH = 3
WAVES_PER_MONTH = 4


def cache_dir() -> Path:
    return Path(os.environ.get("KOUBEI_BENCH_DATA") or Path(__file__).resolve().parent.parent / ".bench-data")


def store_path(n: int, folder: Path | None = None) -> Path:
    return (folder or cache_dir()) / f"year-{n}-v{GENERATOR_VERSION}.duckdb"


def ready_marker(path: Path) -> Path:
    return path.with_name(path.name + ".ready")


def year_store(n: int) -> Path:
    """The path of the year store of `n` mentions, built first when the cache lacks a finished one."""
    path = store_path(n)
    if not ready_marker(path).exists():
        build(n, path)
    return path


def copy_store(n: int, target: Path) -> Path:
    """A writable copy of the year store of `n` mentions at `target` (the shared file stays as built)."""
    shutil.copyfile(year_store(n), target)
    return target


@dataclass(frozen=True)
class Corpus:
    """Clauses of the written corpus by label (1 positive, 0 negative), with the analysis of the
    text each came from; and each English text's analysis."""

    clauses: dict[int, list[tuple[str, int]]]  # label -> (clause, index of its text's analysis)
    analyses: list[Analysis]
    english: list[int]  # index of each ENGLISH template's analysis
    model: tuple[str, str]  # the configured model's name and version (what the scores say)


_CLAUSE_END = re.compile(r"(?<=[，。！？；,!?;~])")


def load_corpus(settings: Settings) -> Corpus:
    """Cut the written corpus into clauses and analyse each of its texts (and the English ones) once."""
    rows = read_written()
    texts = [text for _, _, text in rows] + [t.format(p="phone") for t in ENGLISH]
    pending = [
        PendingMention("x", str(i), t, "", None, 0, "en" if i >= len(rows) else "zh", None) for i, t in enumerate(texts)
    ]
    scorer = scorer_from_settings(settings)
    analyses = analyse_rows(scorer, tagger_from_settings(settings), pending)
    clauses: dict[int, list[tuple[str, int]]] = {0: [], 1: []}
    for i, (label, _, text) in enumerate(rows):
        clauses[label] += [(c, i) for c in _CLAUSE_END.split(text) if len(c) >= 4]
    return Corpus(clauses, analyses, list(range(len(rows), len(texts))), (scorer.name, scorer.version))


@dataclass(frozen=True)
class Mention:
    published: datetime
    source: str
    brand: str
    product: str
    author: int
    text: str
    language: str
    analysis: int  # index into Corpus.analyses


def day_count(n: int, index: int) -> int:
    """Plain mentions (crises and waves come on top) of day `index`: a weekly rhythm and slow
    growth over the year, about n over the year."""
    weight = (1.0 + 0.15 * ((START + timedelta(days=index)).weekday() >= 5)) * (0.8 + 0.4 * index / DAYS)
    return round(n / DAYS * weight / 1.063)


def _products() -> list[tuple[str, str]]:
    own = [(b, b + p) for b, ps in OWN_BRANDS.items() for p in ps]
    rivals = [(b, b + p) for b, (_, ps) in COMPETITORS.items() for p in ps]
    return own + rivals


class Generator:
    """The year's mentions, a day at a time, deterministic for `n`."""

    def __init__(self, n: int, corpus: Corpus) -> None:
        self.n, self.corpus = n, corpus
        self.pick = random.Random(n)  # reseeded per day: days are generated independently
        self.products = _products()
        # Own brands are talked about more than their competitors; some products far more.
        self.product_weights = [
            (3.0 if b in OWN_BRANDS else 1.5) / (1 + i % 3) for i, (b, _) in enumerate(self.products)
        ]
        self.sources = list(SOURCES)
        self.source_weights = [SOURCES[s][0] for s in self.sources]

    def day(self, index: int) -> list[Mention]:
        """The mentions published on day `index` of the year, in publishing order."""
        start = START + timedelta(days=index)
        pick = self.pick
        pick.seed(f"{self.n}-{index}")
        # Weekly rhythm and slow growth over the year: the same total over the 365 days.
        count = day_count(self.n, index)
        events = self._events(index, count)
        plain = max(count - len(events), 0)
        products = pick.choices(self.products, self.product_weights, k=plain)
        sources = pick.choices(self.sources, self.source_weights, k=plain)
        mentions = [
            self._mention(start, source, brand, product, None) for (brand, product), source in zip(products, sources)
        ]
        return sorted(mentions + events, key=lambda m: m.published)

    def _events(self, index: int, count: int) -> list[Mention]:
        """Crises and paid-post waves that start on day `index` (about CRISES_PER_MONTH and
        WAVES_PER_MONTH a month, each a few per cent of a day's mentions)."""
        pick, start = self.pick, START + timedelta(days=index)
        events: list[Mention] = []
        if pick.random() < CRISES_PER_MONTH / 30:
            brand, product = pick.choice(self.products)
            onset = start + timedelta(hours=pick.uniform(0, 18))
            for _ in range(max(count // 8, 5)):  # an eighth of the day over about six hours
                moment = onset + timedelta(hours=abs(pick.gauss(0, 2)))
                events.append(self._mention(moment, pick.choice(("weibo", "weibo", "tieba", "jd")), brand, product, 0))
        if pick.random() < WAVES_PER_MONTH / 30:
            brand, product = pick.choice(self.products)
            template = "，".join(c for c, _ in pick.sample(self.corpus.clauses[1], 3))
            source = pick.choice(("jd", "weibo"))
            onset = start + timedelta(hours=pick.uniform(0, 12))
            analysis = pick.choice(self.corpus.clauses[1])[1]
            for _ in range(max(count // 40, 5)):
                tail = pick.choice(("", "！", "👍", "，推荐", "，好评", f"，{product}"))
                text = f"{product}{template}{tail}"
                moment = onset + timedelta(minutes=pick.uniform(0, 600))
                author = pick.randrange(AUTHORS)
                events.append(Mention(moment, source, brand, product, author, text, "zh", analysis))
        return events

    def _mention(self, day: datetime, source: str, brand: str, product: str, label: int | None) -> Mention:
        pick = self.pick
        moment = day if label is not None else day + timedelta(seconds=pick.randrange(86400))
        author = pick.randrange(AUTHORS)
        if label is None and pick.random() < 0.1:
            template = pick.randrange(len(ENGLISH))
            text = ENGLISH[template].format(p=product) + f" #{pick.randrange(10_000)}"
            return Mention(moment, source, brand, product, author, text, "en", self.corpus.english[template])
        _, fewest, most = SOURCES[source]
        polarity = label if label is not None else int(pick.random() < 0.62)
        clauses = pick.sample(self.corpus.clauses[polarity], pick.randint(fewest, most))
        text = "".join(c for c, _ in clauses)
        if pick.random() < 0.5:
            text = f"{product}{text}" if source != "weibo" else f"#{brand}# {text}"
        return Mention(moment, source, brand, product, author, text, "zh", clauses[0][1])


def _day_ranges(n: int) -> list[range]:
    """The year's days in batches of whole days of at least BATCH_MIN mentions (the last may be fewer)."""
    ranges, first, count = [], 0, 0
    for index in range(DAYS):
        count += day_count(n, index)
        if count >= BATCH_MIN or index == DAYS - 1:
            ranges.append(range(first, index + 1))
            first, count = index + 1, 0
    return ranges


def _table(days: range, batch: list[Mention]) -> pa.Table:
    """The batch as upsert_table takes it; ids are unique over the year (day and place in it)."""
    first = days[0] * 10_000_000
    ids = range(first, first + len(batch))
    return mention_batch(
        ids,
        [m.published for m in batch],
        {
            "source": [m.source for m in batch],
            "native_id": [f"{m.source[0]}{i:010d}" for i, m in zip(ids, batch)],
            "brand": [m.brand for m in batch],
            "product": [m.product for m in batch],
            "author_hash": [hashlib.blake2b(str(m.author).encode(), digest_size=10).hexdigest() for m in batch],
            "text": [m.text for m in batch],
            "language": [m.language for m in batch],
        },
    )


Rows = list[dict[str, Any]]
ScoreRows = tuple[Rows, Rows, Rows, Rows]  # write_scores' scores, aspects, triage and flags
Prepared = tuple[pa.Table, ScoreRows, list[PendingMention], datetime]


def _scores(
    table: pa.Table, batch: list[Mention], corpus: Corpus, name: str, version: str
) -> tuple[ScoreRows, list[PendingMention]]:
    """write_scores' rows for a stored batch: each mention with its pre-computed analysis."""
    rows = zip(table["source"].to_pylist(), table["native_id"].to_pylist(), table["rating"].to_pylist(), batch)
    pending = [
        PendingMention(s, n, m.text, hashlib.md5(m.text.encode()).hexdigest(), r, 0, m.language, m.brand, rescore=False)
        for s, n, r, m in rows
    ]
    return score_rows(pending, [corpus.analyses[m.analysis] for m in batch], name, version), pending


# The generating process's corpus, generator and model (set at fork: never pickled).
_worker: tuple[Generator, str, str] | None = None


def new_batch(corpus: Corpus, count: int, run: int) -> tuple[pa.Table, list[PendingMention], ScoreRows]:
    """`count` new mentions of the year's last day, with keys no other `run` has: the table
    upsert_table takes, and the queue and score rows write_scores takes (benchmarks' new data)."""
    batch = Generator(count * DAYS + run, corpus).day(DAYS - 1)[:count]
    table = _table(range(1000 + run, 1001 + run), batch)
    rows, pending = _scores(table, batch, corpus, *corpus.model)
    return table, pending, rows


def as_queued(store: Store, pending: list[PendingMention]) -> list[PendingMention]:
    """`pending` with the content hashes their upsert queued them with (the queue holds only
    this batch: every batch empties it), so that write_scores takes them off the queue."""
    queued = {(s, n): h for s, n, h in store.query("SELECT source, native_id, content_hash FROM score_queue")}
    return [replace(m, content_hash=queued[(m.source, m.native_id)]) for m in pending]


def _prepare(days: range) -> Prepared:
    """One batch, generated in a worker process: its table, score rows, queue rows and last time."""
    assert _worker is not None, "a worker started without its generator"
    generator, name, version = _worker
    batch = [m for index in days for m in generator.day(index)]
    table = _table(days, batch)
    rows, pending = _scores(table, batch, generator.corpus, name, version)
    return table, rows, pending, batch[-1].published


def build(n: int, path: Path) -> None:
    """Build the year store of `n` mentions at `path` (under a temporary name until it is finished).
    One process generates the next batches while this one stores, scores and groups."""
    global _worker
    path.parent.mkdir(parents=True, exist_ok=True)
    building = path.with_name(f"{path.name}.building-{os.getpid()}")
    for stale in (path, ready_marker(path), *path.parent.glob(path.name + ".building-*")):
        stale.unlink(missing_ok=True)
    settings = parse_settings({}, db=building)
    started = time.perf_counter()
    corpus = load_corpus(settings)
    scorer = scorer_from_settings(settings)
    _worker = (Generator(n, corpus), scorer.name, scorer.version)
    _log(
        f"corpus: {sum(map(len, corpus.clauses.values())):,} clauses, analysed in {time.perf_counter() - started:.1f} s"
    )

    def opener() -> Store:
        return open_store(building)

    with opener() as store:
        queue_for_model(store, scorer.name, scorer.version)
    stored, spent = 0, {"waiting": 0.0, "store": 0.0, "score": 0.0, "group": 0.0}
    with multiprocessing.get_context("fork").Pool(1) as pool:
        clock = time.perf_counter()
        for table, rows, pending, last in _prepared_ahead(pool, _day_ranges(n)):
            clock = _lap(spent, "waiting", clock)
            with opener() as store:
                upsert_table(store, table)
                clock = _lap(spent, "store", clock)
                write_scores(store, *rows, scored=as_queued(store, pending))
            clock = _lap(spent, "score", clock)
            # As a watch pass at END: the window before END is grouped, older mentions only leave the list.
            mark_duplicates(opener, settings, now=END)
            clock = _lap(spent, "group", clock)
            stored += table.num_rows
            total = time.perf_counter() - started
            stages = ", ".join(f"{k} {v:.0f}" for k, v in spent.items())
            _log(
                f"{stored:,} stored to {last:%Y-%m-%d} in {total:.0f} s ({stages};"
                f" {stored / total:,.0f}/s, load {os.getloadavg()[0]:.1f})"
            )
    os.replace(building, path)
    seconds = time.perf_counter() - started
    ready_marker(path).write_text(f"{stored} mentions, generator {GENERATOR_VERSION}, built in {seconds:.0f} s\n")
    _log(f"ready: {path}, {stored:,} mentions, {path.stat().st_size / 1e9:.2f} GB, in {seconds:.0f} s")


def _prepared_ahead(pool: Any, batches: list[range], ahead: int = 2) -> Iterator[Prepared]:
    """The prepared batches in order, at most `ahead` waiting: `Pool.imap` has no backpressure, so a
    generator faster than the store queued the whole year in this process (5 KB per mention: the 10M
    build ran out of memory near 3M)."""
    waiting: deque[Any] = deque()
    for days in batches:
        waiting.append(pool.apply_async(_prepare, (days,)))
        if len(waiting) > ahead:
            yield waiting.popleft().get()
    while waiting:
        yield waiting.popleft().get()


def _lap(spent: dict[str, float], stage: str, since: float) -> float:
    now = time.perf_counter()
    spent[stage] += now - since
    return now


def _log(line: str) -> None:
    print(f"{datetime.now():%H:%M:%S} {line}", flush=True)


if __name__ == "__main__":
    print(year_store(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
