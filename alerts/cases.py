"""Cases: the incidents that one event raises together.

A crisis is flagged at once for the brand, the product, the aspects and every channel
it reaches: the demo's power-bank crisis opens eleven or twelve incidents in the same hours. Alerts
are already sent once per crisis (alerts/incidents.py suppresses what a brand incident
covers); cases do the same for the people working the queue, so that acknowledging the
crisis acknowledges its incidents and nothing else.

Overlapping windows of one brand are not enough: a delivery-delay burst in the same hours
as a product crisis is another event, with other people to answer it. An incident joins a
case only when its window overlaps the case's and it shares the event with it: a driving
mention, the product it is about, or an aspect that leads its rise. Incidents are taken
most headline first (lead_key: the highest tier; among equals a negative spike before a
volume one, then the most specific scope, then the largest observed/expected), each joining
the case it shares the most with, so a brand-wide incident that touches two events joins the
larger and does not chain them together. A source outage stands alone: it is about
collection, not the brand.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from storage.incidents import INCIDENT_STATUSES, AspectRise

if TYPE_CHECKING:
    from storage import Store

# A case headed "source demo.bilibili" tells a brand manager less than "product 声浪P20充电宝".
SCOPE_RANK = {"product": 3, "brand": 2, "aspect": 1, "source": 0}
# The aspects that lead an incident's rise (stored most-risen first) name what it is about;
# further down the list are the few complaints any busy day carries.
LEADING_ASPECTS = 3
LEAD_SHARE = 1 / 3  # of the most-risen aspect's mentions, for an aspect to lead too

MentionKey = tuple[str, str]  # (source, native_id)
Drivers = Mapping[str, Collection[MentionKey]]  # incident id -> its driving mentions


class IncidentFacts(Protocol):
    """What grouping reads of an incident (a storage.incidents.Incident)."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def scope_type(self) -> str: ...
    @property
    def scope_value(self) -> str: ...
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
    @property
    def aspects(self) -> Sequence[AspectRise]: ...


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


def topics(incident: IncidentFacts) -> frozenset[tuple[str, str]]:
    """What an incident is about: its product or aspect scope and the aspects leading its rise
    (a few complaints about delivery inside a product-safety crisis do not make it about delivery)."""
    rises = incident.aspects[:LEADING_ASPECTS]
    top = max((rise.observed for rise in rises), default=0)
    found = {("aspect", rise.aspect) for rise in rises if rise.observed >= LEAD_SHARE * top}
    if incident.scope_type in ("product", "aspect"):
        found.add((incident.scope_type, incident.scope_value))
    return frozenset(found)


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


class _Forming(Generic[IncidentT]):
    """A case while incidents join it: its window, mentions, products and topics so far."""

    def __init__(self, first: IncidentT, drivers: Collection[MentionKey]) -> None:
        self.members: list[IncidentT] = []
        self.start, self.end = first.window_start, first.window_end
        self.mentions: set[MentionKey] = set()
        self.products: set[str] = set()
        self.topics: set[tuple[str, str]] = set()
        self.add(first, drivers)

    def add(self, incident: IncidentT, drivers: Collection[MentionKey]) -> None:
        self.members.append(incident)
        self.start, self.end = min(self.start, incident.window_start), max(self.end, incident.window_end)
        self.mentions.update(drivers)
        self.topics.update(topics(incident))
        if incident.scope_type == "product":
            self.products.add(incident.scope_value)

    def shared(self, incident: IncidentFacts, drivers: Collection[MentionKey]) -> tuple[int, int]:
        """(driving mentions in common, topics in common); (0, 0) when it is another event."""
        if incident.window_start > self.end or incident.window_end < self.start:
            return 0, 0
        if incident.scope_type == "product" and self.products and incident.scope_value not in self.products:
            return 0, 0  # another product's burst (posts they share came in through brand-wide incidents)
        return len(self.mentions.intersection(drivers)), len(self.topics & topics(incident))


def group_cases(incidents: Sequence[IncidentT], drivers: Drivers | None = None) -> list[Case[IncidentT]]:
    """`incidents` (as storage.incidents.list_incidents returns them) grouped into cases, with
    `drivers` (incident_drivers) as evidence besides the stored facts; unhandled cases first,
    then by tier, newest first (the queue's own order)."""
    known = drivers or {}
    by_brand: dict[str, list[IncidentT]] = {}
    cases: list[Case[IncidentT]] = []
    for incident in incidents:
        if incident.kind == "source_down" or not incident.brand:
            cases.append(Case((incident,)))
        else:
            by_brand.setdefault(str(incident.brand), []).append(incident)
    for rows in by_brand.values():
        forming: list[_Forming[IncidentT]] = []
        for incident in sorted(rows, key=lambda r: (lead_key(r), str(r.id)), reverse=True):
            mine = known.get(str(incident.id), ())
            scored = [(case.shared(incident, mine), n) for n, case in enumerate(forming)]
            best = max(scored, default=None)
            if best is not None and best[0] > (0, 0):
                forming[best[1]].add(incident, mine)
            else:
                forming.append(_Forming(incident, mine))
        cases.extend(Case(tuple(case.members)) for case in forming)
    cases.sort(key=lambda c: c.window[0], reverse=True)
    cases.sort(key=lambda c: (c.status == "resolved", -c.severity))
    return cases


def load_cases(store: Store, incidents: Sequence[IncidentT]) -> list[Case[IncidentT]]:
    """group_cases with each incident's stored driving mentions as evidence."""
    from storage.incidents import incident_drivers

    return group_cases(incidents, incident_drivers(store, [str(i.id) for i in incidents]))


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
