"""Forgetting a person, and retention: mentions go with everything derived from them.

`forget` erases the mentions a selector finds (an author by name or hash, one
mention by source and id, or every mention whose text or raw payload contains
a phone number or e-mail address), and with them their scores, aspects,
triage, trust flags, sentiment and tier corrections (which keep their own copy
of the text), their place in incidents' driving lists, their quotes in queued
or sent alert payloads, and the report and export files koubei wrote whose
span held one of them (storage/written.py). Duplicate groups they belonged to
are recounted. What was erased is remembered only as keyed digests
(`forgotten`), so the next collect or import does not store it again, and the
erasure is written to the audit log with its counts and a keyed digest of the
selector, never the selector itself.

`purge_expired` is retention: mentions published more than
mention_retention_days ago are erased the same way; raw payloads collected
more than raw_retention_days ago are dropped.

Both work in bounded batches (storage/batches.py). Deleted rows stay readable
in the file's free blocks until storage/compact.py rewrites it; the callers
(`koubei forget`, the watch loop) do that right after.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from storage.audit import record
from storage.batches import repeat_bounded
from storage.db import Store, naive_utc
from storage.keys import KeyChain
from storage.rollups import changing
from storage.textindex import forget_postings
from storage.written import covering, erase_covering

# Every table keyed by a mention's (source, native_id), besides mentions itself. A new table of
# that kind must be added here: tests/test_forget.py checks the schema against this list.
DERIVED_TABLES = (
    "sentiment",
    "mention_aspects",
    "triage",
    "mention_flags",
    "sentiment_labels",
    "triage_labels",
    "incident_mentions",
    "score_queue",
    "duplicate_texts",
    "duplicate_bands",
    "duplicate_pending",
    "mention_topics",
    "query_tags",
    "search_docs",  # after forget_postings has read their docs
)
# People's corrections keep their own copy of the text (for evaluation after the mention is gone):
# `--text-contains` reaches them by that copy too.
LABEL_TABLES = ("sentiment_labels", "triage_labels")
SELECTOR_KINDS = ("author", "mention", "text")
MIN_TEXT_SELECTOR = 5  # shorter than a phone number or an e-mail address: too easy to match everyone
_HASH = re.compile(r"^[0-9a-f]{20}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_SEPARATORS = re.compile(r"[\s\-().+]")


class SelectorError(ValueError):
    """A selector that is malformed or would match far more than one person."""


@dataclass(frozen=True)
class Selector:
    kind: str  # author | mention | text
    value: str


@dataclass
class Erased:
    mentions: int = 0
    labels: int = 0  # labelled texts that matched on their own copy of the text
    payloads: int = 0  # alert payloads that quoted an erased mention
    # The report and export files koubei wrote (storage/written.py) that may have quoted one: deleted.
    files: list[str] = field(default_factory=list)
    raw: int = 0  # raw payloads dropped by retention
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.mentions or self.labels or self.payloads or self.raw)


# ---------------------------------------------------------------- selectors


def _text_condition(value: str, column: str) -> tuple[str, list[Any]]:
    """SQL matching a phone number however it is spaced, an e-mail in any case, else the exact text."""
    if len(value.strip()) < MIN_TEXT_SELECTOR:
        raise SelectorError(f"--text-contains needs at least {MIN_TEXT_SELECTOR} characters")
    digits = _PHONE_SEPARATORS.sub("", value)
    if digits.isdigit():
        # 13812345678 also as 138-1234-5678, 138 1234 5678 or +86 138...: match the national number.
        digits = re.sub(r"^(00)?86(?=1\d{10}$)", "", digits)
        pattern = r"(^|\D)" + r"[\s\-]?".join(digits) + r"($|\D)"
        return f"regexp_matches({column}, ?)", [pattern]
    if _EMAIL.match(value.strip()):
        return f"contains(lower({column}), ?)", [value.strip().lower()]
    return f"contains({column}, ?)", [value]


def _author_hashes(store: Store, chain: KeyChain, value: str) -> list[str]:
    """The hashes an author selector stands for: the name hashed for every source, and the value itself
    when it looks like a hash."""
    sources = [row[0] for row in store.query("SELECT DISTINCT source FROM mentions")]
    hashes = {chain.hash(source, value) for source in sources}
    if _HASH.match(value):
        hashes.add(value)
    return sorted(hashes)


def _where(store: Store, chain: KeyChain, selector: Selector) -> tuple[str, list[Any]]:
    """The mentions a selector finds, as a condition over mentions."""
    if selector.kind == "author":
        hashes = _author_hashes(store, chain, selector.value)
        return f"author_hash IN ({', '.join('?' for _ in hashes)})" if hashes else "FALSE", hashes
    if selector.kind == "mention":
        source, sep, native_id = selector.value.partition(":")
        if not sep or not source or not native_id:
            raise SelectorError(f"--mention {selector.value!r}: give SOURCE:ID")
        return "source = ? AND native_id = ?", [source, native_id]
    if selector.kind == "text":
        in_text, params = _text_condition(selector.value, "text")
        in_raw, raw_params = _text_condition(selector.value, "raw::VARCHAR")
        return f"({in_text} OR coalesce({in_raw}, FALSE))", params + raw_params
    raise SelectorError(f"unknown selector {selector.kind!r}; one of {', '.join(SELECTOR_KINDS)}")


# ---------------------------------------------------------------- erasing


def _quoted(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The mentions an alert payload quotes (a report's payload counts them instead: an int)."""
    quoted = payload.get("mentions")
    return [m for m in quoted if isinstance(m, dict)] if isinstance(quoted, list) else []


