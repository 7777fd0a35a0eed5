"""Cases: the incidents that one event raises together.

A crisis is flagged at once for the brand, the product, the aspects and every channel
it reaches: the demo's power-bank crisis opens eleven or twelve incidents in the same hours. Alerts
are already sent once per crisis (alerts/incidents.py suppresses what a brand incident
covers); cases do the same for the people working the queue. Incidents of one brand whose
windows overlap form a case, headed by its lead incident: the highest tier; among equals a
negative spike before a volume one, then the most specific scope that names what it is about
(a product, then the brand, an aspect, a channel), then the largest observed/expected. A
source outage stands alone: it is about collection, not the brand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from storage.incidents import INCIDENT_STATUSES

# A case headed "source demo.bilibili" tells a brand manager less than "product 声浪P20充电宝".
SCOPE_RANK = {"product": 3, "brand": 2, "aspect": 1, "source": 0}


class IncidentFacts(Protocol):
    """What grouping reads of an incident: a storage.incidents.Incident, or a row of a frame
    of incidents (DataFrame.itertuples) where the dashboard works on frames."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def scope_type(self) -> str: ...
    @property
    def brand(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def severity(self) -> int: ...
    @property
    def observed(self) -> float: ...
    @property
    def expected(self) -> float: ...
    @property
    def window_start(self) -> datetime: ...
    @property
    def window_end(self) -> datetime: ...


IncidentT = TypeVar("IncidentT", bound=IncidentFacts)


def lead_key(incident: IncidentFacts) -> tuple[float, int, int, float]:
    """Higher is more of a headline (see the module docstring)."""
    expected = float(incident.expected or 0)
    factor = float(incident.observed) / expected if expected > 0 else float("inf")
    return (
        float(incident.severity),
        int(incident.kind == "negative"),
        SCOPE_RANK.get(str(incident.scope_type), -1),
        factor,
    )


def overlapping_groups(windows: Sequence[tuple[Any, Any]]) -> list[list[int]]:
    """Positions of (start, end) windows grouped where they overlap (transitively), in time order."""
    order = sorted(range(len(windows)), key=lambda i: (windows[i][0], windows[i][1]))
    groups: list[list[int]] = []
    group_end: Any = None
    for i in order:
        start, end = windows[i]
        if groups and start <= group_end:
            groups[-1].append(i)
            group_end = max(group_end, end)
        else:
            groups.append([i])
            group_end = end
    return groups


@dataclass(frozen=True)
class Case(Generic[IncidentT]):
    members: tuple[IncidentT, ...]  # the lead first, then by lead_key

    @property
    def lead(self) -> IncidentT:
        return self.members[0]

    @property
    def id(self) -> str:
        return str(self.lead.id)

    @property
    def related(self) -> tuple[IncidentT, ...]:
        return self.members[1:]

    @property
    def status(self) -> str:
        """As far along as its least handled incident."""
        return min((str(m.status) for m in self.members), key=INCIDENT_STATUSES.index)

    @property
    def severity(self) -> int:
        return max(int(m.severity) for m in self.members)

    @property
    def window(self) -> tuple[datetime, datetime]:
        return min(m.window_start for m in self.members), max(m.window_end for m in self.members)


def group_cases(incidents: Sequence[IncidentT]) -> list[Case[IncidentT]]:
    """`incidents` (as storage.incidents.list_incidents returns them) grouped into cases;
    unhandled cases first, then by tier, newest first (the queue's own order)."""
    by_brand: dict[str, list[IncidentT]] = {}
    cases: list[Case[IncidentT]] = []
    for incident in incidents:
        if incident.kind == "source_down" or not incident.brand:
            cases.append(Case((incident,)))
        else:
            by_brand.setdefault(str(incident.brand), []).append(incident)
    for rows in by_brand.values():
        for group in overlapping_groups([(r.window_start, r.window_end) for r in rows]):
            members = sorted((rows[i] for i in group), key=lead_key, reverse=True)
            cases.append(Case(tuple(members)))
    cases.sort(key=lambda c: c.window[0], reverse=True)
    cases.sort(key=lambda c: (c.status == "resolved", -c.severity))
    return cases
