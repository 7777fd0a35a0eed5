"""`koubei config check`: whether a koubei.toml is valid; `koubei config show`: the settings in force and where
each came from (the file, the settings saved in the database, or the defaults)."""

from __future__ import annotations

from pathlib import Path

import typer

from koubei.context import AppContext

app = typer.Typer(
    name="config",
    help="Check koubei.toml and show the settings in force (the file with the saved settings over it).",
    no_args_is_help=True,
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


@app.command("show")
def show_command(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="One JSON object a line: key, value, origin."),
) -> None:
    """Print the settings in force, one key a line, each with where it came from: file (koubei.toml),
    database (saved in the dashboard's Settings page, which overrides the file) or default."""
    import json

    from alerts.config import load_alert_settings, rule_tables
    from koubei.settings.effective import read_layers
    from koubei.settings.saved import origins, path_text
    from koubei.settings.toml import toml_value

    app_ctx: AppContext = ctx.obj
    layers = read_layers(app_ctx.config_path, app_ctx.db)
    effective = layers.settings.effective()
    effective["alerts"].update(rule_tables(load_alert_settings(layers.settings)))
    saved = {path: s.value for path, s in layers.saved.items()}
    for key, value, origin in origins(effective, layers.raw, saved):
        if as_json:
            typer.echo(json.dumps({"key": key, "value": value, "origin": origin}, ensure_ascii=False))
        else:
            typer.echo(f"{key} = {toml_value(value)}  # {origin}")
    file = layers.settings.path or "no koubei.toml found, the defaults"
    typer.echo(f"file: {file}; database: {layers.settings.location}", err=True)  # a lake: never its password
    for path, setting in layers.saved.items():
        typer.echo(
            f"saved: {path_text(path)} by {setting.changed_by} at {setting.changed_at:%Y-%m-%d %H:%M} UTC", err=True
        )
