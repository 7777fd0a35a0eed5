"""Accounts from the command line (`koubei users`), the audit trail (`koubei audit`), and the refusal
to serve an open dashboard beyond this machine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from storage import open_store, users
from storage.audit import entries

KOUBEI = str(Path(sys.executable).with_name("koubei"))
PASSWORD = "a long enough secret 42"


def koubei(db: Path, *args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KOUBEI, "--db", str(db), *args], input=stdin, capture_output=True, text=True, timeout=60, cwd=cwd
    )


def test_users_are_added_from_stdin_and_the_password_is_stored_only_hashed(tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    added = koubei(db, "users", "add", "wang", "--role", "responder", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert PASSWORD not in added.stdout + added.stderr
    assert koubei(db, "users", "add", "zhao@example.com", "--oidc").returncode == 0
    listed = koubei(db, "users", "list").stdout.splitlines()
    assert [line.split("\t")[:3] for line in listed] == [
        ["wang", "responder", "password"],
        ["zhao@example.com", "viewer", "oidc"],
    ]
    with open_store(db) as store:
        (stored,) = store.query("SELECT password_hash FROM users WHERE name = 'wang'")[0]
        assert stored.startswith("$argon2id$") and PASSWORD not in stored
        assert users.check_password(store, "wang", PASSWORD) is not None
        assert users.check_password(store, "wang", PASSWORD + "x") is None
        assert users.check_password(store, "zhao@example.com", "") is None  # no password: OIDC only
    assert PASSWORD.encode() not in db.read_bytes()


def test_disable_reset_and_role_are_audited_and_bad_input_is_one_line(tmp_path: Path) -> None:
    """A mistake exits 2, as README says of every mistake (users' mistakes exited 1)."""
    db = tmp_path / "k.duckdb"
    koubei(db, "users", "add", "li", "--password-stdin", stdin=PASSWORD)
    assert koubei(db, "users", "reset", "li", "--password-stdin", stdin="new " + PASSWORD).returncode == 0
    assert koubei(db, "users", "role", "li", "admin").returncode == 0
    assert koubei(db, "users", "disable", "li").returncode == 0
    short = koubei(db, "users", "add", "qian", "--password-stdin", stdin="short")
    assert (short.returncode, short.stderr.strip()) == (2, "error: a password needs at least 8 characters")
    empty = koubei(db, "users", "reset", "li", "--password-stdin", stdin="")
    assert (empty.returncode, empty.stderr.strip()) == (2, "error: no password on standard input")
    unknown = koubei(db, "users", "disable", "nobody")
    assert unknown.returncode == 2 and "no user 'nobody'" in unknown.stderr
    bad_role = koubei(db, "users", "role", "li", "owner")
    assert bad_role.returncode == 2 and "viewer, responder, admin" in bad_role.stderr
    taken = koubei(db, "users", "add", "li", "--oidc")
    assert (taken.returncode, taken.stderr.strip()) == (2, "error: user 'li' already exists")
    bad_since = koubei(db, "audit", "--since", "last tuesday")
    assert bad_since.returncode == 2 and len(bad_since.stderr.strip().splitlines()) == 1, bad_since.stderr
    with open_store(db, read_only=True) as store:
        assert users.check_password(store, "li", "new " + PASSWORD) is None  # disabled
        trail = entries(store)
    assert [e.action for e in trail] == ["user-add", "user-reset", "user-role", "user-disable"]
    assert all(e.origin.startswith("koubei users ") and PASSWORD not in json.dumps(e.detail) for e in trail)
    printed = koubei(db, "audit", "--action", "user-", "--json").stdout.splitlines()
    assert [json.loads(line)["action"] for line in printed] == [e.action for e in trail]
    assert [line.split("\t")[3] for line in koubei(db, "audit", "--actor", trail[0].actor).stdout.splitlines()] == [
        e.action for e in trail
    ]


def test_a_role_is_checked_again_by_storage(tmp_path: Path) -> None:
    """The storage-side check: a viewer's actor is refused whatever page forgot to ask."""
    with open_store(tmp_path / "k.duckdb") as store:
        users.add(store, "vera", "viewer", PASSWORD, users.command_actor("test"))
        vera = users.Actor("vera", "admin", "forged")  # a session claiming more than the account has
        with pytest.raises(users.Forbidden):
            users.authorize(store, vera, "respond")
        with pytest.raises(users.Forbidden):
            users.add(store, "mallory", "admin", PASSWORD, vera)
        assert users.names(store) == ["vera"]


@pytest.mark.parametrize("address", ["0.0.0.0", "192.0.2.10"])
def test_an_open_dashboard_is_not_served_beyond_this_machine(tmp_path: Path, address: str) -> None:
    refused = koubei(tmp_path / "k.duckdb", "dashboard", "--address", address, "--port", "1", cwd=tmp_path)
    assert refused.returncode == 2
    assert "without sign-in" in refused.stderr and "koubei users add" in refused.stderr
    assert ".streamlit/secrets.toml" in refused.stderr


def test_a_bad_role_is_refused_before_the_password_is_asked(tmp_path: Path) -> None:
    """Found in the stop-22 check: `koubei users add bob --role boss` asked for the password first,
    then ended in click's "aborted" with exit 1 when none came."""
    done = koubei(tmp_path / "k.duckdb", "users", "add", "bob", "--role", "boss", stdin="")
    assert done.returncode == 2 and "role must be one of viewer, responder, admin" in done.stderr
    assert "password" not in done.stdout + done.stderr


def test_an_unknown_name_is_checked_against_a_hash_made_as_an_account_s_would_be(tmp_path: Path) -> None:
    """The dummy an unknown name is verified against has the hasher's parameters (else its check
    would take another time than a real account's and tell which names exist), and no password
    opens it."""
    assert not users._hasher.check_needs_rehash(users._DUMMY)
    with open_store(tmp_path / "k.duckdb") as store:
        assert users.check_password(store, "nobody", "koubei-no-such-account") is None
        assert users.check_password(store, "nobody", "") is None


def test_importing_storage_hashes_nothing() -> None:
    """A process that imports storage (each koubei command, each new dashboard server) pays no argon2 hash."""
    code = (
        "import argon2, time\n"
        "calls = []\n"
        "real = argon2.PasswordHasher.hash\n"
        "argon2.PasswordHasher.hash = lambda self, *a, **k: calls.append(1) or real(self, *a, **k)\n"
        "import storage.users, dashboard.loaders\n"
        "print(len(calls))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "0"
