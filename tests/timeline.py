"""Where a test run's wall went, from the lines KOUBEI_TEST_TIMELINE=folder made each worker
write (tests/conftest.py): each worker's busy time, its idle gaps, when it finished, the
modules in the order it ran them, and the setups paid most.

    KOUBEI_TEST_TIMELINE=/tmp/tl .venv/bin/python -m pytest -n 2 --dist loadgroup
    .venv/bin/python -m tests.timeline /tmp/tl
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Phase:
    worker: str
    nodeid: str
    when: str  # setup, call, teardown (or sessionstart / sessionfinish)
    start: float
    stop: float
    cpu: float | None  # this worker's CPU seconds (children that ended included) when the phase ended

    @property
    def seconds(self) -> float:
        return self.stop - self.start

    @property
    def module(self) -> str:
        return self.nodeid.split("::")[0]


def read_phases(folder: Path) -> list[Phase]:
    phases = []
    for log in sorted(folder.glob("*.jsonl")):
        for line in log.read_text().splitlines():
            row = json.loads(line)
            phases.append(Phase(row["worker"], row["nodeid"], row["when"], row["start"], row["stop"], row.get("cpu")))
    return sorted(phases, key=lambda p: p.start)


def module_runs(phases: list[Phase]) -> list[tuple[str, float, float, float]]:
    """(module, first start, last stop, busy seconds) for each stretch one worker spent in one module."""
    runs: list[tuple[str, float, float, float]] = []
    for phase in phases:
        if runs and runs[-1][0] == phase.module:
            module, first, _, busy = runs[-1]
            runs[-1] = (module, first, phase.stop, busy + phase.seconds)
        else:
            runs.append((phase.module, phase.start, phase.stop, phase.seconds))
    return runs


def waits(tests: list[Phase]) -> dict[str, tuple[float, float]]:
    """Each test's (wall, CPU) seconds, its phases summed: a phase's CPU is its worker's count at
    its end less the count at the end of that worker's phase before."""
    spent: dict[str, tuple[float, float]] = {}
    last: dict[str, float] = {}
    for p in tests:
        if p.cpu is None:
            return {}
        wall, cpu = spent.get(p.nodeid, (0.0, 0.0))
        spent[p.nodeid] = (wall + p.seconds, cpu + p.cpu - last.get(p.worker, p.cpu))
        last[p.worker] = p.cpu
    return spent


def report(phases: list[Phase], gap: float, top: int) -> str:
    tests = [p for p in phases if p.when in ("setup", "call", "teardown")]
    sessions = [p for p in phases if p.worker == "master" and p.when.startswith("session")]
    zero = min(p.start for p in sessions or phases)
    end = max(p.stop for p in sessions or phases)
    lines = [f"wall {end - zero:.0f} s (controller's session start to finish)"]
    by_worker: dict[str, list[Phase]] = defaultdict(list)
    for p in tests:
        by_worker[p.worker].append(p)
    for worker, own in sorted(by_worker.items()):
        busy = sum(p.seconds for p in own)
        if own[-1].cpu is not None:
            lines.append(f"{worker}: {own[-1].cpu:.0f} CPU seconds (its tests' own and their children's)")
        first, last = own[0].start - zero, own[-1].stop - zero
        gaps = [(b.start - a.stop, a, b) for a, b in zip(own, own[1:], strict=False) if b.start - a.stop > gap]
        idle = sum(g for g, _, _ in gaps)
        lines.append(
            f"{worker}: first test at {first:.0f} s, last ends at {last:.0f} s, busy {busy:.0f} s,"
            f" {len(gaps)} gaps over {gap:g} s totalling {idle:.0f} s, {len({p.nodeid for p in own})} tests"
        )
        for module, start, stop, seconds in module_runs(own):
            if seconds >= 10:
                lines.append(f"    {start - zero:6.0f}-{stop - zero:6.0f} s  {seconds:6.1f} s busy  {module}")
    setups: dict[str, float] = defaultdict(float)
    for p in tests:
        if p.when != "call":
            setups[f"{p.when:8s} {p.module}"] += p.seconds
    lines.append("setup and teardown seconds by module (fixtures paid there):")
    for name, seconds in sorted(setups.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"    {seconds:6.1f}  {name}")
    waiting = waits(tests)
    if waiting:
        lines.append("tests that wait most (wall minus CPU seconds of setup, call and teardown):")
        for nodeid, (wall, cpu) in sorted(waiting.items(), key=lambda kv: kv[1][1] - kv[1][0])[:top]:
            lines.append(f"    {wall - cpu:6.1f} s waiting of {wall:6.1f} s  {nodeid}")
    lines.append("slowest phases:")
    for p in sorted(tests, key=lambda p: -p.seconds)[:top]:
        lines.append(f"    {p.seconds:6.1f}  {p.worker} {p.when:8s} at {p.start - zero:5.0f} s  {p.nodeid}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--gap", type=float, default=2.0, help="idle stretches longer than this are counted")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(report(read_phases(args.folder), args.gap, args.top))


if __name__ == "__main__":
    main()
