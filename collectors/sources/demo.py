"""The demo source (kind `demo`): the demo stream (collectors/demo/stream.py) as a source.

A run ends at `end` (default: now); the cursor remembers where the last run ended,
and the next run regenerates from that hour on (the merge absorbs the overlap).
The stream is deterministic per hour, so the run boundaries do not change it.

Options ([sources.demo]): `DemoOptions` below.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated

import msgspec

from collectors.base import Collector, Page
from collectors.options import SourceOptions
from koubei.settings.sections import Brand


class DemoCursor(msgspec.Struct, frozen=True, omit_defaults=True):
    until: datetime | None = None  # where the last run ended
    anchor: datetime | None = None  # the first run's end: it fixes the story's timeline, later runs extend it


class DemoOptions(SourceOptions):
    seed: int = 7
    days: Annotated[float, msgspec.Meta(gt=0, le=3650, description="days")] = 21  # history on the first run
    end: datetime | None = None  # where runs end (default now); without an offset it is Beijing time
    rate: Annotated[float, msgspec.Meta(gt=0, le=10_000)] = 24  # mentions per brand-hour at the daily peak
    crisis_hours_ago: Annotated[float, msgspec.Meta(ge=0, le=87_600, description="hours")] = 40
    brands: tuple[Brand, ...] = ()  # default: the demo's own two brands
    competitors: bool = False  # add a competitor of each demo brand, with stories of its own (koubei.toml turns it on)


class DemoCollector(Collector[DemoCursor]):
    name = "demo"
    cursor_type = DemoCursor
    options_type = DemoOptions
    options: DemoOptions

    def pages(self) -> Iterator[Page]:
        # Here, not at the top: the registry imports every source, and the demo code stays out of other runs.
        from collectors.demo.stream import DEFAULT_BRANDS, DemoStream, floor_hour, local_time

        options = self.options
        end = (local_time(options.end) if options.end else datetime.now(UTC)).astimezone(UTC)
        cursor = self.cursors.get("") or DemoCursor()
        anchor = cursor.anchor or end
        start = floor_hour(cursor.until or end - timedelta(days=options.days))
        brands = [msgspec.to_builtins(b) for b in options.brands] or DEFAULT_BRANDS
        stream = DemoStream(
            brands, options.seed, anchor, options.rate, options.crisis_hours_ago, competitors=options.competitors
        )
        day_start = start
        while day_start < end:
            day_end = min(day_start + timedelta(days=1), end)
            yield Page(stream.between(day_start, day_end), cursor=DemoCursor(until=day_end, anchor=anchor))
            day_start = day_end
