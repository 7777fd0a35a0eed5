"""The demo source (kind `demo`): the demo stream (collectors/demo/stream.py) as a source.

A run ends at `end` (default: now); the cursor remembers where the last run ended,
and the next run regenerates from that hour on (the merge absorbs the overlap).
The stream is deterministic per hour, so the run boundaries do not change it.

Options ([sources.demo]): seed, days (history on first run), end (ISO time, for
reproducible data), rate (mentions per brand-hour at the daily peak),
crisis_hours_ago (how long before the first run's end the crisis starts), brands.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import msgspec

from collectors.base import Collector, Page


class DemoCursor(msgspec.Struct, frozen=True, omit_defaults=True):
    until: datetime | None = None  # where the last run ended
    anchor: datetime | None = None  # the first run's end: it fixes the story's timeline, later runs extend it


class DemoCollector(Collector[DemoCursor]):
    name = "demo"
    cursor_type = DemoCursor

    def pages(self) -> Iterator[Page]:
        # Here, not at the top: the registry imports every source, and the demo code stays out of other runs.
        from collectors.demo.stream import DEFAULT_BRANDS, DemoStream, floor_hour, local_time

        end = (local_time(self.options["end"]) if "end" in self.options else datetime.now(UTC)).astimezone(UTC)
        cursor = self.cursors.get("") or DemoCursor()
        anchor = cursor.anchor or end
        start = floor_hour(cursor.until or end - timedelta(days=float(self.options.get("days", 21))))
        stream = DemoStream(
            self.options.get("brands") or DEFAULT_BRANDS,
            int(self.options.get("seed", 7)),
            anchor,
            float(self.options.get("rate", 24)),
            float(self.options.get("crisis_hours_ago", 40)),
        )
        day_start = start
        while day_start < end:
            day_end = min(day_start + timedelta(days=1), end)
            yield Page(stream.between(day_start, day_end), cursor=DemoCursor(until=day_end, anchor=anchor))
            day_start = day_end
