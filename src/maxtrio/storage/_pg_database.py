"""One installation's schema in a PostgreSQL database: a writer and a reader connection.

psycopg 3 **synchronous** connections driven through ``trio.to_thread.run_sync``, as the SQLite
engine drives apsw (docs/dependencies.md says why): writes through a ``CapacityLimiter(1)`` on
the writer connection, each in one transaction (``BEGIN … COMMIT``; an exception rolls it back),
reads on a second connection in autocommit mode (each statement its own snapshot). A thread
call is never abandoned on cancellation, so a transaction that started always commits or rolls
back before the cancelled task unwinds.

Both connections put the installation's schema first on their ``search_path``, so statements
name tables without a schema. The DSN is a credential: it is kept only to connect, and every
message names the server by :func:`dsn_label` (no password) and has any password scrubbed.

psycopg logs what it ignores on its ``psycopg`` logger (``error ignored terminating
<psycopg.Pipeline [BAD]>`` when the server goes away mid-batch). With no handler configured,
Python would print that on stderr ahead of our own one-line error; a ``NullHandler`` keeps it
off the terminal, and a process that configures logging (the daemon, the flows server) still
gets it through propagation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
import trio
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from ._errors import ErrOpenFailed, ErrStoreUnreachable, ErrWriteFailed

#: The next step when the server cannot be reached (no DSN in it: it may hold a password).
UNREACHABLE_HINT = (
    "check that the PostgreSQL server is running and that the store URL (host, port, "
    "database, user, password) is right"
)

T = TypeVar("T")

logging.getLogger("psycopg").addHandler(logging.NullHandler())

PgConnection = psycopg.Connection[Any]


def dsn_label(dsn: str) -> str:
    """The DSN without its password, for messages: ``postgresql://user@host:port/db``."""
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.Error:
        return "postgresql://(unreadable DSN)"
    user = parts.get("user")
    host = parts.get("host") or "localhost"
    port = parts.get("port")
    where = f"{host}:{port}" if port else str(host)
    return f"postgresql://{f'{user}@' if user else ''}{where}/{parts.get('dbname') or ''}"


def _password(dsn: str) -> str | None:
    try:
        value = conninfo_to_dict(dsn).get("password")
    except psycopg.Error:
        return None
    return str(value) if value else None


def scrubbed_reason(exc: BaseException, dsn: str) -> str:
    """The first line of an error, with the DSN's password (if any) masked."""
    text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
    password = _password(dsn)
    if password:
        text = text.replace(password, "***")
    return text.replace(dsn, dsn_label(dsn))


def connect(dsn: str, schema: str | None = None) -> PgConnection:
    """An autocommit connection, the schema first on its search path (it need not exist)."""
    conn = psycopg.connect(dsn, autocommit=True)
    try:
        encoding = conn.execute("SHOW server_encoding").fetchone()
        if encoding is None or encoding[0] != "UTF8":
            raise psycopg.NotSupportedError(
                f"the database's encoding is {encoding[0] if encoding else '?'}, not UTF8"
            )
        if schema is not None:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    except BaseException:
        conn.close()
        raise
    return conn


class PgDatabase:
    """An installation's schema, opened for one process."""

    def __init__(self, dsn: str, schema: str) -> None:
        self._dsn = dsn
        self.schema = schema
        self.label = f"{dsn_label(dsn)} (schema {schema})"
        self.path = self.label  # what messages call the store
        self.writer = self._connect()
        try:
            self.reader = self._connect()
        except BaseException:
            self.writer.close()
            raise
        self.write_limiter = trio.CapacityLimiter(1)
        self.read_limiter = trio.CapacityLimiter(1)
        self.transactions = 0
        self._closed = False

    def reason(self, exc: BaseException) -> str:
        return scrubbed_reason(exc, self._dsn)

    def _connect(self) -> PgConnection:
        """A connection to the schema: ``storage.store_unreachable`` when the server cannot be
        reached or refuses the login, ``storage.open_failed`` for any other refusal."""
        try:
            return connect(self._dsn, self.schema)
        except psycopg.OperationalError as exc:
            raise ErrStoreUnreachable(
                store=dsn_label(self._dsn), reason=self.reason(exc), hint=UNREACHABLE_HINT
            ) from None
        except psycopg.Error as exc:
            raise ErrOpenFailed(path=self.label, reason=self.reason(exc)) from None

    def _usable(self, conn: PgConnection) -> PgConnection:
        """``conn``, or a new connection when the server closed it (a restart, a dropped
        connection): the statement that met the closed one failed and its transaction was
        rolled back by the server; the next call starts afresh."""
        if not conn.closed and not conn.broken:
            return conn
        conn.close()
        return self._connect()

    # -- synchronous core (runs in a worker thread) ------------------------------------------

    def write_sync(self, fn: Callable[[PgConnection], T]) -> T:
        """Run ``fn(writer)`` inside one transaction."""
        self.transactions += 1
        self.writer = self._usable(self.writer)
        try:
            with self.writer.transaction():
                return fn(self.writer)
        except psycopg.OperationalError as exc:
            if self.writer.broken or self.writer.closed:
                raise ErrStoreUnreachable(
                    store=dsn_label(self._dsn), reason=self.reason(exc), hint=UNREACHABLE_HINT
                ) from None
            raise ErrWriteFailed(path=self.label, reason=self.reason(exc)) from None
        except psycopg.Error as exc:
            raise ErrWriteFailed(path=self.label, reason=self.reason(exc)) from None

    def read_sync(self, fn: Callable[[PgConnection], T]) -> T:
        """Run ``fn(reader)``. Reads change nothing, so a read that meets a connection the
        server closed since the last call (a restart) runs once more on a new one."""
        for attempt in (1, 2):
            self.reader = self._usable(self.reader)
            try:
                return fn(self.reader)
            except psycopg.OperationalError as exc:
                if attempt == 1 and self.reader.broken:
                    continue
                raise ErrStoreUnreachable(
                    store=dsn_label(self._dsn), reason=self.reason(exc), hint=UNREACHABLE_HINT
                ) from None
        raise AssertionError("unreachable")

    # -- async API ---------------------------------------------------------------------------

    async def write(self, fn: Callable[[PgConnection], T]) -> T:
        """Run ``fn(writer)`` in one transaction, off the event loop."""
        return await trio.to_thread.run_sync(self.write_sync, fn, limiter=self.write_limiter)

    async def read(self, fn: Callable[[PgConnection], T]) -> T:
        """Run ``fn(reader)`` off the event loop."""
        return await trio.to_thread.run_sync(self.read_sync, fn, limiter=self.read_limiter)

    async def checkpoint(self) -> None:
        """Nothing to do: the server owns its write-ahead log (SQLite's databases checkpoint
        theirs at the end of a sync)."""

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.reader.close()
        self.writer.close()
