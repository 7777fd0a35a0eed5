"""The incident brief's wording, from stored facts only (no Streamlit here: tested as functions).

The headline is one sentence a duty manager reads in ten seconds: what, where, how far above
normal, since when, how many, and how many of those carry red-alert signals (the triage's
tier-5 reasons: safety, legal, regulator, media, mass impact) with the words that raised them.
Every number and name in it is a stored fact: the incident's scope, factor, window and source
counts, and the triage of the mentions in its window. The deadline and owner follow the tier
(DOMAIN.md; deadlines as the reports count them, reports/facts.py). The suggested first response
is a template per situation, phrased as a solution (DOMAIN.md: say what you will do, not what
went wrong), filled with the scope's names; the manager edits it before using it.

Anything that came from mentions (scope values, signal words) is HTML-escaped here, because the
page shows these lines with st.html (no Markdown).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.cases import Case
from dashboard.components import escaped, when
from dashboard.i18n import aspect_name, t, t_value
from koubei.privacy import mask_pii
from reports.facts import RESPONSE_DEADLINES
from storage.incidents import Incident, IncidentResponse

# The head of a tier-5 triage reason (sentiment/lexicons/triage.tsv: "安全：人身伤害 safety: ...")
# and its code; older databases wrote "tier 5: safety 鼓包".
SIGNAL_HEADS = {"安全": "safety", "法律": "legal", "监管": "regulator", "媒体": "media", "影响面": "mass"}
_TIER5 = re.compile(r"tier 5: (.*?)(?:; reach \d+|; reading |; motive |$)")
_NEW_SIGNAL = re.compile(r"^(\S+?)：.*: (.+)$")
_OLD_SIGNAL = re.compile(r"^([a-z]+) (\S+?)(?: \(reach \d+\))?$")
WORDS_PER_SIGNAL = 2
# Which suggested response fits, by the aspect that leads the rise.
SITUATIONS = {"物流": "delivery", "客服": "service", "售后": "after_sales", "价格": "price", "包装": "delivery"}
REPLIES = {
    "safety": "reply.safety",
    "escalated": "reply.escalated",
    "delivery": "reply.delivery",
    "service": "reply.service",
    "after_sales": "reply.after_sales",
    "price": "reply.price",
    "quality": "reply.quality",
    "buzz": "reply.buzz",
}
DEADLINE_LINES = {
    "met": "brief.deadline_met",
    "missed": "brief.deadline_missed",
    "open": "brief.deadline_open",
    "overdue": "brief.deadline_overdue",
}


@dataclass(frozen=True)
class SignalCount:
    code: str  # safety | legal | regulator | media | mass
    mentions: int
    words: tuple[str, ...]  # the words that raised it most often


def _signals_of(reason: str) -> list[tuple[str, str]]:
    """(code, word) of each red-alert signal a triage reason names."""
    found = _TIER5.search(reason)
    if not found:
        return []
    signals = []
    for part in found.group(1).split("; "):
        new, old = _NEW_SIGNAL.match(part), _OLD_SIGNAL.match(part)
        if new and new.group(1) in SIGNAL_HEADS:
            signals.append((SIGNAL_HEADS[new.group(1)], new.group(2)))
        elif old and old.group(1) in SIGNAL_HEADS.values():
            signals.append((old.group(1), old.group(2)))
    return signals


def red_signals(reasons: Iterable[str]) -> list[SignalCount]:
    """How many mentions carry each kind of red-alert signal, most first, with their commonest words."""
    mentions: Counter[str] = Counter()
    words: dict[str, Counter[str]] = {}
    for reason in reasons:
        found = _signals_of(reason)
        mentions.update({code for code, _ in found})
        for code, word in found:
            words.setdefault(code, Counter())[word] += 1
    return [
        SignalCount(code, n, tuple(w for w, _ in words[code].most_common(WORDS_PER_SIGNAL)))
        for code, n in mentions.most_common()
    ]


def subject(incident: Incident) -> str:
    """What the incident is about, in words (escaped): "声浪P20充电宝", "声浪 的 电池", "声浪 在 demo.jd"."""
    value = escaped(incident.scope_value)
    brand = escaped(incident.brand or "")
    if incident.scope_type == "aspect":
        return t("brief.subject_aspect", brand=brand, aspect=escaped(aspect_name(incident.scope_value)))
    if incident.scope_type == "source" and brand:
        return t("brief.subject_source", brand=brand, source=value)
    return value


def headline(incident: Incident, signals: Sequence[SignalCount], tz: str) -> str:
    """The one sentence (HTML-escaped facts) that opens the brief."""
    start = when(incident.window_start, tz)
    if incident.kind == "source_down":
        return t("brief.headline_down", source=escaped(incident.scope_value), start=start)
    count = sum(s.count for s in incident.sources)
    factor = (
        t("brief.factor", factor=f"{incident.factor:.1f}") if incident.factor is not None else t("brief.factor_none")
    )
    key = "brief.headline_volume" if incident.kind == "volume" else "brief.headline_negative"
    sentence = t(key, subject=subject(incident), factor=factor, start=start, count=f"{count:,}")
    if signals:
        parts = [
            t(
                "brief.signal_part",
                n=f"{s.mentions:,}",
                what=t_value("signal", s.code),
                words=escaped("、".join(s.words)),
            )
            for s in signals
        ]
        sentence += t("brief.signals", parts=t("brief.and").join(parts))
    return sentence + t("brief.full_stop")


@dataclass(frozen=True)
class Deadline:
    tier: int
    minutes: int  # the tier's time to first response
    due: datetime  # naive UTC: detection + minutes
    answered: datetime | None  # the case's first response


def deadline(case: Case[Incident]) -> Deadline | None:
    """The case's response deadline, counted from its first detection (None for a tier without one)."""
    minutes = RESPONSE_DEADLINES.get(case.severity)
    if minutes is None:
        return None
    detected = min(m.created_at for m in case.members)
    answered = [m.first_response_at for m in case.members if m.first_response_at is not None]
    return Deadline(case.severity, minutes, detected + timedelta(minutes=minutes), min(answered, default=None))


