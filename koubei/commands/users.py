"""`koubei users add|disable|enable|reset|role|list` (dashboard accounts) and `koubei audit` (the trail).

A password is read from a hidden prompt, or from standard input with
--password-stdin, never from the command line (where the shell's history and
`ps` would keep it); only its argon2id hash is stored. Every change is audited
with the OS user and host that ran the command.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

import typer

from koubei.commands.output import fmt_time
from koubei.errors import ConfigError

if TYPE_CHECKING:
    from storage.users import Actor

app = typer.Typer(
    name="users", help="Dashboard accounts and their roles (viewer, responder, admin).", no_args_is_help=True
)
audit_app = typer.Typer()

PASSWORD_STDIN = typer.Option(
    False, "--password-stdin", help="Read the password from standard input (one line) instead of a prompt."
)


def _actor(command: str) -> Actor:
    from storage.users import command_actor

    return command_actor(f"koubei users {command}")


@contextmanager
def _input_checked() -> Iterator[None]:
    """A user command's mistake (an unknown or taken name, a bad role or password) is a
    mistake in the command: exit 2 with its one line, as README says of every mistake."""
    from storage.users import UserError

    try:
        yield
    except UserError as exc:
        raise ConfigError(str(exc)) from None


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise ConfigError("no password on standard input")
        return line
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@app.command("add")
def add_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The name to sign in with (for OIDC: the e-mail the provider gives)."),
    role: str = typer.Option("viewer", "--role", help="viewer, responder or admin."),
    oidc: bool = typer.Option(False, "--oidc", help="No password: this person signs in through the identity provider."),
    password_stdin: bool = PASSWORD_STDIN,
) -> None:
    """Add an account; asks for its password unless --oidc."""
    from storage import users

    with _input_checked():
        users.check_role(role)  # before asking for a password that would then be thrown away
    password = None if oidc else _password(password_stdin)
    with _input_checked(), ctx.obj.open_store() as store:
        user = users.add(store, name, role, password, _actor("add"))
    typer.echo(f"{user.name}: added as {user.role}")


@app.command("disable")
def disable_command(ctx: typer.Context, name: str) -> None:
    """Stop an account from signing in and acting (its sessions are refused at their next action)."""
    from storage import users

    with _input_checked(), ctx.obj.open_store() as store:
        users.disable(store, name, _actor("disable"))
    typer.echo(f"{name}: disabled")


@app.command("enable")
def enable_command(ctx: typer.Context, name: str) -> None:
    """Let a disabled account sign in again."""
    from storage import users

    with _input_checked(), ctx.obj.open_store() as store:
        users.enable(store, name, _actor("enable"))
    typer.echo(f"{name}: enabled")


@app.command("reset")
def reset_command(ctx: typer.Context, name: str, password_stdin: bool = PASSWORD_STDIN) -> None:
    """Set a new password for an account."""
    from storage import users

    password = _password(password_stdin)
    with _input_checked(), ctx.obj.open_store() as store:
        users.reset_password(store, name, password, _actor("reset"))
    typer.echo(f"{name}: password reset")


@app.command("role")
def role_command(
    ctx: typer.Context, name: str, role: str = typer.Argument(..., help="viewer, responder or admin.")
) -> None:
    """Change an account's role."""
    from storage import users

    with _input_checked(), ctx.obj.open_store() as store:
        users.set_role(store, name, role, _actor("role"))
    typer.echo(f"{name}: now {role}")


@app.command("list")
def list_command(ctx: typer.Context) -> None:
    """The accounts: name, role, how they sign in, since when, whether disabled."""
    from storage import users

    with ctx.obj.open_store() as store:
        accounts = users.listing(store)
    if not accounts:
        typer.echo("no accounts (the dashboard signs nobody in; see docs/operations.md)")
    for u in accounts:
        how = "password" if u.has_password else "oidc"
        state = f"disabled {fmt_time(u.disabled_at)}" if u.disabled_at else "active"
        typer.echo(f"{u.name}\t{u.role}\t{how}\t{fmt_time(u.created_at)}\t{state}")


@audit_app.command("audit")
def audit_command(
    ctx: typer.Context,
    action: str | None = typer.Option(None, "--action", help='Only this action, or a family ending in "-" ("user-").'),
    actor: str | None = typer.Option(None, "--actor", help="Only what this person did."),
    since: datetime | None = typer.Option(None, "--since", help="Only entries from this time on (UTC)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object a line."),
) -> None:
    """Read the audit trail (who changed what, when, from where), oldest first. It cannot be edited."""
    from storage.audit import entries

    with ctx.obj.open_store(read_only=True) as store:
        found = entries(store, action=action, actor=actor, since=since)
    for e in found:
        detail = json.dumps(e.detail, ensure_ascii=False, sort_keys=True)
        if as_json:
            row = {"id": e.id, "logged_at": str(e.logged_at), "actor": e.actor, "origin": e.origin}
            typer.echo(
                json.dumps({**row, "action": e.action, "target": e.target, "detail": e.detail}, ensure_ascii=False)
            )
        else:
            typer.echo(f"{fmt_time(e.logged_at)}\t{e.actor}\t{e.origin}\t{e.action}\t{e.target or '-'}\t{detail}")