def _key(quote: dict[str, Any]) -> tuple[str, str]:
    return str(quote.get("source")), str(quote.get("native_id"))


def _scrub_outbox(store: Store, doomed: set[tuple[str, str]], erased_files: set[str]) -> int:
    """Drop the erased mentions from alert payloads (queued alerts go out without them) and mark the
    report payloads whose file was erased (a report still waiting then fails to send rather than
    sending another file). Returns how many payloads quoted an erased mention."""
    quoting = 0
    for outbox_id, raw in store.query("SELECT id, payload FROM alert_outbox"):
        payload = orjson.loads(raw)
        quotes = _quoted(payload)
        kept = [m for m in quotes if _key(m) not in doomed]
        file_erased = str(payload.get("file")) in erased_files
        if len(kept) == len(quotes) and not file_erased:
            continue
        if len(kept) != len(quotes):
            payload["mentions"], quoting = kept, quoting + 1
        if file_erased:
            payload["file_erased"] = True
        store.con.execute(
            "UPDATE alert_outbox SET payload = ? WHERE id = ?", [orjson.dumps(payload).decode(), outbox_id]
        )
    return quoting


def _recount_groups(store: Store, groups: list[str]) -> None:
    """Duplicate groups that lost members: count their accounts again, dissolve the ones left
    with one member, and let the earliest remaining member count (it may have been a copy)."""
    if not groups:
        return
    marks = ", ".join("?" for _ in groups)
    con = store.con
    con.execute(
        "UPDATE mention_flags SET duplicate_count = c.accounts FROM ("
        " SELECT f.duplicate_group AS g,"
        "  count(DISTINCT coalesce(m.author_hash, m.source || '/' || m.native_id)) AS accounts"
        " FROM mention_flags f JOIN mentions m USING (source, native_id)"
        f" WHERE f.duplicate_group IN ({marks}) GROUP BY 1) c WHERE mention_flags.duplicate_group = c.g",
        groups,
    )
    con.execute(
        "UPDATE mention_flags SET duplicate_group = NULL, duplicate_count = NULL, excluded = default_review"
        f" WHERE duplicate_group IN ({marks}) AND duplicate_group IN ("
        "  SELECT duplicate_group FROM mention_flags GROUP BY 1 HAVING count(*) < 2)",
        groups,
    )
    con.execute(
        "UPDATE mention_flags SET excluded = default_review FROM ("
        " SELECT f.source, f.native_id FROM mention_flags f JOIN mentions m USING (source, native_id)"
        f" WHERE f.duplicate_group IN ({marks})"
        " QUALIFY row_number() OVER (PARTITION BY f.duplicate_group ORDER BY m.published_at, m.source, m.native_id) = 1"
        ") first WHERE mention_flags.source = first.source AND mention_flags.native_id = first.native_id",
        groups,
    )


