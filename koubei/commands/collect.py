"""`koubei collect`, `koubei import`, `koubei parse`, `koubei sources`, `koubei demo-sources`."""

from __future__ import annotations

import json
import time
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from koubei.commands.output import fmt_time, status_console, table_console
from koubei.errors import ConfigError, KoubeiError
from koubei.privacy import mask_pii

if TYPE_CHECKING:
    from rich.table import Table

    from storage.health import SourceHealth

app = typer.Typer()


def summary_table(results: list[Any]) -> Table:
    """Per-source summary of a collect run (rich escapes markup in cells it is given as Text)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="koubei collect", show_lines=False)
    for column, justify in (
        ("source", "left"),
        ("kind", "left"),
        ("status", "left"),
        ("pages", "right"),
        ("new", "right"),
        ("updated", "right"),
        ("unchanged", "right"),
        ("seconds", "right"),
        ("items/s", "right"),
        ("error", "left"),
    ):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for r in results:
        table.add_row(
            Text(r.source),
            Text(r.kind),
            Text("ok", style="green") if r.ok else Text(r.error_kind or "error", style="red"),
            str(r.pages),
            str(r.inserted),
            str(r.updated),
            str(r.unchanged),
            f"{r.seconds:.2f}",
            f"{r.items_per_second:.0f}",
            Text(r.error or ""),
        )
    return table


def _mention_json(m: Any, unmasked: bool) -> str:
    reach = {k: getattr(m, k) for k in ("likes", "reposts", "replies") if getattr(m, k) is not None}
    record = {
        "source": m.source,
        "native_id": m.native_id,
        "text": m.text if unmasked else mask_pii(m.text),
        "author": m.author,
        "url": m.url,
        "rating": m.rating,
        "published_at": m.published_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reach": reach,
    }
    return json.dumps(record, ensure_ascii=False)


def parsers() -> dict[str, Any]:
    """Source kinds whose parser works on a saved response, by name."""
    from collectors.base import registry

    return {name: cls.parse for name, cls in sorted(registry().items()) if callable(getattr(cls, "parse", None))}


@app.command("collect")
def collect_command(
    ctx: typer.Context,
    sources: list[str] | None = typer.Argument(None, help="Sources to collect (default: every enabled one)."),
) -> None:
    """Collect new mentions from every enabled source (or the named ones) and print a per-source table.

    Exit 0 when at least one source worked, 1 when every source failed, 2 on bad configuration.
    """
    from collectors.runner import collect

    context = ctx.obj
    started = time.perf_counter()
    with status_console().status("collecting ...") as status:

        def progress(event: str, result: Any) -> None:
            if event == "start":
                status.update(f"collecting {result.source} ...")
            elif event == "page":
                status.update(f"collecting {result.source}: {result.pages} pages, {result.items} items")

        results = collect(context.open_store, context.settings, sources or None, progress=progress)
    if not results:
        raise ConfigError("no enabled sources in the config ([sources.NAME] with enabled = true)")
    table_console().print(summary_table(results))
    failed = [r for r in results if not r.ok]
    new = sum(r.inserted for r in results)
    typer.echo(
        f"{new} new mentions from {len(results) - len(failed)}/{len(results)} sources"
        + (f"; failed: {', '.join(r.source for r in failed)}" if failed else "")
        + f" in {time.perf_counter() - started:.1f}s"
    )
    if len(failed) == len(results):
        # A KoubeiError, not typer.Exit: koubei.cli.run() maps it to exit code 1 in every mode.
        raise KoubeiError(f"every source failed ({', '.join(r.source for r in failed)}); see the table above")


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV, JSONL or XLSX export."),
    source: str = typer.Option(..., "--source", help="Source name to store the rows under."),
    mapping: list[str] | None = typer.Option(None, "--map", help="field=column, repeatable (e.g. text=内容)."),
    brand: str | None = typer.Option(None, "--brand", help="Brand for rows without one."),
    product: str | None = typer.Option(None, "--product", help="Product for rows without one."),
) -> None:
    """Import a file of mentions; a malformed file is rejected whole, naming row and column."""
    from collectors.file_import import import_file

    fields: dict[str, str] = {}
    for item in mapping or []:
        field, sep, column = item.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise ConfigError(f"--map {item!r}: expected field=column")
        fields[field.strip()] = column.strip()
    result = import_file(
        file,
        source,
        fields,
        ctx.obj.open_store,
        brand=brand,
        product=product,
        brands=ctx.obj.settings.brands,
        topics=ctx.obj.settings.topics,
    )
    typer.echo(
        f"imported {result.rows} rows from {file} as {source}: {result.inserted} new, "
        f"{result.updated} updated, {result.unchanged} unchanged"
    )
    _sort_index_tail(ctx)


def _sort_index_tail(ctx: typer.Context) -> None:
    """A large import leaves a long unsorted tail of postings: sort it now, as a pass would."""
    from storage.textindex import TAIL_DOCS, sort_postings_tail

    with ctx.obj.open_store() as store:
        sorted_postings = sort_postings_tail(store, at_least=TAIL_DOCS)
    if sorted_postings:
        typer.echo(f"full-text index: {sorted_postings:,} new postings sorted")


@app.command("retag")
def retag_command(ctx: typer.Context) -> None:
    """Apply the [[brands]] and [[topics]] queries as configured now to stored mentions."""
    from koubei import topics
    from koubei.brands import retag

    settings = ctx.obj.settings
    with ctx.obj.open_store() as store:
        changed = retag(store, settings.brands)
        tags = topics.retag(store, settings.topics)
    typer.echo(f"retagged {changed} mentions from {len(settings.brands)} configured brands")
    typer.echo(f"{tags} topic tags added or removed for {len(settings.topics)} configured topics")


@app.command("parse")
def parse_command(
    ctx: typer.Context,
    source: str | None = typer.Argument(None, help="Source kind (jd, weibo, ...) or a configured source name."),
    file: Path | None = typer.Argument(None, help="A saved response of that source."),
    list_sources: bool = typer.Option(False, "--list", help="Name the sources that can be parsed."),
    unmasked: bool = typer.Option(False, "--unmasked", help="Print text without masking phone numbers etc."),
) -> None:
    """Print the mentions in one saved response as JSON lines, without any network access.

    Fields: source, native_id, text, author, url, rating, published_at (ISO 8601 UTC), reach.
    """
    available = parsers()
    if list_sources:
        for name in available:
            typer.echo(name)
        return
    if not source or not file:
        raise ConfigError("usage: koubei parse SOURCE FILE (or --list)")
    kind, options = source, None
    if source not in available and (configured := ctx.obj.settings.sources.get(source)):
        kind, options = configured.kind, configured.options
    if kind not in available:
        raise ConfigError(f"no parser for {source!r}; parsers: {', '.join(available)}")
    if not file.is_file():
        raise ConfigError(f"{file}: no such file")
    context: dict[str, Any] = {"source": source, "origin": str(file)}
    for key in ("selectors", "match", "cc"):  # the options a parser reads (html's selectors, ...)
        if hasattr(options, key):
            context[key] = getattr(options, key)
    skipped: list[Any] = []
    mentions = available[kind](file.read_bytes(), errors=skipped, **context)
    for mention in mentions:
        typer.echo(_mention_json(mention, unmasked))
    status = status_console()
    for error in skipped:
        status.print(f"skipped {error}", highlight=False, markup=False, soft_wrap=True)
    status.print(f"{len(mentions)} mentions in {file}", highlight=False)


def source_kinds() -> dict[str, str]:
    """Every source kind koubei has, with the first line of its module's documentation (where its facts are)."""
    import inspect

    from collectors.base import registry

    kinds: dict[str, str] = {}
    for kind, cls in registry().items():
        module = inspect.getmodule(cls)
        doc = ((module.__doc__ if module else None) or "").strip()
        kinds[kind] = doc.splitlines()[0] if doc else ""
    return kinds


