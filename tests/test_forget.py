"""`koubei forget`: a person's mentions and everything derived from them leave the database file for
good, audited without the personal data; retention purges on a schedule in `koubei watch`."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from koubei.config import parse_settings
from koubei.context import AppContext
from koubei.pipeline import PassSummary
from koubei.records import Mention
from koubei.watch import watch
from reports.schedule import queue_due_reports
from storage import Store, duplicates, open_store, upsert_mentions
from storage.alerts_series import keep_tokens
from storage.audit import entries
from storage.forget import DERIVED_TABLES
from storage.incidents import Incident, OutboxRow, enqueue, outbox_rows, save_incident
from storage.sentiment import save_labels, save_tier_labels, write_scores
from tests.conftest import built_once

KOUBEI = str(Path(sys.executable).with_name("koubei"))
NAME, EMAIL = "王小明", "Zhao.Liu@Example.com"
# Each of the victim's mentions says something nobody else says, to grep the file for.
ROWS = [
    ("1", f"我是{NAME}，声浪X1耳机用了三天就坏了，联系我138-1234-5678", NAME),
    ("2", f"{NAME}再说一次：客服一直不理人，差评到底", NAME),
    ("3", "物流很快，质量不错，推荐购买", "李四"),
    ("4", f"邮箱 {EMAIL} 可以联系我，充电宝发烫严重", "赵六"),
    ("5", "电话 138 1234 5678 打不通，售后太慢了", "钱七"),
]
NEEDLES = [NAME, "138-1234-5678", "声浪X1耳机用了三天就坏了", "客服一直不理人，差评到底"]
T0 = datetime(2026, 11, 1, 10, 0)


def _export(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "text", "time", "author", "rating"])
        for native_id, text, author in rows:
            writer.writerow([native_id, text, f"2026-11-0{native_id} 10:00", author, 1])
    return path


def koubei(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KOUBEI, "--db", str(db), *args], capture_output=True, text=True, timeout=120)


def _write_files(db: Path) -> dict[str, Path]:
    """Files koubei writes that may quote the victim, through the real paths: `koubei report`,
    `koubei export` (one of a period without the victim) and a scheduled report queued for delivery."""
    folder = db.parent / "out"
    files = {
        "report": folder / "weekly.html",
        "export": folder / "november.csv",
        "last-year": folder / "last-year.jsonl",
    }
    commands = [
        ("report", "--period", "2026-10-26..2026-11-01", "-o", str(files["report"])),
        ("export", "--period", "2026-11-01..2026-11-07", "-o", str(files["export"])),
        ("export", "--period", "2025-11-01..2025-11-07", "--format", "jsonl", "-o", str(files["last-year"])),
    ]
    for args in commands:
        result = koubei(db, *args)
        assert result.returncode == 0, result.stderr
    settings = parse_settings(
        {
            "alerts": {"channels": {"ops": {"type": "webhook", "url": "http://127.0.0.1:9/hook"}}},
            "reports": [{"name": "daily", "schedule": "every day 00:00 UTC", "period": "week", "format": "html",
                         "channels": ["ops"], "output_dir": str(folder)}],
        }
    )  # fmt: skip
    assert queue_due_reports(lambda: open_store(db), settings, datetime(2026, 11, 3, 1, tzinfo=UTC), log=print) == 1
    (files["scheduled"],) = folder.glob("daily-*.html")
    assert NAME.encode() in files["export"].read_bytes()  # the export quotes the victim, masked or not
    return files


def _derive_everything(db: Path) -> None:
    """Scores, aspects, triage, flags, sentiment and tier labels, a duplicate group, an incident and a queued alert
    quoting the victim: every kind of row `forget` must reach."""
    keys = [("shop", native_id) for native_id, _, _ in ROWS]
    with open_store(db) as store:
        write_scores(
            store,
            [{"source": s, "native_id": n, "score": 0.1, "label": "neg", "model": "t", "model_version": "0",
              "text_hash": ""} for s, n in keys],
            [{"source": s, "native_id": n, "aspect": "质量", "polarity": "neg"} for s, n in keys],
            [{"source": s, "native_id": n, "urgency": 4, "motive": "补偿", "reason": "r", "reply": "抱歉",
              "flags": "{}"} for s, n in keys],
            [{"source": s, "native_id": n, "rating_conflict": None, "default_review": False,
              "duplicate_group": None, "duplicate_count": None, "excluded": False} for s, n in keys],
        )  # fmt: skip
        save_labels(store, [("shop", "1", "neg"), ("shop", "3", "pos")])
        keep_tokens(store, [(1, T0, (NAME, "声浪X1耳机用了三天就坏了"))])  # an incident's keywords cut its texts
        save_tier_labels(store, [("shop", "1", 4), ("shop", "4", 3)])  # they keep a copy of the text
        group = [("shop", "1"), ("shop", "3"), ("shop", "5")]
        with store.transaction():
            duplicates.write_groups(
                store,
                [{"source": s, "native_id": n, "group": "g1", "accounts": 3, "excluded": n != "1"} for s, n in group],
                scope=keys,
            )
            duplicates.add(
                store,
                [{"source": s, "native_id": n, "seq": i, "published_at": T0, "text_key": i, "representative": True,
                  "component": 0 if (s, n) in group else i} for i, (s, n) in enumerate(keys)],
                [{"band": i, "source": s, "native_id": n} for i, (s, n) in enumerate(keys)],
                {},
            )  # fmt: skip
        incident = Incident(
            id="i1", kind="negative", scope_type="brand", brand="声浪", scope_value="声浪", bucket="1h",
            window_start=T0, window_end=T0 + timedelta(hours=3), peak_at=T0, observed=5, expected=1, score=5,
            severity=4, created_at=T0, updated_at=T0,
        )  # fmt: skip
        save_incident(store, incident, keys)
        quoted = [{"source": s, "native_id": n, "url": None, "text": text, "reach": 0} for (s, n), (_, text, _) in
                  zip(keys, ROWS)]  # fmt: skip
        enqueue(
            store,
            OutboxRow(id="o1", incident_id="i1", channel="ops", route="r", event="opened", severity=4,
                      payload={"incident_id": "i1", "mentions": quoted}, next_attempt_at=T0, created_at=T0),
        )  # fmt: skip
        store.con.execute("CHECKPOINT")


def _file_bytes(db: Path) -> bytes:
    wal = Path(str(db) + ".wal")
    return db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _keys_left(store: Store, table: str) -> set[str]:
    return {row[0] for row in store.query(f"SELECT native_id FROM {table}")}


def _imported_and_derived(folder: Path) -> None:
    path = folder / "k.duckdb"
    imported = koubei(path, "import", str(_export(folder / "export.csv", ROWS)), "--source", "shop")
    assert imported.returncode == 0, imported.stderr
    _derive_everything(path)


@pytest.fixture
def db(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A copy, byte for byte (its .wal too, if any), of a store imported by `koubei import` and
    derived once per test run (tests/conftest.py built_once: a `koubei import` process per test
    was 40 s of setups in a run at load 7); each test forgets in its own copy."""
    built = built_once(tmp_path_factory, worker_id, "forget-store", _imported_and_derived)
    for name in ("k.duckdb", "k.duckdb.wal"):
        if (built / name).exists():
            shutil.copy(built / name, tmp_path / name)
    return tmp_path / "k.duckdb"


