"""`koubei config check`: whether a koubei.toml is valid, and the settings koubei reads from it."""

from __future__ import annotations

from pathlib import Path

import typer

from koubei.context import AppContext

app = typer.Typer(
    name="config", help="Check koubei.toml and show the settings koubei reads from it.", no_args_is_help=True
)


@app.command("check")
def check_command(
    ctx: typer.Context,
    file: Path | None = typer.Argument(
        None, help="The file to check (default: the one koubei reads: --config, $KOUBEI_CONFIG, ./koubei.toml, ...)."
    ),
) -> None:
    """Validate a koubei.toml and print its effective settings as TOML: every table with its defaults filled in
    and the built-in alert rules resolved. Secrets show only as the name of their environment variable."""
    from alerts.config import load_alert_settings, rule_tables
    from koubei.config import find_config, load_settings
    from koubei.settings.toml import to_toml

    app_ctx: AppContext = ctx.obj
    path = find_config(file or app_ctx.config_path)
    settings = load_settings(path, app_ctx.db)
    effective = settings.effective()
    effective["alerts"].update(rule_tables(load_alert_settings(settings)))
    typer.echo(to_toml(effective), nl=False)
    typer.echo(f"{path or 'no koubei.toml found, the defaults'}: valid", err=True)
