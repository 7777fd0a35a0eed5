"""`koubei watch`: collect -> score -> detect -> alert, on each source's interval.

Each source has `interval` in its [sources.NAME] table (default 5m, at least 1s). The loop
wakes when the next source is due, runs one pass for the due sources
(koubei.pipeline.run_once, which also detects and delivers), writes a
heartbeat row ("koubei-watch") into source health, and sleeps. SIGTERM and
SIGINT set the context's stop: the step under way ends at its next safe point
(after the page being fetched - a source's wait for a rate limit or Retry-After
ends at once -, the scoring chunk being analysed - that batch is dropped, never
half-written -, the detection rule and scope or the alert being sent), the steps
after it are skipped, and the next start picks up from what is stored: cursors,
unscored mentions, owed duplicate marking, the outbox. Delivery is also retried
between passes, so a channel that comes back is served without waiting for the
slowest source; scheduled reports ([[reports]]) are produced and queued there
when due (reports/schedule.py). Retention ([privacy], koubei/retention.py)
purges at the start and then daily.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType

from koubei.context import AppContext
from koubei.pipeline import PassSummary, run_once
from koubei.redaction import redact
from koubei.retention import PURGE_EVERY
from storage.health import record_heartbeat

HEARTBEAT = "watch"  # source health row koubei-watch
DELIVER_EVERY = 30.0  # seconds between retries of queued alerts while no source is due
RunPass = Callable[[AppContext, list[str]], PassSummary]


@dataclass
class WatchState:
    stop: threading.Event  # the context's: what the steps look at
    passes: int = 0
    errors: list[str] = field(default_factory=list)


def source_intervals(ctx: AppContext) -> dict[str, float]:
    """Seconds between passes of each enabled source."""
    sources = ctx.settings.sources.items()
    return {name: c.options.interval.total_seconds() for name, c in sources if c.options.enabled}


def _redacting(log: Callable[[str], None]) -> Callable[[str], None]:
    """Every line the watch writes goes through redact: any error may name a URL with its key."""
    return lambda line: log(redact(line))


def watch(
    ctx: AppContext,
    run_pass: RunPass = run_once,
    max_passes: int | None = None,
    log: Callable[[str], None] = print,
    install_signals: bool = True,
) -> WatchState:
    """Loop until SIGTERM/SIGINT (or `max_passes`, for tests)."""
    log = _redacting(log)
    state = WatchState(ctx.stop)
    if install_signals:

        def _stop(signum: int, _frame: FrameType | None) -> None:
            log(f"watch: signal {signum}, stopping at the next safe point of the current step")
            state.stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    intervals = source_intervals(ctx)
    if not intervals:
        log("watch: no enabled sources; only delivering queued alerts")
    due = {name: 0.0 for name in intervals}  # monotonic time each source is next due
    last_delivery = time.monotonic() - DELIVER_EVERY  # what the last run left queued goes out at once
    last_purge: float | None = None
    while not state.stop.is_set():
        if last_purge is None or time.monotonic() - last_purge >= PURGE_EVERY:
            _purge(ctx, state, log)
            last_purge = time.monotonic()
        now = time.monotonic()
        ready = sorted(n for n, t in due.items() if t <= now)
        if ready:
            _pass(ctx, run_pass, ready, state, log)
            if ctx.settings.reports and not state.stop.is_set():
                _deliver(ctx, state, log)  # a report that fell due during the pass
            for n in ready:
                due[n] = time.monotonic() + intervals[n]
            last_delivery = time.monotonic()
            _heartbeat(ctx)
            if max_passes is not None and state.passes >= max_passes:
                break
        elif time.monotonic() - last_delivery >= DELIVER_EVERY:
            _deliver(ctx, state, log)
            last_delivery = time.monotonic()
            _heartbeat(ctx)
        wait = min([*due.values(), time.monotonic() + DELIVER_EVERY]) - time.monotonic()
        state.stop.wait(max(0.05, min(wait, 5.0)))
    log(f"watch: stopped after {state.passes} passes")
    return state


def _pass(ctx: AppContext, run_pass: RunPass, ready: list[str], state: WatchState, log: Callable[[str], None]) -> None:
    try:
        ctx.reload_settings()  # what the dashboard saved since the last pass takes effect in this one
        summary = run_pass(ctx, ready)
        log(f"watch: pass {state.passes + 1} ({', '.join(ready)}): {summary.line()} [{summary.timings_line()}]")
    except Exception as exc:  # noqa: BLE001 - one bad pass must not end the watch
        error = redact(f"{type(exc).__name__}: {exc}")  # an error may name a URL with its key
        state.errors.append(error)
        log(f"watch: pass failed: {error}")
    state.passes += 1


def _heartbeat(ctx: AppContext) -> None:
    with ctx.open_store() as store:
        record_heartbeat(store, HEARTBEAT, datetime.now(UTC).replace(tzinfo=None))


def _deliver(ctx: AppContext, state: WatchState, log: Callable[[str], None]) -> None:
    """Queue the scheduled reports that fell due ([[reports]]), then send what the outbox holds."""
    from alerts.delivery import deliver_alerts

    if ctx.settings.reports:
        from reports.schedule import queue_due_reports

        try:
            queue_due_reports(ctx.open_store, ctx.settings, log=log)
        except Exception as exc:  # noqa: BLE001 - a report that cannot be built must not end the watch
            state.errors.append(redact(f"reports: {exc}"))
            log(f"watch: scheduled report failed: {type(exc).__name__}: {exc}")
    try:
        result = deliver_alerts(ctx.open_store, ctx.settings, stop=ctx.stop)
        if result.sent or result.failed or result.dead:
            log(f"watch: {result.line()}")
    except Exception as exc:  # noqa: BLE001 - a delivery failure must not end the watch
        state.errors.append(redact(f"deliver: {exc}"))
        log(f"watch: delivery failed: {exc}")


def _purge(ctx: AppContext, state: WatchState, log: Callable[[str], None]) -> None:
    from koubei.retention import purge

    try:
        erased = purge(ctx)
        if erased is not None and erased.changed:
            log(f"watch: retention erased {erased.mentions} mentions and {erased.raw} raw payloads")
    except Exception as exc:  # noqa: BLE001 - a failed purge is retried tomorrow; it must not end the watch
        state.errors.append(redact(f"retention: {exc}"))
        log(f"watch: retention failed: {exc}")
