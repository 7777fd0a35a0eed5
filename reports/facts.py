"""Everything a report states, read from storage in one read-only connection.

Nothing here is written by hand: each figure is a count or an aggregate over the
stored mentions and incidents of the period and scope (ReportRequest), and the
previous period of the same length for comparison. Mention text is kept as stored
(the template masks and escapes it); the facts name each mention by source and id,
so every cited mention can be found again.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from alerts.cases import Case, load_cases
from dashboard.i18n import t_value
from reports import faq
from reports.changes import Move, candidates, largest_moves
from reports.period import Period
from storage import Store, open_store, queries
from storage import reports as stored
from storage.incidents import Incident, IncidentMention, IncidentResponse, incident_mentions

if TYPE_CHECKING:
    from koubei.settings.sections import AspectNames

TIERS = (2, 3, 4, 5)  # a spike is at least tier 2 (alerts/events.py)
# How long each tier may wait for a first response, in minutes. Tier 2 is the
# customer-service rule (DOMAIN.md: within 24 hours); the higher tiers tighten it.
RESPONSE_DEADLINES = {2: 24 * 60, 3: 4 * 60, 4: 2 * 60, 5: 60}
TOP_ASPECTS = 6
VOICES_PER_ASPECT = 3
CITED_PER_MOVE = 3
DRIVERS_PER_CASE = 3


AspectWords = tuple[tuple[str, str], ...]  # (aspect, its name in a report's language)


@dataclass(frozen=True)
class Scope:
    brands: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def filter(self, period: Period) -> queries.MentionFilter:
        return queries.MentionFilter(period.start, period.end, self.brands, self.products, self.sources)

    @property
    def empty(self) -> bool:
        return not (self.brands or self.products or self.sources)


@dataclass(frozen=True)
class ReportRequest:
    period: Period
    scope: Scope = Scope()
    lang: str = "zh"
    # (aspect, its name in `lang`) from the settings in force ([sentiment.aspect_names]): the report is
    # written with the names of the koubei.toml the command read (`--config`), not of the one found by
    # default; an aspect not here keeps its built-in name (aspect_names_in).
    aspect_names: AspectWords = ()


def aspect_names_in(names: Mapping[str, AspectNames], lang: str) -> AspectWords:
    """[sentiment.aspect_names] as a request carries them: each aspect named in `lang`."""
    return tuple(sorted((aspect, named) for aspect, each in names.items() if (named := getattr(each, lang, None))))


def aspect_name(aspect: str | None, lang: str, names: AspectWords = ()) -> str:
    """An aspect in the report's language: the name the request's settings give it (`names`, its
    aspect_names), else a built-in one's own, else as written."""
    if not aspect:
        return ""
    return dict(names).get(aspect) or t_value("aspect", aspect, lang)


