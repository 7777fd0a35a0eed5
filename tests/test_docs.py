"""Every command and every source is documented in the README (sqlite-utils' test_docs),
and every command's --help shows its help text as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import typer.main

from collectors.base import registry
from koubei.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
KOUBEI = str(Path(sys.executable).with_name("koubei"))


def _commands(group: Any, prefix: str = "koubei") -> list[tuple[str, Any]]:
    """Every command and group below `group`. typer's commands are its bundled click's
    classes, not click's, so a group is recognised by having sub-commands."""
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix} {name}", command))
        if getattr(command, "commands", None):
            found += _commands(command, f"{prefix} {name}")
    return found


COMMANDS = _commands(typer.main.get_command(app))


def test_the_readme_opens_with_the_two_commands() -> None:
    opening = README[:600]
    assert "make run" in opening and "make test" in opening


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_is_in_the_readme_and_has_help(name: str, command: Any) -> None:
    """Regression: groups were walked with click's class, which typer's commands are not,
    so sub-commands (`koubei incidents show`, `koubei eval sentiment`) went unchecked."""
    assert f"`{name}" in README, f"{name} is not documented in README.md"
    assert (command.help or command.short_help or "").strip(), f"{name} has no help text"


@pytest.mark.parametrize("source", sorted(set(registry()) - {"file"}))
def test_every_source_is_in_the_readme(source: str) -> None:
    assert f"`{source}`" in README, f"source {source} is not documented in README.md"


def _help_texts(command: Any) -> list[str]:
    """The help a command was written with: its own and each option's and argument's."""
    texts = [command.help or ""] + [getattr(param, "help", None) or "" for param in command.params]
    return [text for text in texts if text.strip()]


def _squeezed(text: str) -> str:
    # Help formatters rewrap lines (and may break after a hyphen) and may draw boxes: compare without either.
    return re.sub(r"[\s│─╭╮╰╯]+", "", text)


def _help_output(name: str) -> str:
    env = {**os.environ, "COLUMNS": "100"}
    result = subprocess.run([KOUBEI, *name.split()[1:], "--help"], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, (name, result.stderr)
    return result.stdout


def test_every_commands_help_shows_its_bracketed_text() -> None:
    """Regression: rich read "[sentiment]" in `koubei score --help` as markup and showed
    "(default:  model)"; every help text is shown as written, brackets included."""
    commands = [("koubei", typer.main.get_command(app)), *COMMANDS]
    bracketed = [(name, text) for name, command in commands for text in _help_texts(command) if "[" in text]
    assert len(bracketed) >= 2  # `score --model` and `backtest --rule` at least: the check is not vacuous
    with ThreadPoolExecutor(4) as pool:
        outputs = dict(zip([n for n, _ in commands], pool.map(_help_output, [n for n, _ in commands])))
    missing = [
        (name, text)
        for name, command in commands
        for text in _help_texts(command)
        if _squeezed(text) not in _squeezed(outputs[name])
    ]
    assert not missing, missing
