"""`koubei migrate --to ducklake`: copy the single-file database into the lake that [storage]
describes, verified per table (docs/operations.md)."""

from __future__ import annotations

from typing import Literal

import typer

app = typer.Typer()


@app.command("migrate")
def migrate_command(
    ctx: typer.Context,
    to: Literal["ducklake"] = typer.Option(..., "--to", help="Where to copy the database: ducklake."),
) -> None:
    """Copy the DuckDB file (--db, $KOUBEI_DB or [storage] db) into the lake of [storage] (catalog_env, data_path), checked by row counts and content hashes."""
    from storage.lake_copy import copy_to_lake

    settings = ctx.obj.settings
    copied = copy_to_lake(settings.db_path, settings.lake)
    for table in copied:
        typer.echo(f"{table.table}: {table.rows} rows, content hash {table.content_hash:x}: same in the lake")
    typer.echo(
        f'copied {len(copied)} tables from {settings.db_path} to {settings.lake}; now set [storage] backend = "{to}"'
    )
