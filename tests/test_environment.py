"""The test run's own environment (tests/__init__.py): what every test and started process inherits."""

from __future__ import annotations

import os
import subprocess
import sys


def test_openblas_threads_spin_briefly_here_and_in_started_processes() -> None:
    """OpenBLAS reads OPENBLAS_THREAD_TIMEOUT once, when numpy loads it: tests/__init__.py sets it
    before any test module imports numpy, and the processes tests start (koubei train, score,
    the dashboard) inherit it. Without it the spinning threads cost most of a training test's CPU."""
    ours = os.environ.get("OPENBLAS_THREAD_TIMEOUT")
    assert ours  # "4" unless the run was started with another value
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert child.stdout.strip() == ours