def _erase_batch(store: Store, where: str, params: list[Any], limit: int, chain: KeyChain | None) -> Erased:
    """Erase up to `limit` mentions matching `where` and what derives from them, in one transaction.
    With a chain (an erasure on request, not retention), remember each as forgotten and delete the
    files koubei wrote that may quote them."""
    con = store.con
    with store.transaction():
        con.execute(
            "CREATE OR REPLACE TEMP TABLE koubei_doomed AS SELECT source, native_id, published_at FROM mentions"
            f" WHERE {where} LIMIT {int(limit)}",
            params,
        )
        rows = con.execute("SELECT source, native_id, published_at FROM koubei_doomed").fetchall()
        if not rows:
            return Erased()
        doomed = {(s, n) for s, n, _ in rows}
        in_doomed = "(source, native_id) IN (SELECT source, native_id FROM koubei_doomed)"
        groups = [
            row[0]
            for row in con.execute(
                f"SELECT DISTINCT duplicate_group FROM mention_flags WHERE duplicate_group IS NOT NULL AND {in_doomed}"
            ).fetchall()
        ]
        # The rollups lose the erased mentions and follow the copies of their groups, whose marks change.
        marks = ", ".join("?" for _ in groups) or "NULL"
        touched = (
            "SELECT source, native_id FROM koubei_doomed UNION"
            f" SELECT source, native_id FROM mention_flags WHERE duplicate_group IN ({marks})"
        )
        with changing(store, touched, groups):
            forget_postings(store, "SELECT source, native_id FROM koubei_doomed")
            for table in DERIVED_TABLES:
                con.execute(f"DELETE FROM {table} WHERE {in_doomed}")
            if chain is not None:
                # Kept keyword tokens are keyed by a hash of the text, not by mention: an erasure
                # drops them all (the next detection pass cuts what it needs again); retention
                # need not, they are pruned long before a mention expires.
                con.execute("DELETE FROM keyword_tokens")
            # Retention (no chain) leaves files alone: they are as old as what they quote, and kept or
            # thrown away by whoever keeps them; an erasure on request reaches every file koubei wrote.
            files = erase_covering(store, [published for _, _, published in rows]) if chain is not None else []
            payloads = _scrub_outbox(store, doomed, {str(path) for path in files})
            con.execute(f"DELETE FROM mentions WHERE {in_doomed}")
            _recount_groups(store, groups)
        if chain is not None:
            _remember(store, "mention", [chain.digest("mention", f"{s}\x1f{n}") for s, n in doomed])
        con.execute("DROP TABLE koubei_doomed")
    return Erased(mentions=len(doomed), payloads=payloads, files=[str(path) for path in files])


def _remember(store: Store, kind: str, digests: list[str]) -> None:
    if digests:
        store.con.register("koubei_forgotten", pa.table({"digest": digests}))
        try:
            store.upsert(
                "forgotten",
                ("kind", "digest"),
                "SELECT DISTINCT ? AS kind, digest, now()::TIMESTAMP AS forgotten_at FROM koubei_forgotten",
                None,
                [kind],
            )
        finally:
            store.con.unregister("koubei_forgotten")


def _erase_where(open_store: Callable[[], Store], where: str, params: list[Any], chain: KeyChain | None) -> Erased:
    total = Erased()

    def step(store: Store, limit: int) -> int:
        done = _erase_batch(store, where, params, limit, chain)
        total.mentions += done.mentions
        total.payloads += done.payloads
        total.files += done.files
        return done.mentions

    repeat_bounded(open_store, step)
    return total


