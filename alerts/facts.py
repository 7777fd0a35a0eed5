"""The facts behind an incident, from stored data only.

The driving mentions (most reach first), the keywords that rose against the week
before, the negative aspects that rose (observed vs the previous week's rate) and
the counts by source. A negative burst carrying enough mentions that the triage
put at tier 5 becomes a red alert, and its note says why.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from alerts.config import AlertSettings
from storage import Store
from storage import alerts_series as series
from storage.alerts_series import ScopeWindow
from storage.incidents import AspectRise, Incident, IncidentMention, SourceCount

MAX_ASPECTS = 8
KEYWORDS_NAMED = 4  # extra candidates, for the ones that only repeat the scope's names
KEYWORD_TEXTS = 300  # keyword extraction tokenises every text: a few hundred of each side name a burst well enough
BASELINE = timedelta(days=7)


def gather_facts(store: Store, cfg: AlertSettings, incident: Incident) -> tuple[list[IncidentMention], Incident]:
    """The incident's driving mentions, and the incident with its keywords, aspects and sources."""
    window = scope_window(incident)
    week_before = replace(window, start=window.start - BASELINE, end=window.start)
    mentions = series.window_mentions(store, window, cfg.top_mentions)
    texts = series.window_texts(store, window, limit=KEYWORD_TEXTS)
    keywords: tuple[str, ...] = ()
    if texts:
        from sentiment.keywords import top_keywords

        background = series.window_texts(store, week_before, limit=KEYWORD_TEXTS)
        # The brand's and product's own names say nothing the headline does not (声浪, P20).
        named = f"{incident.brand or ''} {incident.scope_value}"
        candidates = top_keywords(texts, k=10 + KEYWORDS_NAMED, background=background or None)
        keywords = tuple(word for word, _ in candidates if word not in named)[:10]
    now_aspects = series.window_negative_aspects(store, window)
    base_aspects = series.window_negative_aspects(store, week_before)
    ratio = max((window.end - window.start) / BASELINE, 1e-9)
    rose = sorted(
        (
            AspectRise(aspect, count, round(base_aspects.get(aspect, 0) * ratio, 2))
            for aspect, count in now_aspects.items()
            if count > base_aspects.get(aspect, 0) * ratio
        ),
        key=lambda a: a.observed - a.expected,
        reverse=True,
    )
    found = replace(
        incident,
        keywords=keywords,
        aspects=tuple(rose[:MAX_ASPECTS]),
        sources=tuple(SourceCount(source, count) for source, count in series.window_sources(store, window).items()),
    )
    return mentions, red_alert(store, cfg, found)


def scope_window(incident: Incident) -> ScopeWindow:
    """The incident's scope over its window: what its facts are read from."""
    return ScopeWindow(
        incident.scope_type,
        incident.brand or "",
        incident.scope_value,
        incident.window_start,
        incident.window_end,
        negative_only=incident.kind == "negative",
    )


def red_alert(store: Store, cfg: AlertSettings, incident: Incident) -> Incident:
    """The incident at tier 5 when its window carries enough mentions the triage put at tier 5
    (live detection and the backtest tier the same way)."""
    if incident.kind != "negative" or incident.severity >= 5:
        return incident
    urgent = series.window_urgent_count(store, scope_window(incident))
    if urgent < cfg.severity.red_alert_mentions:
        return incident
    why = f"tier 5 (红色警戒): {urgent} mentions in the window triaged tier 5"
    return replace(incident, severity=5, note=f"{incident.note}; {why}" if incident.note else why)
