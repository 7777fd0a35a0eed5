"""`koubei eval triage`, tier corrections (`koubei label --tier`, storage) and the suites:
through the real CLI and a real DuckDB file."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from evaluation.triage import (
    SUITES_DIR,
    Case,
    SuiteError,
    Verdict,
    evaluate_suite,
    load_suite,
    missed_targets,
    score,
    suite_paths,
)
from evaluation.triage_previous import previous_tier
from koubei.config import parse_settings
from koubei.records import Mention
from sentiment.aspects import AspectTagger
from sentiment.model import Scorer, load_model
from sentiment.pipeline import score_pending
from storage import open_store, upsert_mentions
from storage import sentiment as db
from storage.triage import triage_queue

KOUBEI = str(Path(sys.executable).with_name("koubei"))
HEADER = "text\texpected_tier\texpected_polarity\tcategory\tdomain\tlanguage"
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
EASY = [
    ("充电宝起火了，差点烧到孩子", 5, "neg", "injury"),
    ("已经向消协投诉，也联系了记者", 5, "neg", "threat"),
    ("房间干净整洁，前台服务热情", 1, "pos", "praise"),
    ("颜色和图片一样，完全没有色差，很满意", 1, "pos", "negation"),
    ("请问这款奶粉适合几个月的宝宝？", 2, "neu", "question"),
]


def write_suite(path: Path, rows: list[tuple[str, int, str, str]]) -> Path:
    lines = ["# a suite written for this test", HEADER]
    lines += [f"{text}\t{tier}\t{pol}\t{cat}\tecommerce\tzh-CN" for text, tier, pol, cat in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def koubei(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "koubei.toml"
    config.write_text("", encoding="utf-8")
    command = [KOUBEI, "--db", str(tmp_path / "k.duckdb"), "--config", str(config), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def stored_mentions(path: Path) -> None:
    mentions = [
        Mention("weibo", "fire", "充电宝起火了，差点烧到孩子", NOW, likes=30),
        Mention("jd", "late", "快递一周了还没到，客服也不理人", NOW - timedelta(minutes=5), likes=2000),
        Mention("jd", "ok", "物流很快，东西不错", NOW - timedelta(minutes=9)),
    ]
    with open_store(path) as store:
        upsert_mentions(store, mentions)


# ---------------------------------------------------------------- the harness
def test_suite_errors_name_the_file_row_and_column(tmp_path: Path) -> None:
    bad = write_suite(tmp_path / "bad.tsv", [("好", 1, "pos", "praise"), ("差", 7, "neg", "mild")])
    with pytest.raises(SuiteError, match=r"bad\.tsv: row 3, column expected_tier: '7' is not 1-5"):
        load_suite(bad)
    headless = tmp_path / "headless.tsv"
    headless.write_text("text\texpected_tier\n好\t1\n", encoding="utf-8")
    with pytest.raises(SuiteError, match="header lacks column"):
        load_suite(headless)


def test_scores_count_crises_escalated_praise_and_hard_cases() -> None:
    cases = [
        Case("a", 5, "neg", "injury", "app", "zh-CN"),
        Case("b", 5, "neg", "threat", "app", "zh-CN"),
        Case("c", 1, "pos", "negation", "app", "zh-CN"),
        Case("d", 2, "neg", "sarcasm", "app", "zh-CN"),
    ]
    verdicts = [Verdict(5, "neg"), Verdict(4, "neg"), Verdict(3, "pos"), Verdict(2, "pos")]
    s = score(cases, verdicts)
    assert (s.crisis_recall, s.praise_escalated, s.exact, s.within_one, s.hard) == (0.5, 1, 0.5, 0.75, 0.5)
    assert missed_targets("x", s) == [
        "x: crisis recall 0.500 misses the target >= 0.9",
        "x: praise escalated 1 misses the target <= 0",
        "x: tier within one 0.750 misses the target >= 0.92",
        "x: hard pos/neg accuracy 0.500 misses the target >= 0.88",
    ]


def test_the_previous_release_is_the_baseline() -> None:
    """evaluation/triage_previous.py keeps the rules of 6b1ae3d: legal words needed reach >= 50."""
    assert [previous_tier("再不退款我就找律师起诉你们", "neg", r) for r in (10, 200)] == [4, 5]
    assert previous_tier("酒店的大堂经理特别热情", "neu") == 4  # the bug issue 15 fixes


def test_every_suite_meets_every_target_and_beats_the_previous_release() -> None:
    """Issue 15's targets on the team's suites (koubei's rules and shipped model). The rules
    were developed on the hard-case suite; the held-out suite had two documented rounds of
    fixes and the second held-out suite was opened after one blind evaluation and since used
    for development (docs/sentiment.md#triage), so the blind check of unseen reviews is the lead's."""
    scorer, tagger = Scorer(load_model("builtin")), AspectTagger()
    names = ("triage_hard_cases.tsv", "triage_holdout.tsv", "triage_holdout2.tsv")
    for name in names:
        report = evaluate_suite(SUITES_DIR / name, scorer, tagger, snownlp=False)
        assert report.missed() == [], report.missed()
        now, before = report.overall("koubei"), report.overall("previous")
        assert now.crisis_recall is not None and before.crisis_recall is not None and now.hard and before.hard
        assert now.crisis_recall > before.crisis_recall and now.within_one > before.within_one
        assert now.praise_escalated < before.praise_escalated and now.hard > before.hard
    # The fourth to eleventh suites (triage_fresh.tsv, written for the learned layer,
    # triage_fresh2.tsv and triage_fresh3.tsv, for the third round, triage_fresh4.tsv for the
    # fourth, triage_fresh5.tsv and triage_fresh6.tsv for the fifth, triage_fresh7.tsv and
    # triage_fresh8.tsv for the sixth) and the spent blind sets 9 and 10 (triage_holdout9.tsv,
    # triage_holdout10.tsv, development suites since the seventh round), 11 (triage_holdout11.tsv,
    # since the eighth), 12 (triage_holdout12.tsv, since the ninth) and 13 (triage_holdout13.tsv,
    # since the tenth) are measured, not held to the targets here (docs/sentiment.md#triage).
    fresh = tuple(f"triage_fresh{n}.tsv" for n in ("", 2, 3, 4, 5, 6, 7, 8))
    spent = tuple(f"triage_holdout{n}.tsv" for n in (9, 10, 11, 12, 13))
    assert set(suite_paths()) == {SUITES_DIR / name for name in (*names, *fresh, *spent)}


# ---------------------------------------------------------------- the commands
def test_eval_triage_exits_0_when_every_target_is_met(tmp_path: Path) -> None:
    suite = write_suite(tmp_path / "easy.tsv", EASY)
    result = koubei(
        tmp_path, "eval", "triage", "--suite", str(suite), "--no-snownlp", "--json", str(tmp_path / "t.json")
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "suite easy: 5 reviews" in result.stdout and "all triage targets met" in result.stdout
    figures = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    koubei_scores = figures["suites"]["easy"]["systems"]["koubei"]
    assert (koubei_scores["crisis_recall"], koubei_scores["praise_escalated"]) == (1.0, 0)
    assert figures["corrections"] == {"stored": 0, "agree": 0}


def test_eval_triage_exits_1_naming_each_missed_target(tmp_path: Path) -> None:
    suite = write_suite(tmp_path / "hard.tsv", [("今天天气不错，心情很好", 5, "neg", "injury"), *EASY[2:]])
    result = koubei(tmp_path, "eval", "triage", "--suite", str(suite), "--no-snownlp")
    assert result.returncode == 1
    missed = [line for line in result.stdout.splitlines() if line.startswith("missed: ")]
    assert missed == [
        "missed: hard: crisis recall 0.000 misses the target >= 0.9",
        "missed: hard: tier within one 0.750 misses the target >= 0.92",
    ]
    assert result.stderr.strip() == "error: 2 triage target(s) missed"


def test_tier_corrections_are_stored_and_checked_against_the_current_rules(tmp_path: Path) -> None:
    stored_mentions(tmp_path / "k.duckdb")
    assert koubei(tmp_path, "label", "weibo", "fire", "--tier", "5").stdout.strip() == "labelled weibo/fire tier 5"
    both = koubei(tmp_path, "label", "jd", "late", "neg", "--tier", "1")
    assert both.stdout.strip() == "labelled jd/late label neg, tier 1"
    with open_store(tmp_path / "k.duckdb", read_only=True) as store:
        assert db.tier_labels(store) == [
            ("充电宝起火了，差点烧到孩子", 30, 5),
            ("快递一周了还没到，客服也不理人", 2000, 1),
        ]
        assert db.labelled_texts(store) == [("快递一周了还没到，客服也不理人", "neg")]
    suite = write_suite(tmp_path / "easy.tsv", EASY)
    result = koubei(tmp_path, "eval", "triage", "--suite", str(suite), "--no-snownlp")
    assert "tier corrections: 2 stored; the current rules give 1 the same tier" in result.stdout


def test_label_needs_a_value_or_a_tier_in_range(tmp_path: Path) -> None:
    stored_mentions(tmp_path / "k.duckdb")
    nothing = koubei(tmp_path, "label", "jd", "ok")
    assert nothing.returncode == 2 and "give a label (pos, neu or neg), --tier 1-5, or both" in nothing.stderr
    assert koubei(tmp_path, "label", "jd", "ok", "--tier", "6").returncode == 2
    unknown = koubei(tmp_path, "label", "jd", "nope", "--tier", "3")
    assert unknown.returncode == 2 and "no mention jd/nope to label" in unknown.stderr


# ---------------------------------------------------------------- storage
def test_save_tier_labels_checks_tiers_and_mentions(tmp_path: Path) -> None:
    stored_mentions(tmp_path / "k.duckdb")
    with open_store(tmp_path / "k.duckdb") as store:
        with pytest.raises(ValueError, match="jd/ok: tier must be one of 1-5, got 0"):
            db.save_tier_labels(store, [("jd", "ok", 0)])
        with pytest.raises(ValueError, match="no mention jd/x to label"):
            db.save_tier_labels(store, [("jd", "x", 2)])
        assert db.save_tier_labels(store, [("jd", "ok", 2), ("jd", "ok", 3)][-1:]) == 1
        assert db.tier_labels(store) == [("物流很快，东西不错", 0, 3)]


def test_the_queue_orders_by_reach_inside_a_tier_and_shows_both_readings(tmp_path: Path) -> None:
    path = tmp_path / "k.duckdb"
    mentions = [
        Mention("jd", f"m{i}", text, NOW - timedelta(minutes=i), likes=likes)
        for i, (text, likes) in enumerate(
            [("质量太差了，用了两天就坏了", 0), ("做工粗糙，不值这个价", 900), ("真棒，新买的洗衣机第一天就罢工", 10)]
        )
    ]
    with open_store(path) as store:
        upsert_mentions(store, mentions)
    score_pending(lambda: open_store(path), parse_settings({}, db=path))
    with open_store(path, read_only=True) as store:
        queue = triage_queue(store)
    assert list(queue["urgency"]) == [2, 2, 2]
    assert list(queue["native_id"]) == ["m1", "m2", "m0"]  # widest reach first inside a tier, not newest
    sarcastic = queue[queue["native_id"] == "m2"].iloc[0]
    assert (sarcastic["label"], sarcastic["reading"]) == ("pos", "neg")  # the model's label and triage's
    assert pd.isna(sarcastic["corrected_tier"])
