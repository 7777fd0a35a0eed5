"""`koubei lake compact` and `koubei lake check` (storage/lake_maintenance.py): compaction of a
lake that many small writes fragmented, and the catalog damage of concurrent deletes found."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from koubei.config import parse_settings
from koubei.records import Mention
from sentiment.pipeline import score_pending
from storage import Store, open_store, upsert_mentions
from storage.db import LakeLocation, _attach_lake
from storage.lake_maintenance import LakeDamaged, check_lake, compact_lake, lake_files
from tests.lake.conftest import KOUBEI, koubei_env, lake_config, run_koubei, table_rows

ROUNDS = 2  # small writes, each a collect and a scoring batch, as a worker makes every few seconds
PER_ROUND = 4
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _fragment(lake: LakeLocation, rounds: range = range(ROUNDS)) -> None:
    settings = parse_settings({}, db=None)

    def opener() -> Store:
        return open_store(lake)

    for round_ in rounds:
        mentions = [
            Mention(
                source="test",
                native_id=f"r{round_}m{i}",
                text=("物流很快，包装完好", "质量太差，客服不理人")[i % 2],
                published_at=T0 + timedelta(minutes=round_ * PER_ROUND + i),
            )
            for i in range(PER_ROUND)
        ]
        if round_:  # the last round's first post, edited since: an update, a delete file on its data file
            mentions.append(
                Mention(source="test", native_id=f"r{round_ - 1}m0", text=f"改了 {round_}", published_at=T0)
            )
        with opener() as store:
            upsert_mentions(store, mentions)
        score_pending(opener, settings, workers=1)


def test_compact_merges_a_fragmented_lake_and_keeps_every_row(tmp_path: Path, lake: LakeLocation) -> None:
    _fragment(lake)
    rows = table_rows(lake)
    with open_store(lake, read_only=True) as store:
        before = lake_files(store)
    assert before.data_files > 10 * ROUNDS and before.delete_files > 0

    with open_store(lake) as store:  # `koubei lake compact --keep-minutes 0`, without a process's start
        done = compact_lake(store, keep=timedelta(0))
    assert done.before == before
    after = done.after
    assert after.data_files < before.data_files / 2
    assert after.delete_files < before.delete_files
    assert before.on_disk is not None and after.on_disk is not None and after.on_disk < before.on_disk / 2
    assert after.snapshots < before.snapshots and after.waiting_deletion == 0
    assert table_rows(lake) == rows
    with open_store(lake, read_only=True) as store:
        assert check_lake(store) == []

    # A worker's writes go on as before on the compacted lake: collected, scored, dequeued.
    _fragment(lake, rounds=range(ROUNDS, ROUNDS + 1))
    with open_store(lake, read_only=True) as store:
        stored, scored = store.query(
            "SELECT count(*), count(s.native_id) FROM mentions m LEFT JOIN sentiment s USING (source, native_id)"
        )[0]
        assert stored == scored == (ROUNDS + 1) * PER_ROUND
        assert store.query("SELECT count(*) FROM score_queue")[0][0] == 0


def _delete_together(lake: LakeLocation, keys: tuple[str, str]) -> None:
    """Two processes' deletes from one data file, committed at once and outside the write turn,
    as koubei's workers dequeued before their writes took turns."""
    first, second = _attach_lake(lake), _attach_lake(lake)  # two attachments: two catalogs' views
    try:
        for con, key in zip((first, second), keys, strict=True):
            con.execute("BEGIN TRANSACTION")
            con.execute("DELETE FROM score_queue WHERE native_id = ?", [key])
        first.execute("COMMIT")
        second.execute("COMMIT")
    finally:
        first.close()
        second.close()


def test_check_reports_a_data_file_with_two_live_delete_files_and_compact_refuses_it(
    tmp_path: Path, lake: LakeLocation
) -> None:
    mentions = [
        Mention(source="test", native_id=f"m{i}", text="还行吧，一般般", published_at=T0 + timedelta(minutes=i))
        for i in range(10)
    ]
    with open_store(lake) as store:
        upsert_mentions(store, mentions)  # one data file of score_queue
        with store.transaction():
            store.con.execute("DELETE FROM score_queue WHERE native_id = 'm0'")  # and its delete file
    _delete_together(lake, ("m1", "m2"))

    checked = run_koubei(lake_config(tmp_path, lake), lake, "lake", "check")
    assert checked.returncode == 1
    assert "1 data files with more than one live delete file (tables score_queue)" in checked.stderr
    assert "score_queue: count(*) says 6 rows, a scan finds" in checked.stderr
    assert "repair:" in checked.stderr and "koubei migrate --to ducklake" in checked.stderr

    with open_store(lake) as store:
        before = lake_files(store)
        with pytest.raises(LakeDamaged, match="not compacted"):
            compact_lake(store, keep=timedelta(0))
        assert lake_files(store) == before


