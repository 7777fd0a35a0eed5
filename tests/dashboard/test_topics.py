"""dashboard/topics.py and storage/topics.py: rising themes from real segmentation, aspect sentiment
per bucket, a theme's mentions (hand-made texts and rows with answers worked out by hand)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dashboard import topics
from dashboard.filters import DEFAULT_DAYS, Filters, default_days, local_day
from dashboard.loaders import load_filter_options
from dashboard.topics import load_topics, rising_themes
from koubei.records import Mention
from reports import faq
from storage import Store, open_store, queries, upsert_mentions
from storage.queries import MentionFilter, filter_options
from storage.sentiment import write_scores
from storage.topics import aspect_series, mentions_with, period_sample, period_texts, question_candidates
from tests.profiles import scans_in

REPO = Path(__file__).resolve().parents[2]
TZ = "Asia/Shanghai"
BEFORE = ["耳机音质很好，上午到的", "物流很快，包装完好", "客服态度很好", "耳机音质不错，下午三点到"] * 3
NOW = [
    "充电宝一天就鼓包了，上午买的",
    "充电宝鼓包，太吓人了",
    "电池鼓包还发烫，客服态度很好",
    "物流很快，包装完好",
]


def test_rising_themes_are_whole_words_whose_share_grew() -> None:
    """No fragments across two words (宝一 of 充电宝一天) and no times of day (上午)."""
    themes = rising_themes(NOW * 3, BEFORE, min_texts=3)
    words = [t.word for t in themes]
    assert words[0] == "鼓包", words
    assert themes[0].now == 9 and themes[0].before == 0 and themes[0].share_now == pytest.approx(0.75)
    assert "充电" in words and "发烫" in words
    assert not {"宝一", "上午", "一天", "下午"} & set(words)
    assert "音质" not in words and "耳机" not in words, "words whose share fell do not rise"
    assert all(t.growth > 0 for t in themes)
    assert rising_themes([], BEFORE) == []


DAY = datetime(2026, 11, 10)


@pytest.fixture
def filled(store: Store) -> Store:
    rows = [("a", 1, "充电宝鼓包了", "neg"), ("b", 2, "物流很快", "pos"), ("c", 3, "充电宝鼓包，物流也慢", "neg")]
    aspects = [("a", "质量", "neg"), ("b", "物流", "pos"), ("c", "质量", "neg"), ("c", "物流", "neg")]
    store_scored(store, rows, aspects)
    return store


def store_scored(
    store: Store, rows: list[tuple[str, int, str, str]], aspects: list[tuple[str, str, str]], score: float = 0.5
) -> None:
    """Mentions of 声浪 on demo.jd, `rows` as (id, hours after DAY, text, label), scored `score` with
    their label, and their `aspects` as (id, aspect, polarity)."""
    upsert_mentions(
        store,
        [
            Mention(source="demo.jd", native_id=i, text=text, brand="声浪", published_at=(DAY + timedelta(hours=h)).replace(tzinfo=UTC))
            for i, h, text, _ in rows
        ],
    )  # fmt: skip
    scores = [
        {"source": "demo.jd", "native_id": i, "score": score, "label": label, "model": "t", "model_version": "1", "text_hash": "-"}
        for i, _, _, label in rows
    ]  # fmt: skip
    tagged = [{"source": "demo.jd", "native_id": i, "aspect": a, "polarity": p} for i, a, p in aspects]
    write_scores(store, scores, tagged, [], [])


def test_an_aspect_counts_by_its_own_polarity_not_the_mention_s_label(store: Store, tmp_path: Path) -> None:
    """Bug (render25, taken back before release): the aspects' sentiment was read from rollup_aspects,
    which keep each mention's overall label, so "质量很好，物流太慢" (positive overall) counted for delivery."""
    at = (DAY + timedelta(hours=1)).replace(tzinfo=UTC)
    upsert_mentions(
        store, [Mention(source="demo.jd", native_id="m", text="质量很好，物流太慢", brand="声浪", published_at=at)]
    )
    score = {
        "source": "demo.jd",
        "native_id": "m",
        "score": 0.8,
        "label": "pos",
        "model": "t",
        "model_version": "1",
        "text_hash": "-",
    }
    aspects = [
        {"source": "demo.jd", "native_id": "m", "aspect": "质量", "polarity": "pos"},
        {"source": "demo.jd", "native_id": "m", "aspect": "物流", "polarity": "neg"},
    ]  # fmt: skip
    write_scores(store, [score], aspects, [], [])
    f = MentionFilter(DAY, DAY + timedelta(days=1))
    series = aspect_series(store, f, timedelta(days=1))
    assert dict(zip(series["aspect"], series["net_sentiment"])) == {"物流": -1.0, "质量": 1.0}
    edge = MentionFilter(
        at.replace(tzinfo=None) - timedelta(seconds=90), at.replace(tzinfo=None) + timedelta(minutes=2)
    )
    series = aspect_series(store, edge, timedelta(days=1))
    assert dict(zip(series["aspect"], series["net_sentiment"])) == {"物流": -1.0, "质量": 1.0}, "read from the rows"
    read = scan_types(store, tmp_path, lambda: aspect_series(store, edge, timedelta(days=1)), "mention_aspects")
    assert read == {"Index Scan"}, "the edge's aspects looked up by key, not a scan of every aspect row"


