"""The `koubei rollups` group: the counts kept at write time (storage/rollups.py)."""

from __future__ import annotations

import time

import typer

app = typer.Typer(
    name="rollups", help="The counts the overview and detection read, kept at write time.", no_args_is_help=True
)


@app.command("rebuild")
def rebuild_command(ctx: typer.Context) -> None:
    """Recompute the rollups from the stored mentions, scores, aspects, triage and flags."""
    from storage.rollups import rebuild

    started = time.perf_counter()
    with ctx.obj.open_store() as store:
        mentions, aspects = rebuild(store)
    typer.echo(
        f"rollups rebuilt: {mentions} mention rows, {aspects} aspect rows in {time.perf_counter() - started:.1f}s"
    )
