"""Run every benchmark module in turn and print its figures."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import benchmarks


def main(argv: list[str]) -> int:
    wanted = set(argv)
    failed = 0
    for module in sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__)):
        if not module.startswith("bench_") or (wanted and module.removeprefix("bench_") not in wanted):
            continue
        print(f"\n=== {module} ===", flush=True)
        started = time.perf_counter()
        try:
            importlib.import_module(f"benchmarks.{module}").main()
        except AssertionError as exc:  # a benchmark whose target was missed
            failed += 1
            print(f"TARGET MISSED: {exc}", flush=True)
        print(f"({module}: {time.perf_counter() - started:.1f}s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