@app.command("sources")
def sources_command(
    ctx: typer.Context,
    kinds: bool = typer.Option(
        False,
        "--kinds",
        help="List the source kinds instead, one line each (the full facts: collectors/sources/KIND.py).",
    ),
) -> None:
    """List the configured sources with their targets and health."""
    if kinds:
        for kind, summary in source_kinds().items():
            typer.echo(f"{kind:<12} {summary}")
        return
    from rich.table import Table
    from rich.text import Text

    from collectors.runner import configured_sources
    from storage import open_store
    from storage.health import source_health

    context = ctx.obj
    configs = configured_sources(context.settings, include_disabled=True)
    health: dict[str, SourceHealth] = {}
    location = context.settings.location
    if not isinstance(location, Path) or location.exists():  # a lake, or a file already made
        try:
            # Read-only: listing must not take the write lock a running collector or scorer needs.
            with open_store(location, read_only=True) as store:
                health = {row.source: row for row in source_health(store)}
        except KoubeiError as exc:
            status_console().print(f"health unavailable: {exc}", highlight=False)
    table = Table(title="koubei sources")
    for column in (
        "source",
        "kind",
        "enabled",
        "targets",
        "interval",
        "status",
        "last success",
        "items",
        "last error",
    ):
        table.add_column(column, overflow="fold")
    from collectors.base import registry

    classes = registry()
    for config in configs:
        cls = classes[config.kind]
        targets = getattr(config.options, getattr(cls, "target_key", ""), ())
        shown = ", ".join(str(getattr(t, "id", t)) for t in targets) or "-"
        row = health.get(config.name)
        status = (row.status if row else None) or "never run"
        shown_status = status
        if row and status == "error":
            # "error (blocked, 3 runs)": what kind of failure, and for how long it has lasted.
            runs = row.consecutive_failures or 1
            shown_status = f"error ({row.last_error_kind or 'unknown'}, {runs} run{'s' if runs > 1 else ''})"
        table.add_row(
            Text(config.name),
            Text(config.kind),
            "yes" if config.options.enabled else "no",
            Text(shown),
            Text(str(config.options.interval)),
            Text(shown_status, style="green" if status == "ok" else "red" if status == "error" else ""),
            fmt_time(row.last_success_at if row else None),
            _items(row),
            Text((row.last_error if status == "error" else row.last_item_error) or "" if row else ""),
        )
    table_console().print(table)


