"""Every command and every source is documented in the README (sqlite-utils' test_docs)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
import typer.main

from collectors.base import registry
from koubei.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "koubei") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix} {name}", command))
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix} {name}")
    return found


COMMANDS = _commands(typer.main.get_command(app))  # type: ignore[arg-type]


def test_the_readme_opens_with_the_two_commands() -> None:
    opening = README[:600]
    assert "make run" in opening and "make test" in opening


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_is_in_the_readme_and_has_help(name: str, command: click.Command) -> None:
    assert f"`{name}" in README, f"{name} is not documented in README.md"
    assert (command.help or command.short_help or "").strip(), f"{name} has no help text"


@pytest.mark.parametrize("source", sorted(set(registry()) - {"file"}))
def test_every_source_is_in_the_readme(source: str) -> None:
    assert f"`{source}`" in README, f"source {source} is not documented in README.md"