def test_forgetting_an_author_leaves_no_byte_of_them_in_the_file(db: Path, tmp_path: Path) -> None:
    """Regression (issue 17, item 3): there was no way to forget a person; their name (in raw),
    texts and phone number stayed in the database file, alert payloads and the reports and exports
    koubei had written."""
    files = _write_files(db)
    data = _file_bytes(db)
    assert all(needle.encode() in data for needle in NEEDLES)  # the grep below can fail

    dry = koubei(db, "forget", "--author", NAME, "--dry-run")
    assert dry.stdout.startswith("2 mentions would be erased and 3 files deleted"), dry.stdout + dry.stderr
    assert all(path.exists() for path in files.values())
    result = koubei(db, "forget", "--author", NAME, "--by", "dpo@example.com")
    assert result.returncode == 0, result.stderr
    assert "erased 2 mentions" in result.stdout and NAME not in result.stdout + result.stderr
    gone = {name for name, path in files.items() if not path.exists()}
    assert gone == {"report", "export", "scheduled"}  # their spans hold the victim's posts
    assert all(f"deleted {files[name].resolve()}" in result.stdout for name in gone)

    data = _file_bytes(db)
    assert [needle for needle in NEEDLES if needle.encode() in data] == []
    assert "物流很快，质量不错，推荐购买".encode() in data  # the others are still there
    with open_store(db) as store:
        assert _keys_left(store, "mentions") == {"3", "4", "5"}
        for table in DERIVED_TABLES:
            assert not _keys_left(store, table) & {"1", "2"}, table
        payloads = {row.id: row.payload for row in outbox_rows(store)}
        assert [m["native_id"] for m in payloads["o1"]["mentions"]] == ["3", "4", "5"]
        (report_row,) = [p for p in payloads.values() if p.get("file") == str(files["scheduled"].resolve())]
        assert report_row["file_erased"] is True
        # The group lost its original: one of the copies counts now, and the accounts were recounted.
        assert store.query("SELECT native_id, duplicate_count, excluded FROM mention_flags"
                           " WHERE duplicate_group = 'g1' ORDER BY native_id") == [("3", 2, False), ("5", 2, True)]  # fmt: skip
        (entry,) = entries(store, action="forget")  # the report and export before it are audited too
    assert (entry.actor, entry.action, entry.target) == ("dpo@example.com", "forget", "author")
    assert entry.detail["mentions"] == 2 and entry.detail["files"] == 3
    assert NAME not in json.dumps(entry.detail, ensure_ascii=False)

    # After a restart, collecting (here: importing) the same posts again does not bring them back.
    again = koubei(db, "import", str(_export(tmp_path / "again.csv", ROWS)), "--source", "shop")
    assert again.returncode == 0, again.stderr
    with open_store(db, read_only=True) as store:
        assert _keys_left(store, "mentions") == {"3", "4", "5"}
        assert len(entries(store, action="forget")) == 1


