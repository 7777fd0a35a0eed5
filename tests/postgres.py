"""A real PostgreSQL server for tests: Debian's `postgresql` (installed by `make test`),
one throw-away cluster per test session, started with initdb/pg_ctl in a temporary folder (in
memory, /dev/shm, when it has room).

PostgreSQL refuses to run as root (CI runs as root), so as root the cluster belongs to the
`postgres` user the Debian package creates, and lives outside pytest's own temporary folders,
which only root may enter.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "postgres"  # who owns the cluster when the tests run as root
START_TIMEOUT = 60  # seconds pg_ctl waits for the server to accept connections
SHM = "/dev/shm"
SHM_NEEDED = 4 << 30  # bytes free in SHM to put a cluster there (a container's default is 64 MB)


class PostgresMissing(RuntimeError):
    """Debian's postgresql is not installed: `make test` installs it (`make postgres`)."""


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq key=value connection string, as DuckDB's postgres extension and psycopg take it."""
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname}"

    def create_database(self, name: str, template: str = "template1") -> str:
        """A new database, empty or a copy of `template` (nobody may be connected to it); its DSN."""
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.dsn(name)

    def has_database(self, name: str) -> bool:
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as con:
            return con.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None

    def dump(self, name: str, file: Path) -> None:
        """Database `name` as an SQL script (pg_dump), which `restore` replays on another server."""
        subprocess.run(
            [server_bin("pg_dump"), "-h", self.host, "-p", str(self.port), "-U", self.user, "-f", str(file), name],
            check=True,
            capture_output=True,
        )

    def restore(self, file: Path, name: str) -> str:
        """A new database `name` made from a `dump` (of any server); its DSN."""
        dsn = self.create_database(name)
        command = [server_bin("psql"), "-q", "-X", "-v", "ON_ERROR_STOP=1", "-f", str(file), dsn]
        subprocess.run(command, check=True, capture_output=True)
        return dsn


def server_bin(name: str) -> str:
    """initdb / pg_ctl: Debian keeps them out of PATH, under /usr/lib/postgresql/<version>/bin."""
    on_path = shutil.which(name)
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or ([on_path] if on_path else [])
    if not found:
        raise PostgresMissing(f"{name} not found: install Debian's postgresql (`make postgres`, part of `make test`)")
    return str(found[-1])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", SERVER_USER, "--", *command] if os.geteuid() == 0 else command


def _cluster_parent() -> str | None:
    """Where the cluster lives: in memory (/dev/shm) when it has room. Each catalog database is
    about 7 MB of files, and on this shared machine's busy disk deleting a cluster of twenty
    took a minute at the end of every test process; elsewhere the system's temporary folder."""
    try:
        stats = os.statvfs(SHM)
    except OSError:
        return None
    return SHM if stats.f_bavail * stats.f_frsize >= SHM_NEEDED else None


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """Start a fresh cluster on a free port of 127.0.0.1; stop it and remove it afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="koubei-pg-", dir=_cluster_parent()))
    if os.geteuid() == 0:
        owner = pwd.getpwnam(SERVER_USER)
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    data, log = folder / "data", folder / "server.log"
    user = "koubei"
    port = _free_port()
    run = _as_server_user
    try:
        subprocess.run(
            run([server_bin("initdb"), "-D", str(data), "-U", user, "-A", "trust", "-E", "UTF8", "--no-sync"]),
            check=True,
            capture_output=True,
        )
        options = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c max_connections=200"
        subprocess.run(
            run(
                [
                    server_bin("pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    str(START_TIMEOUT),
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        try:
            yield PostgresServer("127.0.0.1", port, user)
        finally:
            subprocess.run(run([server_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]), capture_output=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
