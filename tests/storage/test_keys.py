"""The author key: random per installation, kept outside the database, checked against it, rotatable."""

from __future__ import annotations

import csv
import hashlib
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from koubei.records import Mention
from storage import open_store, upsert_mentions
from storage.keys import LEGACY_KEY, AuthorKeyError, KeyChain, fingerprint

KOUBEI = str(Path(sys.executable).with_name("koubei"))
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建文斌宇浩凯俊峰"


def common_names(count: int = 20_000) -> list[str]:
    """Surname + one or two given-name characters: the shape of most Chinese names and nicknames."""
    names = [s + g for s in SURNAMES for g in GIVEN]
    names += [s + a + b for s in SURNAMES for a in GIVEN for b in GIVEN if a != b]
    return names[:count]


def legacy_hash(source: str, author: str, key: bytes = LEGACY_KEY) -> str:
    """How every version before the key ring hashed an author."""
    return hashlib.blake2b(f"{source}\x1f{author}".encode(), key=key[:64], digest_size=10).hexdigest()


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A fresh installation: no key in the environment, an empty config folder."""
    env = {k: v for k, v in os.environ.items() if k not in ("KOUBEI_AUTHOR_KEY", "KOUBEI_AUTHOR_KEY_FILE")}
    return {**env, "XDG_CONFIG_HOME": str(tmp_path / "config"), **extra}


def _import(tmp_path: Path, db: Path, authors: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    export = tmp_path / f"export-{len(authors)}.csv"
    with export.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "text", "time", "author"])
        for i, author in enumerate(authors):
            writer.writerow([f"r{i}", f"第{i}条：耳机音质不错", "2026-11-01 10:00", author])
    return subprocess.run(
        [KOUBEI, "--db", str(db), "import", str(export), "--source", "shop"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _stored_hashes(db: Path) -> set[str]:
    with open_store(db, read_only=True) as store:
        return {row[0] for row in store.query("SELECT author_hash FROM mentions WHERE author_hash IS NOT NULL")}


def test_a_dictionary_of_common_names_reverses_no_author_of_a_fresh_installation(tmp_path: Path) -> None:
    """Regression (issue 17, item 1): with KOUBEI_AUTHOR_KEY unset a fixed public key hashed every
    author, and a 20,000-name dictionary reversed all of them in a fraction of a second."""
    names = common_names()
    authors = names[::7]  # the installation's authors are common names, all in the dictionary
    db = tmp_path / "k.duckdb"
    result = _import(tmp_path, db, authors, _env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # the normal case is warning-free
    stored = _stored_hashes(db)
    assert len(stored) == len(authors)
    dictionary = {legacy_hash("shop", name): name for name in names}
    assert [dictionary[h] for h in stored if h in dictionary] == []
    ring = tmp_path / "config" / "koubei" / "author.key"
    assert stat.S_IMODE(ring.stat().st_mode) == 0o600
    assert stat.S_IMODE(ring.parent.stat().st_mode) == 0o700
    assert not any(p.suffix == ".key" for p in db.parent.iterdir())  # nothing beside the database
    # The same installation hashes the same person the same way next time (counts and campaigns work).
    again = _import(tmp_path, tmp_path / "other.duckdb", authors[:10], _env(tmp_path))
    assert again.returncode == 0 and _stored_hashes(tmp_path / "other.duckdb") <= stored


def test_an_explicit_environment_key_overrides_the_file_and_hashes_as_before(tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    result = _import(tmp_path, db, ["张伟", "李娜"], _env(tmp_path, KOUBEI_AUTHOR_KEY="an operator's secret"))
    assert result.returncode == 0, result.stderr
    assert _stored_hashes(db) == {legacy_hash("shop", n, b"an operator's secret") for n in ("张伟", "李娜")}
    assert not (tmp_path / "config").exists()


def mention(native_id: str, author: str) -> Mention:
    return Mention("shop", native_id, "耳机音质不错", datetime(2026, 11, 1, tzinfo=UTC), author=author)


def test_a_database_opened_with_another_key_says_so_instead_of_hashing_differently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "k.duckdb"
    with open_store(db) as store:
        upsert_mentions(store, [mention("1", "张伟")])
    monkeypatch.setenv("KOUBEI_AUTHOR_KEY_FILE", str(tmp_path / "elsewhere" / "author.key"))
    with open_store(db) as store, pytest.raises(AuthorKeyError, match="restore the key file"):
        upsert_mentions(store, [mention("2", "张伟")])
    with open_store(db, read_only=True) as store:  # reading needs no key
        assert store.query("SELECT count(*) FROM mentions") == [(1,)]


def test_a_database_hashed_with_the_old_public_key_is_rekeyed_on_first_use(tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    with open_store(db) as store:  # what an older koubei left: public-key hashes, no key record
        store.con.execute(
            "INSERT INTO mentions (source, native_id, author_hash, text, published_at, collected_at, updated_at,"
            " content_hash) VALUES ('shop', '1', ?, '耳机音质不错', now(), now(), now(), 'x')",
            [legacy_hash("shop", "张伟")],
        )
    with open_store(db) as store:
        upsert_mentions(store, [mention("2", "张伟")])
        hashes = [row[0] for row in store.query("SELECT author_hash FROM mentions ORDER BY native_id")]
        generations = store.query("SELECT count(*) FROM author_keys")[0][0]
    assert hashes[0] == hashes[1]  # the old mention and the new one are still one author
    assert legacy_hash("shop", "张伟") not in hashes
    assert generations == 2


def test_rotation_rekeys_every_hash_and_an_old_key_alone_reverses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    names = common_names(2_000)
    assert _import(tmp_path, db, names[:300], _env(tmp_path)).returncode == 0
    before = _stored_hashes(db)
    ring = tmp_path / "config" / "koubei" / "author.key"
    first_key = bytes.fromhex(ring.read_text().splitlines()[1].split()[1])
    assert {KeyChain((first_key,)).hash("shop", n) for n in names} >= before  # the first key alone reverses them

    rotated = subprocess.run(
        [KOUBEI, "--db", str(db), "keys", "rotate", "--by", "dpo"], capture_output=True, text=True, env=_env(tmp_path)
    )
    assert rotated.returncode == 0, rotated.stderr
    after = _stored_hashes(db)
    assert len(after) == len(before) and not after & before
    assert not after & {KeyChain((first_key,)).hash("shop", n) for n in names}  # a leaked old key: nothing
    # New mentions go through the whole chain: the same person keeps one hash, forgetting still finds them.
    assert _import(tmp_path, db, names[:1], _env(tmp_path)).returncode == 0
    assert _stored_hashes(db) == after
    with open_store(db, read_only=True) as store:
        trail = store.query("SELECT actor, action, detail FROM audit_log")
    assert [(actor, action) for actor, action, _ in trail] == [("dpo", "rotate-key")]
    assert first_key.hex() not in str(trail) and fingerprint(first_key) not in str(trail)


def test_rotation_is_refused_while_the_key_comes_from_the_environment(tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    env = _env(tmp_path, KOUBEI_AUTHOR_KEY="an operator's secret")
    assert _import(tmp_path, db, ["张伟"], env).returncode == 0
    rotated = subprocess.run([KOUBEI, "--db", str(db), "keys", "rotate"], capture_output=True, text=True, env=env)
    assert rotated.returncode == 1 and "KOUBEI_AUTHOR_KEY" in rotated.stderr
    assert _stored_hashes(db) == {legacy_hash("shop", "张伟", b"an operator's secret")}


def test_keys_show_says_where_the_ring_is_and_which_keys_made_the_hashes_but_never_a_key(tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    assert _import(tmp_path, db, ["张伟"], _env(tmp_path)).returncode == 0
    ring = tmp_path / "config" / "koubei" / "author.key"
    key = bytes.fromhex(ring.read_text().splitlines()[1].split()[1])
    shown = subprocess.run(
        [KOUBEI, "--db", str(db), "keys", "show"], capture_output=True, text=True, env=_env(tmp_path)
    )
    assert shown.returncode == 0, shown.stderr
    assert str(ring) in shown.stdout and fingerprint(key) in shown.stdout
    assert key.hex() not in shown.stdout + shown.stderr
