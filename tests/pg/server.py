"""A real PostgreSQL server for the tests, started in a temporary directory on a free port.

The server binaries are Debian's ``postgresql`` package (``make test`` installs it when it is
missing and make runs as root; see the README). :func:`find_bindir` looks for ``initdb`` in
``$MAXTRIO_PG_BIN``, then ``pg_config --bindir``, then the newest ``/usr/lib/postgresql/N/bin``
(N ≥ 15), then ``PATH``.

``initdb`` refuses to run as root, and so does the server. When the tests run as root (CI and
this project's machines do), the data directory is made in a fresh directory under the system
temporary directory owned by an unprivileged user (``nobody``, or ``$MAXTRIO_PG_USER``), and
``initdb``/``pg_ctl`` run as that user through ``runuser``. pytest's own temporary directories
are not used: they are ``0700`` directories of root, which that user cannot enter. Run as
anyone else, the server simply runs as the current user.

The server listens on a Unix socket in its directory and on ``127.0.0.1`` (a free port):

* the superuser ``maxtrio`` logs in over the socket without a password (``trust``);
* the role ``maxtrio_pw`` (password :data:`PASSWORD`) logs in over TCP with SCRAM, so tests can
  prove a DSN's password never shows in output, logs or errors.

Durability is off (``fsync=off``): this is a throwaway test server.

A server that cannot start fails the tests that need it, with the server's log. It never
skips them, unless ``MAXTRIO_PG_OPTIONAL=1`` is set by hand (``make test`` and ``.ci/run`` do
not set it).
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import attrs

SUPERUSER = "maxtrio"
PASSWORD_USER = "maxtrio_pw"
PASSWORD = "s3cret-Pa55word"  # a throwaway test server's role
DATABASE = "maxtrio"
MIN_VERSION = 15


class ServerUnavailable(Exception):
    """The server binaries are missing or the server would not start (the message says why)."""


def find_bindir() -> Path:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres`` (version ≥ 15)."""
    candidates: list[Path] = []
    if os.environ.get("MAXTRIO_PG_BIN"):
        candidates.append(Path(os.environ["MAXTRIO_PG_BIN"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            )
            candidates.append(Path(out.stdout.strip()))
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    versioned.sort(key=lambda p: int(re.sub(r"\D", "", Path(p).parent.name) or 0), reverse=True)
    candidates += map(Path, versioned)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            version = _major_version(bindir)
            if version >= MIN_VERSION:
                return bindir
    raise ServerUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl; version >= 15) were found: install "
        "Debian's postgresql package (make test does it when run as root) or set MAXTRIO_PG_BIN"
    )


def _major_version(bindir: Path) -> int:
    out = subprocess.run([bindir / "pg_ctl", "--version"], capture_output=True, text=True)
    match = re.search(r"(\d+)", out.stdout)
    return int(match.group(1)) if match else 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@attrs.define
class PgServer:
    """A running throwaway server; :meth:`dsn` says how to reach it."""

    root: Path
    bindir: Path
    port: int
    run_as: list[str]  # the command prefix running a program as the server's user
    _schemas: Iterator[int] = attrs.field(factory=itertools.count)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def dsn(self, dbname: str = DATABASE) -> str:
        """The superuser's DSN over the Unix socket (no password)."""
        return f"host={self.socket_dir} port={self.port} user={SUPERUSER} dbname={dbname}"

    def url(self, dbname: str = DATABASE) -> str:
        """A ``postgresql://`` URL with a password, over TCP (the password role)."""
        return f"postgresql://{PASSWORD_USER}:{PASSWORD}@127.0.0.1:{self.port}/{dbname}"

    def new_schema_name(self, prefix: str = "t") -> str:
        """A schema name no other test of this session used."""
        return f"{prefix}_{os.getpid()}_{next(self._schemas)}"

    def _run(self, *args: str | Path) -> None:
        cmd = [*self.run_as, *map(str, args)]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=self.root)
        if done.returncode != 0:
            raise ServerUnavailable(
                f"{' '.join(cmd)} failed ({done.returncode}): {done.stdout}{done.stderr}"
                f"{self.log_tail()}"
            )

    def log_tail(self) -> str:
        try:
            return "\nserver log:\n" + self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def start(self) -> None:
        self.socket_dir.mkdir()
        owner = self.root.stat()
        os.chown(self.socket_dir, owner.st_uid, owner.st_gid)  # the server writes its socket
        self._run(
            self.bindir / "initdb",
            "-D",
            self.data,
            "-U",
            SUPERUSER,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        for attempt in range(3):
            try:
                self._start_on(self.port)
                break
            except ServerUnavailable:
                if attempt == 2:
                    raise
                self.port = free_port()  # another process took the port meanwhile
        self.sql(
            f"CREATE DATABASE {DATABASE}",
            f"CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD '{PASSWORD}'",
            f"GRANT ALL ON DATABASE {DATABASE} TO {PASSWORD_USER}",
            dbname="postgres",
        )
        self.sql(f"ALTER SCHEMA public OWNER TO {PASSWORD_USER}")

    def _start_on(self, port: int) -> None:
        options = (
            f"-p {port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run(
            self.bindir / "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w",
            "-t", "60", "start",
        )  # fmt: skip

    def sql(self, *statements: str, dbname: str = DATABASE) -> None:
        """Run statements as the superuser (autocommit)."""
        import psycopg

        with psycopg.connect(self.dsn(dbname), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)  # type: ignore[arg-type]

    def halt(self) -> None:
        """Stop the server, keeping its data (``pg_ctl stop -m fast``: every connection is
        closed, open transactions are rolled back)."""
        self._run(self.bindir / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        """Start a halted server again on its port."""
        self._start_on(self.port)

    def stop(self) -> None:
        with contextlib.suppress(ServerUnavailable):
            self._run(self.bindir / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def _unprivileged() -> tuple[list[str], int, int]:
    """The command prefix, uid and gid that run the server when we are root."""
    name = os.environ.get("MAXTRIO_PG_USER", "nobody")
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise ServerUnavailable(f"the user {name!r} to run PostgreSQL as does not exist") from None
    runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
    if runuser is None:
        raise ServerUnavailable("runuser (util-linux) is needed to run PostgreSQL as root")
    return [runuser, "-u", name, "--"], entry.pw_uid, entry.pw_gid


@contextlib.contextmanager
def running_server() -> Iterator[PgServer]:
    """Start a server for the duration of the block (raises :class:`ServerUnavailable`)."""
    bindir = find_bindir()
    # As root, under /tmp itself: $TMPDIR may be a directory the server's user cannot enter.
    base = "/tmp" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="maxtrio-pg-", dir=base))
    run_as: list[str] = []
    if os.geteuid() == 0:
        run_as, uid, gid = _unprivileged()
        os.chown(root, uid, gid)
    server = PgServer(root, bindir, free_port(), run_as)
    try:
        try:
            server.start()
        except BaseException:
            server.stop()
            raise
        yield server
    finally:
        server.stop()