def would_erase(store: Store, selector: Selector) -> tuple[int, list[Path]]:
    """How many mentions `forget` would erase and the files it would delete (a dry run)."""
    where, params = _where(store, store.author_chain, selector)
    published = [row[0] for row in store.query(f"SELECT published_at FROM mentions WHERE {where}", params)]
    return len(published), [path for path in covering(store, published) if path.exists()]


def forget(open_store: Callable[[], Store], selector: Selector, actor: str, origin: str) -> Erased:
    """Erase what `selector` finds, remember it as forgotten, and log the erasure (see the module doc)."""
    with open_store() as store:
        chain = store.author_chain
        where, params = _where(store, chain, selector)
    erased = _erase_where(open_store, where, params, chain)
    with open_store() as store, store.transaction():
        if selector.kind == "text":
            label_where, label_params = _text_condition(selector.value, "text")
            for table in LABEL_TABLES:
                erased.labels += store.con.execute(f"DELETE FROM {table} WHERE {label_where}", label_params).fetchone()[
                    0
                ]  # type: ignore[index]
        if selector.kind == "author":
            _remember(store, "author", _author_hashes(store, chain, selector.value))
        erased.detail = {
            "mentions": erased.mentions,
            "labels": erased.labels,
            "alert_payloads": erased.payloads,
            "files": len(erased.files),
            "selector_digest": chain.digest(f"audit-{selector.kind}", selector.value),
            "key_generation": len(chain.keys),
        }
        record(store, "forget", selector.kind, erased.detail, actor, origin)
    return erased


def without_forgotten(store: Store, batch: pa.Table) -> pa.Table:
    """The rows of a mentions batch that were not forgotten (all of them while nothing was)."""
    forgotten = store.query("SELECT kind, digest FROM forgotten")
    if not forgotten or batch.num_rows == 0:
        return batch
    authors = {d for kind, d in forgotten if kind == "author"}
    mentions = {d for kind, d in forgotten if kind == "mention"}
    chain = store.author_chain
    keep = [
        author not in authors and chain.digest("mention", f"{source}\x1f{native_id}") not in mentions
        for source, native_id, author in zip(
            batch.column("source").to_pylist(),
            batch.column("native_id").to_pylist(),
            batch.column("author_hash").to_pylist(),
        )
    ]
    return batch.filter(pc.equal(pa.array(keep), True))


# ---------------------------------------------------------------- retention


def purge_expired(
    open_store: Callable[[], Store],
    now: datetime,
    mention_days: float | None,
    raw_days: float | None,
    origin: str,
) -> Erased:
    """Erase mentions published before now - mention_days and drop raw payloads collected before
    now - raw_days (None: keep forever), in bounded batches; log it when anything went."""
    now = naive_utc(now)
    erased = Erased()
    if mention_days is not None:
        erased = _erase_where(open_store, "published_at < ?", [now - timedelta(days=mention_days)], None)
    if raw_days is not None:
        cutoff = now - timedelta(days=raw_days)

        def drop_raw(store: Store, limit: int) -> int:
            return int(
                store.con.execute(
                    "UPDATE mentions SET raw = NULL WHERE (source, native_id) IN (SELECT source, native_id"
                    f" FROM mentions WHERE raw IS NOT NULL AND collected_at < ? LIMIT {int(limit)})",
                    [cutoff],
                ).fetchone()[0]  # type: ignore[index]
            )

        erased.raw = repeat_bounded(open_store, drop_raw)
    if erased.changed:
        erased.detail = {
            "mentions": erased.mentions,
            "raw_payloads": erased.raw,
            "alert_payloads": erased.payloads,
            "mention_retention_days": mention_days,
            "raw_retention_days": raw_days,
        }
        with open_store() as store:
            record(store, "retention", "mentions", erased.detail, "koubei", origin)
    return erased
