"""`koubei run`, `koubei seed`, `koubei watch`: the whole loop, once, from demo data, or on each interval
(the loop itself is koubei/pipeline.py and koubei/watch.py)."""

from __future__ import annotations

import typer

app = typer.Typer()


@app.command("run")
def run_command(
    ctx: typer.Context,
    sources: list[str] = typer.Argument(None, help="Sources to collect (default: every enabled one)."),
    no_alerts: bool = typer.Option(False, "--no-alerts", help="Detect but do not send notifications."),
    verbose: bool = typer.Option(False, "--verbose", help="Also print the seconds each stage of the pass took."),
) -> None:
    """Collect, score, detect and alert once."""
    from koubei.pipeline import run_once

    summary = run_once(ctx.obj, sources or None, deliver=not no_alerts)
    typer.echo(summary.line())
    if verbose:
        typer.echo(f"stages: {summary.timings_line()}")
    if summary.collected and len(summary.failed_sources) == len(summary.collected):
        raise typer.Exit(1)


@app.command("seed")
def seed_command(ctx: typer.Context) -> None:
    """Fill an empty database from the demo source, then score and detect (what `make run` does)."""
    from koubei.pipeline import seed

    summary = seed(ctx.obj)
    typer.echo(summary.line() if summary.collected else "database not empty: kept it; " + summary.line())


@app.command("watch")
def watch_command(
    ctx: typer.Context,
    max_passes: int | None = typer.Option(
        None, "--max-passes", help="Stop after this many passes (default: run until SIGTERM)."
    ),
) -> None:
    """Run collect -> score -> detect -> alert on each source's interval until SIGTERM."""
    from koubei.watch import watch

    state = watch(ctx.obj, max_passes=max_passes, log=lambda line: typer.echo(line, err=True))
    typer.echo(f"{state.passes} passes, {len(state.errors)} failed")
