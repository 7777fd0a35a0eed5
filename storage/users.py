"""Accounts and roles: who may sign in to the dashboard and what each may change.

A role is viewer (reads), responder (acknowledges, assigns and answers incidents,
corrects labels and tiers) or admin (also sources, queries, rules, routes,
channels and users). A password is stored only as its argon2id hash, made and
checked here through argon2-cffi; the clear text is never kept.

`authorize` is the server-side check every state-changing path calls before it
writes: it re-reads the actor's account, so a disabled account or a lowered role
takes effect on the next action, not at the next sign-in. An actor that did not
sign in (the dashboard without sign-in configured, the command line) is the one
person running koubei and is allowed, as before accounts existed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storage import audit
from storage.db import StorageError, Store

ROLES = ("viewer", "responder", "admin")
# What each permission needs at least (roles are ordered: an admin may do what a responder may).
PERMISSIONS = {
    "read": "viewer",
    "respond": "responder",  # acknowledge, assign, respond, resolve, reopen
    "correct": "responder",  # label and tier corrections
    "unmasked": "responder",  # personal data in clear, and exports of it
    "settings": "admin",  # sources, queries, rules, routes, channels
    "users": "admin",
    "audit": "admin",
}
MIN_PASSWORD = 8

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class Forbidden(StorageError):
    """The actor's role does not allow the action (or the account is disabled or unknown)."""


class UserError(StorageError):
    """A user command got something it cannot do: an unknown user, a taken name, a bad role or password."""


@dataclass(frozen=True)
class Actor:
    """Who does something, and from where (a command and host, or a browser's address)."""

    name: str
    role: str
    origin: str
    signed_in: bool = True  # False: no sign-in configured, the one local person


@dataclass(frozen=True)
class User:
    name: str
    role: str
    has_password: bool
    created_at: datetime
    disabled_at: datetime | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


def command_actor(command: str) -> Actor:
    """The person running a koubei command: the OS user on this host (the command line has no sign-in)."""
    return Actor(audit.default_actor(), "admin", audit.origin_of(command), signed_in=False)


def role_allows(role: str, permission: str) -> bool:
    needed = PERMISSIONS[permission]
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, got {role!r}")


def _hash(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def get(store: Store, name: str) -> User | None:
    rows = store.query(
        "SELECT name, role, password_hash IS NOT NULL, created_at, disabled_at FROM users WHERE name = ?", [name]
    )
    return User(*rows[0]) if rows else None


def listing(store: Store) -> list[User]:
    rows = store.query("SELECT name, role, password_hash IS NOT NULL, created_at, disabled_at FROM users ORDER BY name")
    return [User(*row) for row in rows]


def names(store: Store, active_only: bool = True) -> list[str]:
    return [u.name for u in listing(store) if u.active or not active_only]


def any_accounts(store: Store) -> bool:
    """Whether sign-in is on (False on a database from before accounts, opened read-only)."""
    tables = store.query("SELECT count(*) FROM information_schema.tables WHERE table_name = 'users'")[0][0]
    return bool(tables) and bool(store.query("SELECT count(*) FROM users")[0][0])


def authorize(store: Store, actor: Actor, permission: str) -> None:
    """Raise Forbidden unless the actor may do what `permission` names (see PERMISSIONS)."""
    if not actor.signed_in:
        return
    user = get(store, actor.name)
    if user is None or not user.active:
        raise Forbidden(f"{actor.name!r} has no active account")
    if not role_allows(user.role, permission):
        raise Forbidden(f"{actor.name!r} is a {user.role}: {permission} needs {PERMISSIONS[permission]}")


def add(store: Store, name: str, role: str, password: str | None, actor: Actor) -> User:
    """A new account; without a password it signs in only through the identity provider (OIDC)."""
    name = name.strip()
    if not name:
        raise UserError("a user needs a name")
    check_role(role)
    hashed = _hash(password) if password is not None else None
    authorize(store, actor, "users")
    with store.transaction() as con:
        if con.execute("SELECT count(*) FROM users WHERE name = ?", [name]).fetchone() != (0,):
            raise UserError(f"user {name!r} already exists")
        con.execute("INSERT INTO users VALUES (?, ?, ?, ?, NULL)", [name, role, hashed, _now()])
        audit.record(store, "user-add", "user", {"user": name, "role": role}, actor.name, actor.origin)
    found = get(store, name)
    assert found is not None
    return found


def _change(store: Store, name: str, actor: Actor, action: str, sql: str, params: list[object]) -> None:
    authorize(store, actor, "users")
    with store.transaction() as con:
        if con.execute("SELECT count(*) FROM users WHERE name = ?", [name]).fetchone() == (0,):
            raise UserError(f"no user {name!r} (see `koubei users list`)")
        con.execute(sql, [*params, name])
        detail: dict[str, object] = {"user": name}
        if action == "user-role":
            detail["role"] = params[0]
        audit.record(store, action, "user", detail, actor.name, actor.origin)


def disable(store: Store, name: str, actor: Actor) -> None:
    _change(store, name, actor, "user-disable", "UPDATE users SET disabled_at = ? WHERE name = ?", [_now()])


def enable(store: Store, name: str, actor: Actor) -> None:
    _change(store, name, actor, "user-enable", "UPDATE users SET disabled_at = NULL WHERE name = ?", [])


def reset_password(store: Store, name: str, password: str, actor: Actor) -> None:
    hashed = _hash(password)
    _change(store, name, actor, "user-reset", "UPDATE users SET password_hash = ? WHERE name = ?", [hashed])


def set_role(store: Store, name: str, role: str, actor: Actor) -> None:
    check_role(role)
    _change(store, name, actor, "user-role", "UPDATE users SET role = ? WHERE name = ?", [role])


def check_password(store: Store, name: str, password: str) -> User | None:
    """The active account when the password is its own, else None (an unknown name costs one hash too)."""
    rows = store.query("SELECT password_hash FROM users WHERE name = ? AND disabled_at IS NULL", [name])
    stored = rows[0][0] if rows and rows[0][0] else None
    try:
        # Hash against a dummy when there is no account, so timing does not tell which names exist.
        _hasher.verify(stored or _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return get(store, name) if stored else None


def signed_in_through_provider(store: Store, name: str, default_role: str, origin: str) -> User | None:
    """The account of someone the identity provider vouched for: made with `default_role` on the first
    sign-in (audited), None when it was disabled (or default_role is "" and an admin did not add it)."""
    user = get(store, name)
    if user is None and default_role:
        check_role(default_role)
        with store.transaction() as con:
            con.execute("INSERT INTO users VALUES (?, ?, NULL, ?, NULL)", [name, default_role, _now()])
            audit.record(store, "user-add", "user", {"user": name, "role": default_role, "via": "oidc"}, name, origin)
        user = get(store, name)
    return user if user is not None and user.active else None


# What an unknown name's password is checked against, so timing does not tell which names exist: a
# hash of a random secret no one knows, made with the hasher's parameters (a test keeps them equal, so a
# check against it costs what one against an account's does). Kept as text: hashing it at import cost
# every process that imports storage (each `koubei` command, each new dashboard server) an argon2 hash,
# 0.2 s of CPU and up to 1.2 s on a loaded machine.
_DUMMY = "$argon2id$v=19$m=65536,t=3,p=4$qYOZncNqRZZRUGOD2pb70Q$5GLq7TqfdraZaIvQs6zIaw+f6fyxAB6GtfSlI83bg7A"
