"""Every source documents itself in its module, and that is where users are sent for it: a new source
needs no edit of README.md or docs/. The list of sources is the registry's, never one written here."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from collectors.base import registry
from collectors.paging import HttpCollector
from koubei.cli import run

SOURCES_DOC = Path(__file__).resolve().parents[2] / "docs" / "sources.md"
HTTP_SOURCES = {kind: cls for kind, cls in registry().items() if issubclass(cls, HttpCollector)}
# What a user needs to know before configuring a source, one "Field:" line each in its module's docstring.
FIELDS = ("URL", "Targets", "Needs", "Paging", "Times", "Ids", "Text")


def _docstring(kind: str) -> str:
    return (getattr(inspect.getmodule(registry()[kind]), "__doc__", None) or "").strip()


@pytest.mark.parametrize("kind", sorted(HTTP_SOURCES))
def test_every_source_module_documents_url_targets_times_ids_and_text(kind: str) -> None:
    cls = HTTP_SOURCES[kind]
    doc = _docstring(kind)
    fields = {m.group(1): m.group(2) for m in re.finditer(r"^(\w+): (.+)$", doc, re.MULTILINE)}
    missing = [name for name in FIELDS if name not in fields]
    assert not missing, f"{kind}: its module docstring lacks {', '.join(missing)}"
    assert "http" in fields["URL"] or "any" in fields["URL"], f"{kind}: no URL pattern documented"
    assert f"`{cls.target_key}`" in fields["Targets"], f"{kind}: its targets key {cls.target_key} is not documented"


@pytest.mark.parametrize("kind", sorted(registry()))
def test_every_source_module_says_what_it_is_in_its_first_line(kind: str) -> None:
    assert _docstring(kind), f"{kind}: its module has no docstring"


def test_koubei_sources_kinds_lists_every_kind_with_its_modules_first_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one-line list of kinds a user sees is read from the registry and the modules at run time,
    and needs no koubei.toml."""
    monkeypatch.setattr("sys.argv", ["koubei", "--config", "/nonexistent/koubei.toml", "sources", "--kinds"])
    with pytest.raises(SystemExit) as exit_info:
        run()
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    listed = [line.split(maxsplit=1) for line in out.splitlines()]
    assert [kind for kind, _ in listed] == sorted(registry())
    for kind, summary in listed:
        assert summary == _docstring(kind).splitlines()[0], kind


def test_the_sources_page_sends_readers_to_the_modules() -> None:
    text = SOURCES_DOC.read_text(encoding="utf-8")
    assert "`collectors/sources/KIND.py`" in text and "koubei sources --kinds" in text
    for field in FIELDS:
        assert f"`{field}`" in text, f"docs/sources.md does not name the {field} line of a source's docstring"
