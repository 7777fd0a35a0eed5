"""Usage errors through the real console script: one line on stderr, exit 2, no traceback.

Regression: typer raises usage errors from its bundled click, which are not
`click.ClickException`s, so `koubei bogus` printed a ~49-line traceback and exited 1.
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import typer

from koubei.cli import app

KOUBEI = str(Path(sys.executable).with_name("koubei"))


def command_paths() -> list[list[str]]:
    """Every leaf command of the CLI, as the words that name it."""
    found: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        children = getattr(command, "commands", None)
        if children:
            for name, child in children.items():
                walk(child, [*path, name])
        else:
            found.append(path)

    walk(typer.main.get_command(app), [])
    return found


def koubei(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KOUBEI, *args], capture_output=True, text=True, timeout=60)


def assert_usage_error(result: subprocess.CompletedProcess[str], expected: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_every_command_rejects_an_unknown_option_in_one_line() -> None:
    paths = command_paths()
    assert len(paths) >= 20  # the walk found the whole CLI, not just the top level
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda path: koubei(*path, "--no-such-option"), paths))
    for path, result in zip(paths, results):
        assert_usage_error(result, "No such option: --no-such-option")
        assert f"koubei {' '.join(path)} --help" in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["bogus"], "No such command 'bogus'"),
        (["import", "good.csv"], "Missing option '--source'"),
        (["backtest", "--rule", "volume-spike", "--since", "yesterday"], "'yesterday' is not a date"),
        (["incidents", "ack"], "Missing argument"),
        (["incidents", "list", "--status", "opne"], "'opne' is not one of open, acknowledged, resolved"),
    ],
)
def test_issue_examples_are_one_line_exit_2(args: list[str], expected: str) -> None:
    assert_usage_error(koubei(*args), expected)


def test_bare_group_prints_its_help() -> None:
    result = koubei("eval")
    assert result.returncode == 2
    assert "sentiment" in result.stdout + result.stderr and "Traceback" not in result.stderr
