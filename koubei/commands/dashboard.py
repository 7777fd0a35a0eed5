"""`koubei dashboard`: serve the Streamlit dashboard.

Runs `streamlit run streamlit_app.py` headless, passing the database as
$KOUBEI_DB (and the config as $KOUBEI_CONFIG) so the app reads what the CLI
would. The process is replaced by Streamlit (exec), so Ctrl-C and SIGTERM reach
the server directly.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"

app = typer.Typer()


def streamlit_command(port: int, address: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
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


@app.command("dashboard")
def dashboard(
    ctx: typer.Context,
    port: int = typer.Option(8501, "--port", "-p", help="Port to serve on."),
    address: str = typer.Option("127.0.0.1", "--address", help="Address to bind (0.0.0.0 for all interfaces)."),
) -> None:
    """Serve the dashboard (Streamlit) on ADDRESS:PORT, reading the --db database."""
    context = ctx.obj
    db = Path(context.db_path).resolve()
    env = {**os.environ, "KOUBEI_DB": str(db)}
    if context.settings.path is not None:
        env["KOUBEI_CONFIG"] = str(Path(context.settings.path).resolve())
    if not db.exists():
        typer.secho(f"warning: no database at {db} yet; run `koubei run` first", fg="yellow", err=True)
    typer.echo(f"koubei dashboard: http://{address}:{port}  (database {db})")
    command = streamlit_command(port, address)
    sys.stdout.flush()  # exec does not flush Python's buffers
    sys.stderr.flush()
    os.execve(sys.executable, command, env)
