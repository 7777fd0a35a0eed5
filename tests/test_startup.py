"""The CLI starts fast because heavy modules are imported where they are used (issue 11, part 12).

Structural, not timed: which modules a start-up loads, read from the real processes. The
figures themselves (`koubei --help` seconds, `koubei score` against plain snownlp) are in
benchmarks/bench_cli.py.
"""

from __future__ import annotations

import ast
import csv
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KOUBEI = str(Path(sys.executable).with_name("koubei"))
# Each costs tens to thousands of milliseconds to import; none is needed to parse a command line.
HEAVY = (
    "duckdb",
    "pandas",
    "pyarrow",
    "numpy",
    "sklearn",
    "jieba",
    "snownlp",
    "streamlit",
    "plotly",
    "rich",
    "requests",
    "lxml",
)
# `koubei score --input` needs the default model and the aspect tagger, none of these.
NOT_FOR_SCORING_A_FILE = (
    "duckdb",
    "storage",
    "collectors",
    "dashboard",
    "evaluation",
    "streamlit",
    "plotly",
    "sklearn",
    "jieba",
    "snownlp",
    "requests",
    "lxml",
)
# What a command module may import when the CLI starts; the rest is imported inside the command.
LIGHT_KOUBEI = ("koubei.errors", "koubei.context", "koubei.config", "koubei.privacy", "koubei.commands")


def _loaded(names: list[str], roots: tuple[str, ...]) -> list[str]:
    return sorted({name for name in names if name.split(".")[0] in roots})


def _imported_modules(importtime_log: str) -> list[str]:
    """The modules a process imported, from its `-X importtime` report on stderr."""
    return re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s+(\S+)$", importtime_log, flags=re.MULTILINE)


def test_importing_the_cli_loads_no_heavy_module() -> None:
    code = "import sys, koubei.cli; print('\\n'.join(sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    modules = result.stdout.split()
    assert "koubei.cli" in modules
    assert _loaded(modules, HEAVY) == []


def test_koubei_help_loads_no_heavy_module() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", KOUBEI, "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    modules = _imported_modules(result.stderr)
    assert "koubei.cli" in modules and "typer" in modules  # the report was read: the check is not vacuous
    assert _loaded(modules, HEAVY) == []


def test_scoring_a_file_loads_neither_the_store_nor_the_dashboard_nor_alerts(tmp_path: Path) -> None:
    """`koubei score --input` scores a CSV: no database, collectors, alerting, dashboard or other models.
    Regression: every command's module was imported at start, so this loaded alerts/, collectors/,
    dashboard/ and rich's tables too."""
    reviews = tmp_path / "reviews.csv"
    with reviews.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([("id", "text"), ("1", "物流很快，质量不错"), ("2", "客服态度很差，退货也不给退")])
    result = subprocess.run(
        [sys.executable, "-X", "importtime", KOUBEI, "score", "--input", str(reviews), "--output", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    modules = _imported_modules(result.stderr)
    assert "sentiment.batch" in modules
    # Reading koubei.toml loads its model (koubei/settings/), not the alerting code it configures.
    assert [m for m in modules if m.split(".")[0] == "alerts"] == []
    assert _loaded(modules, NOT_FOR_SCORING_A_FILE) == []


def _top_level_imports(path: Path) -> list[str]:
    """Modules a file imports when it is imported: at module level, outside `if TYPE_CHECKING:`."""
    found: list[str] = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module != "__future__":
            found.append(node.module)
    return found


def test_command_modules_import_only_typer_the_standard_library_and_light_koubei_modules() -> None:
    paths = [REPO / "koubei" / "cli.py", *sorted((REPO / "koubei" / "commands").glob("*.py"))]
    assert len(paths) >= 7  # cli.py and the command modules were found
    heavy = [
        f"{path.relative_to(REPO)}: {module}"
        for path in paths
        for module in _top_level_imports(path)
        if module.split(".")[0] not in sys.stdlib_module_names
        and module.split(".")[0] != "typer"
        and not any(module == light or module.startswith(light + ".") for light in LIGHT_KOUBEI)
    ]
    assert heavy == []
