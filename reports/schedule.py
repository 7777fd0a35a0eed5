"""Scheduled reports: produced when due and queued in the alert outbox, once per period and channel.

`koubei watch` calls queue_due_reports between passes. For each [[reports]] entry, the last
scheduled time at or before now fixes the period (the week or month before it). The outbox
row of (report, period, channel) has a stable id, so a report already queued is never queued
again, across restarts and crashes; delivery (alerts/delivery.py) then sends it with the
outbox's retries. The file is written under a temporary name and renamed, so a crash leaves
either no file or a whole one; a missing file is produced again.

What a channel receives (deliver_report): e-mail the file as an attachment; a webhook the
facts and the file (base64); WeCom, DingTalk, Feishu and Slack robots the headline and the
file's link when [[reports]] link_base says where the files are served.
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alerts import channels
from alerts.config import Channel
from dashboard.i18n import t
from koubei.config import Settings
from koubei.settings.reports import ReportTable
from reports.build import write_report
from reports.facts import ReportFacts, ReportRequest, Scope, aspect_names_in, read_facts
from reports.html import move_sentence, number, pct, points, scope_title
from reports.period import Period, parse_period
from storage import Store
from storage import incidents as outbox
from storage.db import naive_utc
from storage.reports import queued
from storage.written import record_written

EVENT = "report"  # the outbox event of a scheduled report


@dataclass(frozen=True)
class Due:
    report: ReportTable
    scheduled: datetime  # the scheduled time it is due for (aware)
    period: Period

    @property
    def key(self) -> str:
        """What the outbox knows the report by: one per report and period."""
        return f"report:{self.report.name}:{self.period.slug()}"

    def outbox_id(self, channel: str) -> str:
        return outbox.stable_id(self.key, channel, EVENT)

    @property
    def path(self) -> Path:
        return Path(self.report.output_dir) / f"{self.report.name}-{self.period.slug()}.{self.report.format}"


def due_now(report: ReportTable, now: datetime) -> Due:
    schedule = report.when
    scheduled = schedule.latest(now)
    return Due(report, scheduled, parse_period(report.period, schedule.tz, today=scheduled.date()))


def payload(due: Due, facts: ReportFacts) -> dict[str, Any]:
    """What every channel's message is built from: the headline facts and where the file is."""
    h, lang = facts.headline, facts.request.lang
    link = f"{due.report.link_base.rstrip('/')}/{due.path.name}" if due.report.link_base else None
    return {
        "report": due.report.name,
        "title": t("report.title", lang, scope=scope_title(facts)),
        "period": [str(due.period.first_day), str(due.period.last_day)],
        "scheduled_at": due.scheduled.isoformat(),
        "language": lang,
        "format": due.report.format,
        "file": str(due.path.resolve()),
        "link": link,
        "mentions": h.mentions.current,
        "mentions_previous": h.mentions.previous,
        "negative_share": h.negative_share.current,
        "negative_share_previous": h.negative_share.previous,
        "cases": sum(int(c.current or 0) for c in h.cases_by_tier.values()),
        "changes": [move_sentence(m.move, lang, facts.request.aspect_names) for m in facts.moves],
    }


def _write(due: Due, facts: ReportFacts) -> None:
    partial = due.path.with_name(due.path.name + ".part")
    write_report(facts, due.report.format, partial)
    partial.replace(due.path)


def queue_due_reports(
    open_store: Callable[[], Store], settings: Settings, now: datetime | None = None, log: Callable[[str], None] = print
) -> int:
    """Produce and queue each report that is due and not queued yet; returns how many outbox rows were added."""
    now = now or datetime.now(UTC)
    added = 0
    for report in settings.reports:
        due = due_now(report, now)
        ids = {channel: due.outbox_id(channel) for channel in report.channels}
        with open_store() as store:
            waiting = [c for c, i in ids.items() if i not in queued(store, list(ids.values()))]
            if not waiting:
                continue
            scope = Scope(report.brands, report.products, report.sources)
            names = aspect_names_in(settings.sentiment.aspect_names, report.language)
            request = ReportRequest(due.period, scope, report.language, names)
            facts = read_facts(store, request)
        if not due.path.exists():
            _write(due, facts)
            log(f"reports: wrote {due.path} ({due.period.label()})")
        body = payload(due, facts)
        stamp = naive_utc(now)
        with open_store() as store:
            record_written(store, due.path, "scheduled-report", due.period.previous().start, due.period.end)
            for channel in waiting:
                row = outbox.OutboxRow(
                    id=ids[channel],
                    incident_id=due.key,
                    channel=channel,
                    route=report.name,
                    event=EVENT,
                    severity=1,
                    payload=body,
                    next_attempt_at=stamp,
                    created_at=stamp,
                )
                added += outbox.enqueue(store, row)
    return added


# ------------------------------------------------------------------ sending


def report_text(p: dict[str, Any]) -> str:
    """The report's headline as plain text, from the payload's stored facts."""
    lang = str(p.get("language", "zh"))
    share, before = p.get("negative_share"), p.get("negative_share_previous")
    lines = [
        f"[koubei] {p['title']} · {p['period'][0]} – {p['period'][1]}",
        f"{t('report.kpi_mentions', lang)}: {number(p.get('mentions'))} ({t('report.col_previous', lang)} {number(p.get('mentions_previous'))})",
        f"{t('report.kpi_negative_share', lang)}: {pct(share)} ({points(None if share is None or before is None else share - before)})",
        *(f"- {sentence}" for sentence in p.get("changes", [])),
    ]
    if p.get("link"):
        lines.append(str(p["link"]))
    return "\n".join(lines)


def _file(p: dict[str, Any]) -> tuple[str, str, bytes]:
    path = Path(str(p["file"]))
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise channels.DeliveryError(f"report file {path} cannot be read: {exc}") from exc
    return path.name, mimetypes.guess_type(path.name)[0] or "application/octet-stream", content


def deliver_report(channel: Channel, p: dict[str, Any], outbox_id: str) -> None:
    """Send one queued report through a channel; raises DeliveryError (the outbox retries)."""
    if channel.type == "email":
        name, mime, content = _file(p)
        msg = channels.new_email(channel)
        msg["Subject"] = f"[koubei] {p['title']} · {p['period'][0]} – {p['period'][1]}"
        msg["Message-ID"] = f"<{outbox_id}@koubei>"  # the same row always sends the same message
        msg["X-Koubei-Report"] = str(p["report"])
        msg.set_content(report_text(p))
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
        channels.send_email(channel, msg)
    elif channel.type == "webhook":
        name, mime, content = _file(p)
        public = {k: v for k, v in p.items() if k != "file"}
        attachment = {"name": name, "content_type": mime, "base64": base64.b64encode(content).decode()}
        channels.post(channel, {"source": "koubei", "event": EVENT, **public, "attachment": attachment}, outbox_id)
    else:
        channels.post(channel, channels.chat_message(channel.type, report_text(p)), outbox_id)
