"""README.md documents every source kind and every collector command (sqlite-utils' test_docs)."""

from __future__ import annotations

from pathlib import Path

from collectors.base import registry

DOC = Path(__file__).resolve().parents[2] / "README.md"
COMMANDS = [
    "koubei collect",
    "koubei import",
    "koubei parse",
    "koubei parse --list",
    "koubei sources",
    "koubei demo-sources",
    "make demo-sources",
]


def test_every_source_kind_is_documented_with_its_url_pattern() -> None:
    text = DOC.read_text(encoding="utf-8")
    kinds = sorted(name for name, cls in registry().items() if getattr(cls, "target_key", ""))
    assert kinds == ["appstore", "bilibili", "douban", "feed", "hackernews", "html", "jd", "reddit", "weibo"]
    rows = {line.split("|")[1].strip().strip("`"): line for line in text.splitlines() if line.startswith("| `")}
    for kind in kinds:
        assert kind in rows, f"{kind} has no row in README.md"
        assert "http" in rows[kind] or kind == "html", f"{kind}: no URL pattern documented"
        target_key = registry()[kind].target_key  # type: ignore[attr-defined]
        assert f"`{target_key}`" in rows[kind], f"{kind}: its targets key {target_key} is not documented"


def test_every_collector_command_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for command in COMMANDS:
        assert command in text, command
