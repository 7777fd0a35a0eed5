"""Round 28: how the postings' layout decides search speed (issue 13). Lays out search_grams of a
copy of a year store one way (`python -m benchmarks.bench_sorted_runs <copy> <layout>`), then
`python -m benchmarks search` measures it. Each layout writes a new table, as ingest and the
sorts would have left it after a checkpoint (no row groups of deleted postings):
- unsorted: as ingest leaves it (appended in doc order, each doc's grams together);
- sorted: `sort_postings`, one run (timed; run it under /usr/bin/time -v for its peak RSS);
- runs-N: a sorted body, then the newest RUN_TAIL docs' postings as N runs each sorted by (gram, doc);
- tail: a sorted body, then the newest month's docs' postings unsorted;
- sort-tail: `sort_postings_tail` of whatever tail there is (timed), row groups counted before,
  after it and after a checkpoint (do the deleted tail's row groups stay in the way?).
Each then prints how many segments of search_grams.gram a word's zone maps let through (what a
lookup of the word reads, whatever the machine's load)."""

from __future__ import annotations

import re
import sys
import time

from storage import Store, open_store
from storage.textindex import _POSTINGS_COLUMNS, bigrams, sort_postings, sort_postings_tail

RUN_TAIL = 400_000  # docs the runs hold: 10 runs of 40,000 or 40 of 10,000
MONTH = 1 / 12
WORDS = ("发热", "客服", "质量", "电池")
BY_GRAM, BY_DOC = "gram, doc", "doc, gram"


def _row_groups(store: Store) -> int:
    return int(store.query("SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('search_grams')")[0][0])


def _admitted(store: Store, word: str) -> int:
    """Segments of search_grams.gram whose zone map (min, max) holds the word's gram."""
    (gram,) = bigrams(word)
    stats = store.query("SELECT stats FROM pragma_storage_info('search_grams') WHERE column_name = 'gram'")
    bounds = [re.search(r"Min: (-?\d+), Max: (-?\d+)", s) for (s,) in stats]
    return sum(1 for b in bounds if b and int(b[1]) <= gram <= int(b[2]))


def _laid_out(store: Store, parts: list[tuple[int, int, str]], sorted_through: int) -> None:
    """search_grams rewritten as `parts`, each (after doc, through doc, order), one after the other."""
    con = store.con
    with store.transaction():
        con.execute(f"CREATE TABLE koubei_laid ({_POSTINGS_COLUMNS})")
        for low, high, order in parts:
            con.execute(
                f"INSERT INTO koubei_laid SELECT * FROM search_grams WHERE doc > ? AND doc <= ? ORDER BY {order}",
                [low, high],
            )
        con.execute("DROP TABLE search_grams")
        con.execute("ALTER TABLE koubei_laid RENAME TO search_grams")
        con.execute("UPDATE search_index_state SET sorted_through = ?", [sorted_through])
    con.execute("CHECKPOINT")


def main() -> None:
    path, layout = sys.argv[1], sys.argv[2]
    with open_store(path) as store:
        last, docs = (int(v) for v in store.query("SELECT max(doc), count(*) FROM search_docs")[0])
        if layout == "unsorted":
            _laid_out(store, [(0, last, BY_DOC)], 0)
        elif layout == "sorted":
            started = time.perf_counter()
            moved = sort_postings(store)
            print(f"sort_postings: {moved:,} postings in {time.perf_counter() - started:.1f} s")
            store.con.execute("CHECKPOINT")
        elif layout.startswith("runs-"):
            runs = int(layout.removeprefix("runs-"))
            body, step = last - RUN_TAIL, RUN_TAIL // runs
            cuts = [body + step * i for i in range(runs)] + [last]
            parts = [(0, body, BY_GRAM)] + [(a, b, BY_GRAM) for a, b in zip(cuts, cuts[1:], strict=False)]
            _laid_out(store, parts, last)
        elif layout == "tail":
            month = last - int(docs * MONTH)
            _laid_out(store, [(0, month, BY_GRAM), (month, last, BY_DOC)], month)
        elif layout == "sort-tail":
            before = _row_groups(store)
            started = time.perf_counter()
            moved = sort_postings_tail(store)
            seconds = time.perf_counter() - started
            after_sort = _row_groups(store)
            store.con.execute("CHECKPOINT")
            print(
                f"sort_postings_tail: {moved:,} postings in {seconds:.1f} s; search_grams row groups"
                f" {before} before, {after_sort} after the sort, {_row_groups(store)} after CHECKPOINT"
            )
        through = store.query("SELECT sorted_through FROM search_index_state")[0][0]
        print(f"{layout}: {_row_groups(store)} row groups, sorted_through {through}")
        segments = len(store.query("SELECT 1 FROM pragma_storage_info('search_grams') WHERE column_name = 'gram'"))
        admitted = ", ".join(f"{word} {_admitted(store, word)}" for word in WORDS)
        print(f"{layout}: gram segments a word's zone maps let through, of {segments}: {admitted}")


if __name__ == "__main__":
    main()
