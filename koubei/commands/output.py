"""What the commands share to print: consoles for tables and status lines, and a time format."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported when a command prints, not when the CLI starts
    from rich.console import Console


def table_console() -> Console:
    """Tables go to stdout; when it is a pipe or file, give them room instead of rich's 80 columns."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=200)


def status_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def fmt_time(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else ("-" if value is None else str(value))
