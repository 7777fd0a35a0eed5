"""The `koubei lake` group: keeping a DuckLake healthy (storage/lake_maintenance.py,
docs/operations.md)."""

from __future__ import annotations

import time
from datetime import timedelta

import typer

app = typer.Typer(
    name="lake", help="Keep the lake of [storage] healthy: compact it, check its catalog.", no_args_is_help=True
)


@app.command("compact")
def compact_command(
    ctx: typer.Context,
    keep_minutes: int = typer.Option(60, "--keep-minutes", min=0, help="Keep snapshots and replaced files this long."),
) -> None:
    """Rewrite files that lost most rows, merge small files, expire old snapshots and delete the files nobody needs, in the lake's write turn."""
    from storage.lake_maintenance import compact_lake

    started = time.perf_counter()
    with ctx.obj.open_store() as store:
        done = compact_lake(store, keep=timedelta(minutes=keep_minutes))
    typer.echo(f"before: {done.before.line()}")
    typer.echo(f"after:  {done.after.line()}")
    typer.echo(f"compacted {store.path} in {time.perf_counter() - started:.1f}s")


@app.command("check")
def check_command(ctx: typer.Context) -> None:
    """Check the lake's catalog: no data file with two live delete files, count(*) equal to a scan in every table; exit 1 and say how to repair if not."""
    from storage.lake_maintenance import REPAIR, check_lake

    with ctx.obj.open_store(read_only=True) as store:
        problems = check_lake(store)
    if not problems:
        typer.echo(f"{store.path}: the catalog is sound")
        return
    for problem in problems:
        typer.echo(problem, err=True)
    typer.echo(REPAIR, err=True)
    raise typer.Exit(1)
