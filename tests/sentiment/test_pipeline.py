"""score_pending against a real DuckDB file: batches, skips, rescoring, aspects,
triage, trust flags and label corrections."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from koubei.config import Settings, parse_settings
from koubei.records import Mention
from sentiment.pipeline import score_pending
from storage import Store, open_store, upsert_mentions
from storage import sentiment as db
from storage.triage import triage_queue

NOW = datetime.now(UTC).replace(microsecond=0)


def mention(i: int, text: str, author: str | None = None, brand: str = "声浪", **extra: Any) -> Mention:
    return Mention(
        source="test",
        native_id=f"m{i}",
        text=text,
        published_at=NOW - timedelta(hours=i),
        author=author or f"user{i}",
        brand=brand,
        **extra,
    )


MENTIONS = [
    mention(1, "声浪P20充电宝充电时起火了，差点烧到孩子，必须给个说法", likes=500, reposts=300),
    mention(2, "快递一周了还没到，客服也不理人，太差了"),
    mention(3, "耳机音质很好，续航给力，非常满意", rating=5),
    mention(4, "质量太差了，用了两天就坏了", rating=5),
    mention(5, "The battery died after two days, terrible product", language="en"),
    mention(6, "建议增加一个黑色款，希望下次能有"),
]
TEMPLATE = "宝贝收到了，质量非常好，物流很快，五星好评，下次还来"
COPIES = [mention(10 + i, TEMPLATE + "！" * i, author=f"bot{i}") for i in range(4)]


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return parse_settings({"sentiment": {"duplicate_window_days": 0}}, db=db_path)


def opener(db_path: Path) -> Callable[[], Store]:
    return lambda: open_store(db_path)


def test_scores_everything_once_then_skips(db_path: Path, settings: Settings) -> None:
    with open_store(db_path) as store:
        upsert_mentions(store, MENTIONS + COPIES)
    seen: list[tuple[int, int]] = []
    first = score_pending(opener(db_path), settings, batch_size=3, progress=lambda d, t: seen.append((d, t)))
    assert first.scored == len(MENTIONS) + len(COPIES)
    assert seen[-1] == (first.scored, first.scored) and len(seen) == 4  # 10 mentions in batches of 3
    assert first.model == "builtin" and first.negatives >= 3
    again = score_pending(opener(db_path), settings)
    assert again.scored == 0  # same model, same texts: nothing to do

    with open_store(db_path) as store:
        rows = {r[0]: r[1:] for r in store.query("SELECT native_id, label, model, model_version FROM sentiment")}
        assert rows["m3"][0] == "pos" and rows["m2"][0] == "neg" and rows["m5"][0] == "neg"
        assert rows["m5"][2].endswith("+vader")
        queue = triage_queue(store)
    by_id = {r.native_id: r for r in queue.itertuples()}
    assert by_id["m1"].urgency == 5 and "safety" in by_id["m1"].reason
    assert by_id["m2"].urgency == 3 and by_id["m2"].motive == "尊重"
    assert "物流" in by_id["m2"].aspects and "客服:neg" in by_id["m2"].aspects
    assert "m3" not in by_id  # positive mentions are not in the triage queue


def test_changed_text_is_rescored(db_path: Path, settings: Settings) -> None:
    with open_store(db_path) as store:
        upsert_mentions(store, MENTIONS)
    score_pending(opener(db_path), settings)
    changed = mention(3, "用了一天就坏了，客服不理人，差评", rating=5)
    with open_store(db_path) as store:
        upsert_mentions(store, [changed])
    summary = score_pending(opener(db_path), settings)
    assert summary.scored == 1
    with open_store(db_path) as store:
        label = store.query("SELECT label FROM sentiment WHERE native_id = 'm3'")[0][0]
        aspects = store.query("SELECT aspect, polarity FROM mention_aspects WHERE native_id = 'm3' ORDER BY 1")
        flags = store.query("SELECT rating_conflict FROM mention_flags WHERE native_id = 'm3'")
    assert label == "neg"
    assert ("客服", "neg") in aspects and ("质量", "pos") not in aspects  # old aspects replaced
    assert flags == [("high_rating_negative_text",)]  # 5 stars on a complaint


def test_template_copies_excluded(db_path: Path, settings: Settings) -> None:
    with open_store(db_path) as store:
        upsert_mentions(store, MENTIONS + COPIES)
    summary = score_pending(opener(db_path), settings)
    assert summary.duplicates_excluded == 3  # the earliest of four copies stays
    with open_store(db_path) as store:
        excluded = db.excluded_keys(store)
        trusted = store.query("SELECT count(*) FROM trusted_mentions")[0][0]
    assert excluded == {("test", "m10"), ("test", "m11"), ("test", "m12")}  # m13 was posted first
    assert trusted == len(MENTIONS) + 1


def test_label_corrections_stored_and_validated(db_path: Path, settings: Settings) -> None:
    with open_store(db_path) as store:
        upsert_mentions(store, MENTIONS)
        assert db.save_labels(store, [("test", "m6", "pos"), ("test", "m4", "neg")]) == 2
        db.save_labels(store, [("test", "m6", "neu")])  # a second correction replaces the first
        assert sorted(db.labelled_texts(store)) == sorted([(MENTIONS[5].text, "neu"), (MENTIONS[3].text, "neg")])
        with pytest.raises(ValueError, match="label must be one of"):
            db.save_labels(store, [("test", "m6", "great")])
        with pytest.raises(ValueError, match="no mention test/nope"):
            db.save_labels(store, [("test", "nope", "pos")])
        assert len(db.labelled_texts(store)) == 2  # nothing half-written


def test_failed_batch_leaves_earlier_batches(
    db_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(db_path) as store:
        upsert_mentions(store, MENTIONS)
    calls = {"n": 0}
    original = db.write_scores

    def failing(store: Store, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")  # simulated: a real disk-full cannot be made here
        return original(store, *args, **kwargs)

    monkeypatch.setattr(db, "write_scores", failing)
    with pytest.raises(RuntimeError):
        score_pending(opener(db_path), settings, batch_size=2)
    with open_store(db_path) as store:
        assert store.query("SELECT count(*) FROM sentiment")[0][0] == 2
    monkeypatch.setattr(db, "write_scores", original)
    assert score_pending(opener(db_path), settings).scored == len(MENTIONS) - 2


NEGATIVE_WAVE = "声浪P20充电宝发热到能煎鸡蛋，这是什么质量，大家千万别买"
WAVE = [mention(20 + i, NEGATIVE_WAVE + "！" * i, author=f"angry{i}") for i in range(4)]


def test_negative_copy_paste_wave_is_flagged_but_still_counted(db_path: Path, settings: Settings) -> None:
    with open_store(db_path) as store:
        upsert_mentions(store, COPIES + WAVE)
    summary = score_pending(opener(db_path), settings)
    assert summary.duplicates_excluded == 3  # only the positive template's copies
    with open_store(db_path) as store:
        flagged = store.query(
            "SELECT native_id, excluded FROM mention_flags WHERE duplicate_group IS NOT NULL"
            " AND native_id IN ('m20', 'm21', 'm22', 'm23') ORDER BY 1"
        )
    assert flagged == [("m20", False), ("m21", False), ("m22", False), ("m23", False)]


@pytest.mark.parametrize(("mode", "expected"), [("all", 6), ("none", 0), (True, 6), (False, 0)])
def test_exclusion_modes(db_path: Path, mode: object, expected: int) -> None:
    with open_store(db_path) as store:
        upsert_mentions(store, COPIES + WAVE)
    settings = parse_settings({"sentiment": {"duplicate_window_days": 0, "exclude_duplicates": mode}}, db=db_path)
    assert score_pending(opener(db_path), settings).duplicates_excluded == expected


def test_bad_exclusion_mode_is_a_config_error(db_path: Path) -> None:
    from koubei.errors import ConfigError

    with pytest.raises(ConfigError, match="exclude_duplicates"):
        parse_settings({"sentiment": {"exclude_duplicates": "some"}}, db=db_path)
