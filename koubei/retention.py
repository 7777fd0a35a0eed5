"""Retention (`[privacy]` in koubei.toml, koubei/settings/sections.py): how long mentions and raw payloads are kept.

`mention_retention_days` erases mentions published longer ago than that, with
everything derived from them; `raw_retention_days` drops the raw payloads of
mentions collected longer ago. Unset keeps them forever. `koubei watch` purges
when it starts and then every PURGE_EVERY; the file, or every lake data file holding a
purged row, is rewritten afterwards (storage/lake_maintenance.compact_for_good) so that purged
rows are gone from the disk too. At the same times a
file whose free blocks pass storage.compact.FREE_SHARE is compacted, retention or not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from koubei.context import AppContext
    from storage.forget import Erased

PURGE_EVERY = 24 * 3600.0  # seconds between two purges of a running watch


def purge(ctx: AppContext, now: datetime | None = None) -> Erased | None:
    """One retention pass over the context's database (None when no retention is configured),
    then compaction when the pass erased something or the file's free blocks pass a share."""
    policy = ctx.settings.privacy
    if policy.retains_everything:
        _compact_if_fragmented(ctx)
        return None
    from storage.audit import origin_of
    from storage.forget import purge_expired
    from storage.lake_maintenance import compact_for_good

    erased = purge_expired(
        ctx.open_store,
        now or datetime.now(UTC),
        policy.mention_retention_days,
        policy.raw_retention_days,
        origin_of("koubei watch"),
    )
    if erased.changed:
        compact_for_good(ctx.settings.location)  # a lake's purged rows stayed in its Parquet files until then
    else:
        _compact_if_fragmented(ctx)
    return erased


def _compact_if_fragmented(ctx: AppContext) -> None:
    from storage.compact import compact_if_fragmented

    location = ctx.settings.location
    if isinstance(location, Path):  # a lake's Parquet files are compacted by `koubei lake compact`
        compact_if_fragmented(location)