def test_forgetting_by_phone_number_finds_it_however_it_is_written(db: Path) -> None:
    spellings = (b"138-1234-5678", b"138 1234 5678")
    assert all(spelling in _file_bytes(db) for spelling in spellings)
    result = koubei(db, "forget", "--text-contains", "+86 138 1234 5678")
    assert result.returncode == 0, result.stderr
    assert not any(spelling in _file_bytes(db) for spelling in spellings)
    with open_store(db, read_only=True) as store:
        assert _keys_left(store, "mentions") == {"2", "3", "4"}
        assert _keys_left(store, "sentiment_labels") == {"3"}
        assert _keys_left(store, "triage_labels") == {"4"}
        assert entries(store)[0].target == "text"


def test_forgetting_by_email_ignores_case_and_by_mention_id_takes_one(db: Path) -> None:
    assert koubei(db, "forget", "--text-contains", EMAIL.lower()).returncode == 0
    assert koubei(db, "forget", "--mention", "shop:3").returncode == 0
    assert EMAIL.encode() not in _file_bytes(db)
    with open_store(db, read_only=True) as store:
        assert _keys_left(store, "mentions") == {"1", "2", "5"}
        assert [e.target for e in entries(store)] == ["text", "mention"]


def test_forgetting_by_hash_and_a_dry_run(db: Path) -> None:
    with open_store(db, read_only=True) as store:
        (author_hash,) = store.query("SELECT author_hash FROM mentions WHERE native_id = '4'")[0]
    dry = koubei(db, "forget", "--author", author_hash, "--dry-run")
    assert dry.returncode == 0 and dry.stdout.startswith("1 mentions would be erased")
    with open_store(db, read_only=True) as store:
        assert len(_keys_left(store, "mentions")) == 5 and entries(store) == []
    assert koubei(db, "forget", "--author", author_hash).returncode == 0
    with open_store(db, read_only=True) as store:
        assert _keys_left(store, "mentions") == {"1", "2", "3", "5"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "exactly one of"),
        (("--author", NAME, "--mention", "shop:1"), "exactly one of"),
        (("--text-contains", "138"), "at least 5 characters"),
        (("--mention", "shop-1"), "SOURCE:ID"),
    ],
)
def test_a_selector_that_is_missing_or_too_broad_is_refused(db: Path, args: tuple[str, ...], message: str) -> None:
    result = koubei(db, "forget", *args)
    assert result.returncode in (1, 2) and message in result.stderr
    with open_store(db, read_only=True) as store:
        assert len(_keys_left(store, "mentions")) == 5


def test_every_table_keyed_by_a_mention_is_one_forget_reaches(store: Store) -> None:
    """A table added later with (source, native_id) must join DERIVED_TABLES, or forgetting misses it."""
    keyed = {
        table
        for (table,) in store.query(
            "SELECT table_name FROM information_schema.columns WHERE column_name IN ('source', 'native_id')"
            " GROUP BY 1 HAVING count(*) = 2"
        )
    }
    views = {name for (name,) in store.query("SELECT view_name FROM duckdb_views() WHERE NOT internal")}
    assert keyed - views == {"mentions", *DERIVED_TABLES}


# ---------------------------------------------------------------- retention


def test_watch_purges_expired_mentions_and_raw_payloads_for_good(tmp_path: Path) -> None:
    """Regression (issue 17, item 3): nothing was ever purged; [privacy] raw_retention_days and
    mention_retention_days now purge on a schedule in `koubei watch`."""
    db = tmp_path / "w.duckdb"
    now = datetime.now(UTC)
    old = Mention(
        "shop", "old", "三年前的旧评论：电池鼓包了", now - timedelta(days=400), author="老用户", raw={"x": "旧载荷"}
    )
    recent = Mention(
        "shop", "new", "上周的评论：续航很好", now - timedelta(days=7), author="新用户", raw={"memo": "近期数据"}
    )
    with open_store(db) as store:
        upsert_mentions(store, [old, recent], now=now - timedelta(days=60))
        store.con.execute("CHECKPOINT")
    assert "旧评论".encode() in db.read_bytes() and "近期数据".encode() in db.read_bytes()
    config = tmp_path / "koubei.toml"
    config.write_text(
        '[privacy]\nmention_retention_days = 365\nraw_retention_days = 30\n\n[sources.shop]\nkind = "demo"\n'
    )
    lines: list[str] = []
    watch(
        AppContext(config_path=config, db=db),
        run_pass=lambda ctx, sources: PassSummary(),
        max_passes=1,
        log=lines.append,
        install_signals=False,
    )
    data = db.read_bytes()
    assert "旧评论".encode() not in data and "近期数据".encode() not in data
    with open_store(db, read_only=True) as store:
        assert store.query("SELECT native_id, raw FROM mentions") == [("new", None)]
        (entry,) = entries(store)
    assert entry.action == "retention" and entry.detail["mentions"] == 1 and entry.detail["raw_payloads"] == 1
    assert any("retention" in line for line in lines)
