"""Worker leases on the lake's PostgreSQL (storage/leases.py): one holder at a time, taken
over when it expires, never won by two workers claiming at once."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from storage.db import LakeLocation
from storage.leases import claim, release


def test_a_held_lease_is_refused_to_others_until_it_expires(lake: LakeLocation) -> None:
    assert claim(lake, "source:jd", "worker-1", timedelta(seconds=1))
    assert not claim(lake, "source:jd", "worker-2", timedelta(seconds=1))
    assert not claim(lake, "source:jd", "worker-1", timedelta(seconds=1)), "once per lease, for its holder too"
    time.sleep(1.2)
    assert claim(lake, "source:jd", "worker-2", timedelta(seconds=60)), "a dead worker's lease is taken over"
    assert not claim(lake, "source:jd", "worker-1", timedelta(seconds=60))


def test_a_released_lease_is_free_at_once(lake: LakeLocation) -> None:
    assert claim(lake, "score:batch", "worker-1", timedelta(minutes=5))
    release(lake, "score:batch", "worker-1")
    assert claim(lake, "score:batch", "worker-2", timedelta(minutes=5))


def test_workers_claiming_at_once_have_one_winner(lake: LakeLocation) -> None:
    holders = [f"worker-{i}" for i in range(8)]
    with ThreadPoolExecutor(len(holders)) as pool:
        won = list(pool.map(lambda h: claim(lake, "source:weibo", h, timedelta(minutes=5)), holders))
    assert won.count(True) == 1
