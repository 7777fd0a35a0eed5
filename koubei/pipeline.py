"""`koubei run`: collect, score, detect once."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
