"""`koubei search`: the mentions a watch query matches (docs/queries.md), newest first."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import typer

app = typer.Typer()


def _day_start(text: str | None, option: str, zone: ZoneInfo, days_after: int = 0) -> datetime | None:
    """Midnight of the date in the dashboard's time zone, as naive UTC (how mentions are stored)."""
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date like 2026-11-01", param_hint=option) from exc
    local = datetime.combine(day + timedelta(days=days_after), time(), zone)
    return local.astimezone(UTC).replace(tzinfo=None)


@app.command("search")
def search_command(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="A watch query: 充电宝 NEAR/5 发烫, (退款 OR 退货) source:weibo ..."),
    since: str | None = typer.Option(None, "--since", help="From this day (YYYY-MM-DD, dashboard time zone)."),
    until: str | None = typer.Option(None, "--until", help="Up to and including this day."),
    limit: int = typer.Option(50, "--limit", min=1, max=100_000, help="At most this many mentions."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines: id, source, published_at, text, label, tier."),
) -> None:
    """Print the mentions a query matches, newest first; phone numbers, e-mails and ID numbers masked."""
    from koubei.privacy import mask_pii
    from querylang import QueryError, parse
    from storage.search import Window, search

    try:
        parsed = parse(query)
    except QueryError as error:
        typer.echo(f"error: {error.explain()}", err=True)
        raise typer.Exit(2) from None
    zone = ZoneInfo(str(ctx.obj.settings.dashboard.timezone))
    window = Window(_day_start(since, "--since", zone), _day_start(until, "--until", zone, days_after=1))
    with ctx.obj.open_store(read_only=True) as store:
        found = search(store, parsed, window, limit)
    for hit in found:
        text = mask_pii(hit.text)
        if as_json:
            record = {
                "id": hit.id,
                "source": hit.source,
                "published_at": hit.published_at.replace(tzinfo=UTC).isoformat(),
                "text": text,
                "label": hit.label,
                "tier": hit.tier,
            }
            typer.echo(json.dumps(record, ensure_ascii=False))
        else:
            when = hit.published_at.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")
            typer.echo(f"{when}  {hit.source:<10} {hit.label or '-':<3} {hit.tier or '-'}  {' '.join(text.split())}")


@app.command("rebuild-index")
def rebuild_index_command(
    ctx: typer.Context,
    sort_only: bool = typer.Option(
        False, "--sort-only", help="Only rewrite the postings sorted, reading no text (minutes faster)."
    ),
) -> None:
    """Recreate the full-text index of every stored mention (postings sorted for fast reads)."""
    import time as clock

    from storage.textindex import rebuild_index, sort_postings

    started = clock.perf_counter()
    with ctx.obj.open_store() as store:
        if sort_only:
            sorted_postings = sort_postings(store)
            typer.echo(f"full-text index sorted: {sorted_postings:,} postings in {clock.perf_counter() - started:.1f}s")
            return
        indexed = rebuild_index(store)
    typer.echo(f"full-text index rebuilt: {indexed:,} mentions in {clock.perf_counter() - started:.1f}s")
