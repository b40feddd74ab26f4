"""The PostgreSQL implementation of :class:`~maxtrio.flows._store.FlowStore` (psycopg 3).

The statements are :class:`~maxtrio.flows._sql_store.SqlFlowStore`'s (``?`` becomes ``%s``); a
synchronous psycopg connection runs them in a worker thread, one at a time per server, as the
SQLite store drives apsw. Each method is one transaction. Several servers may share one
database, so the store adds what SQLite's single writer gave for free:

* **Claims** lock the rows they take — ``FOR UPDATE OF s SKIP LOCKED`` in the ready query, then
  an update guarded by ``status = 'pending'`` — so two servers never claim one step, and one
  never waits for another's claim.
* **A lock per run**: every transaction that reads a run's rows and then writes them starts
  with ``pg_advisory_xact_lock`` on the run, so stage settlement (count the steps, then close
  the stage), abort, retry and the rest see each other's committed work, as on SQLite.
* **A lock per server**: each server registers in ``maxq_server`` and holds a session advisory
  lock, on a connection of its own, for as long as it lives. PostgreSQL drops it when that
  connection ends — the server exits, is killed (``-9`` included), or its host goes away and
  the connection times out. :meth:`PgFlowStore.dead_servers` tries the lock of every server
  that has ``running`` steps: if it can take it, that server is gone, and
  :meth:`PgFlowStore.requeue_steps_of` gives its running steps back to ``pending`` (retry count
  kept) for any live server to run; if it cannot, the server is alive and its steps are left
  alone.
* The running-steps limit counts this server's rows only (``worker_id``); each server has its
  own ``MAXQ_MAX_CONCURRENT_STEPS``.

A URL's password is used only to connect: messages name the database by its label
(``postgresql://user@host:port/db``) and have the password masked. A NUL character, which
PostgreSQL text cannot hold (SQLite can), is stored as U+FFFD.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs
import psycopg
import trio
from psycopg.conninfo import conninfo_to_dict

from maxtrio.core import MaxError
from maxtrio.storage import dsn_label

from ._clock import MonotonicMsClock
from ._errors import ErrDatabaseUnavailable
from ._models import dump_json
from ._pg_schema import LOCK_CLASS_RUN, LOCK_CLASS_SCHEMA, LOCK_CLASS_SERVER, READY_STEPS, TABLES
from ._sql_store import RUN_NOT_HALTED, SqlFlowStore, in_worker_thread

PgConnection = psycopg.Connection[Any]

REQUEUE = (
    "UPDATE step SET status = 'pending', claimed_at = NULL, heartbeat_at = NULL, "
    "worker_id = NULL, started_at = NULL WHERE run_id = ? AND status = 'running' "
    "AND worker_id = ?"
)


@functools.lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    """The shared statements use ``?``; psycopg wants ``%s`` (no statement holds a ``%``)."""
    return sql.replace("?", "%s")


def _pg_value(value: Any) -> Any:
    return value.replace("\0", "\ufffd") if isinstance(value, str) and "\0" in value else value


def _pg_params(params: Sequence[Any]) -> list[Any]:
    return [_pg_value(value) for value in params]


def database_label(url: str) -> str:
    """How messages and logs name the database: no password, ever."""
    return dsn_label(url)


def scrub(text: str, url: str) -> str:
    """``text`` with the URL's password (and the URL itself) replaced."""
    with contextlib.suppress(psycopg.Error):
        password = conninfo_to_dict(url).get("password")
        if password:
            text = text.replace(str(password), "***")
    return text.replace(url, database_label(url))


def unavailable(exc: BaseException, url: str) -> Exception:
    """``flows.database_unavailable`` for ``exc`` (first line, password scrubbed)."""
    reason = (str(exc).strip() or type(exc).__name__).splitlines()[0]
    return ErrDatabaseUnavailable(
        database=database_label(url),
        reason=scrub(reason, url),
        hint="check MAXQ_DATABASE_URL (host, port, database, user, password) and that the "
        "PostgreSQL server is up",
    )


@attrs.frozen
class ServerIdentity:
    """Who a server is in ``maxq_server`` and in the ``worker_id`` of the steps it claims."""

    id: str
    host: str
    pid: int

    @classmethod
    def of_this_process(cls) -> ServerIdentity:
        host = socket.gethostname()
        pid = os.getpid()
        return cls(id=f"{host}:{pid}:{uuid.uuid4().hex[:8]}", host=host, pid=pid)


