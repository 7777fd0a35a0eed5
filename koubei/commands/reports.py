"""`koubei report` (the review-summary report as HTML or PDF) and `koubei export` (every matching row
as CSV, XLSX or JSONL)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from koubei.errors import ConfigError

app = typer.Typer()

DEFAULT_TZ = "Asia/Shanghai"
PERIOD_HELP = "week (last full Mon-Sun week), month (last full month) or YYYY-MM-DD..YYYY-MM-DD."


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(allowed)}", param_hint=option)
    return value


def _record(
    ctx: typer.Context, output: Path, kind: str, covers_from: datetime, covers_to: datetime, detail: dict[str, Any]
) -> None:
    """Remember the file and the times it may quote, so that `koubei forget` can delete it, and put the
    file in the audit trail: a report or an export carries mentions out of koubei."""
    from storage.audit import default_actor, origin_of, record
    from storage.written import record_written

    with ctx.obj.open_store() as store:
        record_written(store, output, kind, covers_from, covers_to)
        record(store, kind, "mentions", {"file": str(output), **detail}, default_actor(), origin_of(f"koubei {kind}"))


def _scope(brand: list[str], product: list[str], source: list[str]) -> dict[str, Any]:
    return {"brands": brand, "products": product, "sources": source}


@app.command("report")
def report_command(
    ctx: typer.Context,
    period: str = typer.Option(..., "--period", help=PERIOD_HELP),
    brand: list[str] = typer.Option([], "--brand", help="Brand to report on (repeatable; default all)."),
    product: list[str] = typer.Option([], "--product", help="Product (repeatable; default all)."),
    source: list[str] = typer.Option([], "--source", help="Source such as demo.weibo (repeatable; default all)."),
    lang: str = typer.Option("zh", "--lang", help="zh (default) or en."),
    fmt: str = typer.Option("html", "--format", help="html (self-contained) or pdf (A4, printed by Chromium)."),
    output: Path = typer.Option(..., "--output", "-o", help="File to write."),
    timezone: str = typer.Option(DEFAULT_TZ, "--timezone", help="Time zone of the period's days and of times shown."),
) -> None:
    """Write the review-summary report for a period and scope: KPIs against the previous period, what
    changed, trend, aspects, incidents, customers' questions and the method behind it."""
    _choice(lang, ("zh", "en"), "--lang")
    _choice(fmt, ("html", "pdf"), "--format")
    from reports.build import write_report
    from reports.facts import ReportRequest, Scope, aspect_names_in, read_facts
    from reports.period import parse_period

    scope = Scope(tuple(brand), tuple(product), tuple(source))
    names = aspect_names_in(ctx.obj.settings.sentiment.aspect_names, lang)
    request = ReportRequest(parse_period(period, timezone), scope, lang, names)
    with ctx.obj.open_store(read_only=True) as store:
        facts = read_facts(store, request)
    write_report(facts, fmt, output)
    detail = {"format": fmt, "period": request.period.label(), **_scope(brand, product, source)}
    _record(ctx, output, "report", request.period.previous().start, request.period.end, detail)
    typer.echo(f"{output}: {fmt} report, {request.period.label()}, {facts.headline.mentions.current:,.0f} mentions")


@app.command("export")
def export_command(
    ctx: typer.Context,
    fmt: str = typer.Option("csv", "--format", help="csv (UTF-8 with BOM), xlsx or jsonl."),
    what: str = typer.Option("mentions", "--what", help="mentions (every one), incidents (by case) or summary."),
    period: str = typer.Option(..., "--period", help=PERIOD_HELP),
    brand: list[str] = typer.Option([], "--brand", help="Brand (repeatable; default all)."),
    product: list[str] = typer.Option([], "--product", help="Product (repeatable; default all)."),
    source: list[str] = typer.Option([], "--source", help="Source (repeatable; default all)."),
    label: str | None = typer.Option(None, "--label", help="Mentions with this sentiment only: pos, neu or neg."),
    lang: str = typer.Option("zh", "--lang", help="Language of headers and values: zh (default) or en."),
    output: Path = typer.Option(..., "--output", "-o", help="File to write."),
    timezone: str = typer.Option(DEFAULT_TZ, "--timezone", help="Time zone of the period's days and of times."),
) -> None:
    """Export every matching row, streamed (no cap; the file ends by saying how many rows it holds),
    with the dashboard's columns and masking."""
    _choice(fmt, ("csv", "xlsx", "jsonl"), "--format")
    _choice(what, ("mentions", "incidents", "summary"), "--what")
    _choice(lang, ("zh", "en"), "--lang")
    if label is not None:
        _choice(label, ("pos", "neu", "neg"), "--label")
        if what != "mentions":
            raise ConfigError("--label applies to --what mentions only")
    from reports.exports import ExportRequest, write_file
    from reports.facts import Scope
    from reports.period import parse_period

    request = ExportRequest(
        what, parse_period(period, timezone), Scope(tuple(brand), tuple(product), tuple(source)), lang, label
    )
    with ctx.obj.open_store(read_only=True) as store:
        rows = write_file(store, request, fmt, output)
    detail = {"format": fmt, "what": what, "label": label, "period": request.period.label(), "rows": rows}
    _record(
        ctx, output, "export", request.period.start, request.period.end, {**detail, **_scope(brand, product, source)}
    )
    typer.echo(f"{output}: {rows:,} rows ({what}, {request.period.label()})")