def test_aspect_sentiment_per_day_and_a_theme_s_mentions(filled: Store) -> None:
    f = MentionFilter(DAY, DAY + timedelta(days=1))
    series = aspect_series(filled, f, timedelta(days=1))
    got = {r.aspect: (r.mentions, r.positive, r.negative, r.net_sentiment) for r in series.itertuples()}
    assert got == {"物流": (2, 1, 1, 0.0), "质量": (2, 0, 2, -1.0)}
    assert sorted(period_texts(filled, f, 10)) == sorted(["充电宝鼓包了", "物流很快", "充电宝鼓包，物流也慢"])
    assert len(period_texts(filled, f, 2)) == 2
    found = mentions_with(filled, f, "鼓包")
    assert list(found["text"]) == ["充电宝鼓包，物流也慢", "充电宝鼓包了"], "newest first"
    assert list(found["label"]) == ["neg", "neg"]


def test_a_selected_theme_lists_its_mentions_masked(dashboard_env: Path) -> None:
    """Clicking a rising theme's row shows the period's mentions holding it, PII masked."""
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.conftest import PHONE

    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=180)
    at.run()
    at.switch_page("dashboard/pages/topics.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    themes = next(d.value for d in at.dataframe if "growth" in d.value.columns)
    word = themes["word"].iloc[0]
    at.session_state["topics_themes"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    found = next(d.value for d in at.dataframe if "text" in d.value.columns)
    assert len(found) > 0 and all(word in text for text in found["text"])
    assert not any(PHONE in text for d in at.dataframe for text in d.value.get("text", []))


def demo_window(db: Path) -> MentionFilter:
    """The filters' default on the demo data: its last DEFAULT_DAYS local days."""
    with open_store(db, read_only=True) as store:
        last = local_day(filter_options(store)["last"], TZ)
    assert last is not None
    return Filters(last - timedelta(days=DEFAULT_DAYS - 1), last, TZ).query


def whole_aspects(db: Path, f: MentionFilter) -> int:
    """How often the window's trusted mentions name an aspect."""
    with open_store(db, read_only=True) as store:
        return int(
            store.query(
                "SELECT count(*) FROM trusted_mentions m JOIN mention_aspects a USING (source, native_id)"
                " WHERE m.published_at >= ? AND m.published_at < ?",
                [f.start, f.end],
            )[0][0]
        )


def test_faq_candidates_look_their_aspects_up_by_key(filled: Store, tmp_path: Path) -> None:
    """Bug: the FAQ candidates' aspects were read by a semi join on (source, native_id), which scanned every
    stored aspect row (6.5M at 10M mentions, 1.3-1.7 s with the flags for 435 questions); they are looked
    up through the index on native_id, so the rows read are the candidates' own."""
    filled.query(  # other mentions' aspects, which a scan would read
        "INSERT INTO mention_aspects (source, native_id, aspect, polarity)"
        " SELECT 'demo.jd', 'other' || i, '质量', 'neg' FROM range(5000) t(i)"
    )
    f = MentionFilter(DAY, DAY + timedelta(days=1))
    asked = [m for m in period_sample(filled, f, 10) if m.native_id == "c"]
    found = question_candidates(filled, asked)
    assert [(c.native_id, c.aspects) for c in found] == [("c", ("物流", "质量"))]
    assert scan_types(filled, tmp_path, lambda: question_candidates(filled, asked), "mention_aspects") == {"Index Scan"}


def scan_types(store: Store, tmp_path: Path, read: Callable[[], object], table: str) -> set[str]:
    """How the queries `read` sent through `store.query` scanned `table` (DuckDB's profile of each)."""
    out = tmp_path / "profile.json"
    store.con.execute("SET enable_profiling = 'json'")
    store.con.execute(f"SET profiling_output = '{out}'")
    found: set[str] = set()
    send = store.query

    def profiled(*args: Any) -> Any:
        result = send(*args)
        found.update(scans_in(out, table))
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store, "query", profiled)
        try:
            read()
        finally:
            store.con.execute("PRAGMA disable_profiling")
    return found


def test_a_window_whose_days_are_smaller_than_the_sample_is_read_whole(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A window whose days each hold fewer mentions than the sample reads of a day is read whole: the
    page's FAQ candidates are the report's (reports/faq.py over every question of the period), counts,
    channels and examples alike, and the aspects' counts are the window's."""
    f = demo_window(demo_db)
    monkeypatch.setattr(topics, "SAMPLE", 100_000 * DEFAULT_DAYS)
    view = load_topics(str(demo_db), f, TZ)
    with open_store(demo_db, read_only=True) as store:
        assert view.faq == faq.topics(store, f)
        assert view.sampled == queries.kpis(store, f).mentions
        whole = store.frame(
            "SELECT a.aspect, count(*) AS n FROM trusted_mentions m JOIN mention_aspects a USING (source, native_id)"
            " WHERE m.published_at >= ? AND m.published_at < ? GROUP BY ALL ORDER BY 1",
            [f.start, f.end],
        )
    assert view.faq and 0 < view.texts_now <= topics.TEXTS
    assert view.aspects.groupby("aspect")["mentions"].sum().to_dict() == dict(zip(whole["aspect"], whole["n"]))


def newest_of_each_day(db: Path, f: MentionFilter, per_day: int) -> set[str]:
    """The keys of the newest `per_day` trusted mentions of each day of `f`, worked out with a window function."""
    with open_store(db, read_only=True) as store:
        rows = store.query(
            "SELECT native_id FROM trusted_mentions m WHERE m.published_at >= ? AND m.published_at < ?"
            " QUALIFY row_number() OVER (PARTITION BY date_diff('second', ?::TIMESTAMP, m.published_at) // 86400"
            " ORDER BY m.published_at DESC, m.source, m.native_id) <= ?",
            [f.start, f.end, f.start, per_day],
        )
    return {native_id for (native_id,) in rows}


def test_faq_and_themes_read_the_newest_mentions_of_each_day(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bug: the topics page read every text of the period for its FAQ candidates, then a hash-ordered
    sample of it (every key and text of the window read to pick 20,000 at 10M mentions): both the FAQ
    candidates and the themes now read the newest SAMPLE // days (TEXTS // days) mentions of each day,
    a bounded read of each day's newest rows. The aspects' sentiment is not sampled: it counts every
    trusted mention of the window."""
    f = demo_window(demo_db)
    days = (f.end - f.start).days
    monkeypatch.setattr(topics, "SAMPLE", 3 * days)
    monkeypatch.setattr(topics, "TEXTS", 2 * days)
    view = load_topics(str(demo_db), f, TZ)
    with open_store(demo_db, read_only=True) as store:
        whole = sum(t.questions for t in faq.topics(store, f))
        sample = period_sample(store, f, 3 * days)
        themes_read = [m.text for m in period_sample(store, f, 2 * days)]
    assert {m.native_id for m in sample} == newest_of_each_day(demo_db, f, 3)
    assert (view.sample_per_day, view.texts_per_day) == (3, 2)
    assert view.sampled == len(sample) <= 3 * days and 0 < view.texts_now <= 2 * days
    assert topics.newest_per_day(sample, f, 2 * days) == themes_read
    asked = [m for m in sample if faq.asks(m.text)]
    assert 0 < sum(t.questions for t in view.faq) <= len(asked) < whole
    assert {e.native_id for t in view.faq for e in t.examples} <= {m.native_id for m in asked}
    with open_store(demo_db, read_only=True) as store:
        named = store.query(
            "SELECT count(*) FROM mention_aspects WHERE list_contains(?::VARCHAR[], source || '/' || native_id)",
            [[f"{m.source}/{m.native_id}" for m in sample]],
        )[0][0]
    assert 0 < named < view.aspects["mentions"].sum() == whole_aspects(demo_db, f)


# How often each aspect is named with each polarity per local day, counted from the rows: the reference
# aspect_series must equal.
RAW_ASPECTS = (
    "SELECT time_bucket(INTERVAL 1 DAY, timezone(?, m.published_at AT TIME ZONE 'UTC')) AS bucket, a.aspect,"
    " count(*) AS mentions, count(*) FILTER (WHERE a.polarity = 'pos') AS positive,"
    " count(*) FILTER (WHERE a.polarity = 'neg') AS negative"
    " FROM trusted_mentions m JOIN mention_aspects a USING (source, native_id)"
    " WHERE m.published_at >= ? AND m.published_at < ? AND (? IS NULL OR m.brand = ?)"
    " GROUP BY ALL ORDER BY bucket, aspect"
)


@pytest.mark.parametrize("misaligned", [timedelta(0), timedelta(minutes=2, seconds=31)])
def test_aspect_series_counts_every_trusted_mention_of_the_window(demo_db: Path, misaligned: timedelta) -> None:
    """The series (whole 5-minute buckets from rollup_aspects, the window's partial edge buckets from the
    rows) equals a direct count over mention_aspects joined to the window's trusted mentions, for the
    whole store and one brand, with the window on the rollup's boundaries and off them."""
    window = demo_window(demo_db)
    with open_store(demo_db, read_only=True) as store:
        brand = store.query("SELECT min(brand) FROM mentions")[0][0]
        for brands in ((), (brand,)):
            f = MentionFilter(window.start + misaligned, window.end - misaligned, brands=brands)
            series = aspect_series(store, f, timedelta(days=1), TZ)
            one = brands[0] if brands else None
            raw = store.frame(RAW_ASPECTS, [TZ, f.start, f.end, one, one])
            assert len(raw) > 5
            got = series[["bucket", "aspect", "mentions", "positive", "negative"]]
            assert got.values.tolist() == raw.values.tolist()
            assert series["net_sentiment"].tolist() == pytest.approx(
                ((raw["positive"] - raw["negative"]) / raw["mentions"]).tolist()
            )


def test_the_english_page_names_a_configured_aspect(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13: an aspect configured for a brand (电池, [sentiment.aspects]) showed as 电池 on the English
    topics page; [sentiment.aspect_names] names it, in the chart's legend and the FAQ's aspect column."""
    from streamlit.testing.v1 import AppTest

    rows = [(f"q{n}", n, "充电宝的电池鼓包了怎么办？", "neg") for n in range(4)] + [
        (f"d{n}", 10 + n, "物流很快", "neg") for n in range(4)
    ]
    aspects = [(f"q{n}", "电池", "neg") for n in range(4)] + [(f"d{n}", "物流", "neg") for n in range(4)]
    with open_store(db_path) as store:
        store_scored(store, rows, aspects, score=0.2)
    config = tmp_path / "koubei.toml"
    config.write_text(
        '[sentiment.aspects]\n"电池" = ["电池", "鼓包"]\n\n[sentiment.aspect_names]\n"电池" = { en = "battery cells" }\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("KOUBEI_DB", str(db_path))
    monkeypatch.setenv("KOUBEI_CONFIG", str(config))

    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=180)
    at.run()
    at.segmented_control(key="lang").set_value("en").run()
    at.switch_page("dashboard/pages/topics.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    legend = {trace["name"] for trace in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]}
    assert legend == {"battery cells", "delivery"}
    faq = next(d.value for d in at.dataframe if "questions" in d.value.columns)
    assert list(faq["aspect"]) == ["battery cells"]


def test_a_warmed_server_s_first_topics_page_cuts_no_clause_again(demo_db: Path) -> None:
    """Bug: a new server's first topics page cut every clause of its window's texts (about 3 s of its own
    at 10M mentions, against 1.7 s once cut); the server reads and cuts the default window first."""
    topics.clause_words.cache_clear()
    warmed = topics.warm_default_window(str(demo_db), TZ)
    assert warmed is not None and warmed.themes and topics.clause_words.cache_info().currsize > 0
    cut = topics.clause_words.cache_info().misses
    _, start, end = default_days(load_filter_options(str(demo_db)), TZ)  # as the sidebar opens (filters.render)
    shown = load_topics(str(demo_db), Filters(start, end, TZ).query, TZ)
    assert topics.clause_words.cache_info().misses == cut, "the page cut nothing the warm-up had not"
    assert shown.themes == warmed.themes and shown.faq == warmed.faq


def test_the_server_warms_the_topics_page_of_a_large_store_only(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard import serve

    monkeypatch.setenv("KOUBEI_DB", str(demo_db))
    done = threading.Thread(target=lambda: None)
    done.start()
    topics.clause_words.cache_clear()
    serve.warm_topics(done)  # the demo is far below WARM_MIN_BYTES: nothing read
    assert topics.clause_words.cache_info().misses == 0
    monkeypatch.setattr(topics, "WARM_MIN_BYTES", 0)
    serve.warm_topics(done)
    assert topics.clause_words.cache_info().currsize > 0
    monkeypatch.setenv("KOUBEI_DB", str(tmp_path / "broken.duckdb"))
    (tmp_path / "broken.duckdb").write_bytes(b"not a database")
    serve.warm_topics(done)  # a failure is logged, never raised: the server stays up
