"""`koubei detect`, `koubei backtest`, `koubei alerts` (deliver / outbox) and the `koubei incidents` group
(list / show / ack / resolve / respond)."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from koubei.commands.output import fmt_time, table_console
from koubei.errors import KoubeiError
from koubei.privacy import mask_pii

app = typer.Typer()
incidents = typer.Typer(
    name="incidents", help="The incident queue: list, show, acknowledge, resolve, log responses.", no_args_is_help=True
)


def _parse_date(text: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{text!r} is not a date like 2026-11-01 or 2026-11-01T08:00", param_hint=option
        ) from exc
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


@app.command("detect")
def detect_command(
    ctx: typer.Context,
    series_file: Path | None = typer.Option(None, "--series", help="CSV: timestamp,value or timestamp,total,negative."),
    as_json: bool = typer.Option(False, "--json", help="Print incidents as a JSON list."),
    now: str | None = typer.Option(None, "--now", help="Detect as of this UTC time (default: now)."),
) -> None:
    """Detect spikes: over stored mentions (opens incidents), or over a CSV series (prints them)."""
    if series_file is not None:
        from alerts.series_io import detect_series

        found = detect_series(series_file)
        if as_json:
            typer.echo(json.dumps(found, ensure_ascii=False))
        else:
            for item in found:
                typer.echo(
                    f"{item['start']} .. {item['end']} {item['kind']} peak {item['peak']}"
                    f" score {item['score']} tier {item['severity']}"
                )
            typer.echo(f"{len(found)} incidents")
        return
    from alerts.detect import detect_incidents

    summary = detect_incidents(ctx.obj.open_store, ctx.obj.settings, _parse_date(now, "--now") if now else None)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "opened": summary.opened,
                    "updated": summary.updated,
                    "escalated": summary.escalated,
                    "queued": summary.queued,
                    "source_down": summary.source_down,
                    "incidents": summary.incident_ids,
                },
                ensure_ascii=False,
            )
        )
    else:
        typer.echo(summary.line())


@app.command("backtest")
def backtest_command(
    ctx: typer.Context,
    rule: str = typer.Option(
        ..., "--rule", help="Rule name from [alerts.rules] (built in: negative-spike, volume-spike)."
    ),
    since: str = typer.Option(..., "--since", help="Replay from this date (UTC)."),
    until: str | None = typer.Option(None, "--until"),
    scope: str | None = typer.Option(None, "--scope", help="Only this scope type (brand, product, source, aspect)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Replay stored history through a rule and show when it would have fired (nothing is written)."""
    from rich.table import Table
    from rich.text import Text

    from alerts.backtest import backtest

    result = backtest(
        ctx.obj.open_store,
        ctx.obj.settings,
        rule,
        _parse_date(since, "--since"),
        _parse_date(until, "--until") if until else None,
        scope,
    )
    if as_json:
        typer.echo(
            json.dumps(
                [{**f.__dict__, "start": str(f.start), "end": str(f.end), "peak": str(f.peak)} for f in result.firings],
                ensure_ascii=False,
                default=str,
            )
        )
        return
    table = Table(title=f"backtest {rule} since {fmt_time(result.since)}")
    for col in ("start (UTC)", "end", "scope", "observed", "expected", "z", "tier"):
        table.add_column(col)
    for f in result.firings:
        table.add_row(
            fmt_time(f.start),
            fmt_time(f.end),
            Text(f"{f.scope_type}:{f.brand}/{f.scope_value}"),
            f"{f.observed:.0f}",
            f"{f.expected:.1f}",
            f"{f.score:.1f}",
            str(f.severity),
        )
    table_console().print(table)
    typer.echo(f"{len(result.firings)} firings, {result.per_week():.1f} per week")


@app.command("alerts")
def alerts_command(
    ctx: typer.Context,
    deliver: bool = typer.Option(True, "--deliver/--no-deliver", help="Send what is due."),
    show: bool = typer.Option(False, "--outbox", help="List the outbox."),
) -> None:
    """Send due alerts from the outbox (retries included) and/or list it."""
    from alerts.delivery import deliver_alerts
    from storage import incidents as inc

    if deliver:
        summary = deliver_alerts(ctx.obj.open_store, ctx.obj.settings)
        typer.echo(summary.line())
        for err in summary.errors[:5]:
            typer.echo(f"  {err}", err=True)
    if show:
        from rich.table import Table
        from rich.text import Text

        with ctx.obj.open_store() as store:
            rows = inc.outbox_rows(store)
        table = Table(title="outbox")
        for col in ("incident", "channel", "route", "event", "tier", "status", "attempts", "next", "error"):
            table.add_column(col)
        for r in rows:
            table.add_row(
                r.incident_id,
                r.channel,
                r.route,
                r.event,
                str(r.severity),
                r.status,
                str(r.attempts),
                fmt_time(r.next_attempt_at),
                Text(str(r.last_error or "")[:80]),
            )
        table_console().print(table)