def _items(row: SourceHealth | None) -> str:
    """Items of the last run, and how many it skipped as not fitting the source's schema."""
    if row is None:
        return "-"
    skipped = f" ({row.last_item_errors} skipped)" if row.last_item_errors else ""
    return f"{row.last_items}{skipped}"


@app.command("demo-sources")
def demo_sources_command(
    ctx: typer.Context,
    fixtures: Path = typer.Option(
        Path("../shared/fixtures/sources"),
        "--fixtures",
        help="Directory with the saved responses (../shared/fixtures/sources).",
    ),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8765, "--port", help="Port to serve on (0: any free port)."),
    pages: int = typer.Option(3, "--pages", help="Pages per source and target."),
    write_config: Path = typer.Option(
        Path("data/demo-sources.toml"),
        "--write-config",
        help="Where to write a koubei.toml that points every source here.",
    ),
    collect_once: bool = typer.Option(False, "--collect", help="Collect once into --db, print the table, stop."),
) -> None:
    """Serve every source's real response format locally and write a config that collects from it."""
    from collectors.demo.server import DemoSite, demo_settings, serve
    from collectors.runner import collect
    from koubei.config import parse_settings
    from koubei.settings.toml import to_toml

    context = ctx.obj
    if not fixtures.is_dir():
        raise ConfigError(
            f"fixtures directory not found: {fixtures.resolve()}; pass --fixtures DIR "
            "(../shared/fixtures/sources in the koubei workspace)"
        )
    site = DemoSite(fixtures, pages=pages)
    server = serve(site, host, port)
    base = f"http://{host}:{server.server_address[1]}"
    raw = demo_settings(context.settings.effective(), base)
    write_config.parent.mkdir(parents=True, exist_ok=True)
    write_config.write_text(
        "# Written by `koubei demo-sources`: every source points at the local demo server.\n" + to_toml(raw),
        encoding="utf-8",
    )
    typer.echo(f"demo sources on {base} (fixtures {fixtures}), {pages} pages each")
    if not collect_once:
        # The snippet to paste into your own koubei.toml, if you prefer that to --config.
        typer.echo("\n# ---- [sources.*] for koubei.toml ----\n" + to_toml({"sources": raw["sources"]}))
    typer.echo(
        f"config written to {write_config}; in another shell run:\n"
        f"  koubei --config {write_config} collect\n  koubei --config {write_config} dashboard"
    )
    if collect_once:
        settings = parse_settings(raw, write_config, context.db)
        results = collect(context.open_store, settings)
        table_console().print(summary_table(results))
        server.shutdown()
        if all(not r.ok for r in results):
            raise KoubeiError("every demo source failed; see the table above")
        return
    typer.echo("serving; Ctrl-C stops")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()
