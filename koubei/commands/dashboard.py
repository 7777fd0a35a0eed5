"""`koubei dashboard`: serve the Streamlit dashboard.

Runs `streamlit run streamlit_app.py` headless (through dashboard/serve.py, which warms jieba's
dictionary from the server's start), passing the database as
$KOUBEI_DB (and the config as $KOUBEI_CONFIG) so the app reads what the CLI
would. The process is replaced by Streamlit (exec), so Ctrl-C and SIGTERM reach
the server directly.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from koubei.errors import ConfigError

if TYPE_CHECKING:
    from storage.db import LakeLocation

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
# Where Streamlit reads secrets from (its defaults: the user's, then the working directory's).
SECRETS_FILES = (Path.home() / ".streamlit" / "secrets.toml", Path(".streamlit") / "secrets.toml")

app = typer.Typer()


def streamlit_command(port: int, address: str) -> list[str]:
    """`streamlit run` through dashboard/serve.py, which starts loading jieba's dictionary with the server."""
    return [
        sys.executable,
        "-m",
        "dashboard.serve",
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--browser.gatherUsageStats",
        "false",
        # No file watching: a served dashboard does not hot-reload, and polling costs CPU.
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        # A served dashboard shows no developer menu or "Deploy" button.
        "--client.toolbarMode",
        "viewer",
    ]


def oidc_configured() -> bool:
    """Whether a secrets file Streamlit reads has an [auth] table for st.login."""
    for path in SECRETS_FILES:
        try:
            if tomllib.loads(path.read_text(encoding="utf-8")).get("auth"):
                return True
        except (OSError, tomllib.TOMLDecodeError):
            continue
    return False


def has_accounts(db: Path | LakeLocation) -> bool:
    from storage import StorageError, open_store
    from storage.users import any_accounts

    if isinstance(db, Path) and not db.exists():
        return False
    try:
        with open_store(db, read_only=True) as store:
            return any_accounts(store)
    except StorageError:
        return False


def check_exposure(address: str, db: Path | LakeLocation) -> None:
    """Anyone who reaches a dashboard without sign-in may act on incidents and read every mention:
    only this machine may, unless sign-in is configured."""
    if address in LOOPBACK or oidc_configured() or has_accounts(db):
        return
    raise ConfigError(
        f"refusing to serve the dashboard on {address} without sign-in: anyone reaching it could act and read"
        " everything. Add an account (`koubei users add NAME --role admin`) or configure OpenID Connect in"
        " .streamlit/secrets.toml ([auth]; see docs/operations.md), or serve on 127.0.0.1"
    )


@app.command("dashboard")
def dashboard(
    ctx: typer.Context,
    port: int = typer.Option(8501, "--port", "-p", help="Port to serve on."),
    address: str = typer.Option("127.0.0.1", "--address", help="Address to bind (0.0.0.0 for all interfaces)."),
) -> None:
    """Serve the dashboard (Streamlit) on ADDRESS:PORT, reading the --db database."""
    context = ctx.obj
    location = context.settings.location
    db = Path(location).resolve() if isinstance(location, Path) else location
    env = {**os.environ, "KOUBEI_DB": str(db) if isinstance(db, Path) else db.address}
    if context.settings.path is not None:
        env["KOUBEI_CONFIG"] = str(Path(context.settings.path).resolve())
    check_exposure(address, db)
    if isinstance(db, Path) and not db.exists():
        typer.secho(f"warning: no database at {db} yet; run `koubei run` first", fg="yellow", err=True)
    typer.echo(f"koubei dashboard: http://{address}:{port}  (database {db})")
    command = streamlit_command(port, address)
    sys.stdout.flush()  # exec does not flush Python's buffers
    sys.stderr.flush()
    os.execve(sys.executable, command, env)
