"""Which routes an incident goes to, and when quiet hours hold it back.

A route matches when every condition it sets holds: the brand is one of
`brands`, the kind one of `kinds`, the tier at least `min_tier`, and (with
`keyword_groups`) a word of one of the groups occurs in the incident's
keywords or driving mentions. Different groups of people therefore get
different alerts. Quiet hours (local time of [alerts] timezone) hold every
alert below tier 5 until they end; tier 5 (红色警戒) always goes out at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from alerts.config import AlertSettings, Route
from storage.incidents import Incident


def route_matches(cfg: AlertSettings, route: Route, incident: Incident, texts: list[str]) -> bool:
    if route.brands and (incident.brand or "") not in route.brands:
        return False
    if route.kinds and incident.kind not in route.kinds:
        return False
    if incident.severity < route.min_tier:
        return False
    if route.keyword_groups:
        haystack = " ".join([*incident.keywords, *texts])
        words = [w for g in route.keyword_groups for w in cfg.keyword_groups.get(g, ())]
        if not any(w in haystack for w in words):
            return False
    return True


def matching_routes(cfg: AlertSettings, incident: Incident, texts: list[str]) -> list[Route]:
    return [r for r in cfg.routes if route_matches(cfg, r, incident, texts)]


def quiet_until(route: Route, now_utc: datetime, tz: ZoneInfo) -> datetime | None:
    """UTC (naive) end of the route's quiet hours if `now_utc` falls inside them, else None."""
    if route.quiet_hours is None:
        return None
    begin, end = route.quiet_hours
    local = now_utc.replace(tzinfo=UTC).astimezone(tz)
    t = local.time()
    inside = (begin <= t < end) if begin <= end else (t >= begin or t < end)
    if not inside:
        return None
    release = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if release <= local:
        release += timedelta(days=1)
    return release.astimezone(UTC).replace(tzinfo=None)
