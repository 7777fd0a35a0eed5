"""Where things live: alerts only detect, keep incidents and deliver; the shell drives the loop;
evaluation code stays out of what the product imports at run time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The shell's loop and the steps it drives: alerts is driven by them, never drives them.
NOT_FROM_ALERTS = ("koubei.pipeline", "koubei.watch", "collectors", "sentiment.pipeline")


def _imports(path: Path) -> list[str]:
    """Every module a file imports, at the top or inside a function."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
    return found


def test_alerts_does_not_import_the_loop_that_drives_it() -> None:
    offending = [
        f"{path.relative_to(REPO)}: {module}"
        for path in sorted((REPO / "alerts").glob("*.py"))
        for module in _imports(path)
        if any(module == name or module.startswith(name + ".") for name in NOT_FROM_ALERTS)
    ]
    assert offending == []


def test_running_the_product_imports_no_evaluation_code() -> None:
    """The watch loop, one pass, detection, delivery, backtests and the CLI's start load nothing
    from evaluation/ (`koubei eval spikes` imports it when it runs)."""
    code = (
        "import sys, koubei.cli, koubei.watch, koubei.pipeline, alerts.detect, alerts.delivery, alerts.backtest;"
        "print(sorted(m for m in sys.modules if m == 'evaluation' or m.startswith('evaluation.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "[]"
