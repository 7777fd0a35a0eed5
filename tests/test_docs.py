"""The docs: every command and option is in docs/cli.md (sqlite-utils' test_docs), every command's --help
shows its help text as written, README.md stays a front door, and every relative link resolves.

The list of commands is the CLI's own, walked here; the list of sources is never written here (a new
source documents itself in its module: tests/collectors/test_docs.py).
"""

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

from koubei.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
KOUBEI = str(Path(sys.executable).with_name("koubei"))
ROOT_COMMAND = typer.main.get_command(app)


def _commands(group: Any, prefix: str = "koubei") -> list[tuple[str, Any]]:
    """Every command and group below `group`. typer's commands are its bundled click's
    classes, not click's, so a group is recognised by having sub-commands."""
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix} {name}", command))
        if getattr(command, "commands", None):
            found += _commands(command, f"{prefix} {name}")
    return found


COMMANDS = _commands(ROOT_COMMAND)


def _without_fences(text: str) -> str:
    """The text without fenced code blocks (a `# comment` in one is no heading)."""
    return re.sub(r"^ *```.*?^ *```", "", text, flags=re.MULTILINE | re.DOTALL)


def _outside_code(text: str) -> str:
    """The text without code blocks and inline code spans: neither holds links."""
    return re.sub(r"`[^`\n]*`", "", _without_fences(text))


def _sections(text: str) -> dict[str, str]:
    """Each heading's text (as written) and what follows it up to the next heading."""
    parts = re.split(r"^#{1,6} (.+)$", _without_fences(text), flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def _anchors(text: str) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces as hyphens,
    a repeated heading numbered."""
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", _without_fences(text), flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchor, n = slug, 0
        while anchor in anchors:
            n += 1
            anchor = f"{slug}-{n}"
        anchors.add(anchor)
    return anchors


def _links(page: Path) -> list[str]:
    targets = re.findall(r"\]\(([^)\s]+)\)", _outside_code(page.read_text(encoding="utf-8")))
    return [t for t in targets if not re.match(r"[a-z]+:", t)]  # http:, https:, mailto: are not checked here


CLI_DOC = (DOCS / "cli.md").read_text(encoding="utf-8")
CLI_SECTIONS = _sections(CLI_DOC)


def test_the_readme_opens_with_the_two_commands() -> None:
    opening = README.read_text(encoding="utf-8")[:600]
    assert "make run" in opening and "make test" in opening


def test_the_readme_links_every_docs_page() -> None:
    """README is the front door: every page of docs/ is reachable from it."""
    linked = {(README.parent / link.split("#")[0]).resolve() for link in _links(README)}
    unlinked = [page.name for page in sorted(DOCS.glob("*.md")) if page.resolve() not in linked]
    assert not unlinked, f"README.md does not link {unlinked}"


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for link in _links(page):
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            broken.append(f"{link}: no such file")
        elif anchor and target.suffix == ".md" and anchor not in _anchors(target.read_text(encoding="utf-8")):
            broken.append(f"{link}: no heading with that anchor in {target.name}")
    assert not broken, f"{page.name}: {broken}"


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_is_in_the_cli_docs_and_has_help(name: str, command: Any) -> None:
    """Regression: groups were walked with click's class, which typer's commands are not,
    so sub-commands (`koubei incidents show`, `koubei eval sentiment`) went unchecked."""
    assert f"`{name}`" in CLI_SECTIONS, f"docs/cli.md has no section headed `{name}`"
    assert (command.help or command.short_help or "").strip(), f"{name} has no help text"


def _option_names(command: Any) -> list[str]:
    names = [opt for param in command.params for opt in [*param.opts, *param.secondary_opts] if opt.startswith("--")]
    return [name for name in names if name != "--help"]


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_option_is_in_its_commands_section(name: str, command: Any) -> None:
    section = CLI_SECTIONS.get(f"`{name}`", "")
    missing = [option for option in _option_names(command) if not re.search(rf"`{option}\b", section)]
    assert not missing, f"docs/cli.md, `{name}`: {missing} not documented"


def test_the_global_options_are_in_the_cli_docs() -> None:
    section = CLI_SECTIONS["Global options and exit codes"]
    options = _option_names(ROOT_COMMAND)
    assert {"--db", "--config"} <= set(options)  # the check is not vacuous
    missing = [option for option in options if f"`{option}" not in section]
    assert not missing, missing


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
    commands = [("koubei", ROOT_COMMAND), *COMMANDS]
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
