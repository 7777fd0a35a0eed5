"""Retention (`[privacy]` in koubei.toml): how long mentions and their raw payloads are kept.

`mention_retention_days` erases mentions published longer ago than that, with
everything derived from them; `raw_retention_days` drops the raw payloads of
mentions collected longer ago. Unset keeps them forever. `koubei watch` purges
when it starts and then every PURGE_EVERY; the file is rewritten afterwards
(storage/compact.py) so that purged rows are gone from the disk too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from koubei.errors import ConfigError

if TYPE_CHECKING:
    from koubei.context import AppContext
    from storage.forget import Erased

PURGE_EVERY = 24 * 3600.0  # seconds between two purges of a running watch


@dataclass(frozen=True)
class Retention:
    mention_days: float | None = None
    raw_days: float | None = None

    @property
    def enabled(self) -> bool:
        return self.mention_days is not None or self.raw_days is not None


def _days(section: dict[str, Any], key: str) -> float | None:
    value = section.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"[privacy] {key} must be a positive number of days, got {value!r}")
    return float(value)


def retention(section: dict[str, Any]) -> Retention:
    return Retention(_days(section, "mention_retention_days"), _days(section, "raw_retention_days"))


def purge(ctx: AppContext, now: datetime | None = None) -> Erased | None:
    """One retention pass over the context's database; None when no retention is configured."""
    policy = retention(ctx.settings.section("privacy"))
    if not policy.enabled:
        return None
    from storage.audit import origin_of
    from storage.compact import compact
    from storage.forget import purge_expired

    erased = purge_expired(
        ctx.open_store, now or datetime.now(UTC), policy.mention_days, policy.raw_days, origin_of("koubei watch")
    )
    if erased.changed:
        compact(ctx.db_path)
    return erased
