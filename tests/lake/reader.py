"""A dashboard-like reader of a lake, as its own process (tests/lake/test_concurrency.py):
reads the KPIs, the daily volume and the latest negative mentions over and over for the
given seconds, then prints how many reads worked, failed, and their median time."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from storage import open_store, queries
from storage.db import LakeLocation


def main(seconds: float) -> None:
    lake = LakeLocation(os.environ["KOUBEI_TEST_LAKE_CATALOG"], os.environ["KOUBEI_TEST_LAKE_DATA"])
    now = datetime.now(UTC).replace(tzinfo=None)
    window = queries.MentionFilter(start=now - timedelta(days=30), end=now + timedelta(days=1))
    ok, failed, times, errors = 0, 0, [], []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            with open_store(lake, read_only=True) as store:
                queries.kpis(store, window)
                queries.volume_series(store, window, timedelta(days=1))
                queries.latest_negative(store, window)
            ok += 1
            times.append(time.perf_counter() - started)
        except Exception as exc:  # counted, not raised: the test reports every failure
            failed += 1
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
        time.sleep(0.2)
    median = statistics.median(times) if times else None
    print(json.dumps({"ok": ok, "failed": failed, "median_s": median, "errors": errors[:5]}))


if __name__ == "__main__":
    main(float(sys.argv[1]))