@attrs.frozen
class Requeued:
    """What :meth:`PgFlowStore.requeue_steps_of` did: the servers found gone, the steps given
    back, and the runs failed because their flow call died with its server."""

    servers: tuple[str, ...] = ()
    steps: int = 0
    failed_runs: int = 0


class PgFlowStore(SqlFlowStore):
    """The flows tables in a PostgreSQL database. Create with :meth:`open`."""

    # An array built once (an init plan), so the (run_id, id) index serves the lookup; a
    # semi-join over the set-returning function made PostgreSQL scan the table per element.
    in_json_list_sql = "{column} = ANY(ARRAY(SELECT json_array_elements_text(CAST(? AS json))))"
    ready_steps = READY_STEPS

    def __init__(
        self,
        url: str,
        clock: MonotonicMsClock,
        identity: ServerIdentity,
        connection: PgConnection,
        lease: PgConnection,
    ) -> None:
        super().__init__(clock)
        self._url = url
        self._db = connection
        self._lease = lease
        self._lease_limiter = trio.CapacityLimiter(1)
        self.identity = identity
        self.label = database_label(url)
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    async def open(
        cls, url: str, clock: MonotonicMsClock, identity: ServerIdentity | None = None
    ) -> PgFlowStore:
        """Connect, create the tables when absent, register this server and take its lock.

        Raise ``flows.database_unavailable`` (password scrubbed) when any of it fails.
        """
        identity = identity or ServerIdentity.of_this_process()
        return await trio.to_thread.run_sync(cls._open, url, clock, identity)

    @classmethod
    def _open(cls, url: str, clock: MonotonicMsClock, identity: ServerIdentity) -> PgFlowStore:
        connection: PgConnection | None = None
        lease: PgConnection | None = None
        try:
            connection = _connect(url)
            with connection.transaction():
                connection.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_CLASS_SCHEMA,))
                connection.execute(TABLES)
            lease = _connect(url, f"lock {identity.id}")
            lease.execute(
                "SELECT pg_advisory_lock(%s, hashtext(%s))", (LOCK_CLASS_SERVER, identity.id)
            )
            connection.execute(
                "INSERT INTO maxq_server (id, host, pid, started_at) VALUES (%s, %s, %s, %s)",
                (identity.id, identity.host, identity.pid, clock.now()),
            )
        except psycopg.Error as exc:
            for opened in (lease, connection):
                if opened is not None:
                    opened.close()
            raise unavailable(exc, url) from None
        return cls(url, clock, identity, connection, lease)

    @in_worker_thread
    def close(self) -> None:
        """Deregister and disconnect (which also gives back the server's lock)."""
        self._closed = True
        with contextlib.suppress(psycopg.Error):
            if not self._db.broken:
                self._db.execute("DELETE FROM maxq_server WHERE id = %s", (self.identity.id,))
        self._db.close()
        self._lease.close()

    @in_worker_thread
    def ping(self) -> bool:
        try:
            return bool(self._one("SELECT 1") == (1,))
        except (psycopg.Error, MaxError):
            return False

    # -- primitives ----------------------------------------------------------------------------

    def _connection(self) -> PgConnection:
        """The store's connection, re-opened if the last one broke (server restart, network)."""
        if self._closed:
            raise psycopg.InterfaceError("the flows store is closed")
        if self._db.broken or self._db.closed:
            with contextlib.suppress(psycopg.Error):
                self._db.close()
            try:
                self._db = _connect(self._url)
            except psycopg.Error as exc:
                raise unavailable(exc, self._url) from None
        return self._db

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._connection().transaction():
            yield

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = self._connection().execute(_pg_sql(sql), _pg_params(params))
        return max(0, cursor.rowcount)

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._connection().cursor() as cursor:
            cursor.executemany(_pg_sql(sql), [_pg_params(row) for row in rows])

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._connection().execute(_pg_sql(sql), _pg_params(params)).fetchone()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._connection().execute(_pg_sql(sql), _pg_params(params)).fetchall()

    def _lock_run(self, run_id: str) -> None:
        self._one("SELECT pg_advisory_xact_lock(?, hashtext(?))", (LOCK_CLASS_RUN, run_id))

    def _running_count(self, worker_id: str) -> int:
        row = self._one(
            "SELECT count(*) FROM step WHERE status = 'running' AND worker_id = ?", (worker_id,)
        )
        return int(row[0])

    # -- servers sharing the database ----------------------------------------------------------

    @in_worker_thread
    def dead_servers(self) -> list[str]:
        """Servers that left ``running`` steps or a registration behind and are gone."""
        suspects = self._all(
            "SELECT DISTINCT worker_id FROM step WHERE status = 'running' "
            "AND worker_id IS NOT NULL AND worker_id != ? "
            "UNION SELECT id FROM maxq_server WHERE id != ? ORDER BY 1",
            (self.identity.id, self.identity.id),
        )
        dead = []
        for (worker,) in suspects:
            with self._transaction():
                if self._is_gone(worker):
                    dead.append(str(worker))
        return dead

    def _is_gone(self, worker: str) -> bool:
        """Inside a transaction: take the server's lock until commit if nobody holds it."""
        (gone,) = self._one(
            "SELECT pg_try_advisory_xact_lock(?, hashtext(?))", (LOCK_CLASS_SERVER, worker)
        )
        return bool(gone)

    @in_worker_thread
    def requeue_steps_of(self, servers: Sequence[str]) -> Requeued:
        """Give the running steps of ``servers`` back to ``pending`` — each server only if it
        is still gone (its lock is free), one transaction per server."""
        requeued: list[str] = []
        steps = failed = 0
        for worker in servers:
            with self._transaction():
                if not self._is_gone(worker):
                    continue
                requeued.append(worker)
                # A flow call that died with its server is not repeated: its run fails as on
                # a restart (its steps elsewhere then stop too), and can be retried.
                for (run_id,) in self._all(
                    "SELECT DISTINCT run_id FROM maxq_flow_call WHERE worker_id = ? "
                    "ORDER BY run_id",
                    (worker,),
                ):
                    self._lock_run(run_id)
                    failed += self._fail_interrupted("id = ?", run_id)
                self._execute("DELETE FROM maxq_flow_call WHERE worker_id = ?", (worker,))
                runs = self._all(
                    "SELECT DISTINCT run_id FROM step WHERE status = 'running' AND worker_id = ? "
                    "ORDER BY run_id",
                    (worker,),
                )
                for (run_id,) in runs:
                    self._lock_run(run_id)
                    steps += self._execute(REQUEUE, (run_id, worker))
                self._execute("DELETE FROM maxq_server WHERE id = ?", (worker,))
        return Requeued(servers=tuple(requeued), steps=steps, failed_runs=failed)

    @in_worker_thread
    def flow_call_started(self, run_id: str, worker_id: str) -> str | None:
        token = str(uuid.uuid4())
        with self._transaction():
            if self._one("SELECT 1 FROM run WHERE id = ?", (run_id,)) is None:
                return None
            self._execute(
                "INSERT INTO maxq_flow_call (id, run_id, worker_id, started_at) "
                "VALUES (?, ?, ?, ?)",
                (token, run_id, worker_id, self._clock.now()),
            )
        return token

    @in_worker_thread
    def flow_call_ended(self, token: str | None) -> None:
        if token is not None:
            self._execute("DELETE FROM maxq_flow_call WHERE id = ?", (token,))

    @in_worker_thread
    def server_pids_on(self, host: str) -> set[int]:
        """Pids of the registered servers on ``host`` (this one included)."""
        rows = self._all("SELECT pid FROM maxq_server WHERE host = ?", (host,))
        return {int(row[0]) for row in rows}

    @in_worker_thread
    def halted_runs(self, run_ids: Iterable[str]) -> set[str]:
        """Those of ``run_ids`` that are aborted, paused or gone (by any server)."""
        wanted = sorted(set(run_ids))
        if not wanted:
            return set()
        live = self._all(
            f"SELECT id FROM run WHERE {self.in_json_list('id')} AND {RUN_NOT_HALTED}",
            (dump_json(wanted),),
        )
        return set(wanted) - {str(row[0]) for row in live}

    async def lease_alive(self) -> bool:
        """True while this server's lock connection answers (it holds the server's lock)."""

        def probe() -> bool:
            try:
                self._lease.execute("SELECT 1")
            except psycopg.Error:
                return False
            return True

        return await trio.to_thread.run_sync(probe, limiter=self._lease_limiter)


def _connect(url: str, role: str = "store") -> PgConnection:
    """An autocommit connection, named ``maxtrio-flows <role>`` in ``pg_stat_activity``."""
    connection: PgConnection = psycopg.connect(
        url, autocommit=True, application_name=f"maxtrio-flows {role}"[:63]
    )
    try:
        row = connection.execute("SHOW server_encoding").fetchone()
        if row is None or row[0] != "UTF8":
            raise psycopg.NotSupportedError(
                f"the database's encoding is {row[0] if row else '?'}, not UTF8"
            )
    except BaseException:
        connection.close()
        raise
    return connection
