"""Every source documents itself in its module, and README.md documents every collector command
(sqlite-utils' test_docs). The list of sources is the registry's, never one written here."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from collectors.base import registry
from collectors.paging import HttpCollector

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
HTTP_SOURCES = {kind: cls for kind, cls in registry().items() if issubclass(cls, HttpCollector)}
# What a user needs to know before configuring a source, one "Field:" line each in its module's docstring.
FIELDS = ("URL", "Targets", "Needs", "Paging", "Times", "Ids", "Text")


@pytest.mark.parametrize("kind", sorted(HTTP_SOURCES))
def test_every_source_module_documents_url_targets_times_ids_and_text(kind: str) -> None:
    cls = HTTP_SOURCES[kind]
    doc = getattr(inspect.getmodule(cls), "__doc__", None) or ""
    fields = {m.group(1): m.group(2) for m in re.finditer(r"^(\w+): (.+)$", doc, re.MULTILINE)}
    missing = [name for name in FIELDS if name not in fields]
    assert not missing, f"{kind}: its module docstring lacks {', '.join(missing)}"
    assert "http" in fields["URL"] or "any" in fields["URL"], f"{kind}: no URL pattern documented"
    assert f"`{cls.target_key}`" in fields["Targets"], f"{kind}: its targets key {cls.target_key} is not documented"


def test_every_collector_command_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for command in COMMANDS:
        assert command in text, command