@incidents.command("list")
def incidents_list(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help="open | acknowledged | resolved"),
    brand: str | None = typer.Option(None, "--brand"),
    as_json: bool = typer.Option(False, "--json"),
    limit: int = typer.Option(50, "--limit"),
    cases: bool = typer.Option(False, "--cases", help="One row per case: the incidents one event raised together."),
) -> None:
    """The incident queue, most severe first."""
    from alerts.cases import Case, load_cases
    from storage import incidents as inc

    if status is not None and status not in inc.INCIDENT_STATUSES:
        raise typer.BadParameter(f"{status!r} is not one of {', '.join(inc.INCIDENT_STATUSES)}", param_hint="--status")
    with ctx.obj.open_store(read_only=True) as store:
        rows = inc.list_incidents(store, status, brand, limit)
        # Without --cases every incident is a case of its own: one code path for both listings.
        listed = load_cases(store, rows) if cases else [Case((r,)) for r in rows]
    if as_json:
        out: list[dict[str, Any]] = (
            [asdict(r) for r in rows]
            if not cases
            else [
                {
                    "id": c.id,
                    "status": c.status,
                    "severity": c.severity,
                    "window_start": c.window[0],
                    "window_end": c.window[1],
                    "lead": asdict(c.lead),
                    "related": [m.id for m in c.related],
                }
                for c in listed
            ]
        )
        typer.echo(json.dumps(out, ensure_ascii=False, default=str))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title="cases" if cases else "incidents")
    columns = [
        "id",
        "status",
        "tier",
        "kind",
        "scope",
        *(["related"] if cases else []),
        "window (UTC)",
        "observed/expected",
        "z",
        "keywords",
    ]
    for col in columns:
        table.add_column(col, overflow="fold")
    for case in listed:
        r = case.lead
        table.add_row(
            r.id,
            case.status,
            str(case.severity),
            r.kind,
            Text(f"{r.scope_type}:{r.brand or ''}/{r.scope_value}"),
            *([f"+{len(case.related)}"] if cases else []),
            f"{fmt_time(case.window[0])} .. {fmt_time(case.window[1])}",
            f"{r.observed:.0f}/{r.expected:.1f}",
            f"{r.score:.1f}",
            Text(mask_pii("、".join(r.keywords[:5]))),
        )
    table_console().print(table)
    typer.echo(f"{len(listed)} cases, {len(rows)} incidents" if cases else f"{len(rows)} incidents")


@incidents.command("show")
def incidents_show(ctx: typer.Context, incident_id: str = typer.Argument(...)) -> None:
    """One incident with its facts and driving mentions."""
    from storage import incidents as inc

    with ctx.obj.open_store(read_only=True) as store:
        row = inc.get_incident(store, incident_id)
        if row is None:
            raise KoubeiError(f"no incident {incident_id}")
        mentions = inc.incident_mentions(store, incident_id)
        log = inc.responses(store, incident_id)
    for key in (
        "id",
        "status",
        "severity",
        "kind",
        "scope_type",
        "brand",
        "scope_value",
        "window_start",
        "window_end",
        "peak_at",
        "observed",
        "expected",
        "factor",
        "score",
        "reliable",
        "note",
        "first_response_at",
    ):
        typer.echo(f"{key}: {fmt_time(getattr(row, key))}")
    typer.echo("keywords: " + mask_pii("、".join(row.keywords)))
    typer.echo("aspects: " + ", ".join(f"{a.aspect} {a.observed} (expected {a.expected})" for a in row.aspects))
    typer.echo("sources: " + ", ".join(f"{s.source} {s.count}" for s in row.sources))
    for m in mentions:
        typer.echo(f"  #{m.rank} reach {m.reach} {m.source} {m.url or ''} {mask_pii(m.text)[:80]}")
    for entry in log:
        typer.echo(f"  {fmt_time(entry.acted_at)} {entry.actor} {entry.action} {entry.note or ''}")


def _act(ctx: typer.Context, incident_id: str, action: str, actor: str, note: str | None) -> None:
    from storage import incidents as inc
    from storage.users import command_actor

    with ctx.obj.open_store() as store:
        try:
            who = replace(command_actor(f"koubei incidents {action}"), name=actor)  # --by names the person
            inc.log_response(store, incident_id, action, who, note, datetime.now(UTC).replace(tzinfo=None))
        except KeyError:
            raise KoubeiError(f"no incident {incident_id}") from None
    typer.echo(f"{incident_id}: {action} logged")


@incidents.command("ack")
def incidents_ack(
    ctx: typer.Context,
    incident_id: str,
    by: str = typer.Option("cli", "--by"),
    note: str | None = typer.Option(None, "--note"),
) -> None:
    """Acknowledge: someone is on it."""
    _act(ctx, incident_id, "acknowledge", by, note)


@incidents.command("resolve")
def incidents_resolve(
    ctx: typer.Context,
    incident_id: str,
    by: str = typer.Option("cli", "--by"),
    note: str | None = typer.Option(None, "--note"),
) -> None:
    """Resolve: the burst is over or handled."""
    _act(ctx, incident_id, "resolve", by, note)


@incidents.command("respond")
def incidents_respond(
    ctx: typer.Context,
    incident_id: str,
    note: str = typer.Option(..., "--note"),
    by: str = typer.Option("cli", "--by"),
) -> None:
    """Log a response (a public reply, a statement, a remedy offered)."""
    _act(ctx, incident_id, "respond", by, note)
