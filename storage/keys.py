"""The author key: what makes an author hash impossible to reverse without it.

An author's name is kept only as a keyed hash (enough to count distinct
authors and spot copy-paste campaigns across accounts). Anyone holding the key
can hash a list of common names and look them up, so the key is a secret:

- A key ring (random 32-byte keys, one per line, oldest first) is generated on
  first use at `$KOUBEI_AUTHOR_KEY_FILE`, else `$XDG_CONFIG_HOME/koubei/author.key`
  (`~/.config/koubei/author.key`), mode 0600 in a 0700 directory. It lives
  outside the data directory on purpose: the database file (and data/) is
  what gets copied, backed up and attached to bug reports, and a key beside it
  would travel with it. One ring serves every database of the installation.
- `KOUBEI_AUTHOR_KEY` set in the environment is the key itself (a ring of one)
  and overrides the file; it hashes exactly as before (blake2b, keyed), so
  databases made with it stay consistent.
- Each database records which keys made its hashes (`author_keys`, by
  fingerprint, never the key), so opening it with a lost or different key is
  reported instead of silently hashing the same person differently.

Rotation cannot re-hash names koubei never stored. It re-keys instead: a new
key is added to the ring and every stored hash h becomes H(new key, h); new
mentions are hashed through the whole chain, so one person keeps one hash and
`koubei forget --author NAME` still finds them. After it, an earlier key on its
own (a leaked copy, an old backup of the ring) reverses nothing in the
database; the ring keeps every generation, so it must stay secret as a whole.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from storage.db import LakeLocation, StorageError

if TYPE_CHECKING:
    from storage.db import Store

AUTHOR_KEY_ENV = "KOUBEI_AUTHOR_KEY"
KEY_FILE_ENV = "KOUBEI_AUTHOR_KEY_FILE"
# The fixed key every version before the key ring used: public, so hashes made with it are not secret.
LEGACY_KEY = b"koubei-author"
KEY_BYTES = 32
HASH_BYTES = 10  # 20 hex characters, as before
_HEADER = (
    "# koubei author key ring: secret, keep it 0600 and out of backups of data/. <fingerprint> <key>, oldest first\n"
)


class AuthorKeyError(StorageError):
    """The key a database's author hashes were made with is not available (or not the one given)."""


def fingerprint(key: bytes) -> str:
    """A public name for a key: tells keys apart, says nothing about them."""
    return hashlib.blake2b(b"koubei author key fingerprint", key=key[:64], digest_size=6).hexdigest()


@dataclass(frozen=True)
class KeyChain:
    """The keys a database's hashes went through, oldest first."""

    keys: tuple[bytes, ...]

    def hash(self, source: str, author: str) -> str:
        """The stored form of (source, author): keyed with the first key, then re-keyed by each later one."""
        digest = hashlib.blake2b(f"{source}\x1f{author}".encode(), key=self.keys[0][:64], digest_size=HASH_BYTES)
        value = digest.hexdigest()
        for key in self.keys[1:]:
            value = rekey(key, value)
        return value

    def digest(self, kind: str, value: str) -> str:
        """A keyed digest of something other than an author (a mention key, an erasure selector)."""
        return self.hash(f"\x1e{kind}", value)

    @property
    def fingerprints(self) -> list[str]:
        return [fingerprint(k) for k in self.keys]


def rekey(key: bytes, stored: str) -> str:
    """One step of rotation: a stored hash, keyed again with the new key."""
    return hashlib.blake2b(b"rekey\x1f" + stored.encode(), key=key[:64], digest_size=HASH_BYTES).hexdigest()


# ---------------------------------------------------------------- the ring


def ring_path() -> Path:
    if configured := os.environ.get(KEY_FILE_ENV):
        return Path(configured)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "koubei" / "author.key"


def _env_key() -> bytes | None:
    value = os.environ.get(AUTHOR_KEY_ENV)
    return value.encode() if value else None


def key_source() -> str:
    """Where the keys come from, for messages."""
    return f"{AUTHOR_KEY_ENV} (environment)" if _env_key() else str(ring_path())


