"""Every number of the report, checked against SQL over the same period and scope of the
demo database (the real pipeline's output)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from alerts.cases import load_cases
from reports import faq
from reports.facts import ReportFacts
from storage import open_store
from storage.incidents import get_incident
from storage.reports import question_candidates
from tests.reports.conftest import BRAND, request

SCOPE_SQL = "brand = ? AND published_at >= ? AND published_at < ?"


def _sql(db: Path, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def _kpis(db: Path, start: object, end: object) -> tuple[int, float, float]:
    mentions, avg, negative, scored = _sql(
        db,
        "SELECT count(*), avg(s.score), count(*) FILTER (WHERE s.label = 'neg'), count(s.score)"
        " FROM mentions m LEFT JOIN sentiment s USING (source, native_id)"
        " LEFT JOIN mention_flags f USING (source, native_id)"
        f" WHERE NOT coalesce(f.excluded, FALSE) AND m.{SCOPE_SQL.replace(' AND ', ' AND m.')}",
        [BRAND, start, end],
    )[0]
    return int(mentions), float(avg), negative / scored


def test_headline_figures_match_sql_in_both_periods(facts: ReportFacts, demo_db: Path) -> None:
    period = facts.request.period
    mentions, avg, share = _kpis(demo_db, period.start, period.end)
    before = _kpis(demo_db, period.previous().start, period.previous().end)
    h = facts.headline
    assert (h.mentions.current, h.mentions.previous) == (mentions, before[0])
    assert h.avg_score.current == pytest.approx(avg) and h.avg_score.previous == pytest.approx(before[1])
    assert h.negative_share.current == pytest.approx(share)
    assert h.negative_share.previous == pytest.approx(before[2])
    assert mentions > 500 and share > before[2]  # the crisis is in the period: the check is not vacuous


def test_share_of_voice_is_the_brands_part_of_all_watched_brands(facts: ReportFacts, demo_db: Path) -> None:
    period = facts.request.period
    rows: dict[str, int] = dict(
        _sql(
            demo_db,
            "SELECT m.brand, count(*) FROM trusted_mentions m WHERE published_at >= ? AND published_at < ?"
            " AND brand IS NOT NULL GROUP BY 1",
            [period.start, period.end],
        )
    )
    assert facts.headline.share_of_voice is not None
    assert facts.headline.share_of_voice.current == pytest.approx(rows[BRAND] / sum(rows.values()))


def test_incidents_are_counted_as_cases_by_tier(facts: ReportFacts, demo_db: Path) -> None:
    period = facts.request.period
    ids = [
        r[0]
        for r in _sql(
            demo_db,
            "SELECT id FROM incidents WHERE window_start < ? AND window_end >= ? AND brand = ? AND kind <> 'source_down'",
            [period.end, period.start, BRAND],
        )
    ]
    with open_store(demo_db, read_only=True) as store:
        incidents = [get_incident(store, i) for i in ids]
        cases = load_cases(store, [i for i in incidents if i is not None])
    expected = {tier: sum(1 for c in cases if c.severity == tier) for tier in range(2, 6)}
    assert {tier: c.current for tier, c in facts.headline.cases_by_tier.items()} == expected
    assert sum(expected.values()) == len(facts.cases) >= 1
    assert sorted(m.id for item in facts.cases for m in item.case.members) == sorted(ids)


def test_each_move_states_counts_sql_gives(facts: ReportFacts, demo_db: Path) -> None:
    """The "what changed" figures: a product's, aspect's or source's negatives in each period,
    the volume, and the driving product aspect's negative verdicts."""
    assert len(facts.moves) == 3
    current, previous = facts.request.period, facts.request.period.previous()

    def negatives(column: str, value: str, p: object) -> int:
        return int(
            _sql(
                demo_db,
                "SELECT count(*) FROM trusted_mentions m JOIN sentiment s USING (source, native_id)"
                f" WHERE s.label = 'neg' AND m.{column} = ? AND m.brand = ? AND published_at >= ? AND published_at < ?",
                [value, BRAND, p.start, p.end],  # type: ignore[attr-defined]
            )[0][0]
        )

    def verdicts(product: str, aspect: str, p: object) -> int:
        return int(
            _sql(
                demo_db,
                "SELECT count(*) FROM mention_aspects a JOIN trusted_mentions m USING (source, native_id)"
                " WHERE a.polarity = 'neg' AND a.aspect = ? AND m.product = ? AND m.brand = ?"
                " AND published_at >= ? AND published_at < ?",
                [aspect, product, BRAND, p.start, p.end],  # type: ignore[attr-defined]
            )[0][0]
        )

    for cited in facts.moves:
        move = cited.move
        if move.kind in ("product", "source"):
            assert (move.before, move.after) == (
                negatives(move.kind, str(move.subject), previous),
                negatives(move.kind, str(move.subject), current),
            )
        if move.kind == "volume":
            assert (move.before, move.after) == (facts.headline.mentions.previous, facts.headline.mentions.current)
        if move.driver is not None and move.driver.dimension == "product_aspect":
            product, aspect = move.driver.key
            assert (move.driver.before, move.driver.after) == (
                verdicts(product, aspect, previous),
                verdicts(product, aspect, current),
            )
        for voice in cited.cited:  # cited mentions are negative, in the period and the scope
            assert negatives("native_id", voice.native_id, current) == 1