def test_lake_compact_on_the_single_file_says_it_is_not_a_lake(tmp_path: Path) -> None:
    config = tmp_path / "koubei.toml"
    config.write_text("", encoding="utf-8")
    command = [KOUBEI, "--config", str(config), "--db", str(tmp_path / "k.duckdb"), "lake", "compact"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=koubei_env(LakeLocation("", "")))
    assert done.returncode != 0
    assert "is not a lake" in done.stderr


def _parquet_text(data_path: str) -> str:
    """Every value of every Parquet file under `data_path`, as text (the files are compressed:
    a grep of their bytes would find nothing either way)."""
    with open_store(":memory:") as reader:
        return "\n".join(
            str(reader.query(f"SELECT * FROM read_parquet('{file}')"))
            for file in sorted(Path(data_path).rglob("*.parquet"))
        )


def test_forget_on_a_lake_leaves_no_file_holding_the_erased_text(tmp_path: Path, lake: LakeLocation) -> None:
    """Bug: `koubei forget` compacted the single file only; on a lake the erased mentions stayed
    in their Parquet files, marked deleted, and in every older snapshot."""
    needle = "王小明的电话138-1234-5678"
    kept = "物流很快，质量不错，推荐购买"
    mentions = [
        Mention(source="test", native_id=str(i), text=text, published_at=T0 + timedelta(minutes=i))
        for i, text in enumerate((f"{needle}，耳机坏了", kept, f"又是{needle}", "还行吧"))
    ]
    with open_store(lake) as store:
        upsert_mentions(store, mentions)
    assert needle in _parquet_text(lake.data_path)  # the check below can fail

    erased = run_koubei(lake_config(tmp_path, lake), lake, "forget", "--text-contains", needle)
    assert erased.returncode == 0, erased.stderr
    assert "erased 2 mentions" in erased.stdout
    left = _parquet_text(lake.data_path)
    assert needle not in left and kept in left


def test_retention_on_a_lake_leaves_no_file_holding_a_purged_text(
    tmp_path: Path, lake: LakeLocation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bug: retention's purge compacted `ctx.db_path`, the single file's path: on a lake the purged
    mentions stayed readable in their Parquet files (koubei/retention.py)."""
    from koubei.context import AppContext
    from koubei.retention import purge
    from tests.lake.conftest import CATALOG_ENV

    now = datetime.now(UTC)
    expired, kept = "三年前的旧评论：电池鼓包了", "上周的评论：续航很好"
    with open_store(lake) as store:
        upsert_mentions(
            store,
            [
                Mention(source="test", native_id="old", text=expired, published_at=now - timedelta(days=400)),
                Mention(source="test", native_id="new", text=kept, published_at=now - timedelta(days=7)),
            ],
        )
    assert expired in _parquet_text(lake.data_path)  # the check below can fail
    config = lake_config(tmp_path, lake)
    config.write_text(config.read_text("utf-8") + "\n[privacy]\nmention_retention_days = 365\n", "utf-8")
    monkeypatch.setenv(CATALOG_ENV, lake.catalog_dsn)

    erased = purge(AppContext(config_path=config), now)
    assert erased is not None and erased.mentions == 1
    left = _parquet_text(lake.data_path)
    assert expired not in left and kept in left


def test_keys_rotate_on_a_lake_rekeys_the_lake_and_leaves_no_old_hash_in_its_files(
    tmp_path: Path, lake: LakeLocation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bug: `koubei keys rotate` re-keyed `ctx.db_path`, the single file's path, on a lake too: it
    created or rewrote a file nobody used and left every hash of the lake under the old key."""
    monkeypatch.delenv("KOUBEI_AUTHOR_KEY", raising=False)  # a key ring of this test's own, here and in the CLI
    monkeypatch.delenv("KOUBEI_AUTHOR_KEY_FILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    with open_store(lake) as store:
        upsert_mentions(
            store, [Mention(source="shop", native_id="1", text="耳机音质不错", published_at=T0, author="张伟")]
        )
        (old,) = store.query("SELECT author_hash FROM mentions")[0]
    assert old in _parquet_text(lake.data_path)  # the check below can fail

    config = lake_config(tmp_path, lake)
    rotated = subprocess.run(
        [KOUBEI, "--config", str(config), "keys", "rotate", "--by", "dpo"],
        capture_output=True,
        text=True,
        env=koubei_env(lake),
        cwd=tmp_path,  # where the single file's default path (data/koubei.duckdb) would land
    )
    assert rotated.returncode == 0, rotated.stderr
    with open_store(lake, read_only=True) as store:
        (new,) = store.query("SELECT author_hash FROM mentions")[0]
        trail = store.query("SELECT actor, action FROM audit_log")
    assert new != old and ("dpo", "rotate-key") in trail
    assert old not in _parquet_text(lake.data_path)
    assert not (tmp_path / "data").exists()
