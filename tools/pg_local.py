"""A throwaway local PostgreSQL server for the tests and the CI warehouse comparison.

``initdb`` in a fresh directory (trust auth, superuser ``kpi``), ``pg_ctl start`` listening only
on a unix socket in that directory: no TCP port to collide with another server, nothing outside
the directory touched. PostgreSQL refuses to run as root, so as root the server runs as the
``postgres`` user (``runuser``) that the Debian package creates. The binaries come from the Debian
package ``postgresql`` (``/usr/lib/postgresql/<version>/bin``); ``scripts/setup`` installs it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "kpi"
DATABASE = "kpi"
PORT = 5432  # only names the socket file: the server listens on no TCP address
INSTALL_FIX = "install the Debian package: apt-get install -y postgresql (scripts/setup does it)"


def bin_dir() -> Path:
    """The directory of ``initdb``/``pg_ctl``: the newest Debian install, else ``PATH``."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError(f"PostgreSQL server binaries (initdb, pg_ctl) not found: {INSTALL_FIX}")


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError(
            f"running as root but there is no 'postgres' user: {INSTALL_FIX}"
        ) from None
    return ["runuser", "-u", "postgres", "--", *command]


@dataclass
class LocalPostgres:
    """One server in ``directory`` (data in ``directory/data``, socket in ``directory``)."""

    directory: Path

    @property
    def env(self) -> dict[str, str]:
        """libpq variables that reach it: what ``KPI_WAREHOUSE=postgres`` reads."""
        return {
            "PGHOST": str(self.directory),
            "PGPORT": str(PORT),
            "PGUSER": SUPERUSER,
            "PGDATABASE": DATABASE,
            "PGPASSWORD": "",
        }

    @property
    def conninfo(self) -> str:
        return f"host={self.directory} port={PORT} user={SUPERUSER} dbname={DATABASE}"

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            _as_server_user([str(bin_dir() / args[0]), *args[1:]]),
            capture_output=True,
            text=True,
        )
        if result.returncode:
            log = self.directory / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"local PostgreSQL: {args[0]} failed ({result.returncode}): "
                f"{result.stderr.strip() or result.stdout.strip()}\n{tail}"
            )

    def start(self) -> LocalPostgres:
        data = self.directory / "data"
        self._run(
            "initdb",
            "-D",
            str(data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{self.directory}' -p {PORT} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=40 -c TimeZone=UTC"
        )
        log = str(self.directory / "server.log")
        self._run("pg_ctl", "-D", str(data), "-l", log, "-o", options, "-w", "-t", "60", "start")
        self._run(
            "psql", "-h", str(self.directory), "-p", str(PORT), "-U", SUPERUSER, "-d", "postgres",
            "-q", "-c", f"create database {DATABASE}",
        )  # fmt: skip
        return self

    def stop(self) -> None:
        data = self.directory / "data"
        if (data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")


def start_local_postgres(parent: Path | None = None) -> LocalPostgres:
    """Start a new server in a fresh directory (readable by the ``postgres`` user when root)."""
    directory = Path(tempfile.mkdtemp(prefix="kpi-pg-", dir=parent))
    if os.geteuid() == 0:
        bin_dir()  # fail with the install hint before chown needs the user
        _as_server_user([])  # checks the postgres user exists
        shutil.chown(directory, user="postgres")
        directory.chmod(0o755)
    return LocalPostgres(directory).start()


def remove(server: LocalPostgres) -> None:
    """Stop the server and delete its directory."""
    try:
        server.stop()
    finally:
        shutil.rmtree(server.directory, ignore_errors=True)
