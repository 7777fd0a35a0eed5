"""`koubei collect`, `koubei import`, `koubei parse`, `koubei sources`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
