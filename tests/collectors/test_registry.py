"""The registry is every module in collectors/sources/, and the collect path leaves the demo code alone."""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import collectors.sources
from collectors.base import Collector, Page, registry
from collectors.paging import HttpCollector


def test_the_registry_is_every_source_module() -> None:
    modules = {path.stem for path in Path(collectors.sources.__file__).parent.glob("*.py")} - {"__init__"}
    defined_in = {getattr(inspect.getmodule(cls), "__name__", "").rsplit(".", 1)[-1] for cls in registry().values()}
    assert defined_in == modules
    assert {kind for kind, cls in registry().items() if issubclass(cls, HttpCollector)} >= {
        "appstore",
        "bilibili",
        "douban",
        "feed",
        "hackernews",
        "html",
        "jd",
        "reddit",
        "weibo",
    }


def test_only_sources_are_registered() -> None:
    """A Collector subclassed elsewhere (a test's, the benchmark's) is no source kind, name or not."""

    class Stray(Collector[Any]):
        name = "stray"

        def pages(self) -> Iterator[Page]:
            yield Page([])

    assert "stray" not in registry() and Stray.name == "stray"


def test_collecting_imports_no_demo_code() -> None:
    """The demo stream, corpus and server load only when the demo source or server runs."""
    script = (
        "import sys\n"
        "from collectors.base import registry\n"
        "from collectors.options import parse_source\n"
        "from collectors.runner import configured_sources, collect\n"
        "jd = registry()['jd'](parse_source('jd', {'skus': ['1']}))\n"
        "demo = registry()['demo'](parse_source('demo', {}))\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('collectors.demo'))\n"
        "assert not loaded, loaded\n"
        "next(demo.pages())\n"
        "assert 'collectors.demo.stream' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
