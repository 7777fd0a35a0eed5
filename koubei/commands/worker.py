"""`koubei worker`: collect and score alongside other workers, on one machine or many, against
the lake of `[storage] backend = "ducklake"` (docs/operations.md).

Before a source runs, the worker claims it for the source's interval, so no two workers fetch
it in one interval; a worker that dies holds it only until then. The score queue is split
into buckets by key hash; a worker claims one bucket at a time for `--lease` seconds, scores
it and gives it back, so no two workers score the same mentions, and a dead worker's bucket
is taken over when its lease runs out. Nothing leaves the score queue without its scores, so
a worker killed mid-batch loses nothing. On the single file every claim is granted: one
worker does everything.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from datetime import timedelta

import typer

from koubei.context import AppContext

app = typer.Typer()


@dataclass
class WorkDone:
    collected: list[str] = field(default_factory=list)
    scored: int = 0
    conflicts: int = 0  # units of work another worker's write got in the way of: done again later

    def line(self) -> str:
        return f"collected {', '.join(self.collected) or 'nothing'}; scored {self.scored}" + (
            f"; {self.conflicts} write conflicts (redone later)" if self.conflicts else ""
        )


def collect_due(ctx: AppContext, holder: str, done: WorkDone) -> None:
    """Run each enabled source this worker can claim for its interval."""
    from collectors.runner import collect
    from koubei.watch import source_intervals
    from storage.work import claim

    for name, seconds in source_intervals(ctx).items():
        if ctx.stop.is_set():
            return
        with ctx.open_store() as store:
            mine = claim(store, f"collect:{name}", holder, timedelta(seconds=seconds))
        if mine:
            collect(ctx.open_store, ctx.settings, [name], stop=ctx.stop)
            done.collected.append(name)


def score_buckets(ctx: AppContext, holder: str, lease: timedelta, done: WorkDone) -> None:
    """Score each bucket of the score queue this worker can claim."""
    from sentiment.pipeline import score_pending
    from storage import WriteConflict
    from storage.work import SCORE_BUCKETS, claim, release

    for k in range(SCORE_BUCKETS):
        if ctx.stop.is_set():
            return
        name = f"score:{k}"
        with ctx.open_store() as store:
            if not claim(store, name, holder, lease):
                continue
            try:
                summary = score_pending(ctx.open_store, ctx.settings, bucket=(k, SCORE_BUCKETS), workers=1)
                done.scored += summary.scored
            except WriteConflict:
                done.conflicts += 1
            finally:
                release(store, name, holder)


@app.command("worker")
def worker_command(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="One round of collecting and scoring, then exit."),
    poll: float = typer.Option(5.0, "--poll", min=0.1, help="Seconds between rounds."),
    lease: float = typer.Option(600.0, "--lease", min=1, help="Seconds a claimed bucket of the score queue is held."),
) -> None:
    """Collect and score with other workers against the shared lake (each source and each bucket of the score queue claimed first)."""
    app_ctx: AppContext = ctx.obj
    holder = f"{socket.gethostname()}:{os.getpid()}"
    while True:
        done = WorkDone()
        collect_due(app_ctx, holder, done)
        score_buckets(app_ctx, holder, timedelta(seconds=lease), done)
        typer.echo(f"worker {holder}: {done.line()}")
        if once or app_ctx.stop.is_set():
            return
        time.sleep(poll)
