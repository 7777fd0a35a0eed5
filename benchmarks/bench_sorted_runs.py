"""Round 28: how the postings' layout decides search speed (issue 13). Lays out search_grams of a
copy of a year store one way (`python -m benchmarks.bench_sorted_runs <copy> <layout>`), then
`python -m benchmarks search` measures it:
- unsorted: as ingest leaves it (appended in doc order, each doc's grams together);
- sorted: `sort_postings`, one run (also timed here; run under /usr/bin/time -v for its peak RSS);
- runs-N: a sorted body, then the newest TAIL docs' postings appended and sorted N slices at a time;
- tail: a sorted body, then the newest month's docs unsorted; sorted after with
  `sort_postings_tail` (timed), row groups counted before and after a checkpoint."""

from __future__ import annotations

import sys
import time

from storage import Store, open_store
from storage.textindex import _sort_after, sort_postings, sort_postings_tail

RUN_TAIL = 400_000  # docs the runs hold: 10 runs of 40,000 or 40 of 10,000
MONTH = 1 / 12


def _row_groups(store: Store) -> int:
    return int(store.query("SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('search_grams')")[0][0])


def _unsorted_after(store: Store, through: int) -> None:
    """The postings of docs after `through` rewritten in doc order, as ingest appends them."""
    con = store.con
    with store.transaction():
        con.execute(
            "CREATE TABLE koubei_tail AS SELECT * FROM search_grams WHERE doc > ? ORDER BY doc, gram", [through]
        )
        con.execute("DELETE FROM search_grams WHERE doc > ?", [through])
        con.execute("INSERT INTO search_grams SELECT * FROM koubei_tail")
        con.execute("DROP TABLE koubei_tail")
        con.execute("UPDATE search_index_state SET sorted_through = ?", [through])
    con.execute("CHECKPOINT")


def _runs(store: Store, runs: int) -> None:
    last = int(store.query("SELECT max(doc) FROM search_docs")[0][0])
    body = last - RUN_TAIL
    _unsorted_after(store, body)
    step = RUN_TAIL // runs
    for end in range(body + step, last + 1, step):
        # each slice sorted as a pass would have when it was the tail
        with store.transaction():
            store.con.execute("CREATE TABLE koubei_later AS SELECT * FROM search_grams WHERE doc > ?", [end])
            store.con.execute("DELETE FROM search_grams WHERE doc > ?", [end])
            _sort_after(store, end - step)
            store.con.execute("INSERT INTO search_grams SELECT * FROM koubei_later ORDER BY doc, gram")
            store.con.execute("DROP TABLE koubei_later")
            store.con.execute("UPDATE search_index_state SET sorted_through = ?", [end])
    store.con.execute("CHECKPOINT")


def main() -> None:
    path, layout = sys.argv[1], sys.argv[2]
    with open_store(path) as store:
        if layout == "unsorted":
            _unsorted_after(store, 0)
        elif layout == "sorted":
            started = time.perf_counter()
            moved = sort_postings(store)
            print(f"sort_postings: {moved:,} postings in {time.perf_counter() - started:.1f} s")
            store.con.execute("CHECKPOINT")
        elif layout.startswith("runs-"):
            _runs(store, int(layout.removeprefix("runs-")))
        elif layout == "tail":
            last, docs = store.query("SELECT max(doc), count(*) FROM search_docs")[0]
            _unsorted_after(store, int(last - docs * MONTH))
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
        print(
            f"{layout}: {_row_groups(store)} row groups, sorted_through {store.query('SELECT sorted_through FROM search_index_state')[0][0]}"
        )


if __name__ == "__main__":
    main()
