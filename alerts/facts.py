"""The facts behind an incident, from stored data only.

The driving mentions (most reach first), the keywords that rose against the week
before, the negative aspects that rose (observed vs the previous week's rate) and
the counts by source. A negative burst carrying enough mentions that the triage
put at tier 5 becomes a red alert, and its note says why.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from alerts.config import AlertSettings
from storage import Store
from storage import alerts_series as series
from storage.alerts_series import ScopeWindow
from storage.incidents import AspectRise, Incident, IncidentMention, SourceCount

MAX_ASPECTS = 8
KEYWORDS_NAMED = 4  # extra candidates, for the ones that only repeat the scope's names
KEYWORD_TEXTS = 300  # keyword extraction tokenises every text: a few hundred of each side name a burst well enough
BASELINE = timedelta(days=7)


def gather_facts(
    store: Store, cfg: AlertSettings, incident: Incident, recent: series.PassRows | None = None
) -> tuple[list[IncidentMention], Incident]:
    """The incident's driving mentions, and the incident with its keywords, aspects and sources.
    The scope's rows of the window and the week before are read once (series.ScopeRows), from
    `recent` when a detection pass read them for all its incidents."""
    window = scope_window(incident)
    week_before = replace(window, start=window.start - BASELINE, end=window.start)
    with series.ScopeRows(store, window, week_before.start, recent) as rows:
        mentions = rows.mentions(window, cfg.top_mentions)
        texts = rows.texts(window, limit=KEYWORD_TEXTS)
        background = rows.texts(week_before, limit=KEYWORD_TEXTS) if texts else []
        now_aspects = rows.negative_aspects(window)
        base_aspects = rows.negative_aspects(week_before)
        sources = rows.sources(window)
        urgent = rows.urgent_count(window)
    keywords: tuple[str, ...] = ()
    if texts:
        from sentiment.keywords import top_keywords_of

        # The brand's and product's own names say nothing the headline does not (声浪, P20).
        named = f"{incident.brand or ''} {incident.scope_value}"
        docs, background_docs = _token_docs(store, [t for t in texts if t[0].strip()], background)
        candidates = top_keywords_of(docs, k=10 + KEYWORDS_NAMED, background=background_docs or None)
        keywords = tuple(word for word, _ in candidates if word not in named)[:10]
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
        sources=tuple(SourceCount(source, count) for source, count in sources.items()),
    )
    return mentions, _tiered(cfg, found, urgent)


def _token_docs(store: Store, *sides: list[tuple[str, datetime]]) -> list[list[tuple[str, ...]]]:
    """Each side's texts cut into keyword tokens: those kept from an earlier pass read back, the
    others cut with jieba and kept (jieba's cut of 600 texts per incident was most of a pass)."""
    from sentiment.keywords import keyword_tokens, token_key

    keys = {text: token_key(text) for side in sides for text, _ in side if text.strip()}
    known = series.stored_tokens(store, sorted(set(keys.values())))
    fresh: dict[int, tuple[datetime, tuple[str, ...]]] = {}
    for side in sides:
        for text, published in side:
            key = keys.get(text)
            if key is not None and key not in known:
                known[key] = keyword_tokens(text)
                fresh[key] = (published, known[key])
    series.keep_tokens(store, [(key, published, tokens) for key, (published, tokens) in fresh.items()])
    return [[known[keys[text]] if text in keys else () for text, _ in side] for side in sides]


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
    return _tiered(cfg, incident, series.window_urgent_count(store, scope_window(incident)))


def _tiered(cfg: AlertSettings, incident: Incident, urgent: int) -> Incident:
    """red_alert, given how many of the window's mentions the triage put at tier 5."""
    if incident.kind != "negative" or incident.severity >= 5 or urgent < cfg.severity.red_alert_mentions:
        return incident
    why = f"tier 5 (红色警戒): {urgent} mentions in the window triaged tier 5"
    return replace(incident, severity=5, note=f"{incident.note}; {why}" if incident.note else why)
