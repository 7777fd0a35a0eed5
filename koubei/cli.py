"""The `koubei` command line. Each package adds its own commands via `register`.

Exit codes: 0 success; 1 the work failed (a message says what and where);
2 wrong usage or configuration.
"""

from __future__ import annotations

from pathlib import Path

import typer

from koubei.context import AppContext
from koubei.errors import ConfigError, KoubeiError

app = typer.Typer(help="koubei: collect, score and watch what people say about a brand.", no_args_is_help=True)
eval_app = typer.Typer(help="Measure sentiment models and spike detectors.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


@app.callback()
def main(
    ctx: typer.Context,
    db: Path | None = typer.Option(None, "--db", envvar="KOUBEI_DB", help="DuckDB file (default data/koubei.duckdb)."),
    config: Path | None = typer.Option(None, "--config", envvar="KOUBEI_CONFIG", help="koubei.toml to use."),
) -> None:
    ctx.obj = AppContext(config_path=config, db=db)


def _register_all() -> None:
    from alerts import cli as alerts_cli
    from collectors import cli as collectors_cli
    from dashboard import cli as dashboard_cli
    from koubei import pipeline
    from sentiment import cli as sentiment_cli

    collectors_cli.register(app)
    sentiment_cli.register(app, eval_app)
    alerts_cli.register(app, eval_app)
    dashboard_cli.register(app)
    pipeline.register(app)


_register_all()


def run() -> None:
    """Console-script entry: KoubeiErrors become one clear line and an exit code."""
    try:
        # In standalone_mode=False click returns a command's exit code instead of exiting.
        code = app(standalone_mode=False)
    except ConfigError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise SystemExit(2) from None
    except KoubeiError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise SystemExit(1) from None
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        raise SystemExit(1) from None
    except Exception as exc:  # click's usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            raise SystemExit(exc.exit_code) from None
        raise
    raise SystemExit(code if isinstance(code, int) else 0)
