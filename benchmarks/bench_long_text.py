"""One 120,000-character mention against scoring and detection (issue 17, item 10).

A demo database (28 days, scored by the built-in model) is detected as it is, and again
with one 120k-character negative post added in the middle of the seeded crisis (a long
rant of random words around complaint sentences, the worst case for jieba). Before the
excerpt (sentiment/excerpt.py) detection took 149 s instead of 6 s on such a database.
Target: the long mention adds at most 1 s of CPU to a detection pass, and scoring it
costs at most what 100 short reviews do.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from koubei.records import Mention

LENGTH = 120_000
TARGET_EXTRA_DETECT_S = 1.0
TARGET_SCORE_SHORTS = 100
COMPLAINTS = (
    "充电宝发热鼓包，电池质量太差，客服不理人，物流也慢，差评！",
    "声浪P20充电宝用了三天就发热鼓包，客服一直不回复，太差了。",
    "物流很慢，包装破损，耳机左边没声音！",
)


def long_rant(length: int = LENGTH, seed: int = 1) -> str:
    """Runs of random characters (jieba's slowest input) between complaint sentences, negative as a whole."""
    rng = random.Random(seed)
    chunks: list[str] = []
    size = 0
    while size < length:
        noise = "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(rng.randint(30, 80)))
        added = [noise, "，", *(rng.choice(COMPLAINTS) for _ in range(3))]
        chunks += added
        size += sum(map(len, added))
    return "".join(chunks)[:length]


def _detect_cpu(path: Path, at: datetime) -> tuple[float, float, int]:
    from alerts.detect import detect_incidents
    from koubei.config import load_settings
    from storage import open_store

    cpu, wall = time.process_time(), time.perf_counter()
    summary = detect_incidents(partial(open_store, path), load_settings(), now=at)
    return time.process_time() - cpu, time.perf_counter() - wall, summary.opened


def _crisis_end(detected: Path) -> datetime:
    """Half an hour before the end of the brand's negative incident: the long post is then among the
    newest texts of the brand's, product's, source's and aspects' windows, whose keywords are read."""
    from storage import open_store
    from storage.incidents import list_incidents

    with open_store(detected) as store:
        found = [i for i in list_incidents(store, brand="声浪") if i.kind == "negative" and i.scope_type == "brand"]
    if not found:
        raise AssertionError("the demo's crisis opened no negative brand incident")
    return found[0].window_end.replace(tzinfo=UTC) - timedelta(minutes=30)


def _rant(text: str, at: datetime) -> Mention:
    from koubei.records import Mention

    return Mention(
        source="demo.weibo",
        native_id="long-rant",
        text=text,
        published_at=at,
        brand="声浪",
        product="声浪P20充电宝",
        author="ranter",
        likes=5000,
    )


def main() -> None:
    from collectors.options import parse_source
    from collectors.runner import run_collector
    from collectors.sources.demo import DemoCollector
    from koubei.config import load_settings
    from sentiment.analysis import analyse
    from sentiment.aspects import AspectTagger
    from sentiment.model import scorer_from_settings
    from sentiment.pipeline import score_pending
    from storage import open_store, upsert_mentions

    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    text = long_rant()
    scorer, tagger = scorer_from_settings(), AspectTagger()
    analyse(scorer, tagger, ["预热"])
    started = time.process_time()
    analyse(scorer, tagger, [text])
    long_score = time.process_time() - started
    started = time.process_time()
    analyse(scorer, tagger, list(COMPLAINTS) * 100)
    short_score = (time.process_time() - started) / 300
    with tempfile.TemporaryDirectory() as tmp:
        plain, with_long = Path(tmp) / "plain.duckdb", Path(tmp) / "long.duckdb"
        demo = {"days": 28, "seed": 7, "end": end.isoformat()}
        run_collector(DemoCollector(parse_source("demo", demo)), partial(open_store, plain))
        score_pending(partial(open_store, plain), load_settings())
        at = end.replace(tzinfo=None)
        warm = Path(tmp) / "warm.duckdb"
        shutil.copy(plain, warm)
        _detect_cpu(warm, at)  # jieba's dictionary and IDF table load once per process
        shutil.copy(plain, with_long)
        with open_store(with_long) as store:
            upsert_mentions(store, [_rant(text, _crisis_end(warm))])
        score_pending(partial(open_store, with_long), load_settings())
        base_cpu, base_wall, base_opened = _detect_cpu(plain, at)
        long_cpu, long_wall, long_opened = _detect_cpu(with_long, at)
    extra = long_cpu - base_cpu
    print(
        f"detect, demo database (28 days): {base_cpu:.2f} s CPU ({base_wall:.2f} s wall, {base_opened} incidents);"
        f" with one {LENGTH:,}-character mention: {long_cpu:.2f} s CPU ({long_wall:.2f} s wall,"
        f" {long_opened} incidents): {extra:+.2f} s"
    )
    print(
        f"scoring the {LENGTH:,}-character mention: {long_score * 1000:.0f} ms CPU"
        f" ({long_score / short_score:.0f} short reviews' worth at {short_score * 1000:.1f} ms each)"
    )
    missed = []
    if extra > TARGET_EXTRA_DETECT_S:
        missed.append(f"the long mention added {extra:.2f} s to detection > {TARGET_EXTRA_DETECT_S} s")
    if long_score > TARGET_SCORE_SHORTS * short_score:
        missed.append(f"scoring it cost {long_score / short_score:.0f} short reviews > {TARGET_SCORE_SHORTS}")
    if missed:
        raise AssertionError("; ".join(missed))
    print(f"targets met: +<= {TARGET_EXTRA_DETECT_S} s detection, <= {TARGET_SCORE_SHORTS} short reviews of scoring")


if __name__ == "__main__":
    main()