@dataclass(frozen=True)
class Compared:
    """A figure in this period and the previous one (None where there is nothing to measure)."""

    current: float | None
    previous: float | None

    @property
    def delta(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous


@dataclass(frozen=True)
class Headline:
    mentions: Compared
    avg_score: Compared
    negative_share: Compared
    share_of_voice: Compared | None  # None when the scope names no brand or no other brand is watched
    cases_by_tier: dict[int, Compared]
    median_response_minutes: Compared
    unanswered_cases: int  # cases of this period nobody has responded to yet


@dataclass(frozen=True)
class CitedMove:
    move: Move
    cited: tuple[stored.Voice, ...]


@dataclass(frozen=True)
class AspectFacts:
    aspect: str
    mentions: int
    negative: int
    previous_mentions: int
    previous_negative: int
    voices: tuple[stored.Voice, ...]
    left_out: stored.LeftOut

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.mentions if self.mentions else None

    @property
    def previous_share(self) -> float | None:
        return self.previous_negative / self.previous_mentions if self.previous_mentions else None


@dataclass(frozen=True)
class CaseFacts:
    number: int  # 1, 2, ... as the report numbers them (the chart's markers carry the same)
    case: Case[Incident]
    responses: tuple[IncidentResponse, ...]
    drivers: tuple[IncidentMention, ...]
    first_response_minutes: float | None
    deadline_minutes: int | None

    @property
    def met_deadline(self) -> bool | None:
        if self.deadline_minutes is None or self.first_response_minutes is None:
            return None
        return self.first_response_minutes <= self.deadline_minutes


@dataclass(frozen=True)
class MethodFacts:
    sources: tuple[stored.SourceRuns, ...]
    exclusions: stored.Exclusions
    models: tuple[tuple[str, str, int], ...]
    outages: tuple[Incident, ...]  # source_down incidents overlapping the period


@dataclass(frozen=True)
class ReportFacts:
    request: ReportRequest
    generated_at: datetime  # UTC
    headline: Headline
    moves: tuple[CitedMove, ...]
    series: pd.DataFrame  # storage.queries.volume_series
    bucket_seconds: int
    aspects: tuple[AspectFacts, ...]
    cases: tuple[CaseFacts, ...]
    faq: tuple[faq.Topic, ...]
    method: MethodFacts


def bucket_seconds(days: int) -> int:
    """Hourly bars for a day or two, 6-hourly up to a fortnight, then daily."""
    if days <= 2:
        return 3600
    if days <= 14:
        return 6 * 3600
    return 86400


def _share_of_voice(volumes: dict[str, int], brands: Sequence[str]) -> float | None:
    total = sum(volumes.values())
    if not brands or not total or not set(volumes) - set(brands):
        return None
    return sum(volumes.get(b, 0) for b in brands) / total


def _median_minutes(cases: Sequence[Case[Incident]]) -> tuple[float | None, int]:
    """Median minutes from detection to first response over the answered cases, and how many are unanswered."""
    minutes = [m for m in (first_response_minutes(c) for c in cases) if m is not None]
    return (statistics.median(minutes) if minutes else None), len(cases) - len(minutes)


def first_response_minutes(case: Case[Incident]) -> float | None:
    """From the case's first detection to the first action on any of its incidents."""
    responded = [m.first_response_at for m in case.members if m.first_response_at is not None]
    if not responded:
        return None
    detected = min(m.created_at for m in case.members)
    return max(0.0, (min(responded) - detected).total_seconds() / 60)


def brand_cases(store: Store, incidents: Sequence[Incident]) -> list[Case[Incident]]:
    return load_cases(store, [i for i in incidents if i.kind != "source_down"])


def _tier_counts(cases: Sequence[Case[Incident]]) -> Counter[int]:
    return Counter(c.severity for c in cases)


def _headline(store: Store, request: ReportRequest, cur_cases: list[Case[Incident]]) -> Headline:
    period, scope = request.period, request.scope
    f, prev_f = scope.filter(period), scope.filter(period.previous())
    cur, prev = queries.kpis(store, f), queries.kpis(store, prev_f)
    prev_cases = brand_cases(store, stored.period_incidents(store, prev_f.start, prev_f.end, scope.brands))
    cur_tiers, prev_tiers = _tier_counts(cur_cases), _tier_counts(prev_cases)
    cur_median, unanswered = _median_minutes(cur_cases)
    prev_median, _ = _median_minutes(prev_cases)
    sov = None
    if scope.brands:
        now_share = _share_of_voice(stored.brand_volumes(store, f), scope.brands)
        if now_share is not None:
            sov = Compared(now_share, _share_of_voice(stored.brand_volumes(store, prev_f), scope.brands))
    return Headline(
        mentions=Compared(cur.mentions, prev.mentions),
        avg_score=Compared(cur.avg_score, prev.avg_score),
        negative_share=Compared(cur.negative_share, prev.negative_share),
        share_of_voice=sov,
        cases_by_tier={tier: Compared(cur_tiers[tier], prev_tiers[tier]) for tier in TIERS},
        median_response_minutes=Compared(cur_median, prev_median),
        unanswered_cases=unanswered,
    )


SEGMENTS: tuple[stored.Segment, ...] = ("product", "source", "aspect", "product_aspect")


def _moves(store: Store, request: ReportRequest) -> tuple[CitedMove, ...]:
    f, prev_f = request.scope.filter(request.period), request.scope.filter(request.period.previous())
    counts: dict[str, tuple[list[stored.SegmentCount], list[stored.SegmentCount]]] = {
        by: (stored.segment_counts(store, prev_f, by), stored.segment_counts(store, f, by)) for by in SEGMENTS
    }
    chosen = largest_moves(candidates(queries.kpis(store, f), queries.kpis(store, prev_f), counts))
    return tuple(CitedMove(move, tuple(_cited(store, f, move))) for move in chosen)


def _cited(store: Store, f: queries.MentionFilter, move: Move) -> list[stored.Voice]:
    """The most-read negative mentions behind a move: of the product's aspect that drove it, else
    of its product or aspect. A move of the volume or of a source cites none (its basis says how to list them)."""
    if move.driver is not None and move.driver.dimension == "product_aspect":
        product, aspect = move.driver.key
        narrowed = queries.MentionFilter(f.start, f.end, f.brands, (product,), f.sources)
        return stored.negative_voices(store, narrowed, "aspect", [aspect], CITED_PER_MOVE)
    if move.kind == "product" and move.subject is not None:
        return stored.negative_voices(store, f, "product", [move.subject], CITED_PER_MOVE)
    if move.kind == "aspect" and move.subject is not None:
        return stored.negative_voices(store, f, "aspect", [move.subject], CITED_PER_MOVE)
    return []


def _aspects(store: Store, request: ReportRequest) -> tuple[AspectFacts, ...]:
    f, prev_f = request.scope.filter(request.period), request.scope.filter(request.period.previous())
    now = {c.key[0]: c for c in stored.segment_counts(store, f, "aspect") if c.key[0] is not None}
    before = {c.key[0]: c for c in stored.segment_counts(store, prev_f, "aspect") if c.key[0] is not None}
    top = sorted(now.values(), key=lambda c: (-c.negative, -c.mentions, str(c.key[0])))[:TOP_ASPECTS]
    names = [str(c.key[0]) for c in top]
    voices = stored.negative_voices(store, f, "aspect", names, VOICES_PER_ASPECT)
    left_out = stored.aspect_left_out(store, f)
    out = []
    for c in top:
        name = str(c.key[0])
        old = before.get(name)
        out.append(
            AspectFacts(
                aspect=name,
                mentions=c.mentions,
                negative=c.negative,
                previous_mentions=old.mentions if old else 0,
                previous_negative=old.negative if old else 0,
                voices=tuple(v for v in voices if v.group == name),
                left_out=left_out.get(name, stored.LeftOut(0, 0)),
            )
        )
    return tuple(out)


def _cases(store: Store, cases: Sequence[Case[Incident]]) -> tuple[CaseFacts, ...]:
    """The period's cases in the queue's order, most severe first."""
    ordered = sorted(cases, key=lambda c: (-c.severity, c.window[0]))
    logs = stored.incident_responses(store, [m.id for c in ordered for m in c.members])
    out = []
    for number, case in enumerate(ordered, 1):
        ids = {m.id for m in case.members}
        out.append(
            CaseFacts(
                number=number,
                case=case,
                responses=tuple(r for r in logs if r.incident_id in ids),
                drivers=tuple(incident_mentions(store, case.lead.id)[:DRIVERS_PER_CASE]),
                first_response_minutes=first_response_minutes(case),
                deadline_minutes=RESPONSE_DEADLINES.get(case.severity),
            )
        )
    return tuple(out)


def _method(store: Store, request: ReportRequest, incidents: Sequence[Incident]) -> MethodFacts:
    f = request.scope.filter(request.period)
    return MethodFacts(
        sources=tuple(stored.source_runs(store, f)),
        exclusions=stored.exclusions(store, f),
        models=tuple(stored.model_versions(store, f)),
        outages=tuple(i for i in incidents if i.kind == "source_down"),
    )


def read_facts(store: Store, request: ReportRequest, now: datetime | None = None) -> ReportFacts:
    period = request.period
    f = request.scope.filter(period)
    incidents = stored.period_incidents(store, period.start, period.end, request.scope.brands)
    cases = brand_cases(store, incidents)
    seconds = bucket_seconds(period.days)
    return ReportFacts(
        request=request,
        generated_at=now or datetime.now(UTC),
        headline=_headline(store, request, cases),
        moves=_moves(store, request),
        series=queries.volume_series(store, f, timedelta(seconds=seconds), period.tz),
        bucket_seconds=seconds,
        aspects=_aspects(store, request),
        cases=_cases(store, cases),
        faq=faq.topics(store, f),
        method=_method(store, request, incidents),
    )


def build_facts(db: str | Path, request: ReportRequest, now: datetime | None = None) -> ReportFacts:
    """read_facts in one short read-only connection (the collectors may be writing)."""
    with open_store(db, read_only=True, lock_timeout=30.0) as store:
        return read_facts(store, request, now)
