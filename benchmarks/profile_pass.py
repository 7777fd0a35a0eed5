"""Where a `koubei run` pass's time goes: bench_scale's `_timed_pass` on a copy of a year store,
with wall seconds per function (wrappers around the pass's known costs) and per SQL statement.

Wrappers, not cProfile: cProfile's per-call overhead inflates the Python-heavy parts (jieba, the
duplicate matching) against the SQL ones. The statements are timed around `execute`, with their
SQL shortened to a shape (literals and parameter lists folded), summed per shape.

Run on a writable copy (it stores new mentions):
`nice -n 15 .venv/bin/python -m benchmarks.profile_pass COPY.duckdb --runs 2 --warm 1`
(--warm passes run first, unreported: the first pass on a fresh copy cuts every keyword text).
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.bench_scale import _timed_pass
from benchmarks.yearstore import load_corpus
from koubei.config import parse_settings
from storage import Store, open_store

# (module, attribute) of the functions timed; a method as "Class.method".
TIMED = (
    ("storage.mentions", "upsert_table"),
    ("storage.sentiment", "write_scores"),
    ("storage.queue", "pending_mentions"),
    ("sentiment.grouping", "mark_duplicates"),
    ("sentiment.grouping", "_match"),
    ("sentiment.grouping", "_flag_groups"),
    ("storage.duplicates", "write_groups"),
    ("storage.duplicates", "members"),
    ("storage.duplicates", "pending"),
    ("storage.duplicates", "excluded_copies"),
    ("sentiment.trust", "Grouper.add"),
    ("alerts.detect", "_rule_incidents"),
    ("alerts.detect", "check_sources"),
    ("alerts.incidents", "record_in"),
    ("alerts.facts", "gather_facts"),
    ("alerts.facts", "_token_docs"),
    ("sentiment.keywords", "keyword_tokens"),
    ("sentiment.keywords", "top_keywords_of"),
    ("storage.alerts_series", "bucket_counts"),
    ("storage.alerts_series", "PassRows.cover"),
    ("storage.alerts_series", "ScopeRows.__init__"),
    ("storage.alerts_series", "prune_tokens"),
    ("storage.incidents", "save_incident"),
    ("alerts.delivery", "queue_alert"),
    ("storage.rollups", "_apply_keys"),
    ("sentiment.keywords", "_idf"),
)
# Functions whose argument at this position is a size worth seeing (how many keys a rollup move had).
SIZES = {"_apply_keys": 2}
sizes: dict[str, list[int]] = defaultdict(list)

seconds: dict[str, float] = defaultdict(float)
calls: dict[str, int] = defaultdict(int)
statements: dict[str, list[float]] = defaultdict(list)
_depth: dict[str, int] = defaultdict(int)  # a recursive or nested call is timed once


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if name in SIZES:
            sizes[name].append(args[SIZES[name]])
        _depth[name] += 1
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _depth[name] -= 1
            if _depth[name] == 0:
                seconds[name] += time.perf_counter() - started
                calls[name] += 1

    return wrapper


def _wrap_everywhere() -> None:
    """Replace each TIMED function by its timed wrapper in every loaded module that holds it
    (a `from x import f` copies the reference)."""
    import importlib

    for module_name, attribute in TIMED:
        module = importlib.import_module(module_name)
        if "." in attribute:
            cls_name, method = attribute.split(".")
            cls = getattr(module, cls_name)
            setattr(cls, method, _timed(attribute, getattr(cls, method)))
            continue
        original = getattr(module, attribute)
        wrapped = _timed(attribute, original)
        for loaded in list(sys.modules.values()):
            if getattr(loaded, attribute, None) is original:
                setattr(loaded, attribute, wrapped)


_FOLD = (
    (re.compile(r"'(?:[^']|'')*'"), "'?'"),
    (re.compile(r"\b\d+\b"), "N"),
    (re.compile(r"\s+"), " "),
)


def _shape(sql: str) -> str:
    for pattern, replacement in _FOLD:
        sql = pattern.sub(replacement, sql)
    return sql.strip()[:220]


class _TimedConnection:
    """A connection whose execute is timed per statement shape."""

    def __init__(self, con: Any) -> None:
        self._con = con

    def execute(self, sql: str, params: Any = None) -> Any:
        started = time.perf_counter()
        try:
            return self._con.execute(sql, params)
        finally:
            statements[_shape(sql)].append(time.perf_counter() - started)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _opener(path: Path) -> Callable[[], Store]:
    def opener() -> Store:
        store = open_store(path)
        store.con = _TimedConnection(store.con)  # type: ignore[assignment]
        return store

    return opener


def _report(stages: dict[str, float], top: int) -> None:
    print("stages: " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))
    print("functions (wall s, calls):")
    for name, spent in sorted(seconds.items(), key=lambda kv: -kv[1]):
        print(f"  {spent:8.2f}  {calls[name]:6d}  {name}")
    for name, seen in sizes.items():
        print(f"  sizes of {name}: {seen}")
    print(f"statements, top {top} by total (total s, count, max s):")
    ranked = sorted(statements.items(), key=lambda kv: -sum(kv[1]))[:top]
    for sql, times in ranked:
        print(f"  {sum(times):8.2f}  {len(times):5d}  {max(times):6.2f}  {sql}")


def _reset() -> None:
    for table in (seconds, calls, statements, sizes):
        table.clear()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("store", type=Path)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--warm", type=int, default=0)
    parser.add_argument("--first-run", type=int, default=1, help="run number of the first pass (new keys per run)")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    settings = parse_settings({}, db=args.store)
    corpus = load_corpus(settings)
    _wrap_everywhere()
    opener = _opener(args.store)
    for i in range(args.warm + args.runs):
        run = args.first_run + i
        _reset()
        load = os.getloadavg()[0]
        stages = _timed_pass(opener, settings, corpus, run)
        label = "warm-up" if i < args.warm else "measured"
        print(f"== pass {run} ({label}), load {load:.1f} -> {os.getloadavg()[0]:.1f}", flush=True)
        _report(stages, args.top)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