def test_aspect_figures_and_examples_match_sql(facts: ReportFacts, demo_db: Path) -> None:
    period = facts.request.period
    assert facts.aspects
    for aspect in facts.aspects:
        mentions, negative = _sql(
            demo_db,
            "SELECT count(*), count(*) FILTER (WHERE a.polarity = 'neg') FROM mention_aspects a"
            " JOIN trusted_mentions m USING (source, native_id)"
            " WHERE a.aspect = ? AND m.brand = ? AND published_at >= ? AND published_at < ?",
            [aspect.aspect, BRAND, period.start, period.end],
        )[0]
        assert (aspect.mentions, aspect.negative) == (mentions, negative)
        reaches = [v.reach for v in aspect.voices]
        assert reaches == sorted(reaches, reverse=True)  # most reach first
        assert len({v.text for v in aspect.voices}) == len(aspect.voices)  # one example per text


def test_method_counts_what_was_left_out(facts: ReportFacts, demo_db: Path) -> None:
    period = facts.request.period
    default, copies = _sql(
        demo_db,
        "SELECT count(*) FILTER (WHERE f.default_review), count(*) FILTER (WHERE NOT f.default_review)"
        " FROM mentions m JOIN mention_flags f USING (source, native_id)"
        " WHERE f.excluded AND m.brand = ? AND published_at >= ? AND published_at < ?",
        [BRAND, period.start, period.end],
    )[0]
    assert (facts.method.exclusions.default_reviews, facts.method.exclusions.copies) == (default, copies)
    scored = sum(n for _, _, n in facts.method.models)
    total_scored = _sql(
        demo_db,
        "SELECT count(*) FROM trusted_mentions m JOIN sentiment s USING (source, native_id)"
        " WHERE m.brand = ? AND published_at >= ? AND published_at < ?",
        [BRAND, period.start, period.end],
    )[0][0]
    assert scored == total_scored


def test_questions_are_every_asking_mention_grouped_by_aspect(facts: ReportFacts, demo_db: Path) -> None:
    """The engine's coarse filter (RE2) finds every mention the Python question grammar finds."""
    period = facts.request.period
    texts = _sql(
        demo_db,
        "SELECT text FROM trusted_mentions WHERE brand = ? AND published_at >= ? AND published_at < ?",
        [BRAND, period.start, period.end],
    )
    asking = sum(1 for (text,) in texts if faq.QUESTION.search(str(text)))
    with open_store(demo_db, read_only=True) as store:
        candidates = question_candidates(store, request().scope.filter(period), faq.QUESTION.pattern)
    every_topic = faq.group_questions([c for c in candidates if faq.asks(c.text)], limit=1000)
    assert sum(topic.questions for topic in every_topic) == asking > 0
    counts = [topic.questions for topic in facts.faq]
    assert counts == sorted(counts, reverse=True) and facts.faq[0] == every_topic[0]
    for topic in facts.faq:
        assert sum(n for _, n in topic.sources) == topic.questions


def test_a_scope_without_data_reports_nothing_instead_of_failing(demo_db: Path) -> None:
    from reports.facts import build_facts

    facts = build_facts(demo_db, request(brands=("没有这个品牌",)))
    assert facts.headline.mentions.current == 0 and facts.moves == () and facts.cases == ()
    assert facts.headline.negative_share.current is None


def test_a_case_shows_who_did_what_when_and_the_response_time_against_its_deadline(
    demo_db: Path, tmp_path: Path
) -> None:
    import shutil
    from datetime import timedelta

    from reports.facts import RESPONSE_DEADLINES, build_facts
    from reports.html import render_html
    from storage.incidents import log_response

    db = tmp_path / "k.duckdb"
    shutil.copy(demo_db, db)
    first = build_facts(db, request())
    lead = first.cases[0].case.lead
    detected = min(m.created_at for m in first.cases[0].case.members)
    with open_store(db) as store:
        log_response(store, lead.id, "acknowledge", "王经理", None, detected + timedelta(minutes=50))
        log_response(
            store, lead.id, "respond", "客服<b>组</b>", "已联系用户 13812345678 换新", detected + timedelta(hours=2)
        )
    item = build_facts(db, request()).cases[0]
    assert [(r.actor, r.action) for r in item.responses] == [("王经理", "acknowledge"), ("客服<b>组</b>", "respond")]
    assert item.first_response_minutes == 50.0
    assert item.deadline_minutes == RESPONSE_DEADLINES[item.case.severity]
    assert item.met_deadline is (50 <= RESPONSE_DEADLINES[item.case.severity])
    html = render_html(build_facts(db, request()))
    assert (
        "王经理" in html and "客服&lt;b&gt;组&lt;/b&gt;" in html and "138****5678" in html and "13812345678" not in html
    )