def _parse_ring(path: Path) -> list[bytes]:
    keys = []
    for number, line in enumerate(path.read_text(encoding="ascii").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            named, hexkey = line.split()
            key = bytes.fromhex(hexkey)
        except ValueError:
            raise AuthorKeyError(f"{path}, line {number}: not '<fingerprint> <hex key>'") from None
        if fingerprint(key) != named:
            raise AuthorKeyError(f"{path}, line {number}: the key does not match its fingerprint {named}")
        keys.append(key)
    if not keys:
        raise AuthorKeyError(f"{path} holds no key")
    return keys


def _write_ring(path: Path, keys: list[bytes]) -> None:
    """Write the ring whole, 0600 from the first byte, then move it into place."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(_HEADER + "".join(f"{fingerprint(k)} {k.hex()}\n" for k in keys))
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


@contextmanager
def _ring_lock(path: Path) -> Iterator[None]:
    """Two processes creating or extending the ring at once must not each write their own."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path.parent, os.O_RDONLY)  # the folder itself: no lock file left behind
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def ring() -> list[bytes]:
    """The installation's keys, oldest first; the file is created with one fresh key on first use."""
    if env := _env_key():
        return [env]
    path = ring_path()
    if not path.exists():
        try:
            with _ring_lock(path):
                if not path.exists():
                    _write_ring(path, [secrets.token_bytes(KEY_BYTES)])
        except OSError as exc:
            raise AuthorKeyError(
                f"cannot create the author key at {path} ({exc.strerror}): set {KEY_FILE_ENV} to a writable path"
                f" or {AUTHOR_KEY_ENV} to a secret"
            ) from exc
    return _parse_ring(path)


def add_key() -> bytes:
    """A new key at the end of the ring (rotation). Refused when the key comes from the environment."""
    if _env_key():
        raise AuthorKeyError(
            f"the author key comes from {AUTHOR_KEY_ENV}: rotation keeps its keys in a key file;"
            f" unset {AUTHOR_KEY_ENV} (after putting that key in {ring_path()}) to rotate"
        )
    path = ring_path()
    with _ring_lock(path):
        keys = _parse_ring(path) if path.exists() else []
        key = secrets.token_bytes(KEY_BYTES)
        _write_ring(path, [*keys, key])
    return key


# ---------------------------------------------------------------- a database's chain

_current: KeyChain | None = None


def current_chain() -> KeyChain:
    """The chain of the database this process last opened for writing, else the ring's newest key."""
    return _current if _current is not None else KeyChain((ring()[-1],))


def chain_for(store: Store) -> KeyChain:
    """The chain that made this database's hashes, checked against the ring; recorded on first use.

    A database from before the ring has hashes but no record: they were made with
    KOUBEI_AUTHOR_KEY if it is set, else with the public legacy key, and in that
    case they are re-keyed at once with the ring's key (no names needed)."""
    global _current
    available = {fingerprint(k): k for k in [LEGACY_KEY, *ring()]}
    recorded = [row[0] for row in store.query("SELECT fingerprint FROM author_keys ORDER BY generation")]
    if recorded:
        missing = [f for f in recorded if f not in available]
        if missing:
            raise AuthorKeyError(
                f"{store.path}: its author hashes were made with key {', '.join(missing)}, which is not in"
                f" {key_source()};"
                " restore the key file this database was used with (or set the key it was made with)"
            )
        chain = KeyChain(tuple(available[f] for f in recorded))
    else:
        chain = _first_chain(store, available)
    _current = chain
    return chain


def _first_chain(store: Store, available: dict[str, bytes]) -> KeyChain:
    newest = list(available.values())[-1]
    hashed = store.query("SELECT 1 FROM mentions WHERE author_hash IS NOT NULL LIMIT 1")
    if not hashed:
        record_generation(store, newest)
        return KeyChain((newest,))
    made_with = _env_key() or LEGACY_KEY
    with store.transaction():
        record_generation(store, made_with)
        chain = KeyChain((made_with,))
        if made_with == LEGACY_KEY:
            chain = rekey_stored(store, chain, newest)
    return chain


def record_generation(store: Store, key: bytes) -> None:
    store.con.execute(
        "INSERT INTO author_keys SELECT coalesce(max(generation), 0) + 1, ?, ? FROM author_keys",
        [fingerprint(key), datetime.now(UTC).replace(tzinfo=None)],
    )


# Every column that holds a value of KeyChain.hash / digest, so rotation re-keys all of them.
KEYED_COLUMNS = (("mentions", "author_hash"), ("forgotten", "digest"))


def rekey_stored(store: Store, chain: KeyChain, key: bytes) -> KeyChain:
    """Re-key every stored hash with `key` and record it; the caller holds a transaction.

    A raw payload that carries its row's author hash (in place of the name) gets the new one too."""
    import pyarrow as pa

    con = store.con
    for table, column in KEYED_COLUMNS:
        query = f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL"
        old = [row[0] for row in con.execute(query).fetchall()]
        if not old:
            continue
        mapping = pa.table({"old": old, "new": [rekey(key, value) for value in old]})
        con.register("koubei_rekey", mapping)
        try:
            extra = ", raw = replace(raw::VARCHAR, k.old, k.new)" if table == "mentions" else ""
            con.execute(f"UPDATE {table} SET {column} = k.new{extra} FROM koubei_rekey k WHERE {column} = k.old")
        finally:
            con.unregister("koubei_rekey")
    record_generation(store, key)
    return KeyChain((*chain.keys, key))


def rotate(where: str | Path | LakeLocation, actor: str, origin: str) -> int:
    """A new key for this database: every stored hash re-keyed with it; returns the new generation.
    The file is re-keyed in a rewritten copy (storage/compact.py), so readers never wait and no old
    hash stays in its free blocks; a lake in one transaction, then every Parquet file holding an old
    hash is rewritten and the older snapshots dropped (storage/lake_maintenance.compact_for_good)."""
    from storage.audit import record
    from storage.compact import compact
    from storage.db import open_store
    from storage.lake_maintenance import compact_for_good

    with open_store(where) as store:
        chain_for(store)  # records the chain of a database that has none yet, before the ring grows
    key = add_key()
    generations: list[int] = []

    def transform(store: Store) -> None:
        with store.transaction():
            chain = rekey_stored(store, store.author_chain, key)
            generations.append(len(chain.keys))
            detail = {"generation": len(chain.keys), "fingerprint": fingerprint(key)}
            record(store, "rotate-key", "author-hashes", detail, actor, origin)

    if isinstance(where, LakeLocation):
        with open_store(where) as store:
            transform(store)
        compact_for_good(where)
    else:
        compact(where, transform)
    return generations[0]
