"""The `koubei` command line: the root app, its options, and each group of koubei/commands/ mounted on it.

Exit codes: 0 success; 1 the work failed (a message says what and where);
2 wrong usage or configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer
from typer._click.exceptions import NoArgsIsHelpError
from typer.exceptions import TyperException

from koubei.commands import (
    alerts,
    collect,
    config,
    dashboard,
    evaluate,
    lake,
    migrate,
    pipeline,
    privacy,
    reports,
    rollups,
    search,
    sentiment,
    users,
    worker,
)
from koubei.context import AppContext
from koubei.errors import ConfigError, KoubeiError

# Help text is plain text, not rich markup: rich would read "[sentiment]" in "(default: [sentiment] model)" as a
# style tag and drop it. The mode of the root app applies to every command and group under it.
app = typer.Typer(
    help="koubei: collect, score and watch what people say about a brand.", no_args_is_help=True, rich_markup_mode=None
)


@app.callback()
def main(
    ctx: typer.Context,
    db: Path | None = typer.Option(None, "--db", envvar="KOUBEI_DB", help="DuckDB file (default data/koubei.duckdb)."),
    config: Path | None = typer.Option(None, "--config", envvar="KOUBEI_CONFIG", help="koubei.toml to use."),
) -> None:
    ctx.obj = AppContext(config_path=config, db=db)


# A nameless group's commands join the root's; `eval`, `incidents`, `config` and `keys` stay groups. Mounted in
# this order so that `koubei --help` lists the commands as it always has, the groups last.
app.add_typer(collect.app)
app.add_typer(sentiment.app)
app.add_typer(alerts.app)
app.add_typer(dashboard.app)
app.add_typer(pipeline.app)
app.add_typer(reports.app)
app.add_typer(privacy.app)
app.add_typer(evaluate.app)
app.add_typer(search.app)
app.add_typer(alerts.incidents)
app.add_typer(config.app)
app.add_typer(privacy.keys)
app.add_typer(rollups.app)
app.add_typer(worker.app)
app.add_typer(migrate.app)
app.add_typer(lake.app)
app.add_typer(users.app)
app.add_typer(users.audit_app)


def run() -> None:
    """Console-script entry: every failure becomes one clear line and an exit code.

    typer raises usage errors from its bundled click (`typer._click`), whose classes are
    not click's: they share only typer's `TyperException` base, so that is what is caught.
    """
    try:
        # In standalone_mode=False click returns a command's exit code instead of exiting.
        code = app(standalone_mode=False)
    except ConfigError as exc:
        _fail(str(exc), 2)
    except KoubeiError as exc:
        _fail(str(exc), 1)
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        _fail("aborted", 1)
    except NoArgsIsHelpError as exc:
        exc.show()  # the help itself (typer's rich help has already printed it and shows "")
        raise SystemExit(exc.exit_code) from None
    except TyperException as exc:
        _fail(usage_error_line(exc), int(getattr(exc, "exit_code", 2)))
    raise SystemExit(code if isinstance(code, int) else 0)


def usage_error_line(exc: TyperException) -> str:
    """One line for a usage error: the message and where to read the command's help."""
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    context = getattr(exc, "ctx", None)
    command = context.command_path if context is not None else "koubei"
    return f"{message} (see '{command} --help')"


def _fail(message: str, code: int) -> NoReturn:
    from koubei.redaction import redact  # an error may name a URL with its key; imported only on failure

    typer.secho(f"error: {redact(message)}", fg="red", err=True)
    raise SystemExit(code) from None