def _span(minutes: float) -> str:
    minutes = abs(int(minutes))
    if minutes < 120:
        return t("brief.minutes", n=minutes)
    if minutes < 48 * 60:
        return t("brief.hours", n=minutes // 60)
    return t("brief.days", n=minutes // (24 * 60))


def deadline_line(due: Deadline, now: datetime, tz: str) -> tuple[str, str]:
    """(state, sentence): state is met | missed | open | overdue, for the line's colour."""
    limit = _span(due.minutes)
    if due.answered is not None:
        state = "met" if due.answered <= due.due else "missed"
        took = _span((due.answered - (due.due - timedelta(minutes=due.minutes))).total_seconds() / 60)
        return state, t(DEADLINE_LINES[state], took=took, limit=limit, tier=due.tier)
    left = (due.due - now).total_seconds() / 60
    state = "open" if left >= 0 else "overdue"
    return state, t(DEADLINE_LINES[state], left=_span(left), limit=limit, tier=due.tier, due=when(due.due, tz))


def owner(case: Case[Incident], log: Sequence[IncidentResponse], told: Sequence[str]) -> str:
    """Who owns the case: the tier's owner (DOMAIN.md), who took it on, which channels were told."""
    parts = [t_value("owner", case.severity)]
    taken = next((e.actor for e in log if e.action == "acknowledge"), None)
    parts.append(t("brief.taken_by", who=escaped(taken)) if taken else t("brief.not_taken"))
    if told:
        parts.append(t("brief.told", channels=escaped("、".join(dict.fromkeys(told)))))
    return " · ".join(parts)


def situation(incident: Incident, signals: Sequence[SignalCount]) -> str:
    """Which suggested response fits: red-alert safety first, then the aspect leading the rise."""
    if incident.kind == "volume" and not signals:
        return "buzz"
    if any(s.code in ("safety", "mass") for s in signals):
        return "safety"
    if signals:
        return "escalated"
    lead = (
        incident.scope_value
        if incident.scope_type == "aspect"
        else (incident.aspects[0].aspect if incident.aspects else "")
    )
    return SITUATIONS.get(lead, "quality")


def suggested_response(incident: Incident, signals: Sequence[SignalCount]) -> str:
    """A first public response, phrased as a solution, for the manager to edit (plain text, masked)."""
    product = incident.scope_value if incident.scope_type == "product" else (incident.brand or incident.scope_value)
    return mask_pii(t(REPLIES[situation(incident, signals)], product=product))
