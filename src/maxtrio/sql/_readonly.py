"""Read-only SQL over installations' ``data.db`` files, enforced by SQLite itself.

:class:`ReadOnlySql` opens one apsw connection:

* one installation: its ``data.db`` opened read-only (``SQLITE_OPEN_READONLY``, a
  ``file:…?mode=ro`` URI), its entities' views named ``AcmeTask``;
* several (a workspace): an in-memory main database with every ``data.db`` attached read-only
  (``mode=ro``) under its installation's name, the views named ``"acme-1.AcmeTask"`` (people
  write ``"acme-1".AcmeTask``; see ``_views``).

After the TEMP views are made, the connection is locked down in three independent ways:
``PRAGMA query_only``, an authorizer that allows only reading (``SELECT``, reading columns,
functions other than ``load_extension``, recursive CTEs and a few read-only pragmas such as
``table_info``) and refuses everything else — writes, ``ATTACH``, ``PRAGMA`` changes, DDL,
transactions — and the read-only open of every file. Extension loading stays off.

:meth:`ReadOnlySql.execute` runs a statement in a worker thread; a trio timer interrupts it
(``Connection.interrupt``) when it runs past its timeout, and so does cancellation (Ctrl-C).
``sqlite3_interrupt`` only reaches statements already running, so the interrupt is sent again
every 50 ms until the thread is done; Ctrl-C pressed again meanwhile does not cut that wait
short (the statement would run on in its thread, and closing the connection would fail).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

import apsw
import attrs
import trio

from maxtrio.core import Schema
from maxtrio.storage import quote

from ._errors import ErrSqlDatabaseMissing, ErrSqlFailed, ErrSqlReadOnly, ErrSqlTimeout
from ._server_tables import ServerTables, TableRows
from ._views import existing_columns, qualify_entities, view_statements

DEFAULT_TIMEOUT = 30.0

#: Pragmas that only read (the authorizer refuses every other one).
READ_ONLY_PRAGMAS = frozenset(
    {
        "table_info",
        "table_xinfo",
        "table_list",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        "database_list",
        "function_list",
        "collation_list",
        "pragma_list",
        "compile_options",
    }
)

_ALLOWED_ACTIONS = frozenset({apsw.SQLITE_SELECT, apsw.SQLITE_READ, apsw.SQLITE_RECURSIVE})

_ACTION_NAMES = {
    apsw.SQLITE_INSERT: "INSERT",
    apsw.SQLITE_UPDATE: "UPDATE",
    apsw.SQLITE_DELETE: "DELETE",
    apsw.SQLITE_ATTACH: "ATTACH",
    apsw.SQLITE_DETACH: "DETACH",
    apsw.SQLITE_PRAGMA: "PRAGMA",
    apsw.SQLITE_TRANSACTION: "a transaction",
    apsw.SQLITE_SAVEPOINT: "a savepoint",
    apsw.SQLITE_ANALYZE: "ANALYZE",
    apsw.SQLITE_REINDEX: "REINDEX",
    apsw.SQLITE_FUNCTION: "load_extension",
}


_FILE_HINT = "an installation's data.db could not be read; max status shows its health"

_SCHEMA_TABLES = frozenset({"sqlite_master", "sqlite_schema", "sqlite_temp_master"})


def _action_name(action: int, table: str | None) -> str:
    """What the authorizer refused, for the error message (``CREATE``, ``DROP`` …)."""
    if (table or "").lower() in _SCHEMA_TABLES:
        return "changing the schema (CREATE, DROP, ALTER)"
    if action == apsw.SQLITE_ATTACH and not table:  # VACUUM attaches a nameless temp file
        return "VACUUM"
    if action in _ACTION_NAMES:
        return _ACTION_NAMES[action]
    code = apsw.mapping_authorizer_function.get(action, "")
    if isinstance(code, str):
        for word in ("CREATE", "DROP", "ALTER"):
            if code.startswith(f"SQLITE_{word}"):
                return word
    return "changing the database"


def sqlite_message(exc: BaseException) -> str:
    """SQLite's own message of an apsw error (without apsw's ``SQLError:`` prefix)."""
    text = str(exc)
    prefix = f"{type(exc).__name__}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


@attrs.frozen
class SqlSource:
    """One installation's database: its name, its ``data.db`` and its connector's schema —
    or, for an installation kept on a server, ``rows``: what opens its tables (attached as
    virtual tables, workspace level only; ``_server_tables``)."""

    name: str
    path: Path | None
    schema: Schema
    rows: Callable[[], TableRows] | None = None


@attrs.frozen
class SqlResult:
    """Column names (made unique: ``x``, ``x_2``) and rows; ``truncated`` when ``limit`` cut."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    truncated: bool = False

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def _ro_uri(path: Path) -> str:
    return f"file:{url_quote(str(path.resolve()))}?mode=ro"


def unique_names(names: Sequence[str]) -> tuple[str, ...]:
    """Column names made unique: ``x``, ``x_2``."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for name in names:
        count = seen.get(name, 0) + 1
        seen[name] = count
        out.append(name if count == 1 else f"{name}_{count}")
    return tuple(out)


class ReadOnlySql:
    """A read-only connection over one installation (``qualified=False``) or several."""

    def __init__(self, sources: Sequence[SqlSource], *, qualified: bool) -> None:
        for source in sources:
            if source.rows is not None:
                if not qualified:
                    raise ValueError("a server installation is read at the workspace level only")
                continue
            if source.path is None or not source.path.is_file():
                raise ErrSqlDatabaseMissing(
                    installation=source.name,
                    path=str(source.path or "?"),
                    hint=f"max sync {source.name} fills it",
                )
        self.sources = tuple(sources)
        self.qualified = qualified
        self.views: list[str] = []
        self._denied: str | None = None
        self._entities = sorted({e for s in sources for e in s.schema.entity_types})
        self._servers: ServerTables | None = None
        flags = apsw.SQLITE_OPEN_URI
        try:
            if qualified:
                main, flags = ":memory:", flags | apsw.SQLITE_OPEN_READWRITE
            else:
                (only,) = sources
                assert only.path is not None
                main, flags = _ro_uri(only.path), flags | apsw.SQLITE_OPEN_READONLY
            self.connection = apsw.Connection(main, flags=flags)
        except apsw.Error as exc:
            raise ErrSqlFailed(reason=sqlite_message(exc), hint=_FILE_HINT) from None
        try:
            if qualified:
                self._attach(sources)
            self._make_views()
            self.connection.setbusytimeout(5000)
            self.connection.execute("PRAGMA query_only = 1")
            self.connection.authorizer = self._authorize
        except apsw.Error as exc:
            self.close()
            raise ErrSqlFailed(reason=sqlite_message(exc), hint=_FILE_HINT) from None
        except BaseException:
            self.close()
            raise

    def _attach(self, sources: Sequence[SqlSource]) -> None:
        for source in sources:
            if source.rows is not None:
                if self._servers is None:
                    self._servers = ServerTables(self.connection)
                self._servers.attach(source.name, source.rows())
            else:
                assert source.path is not None
                self.connection.execute(
                    f"ATTACH ? AS {quote(source.name)}", (_ro_uri(source.path),)
                )

    def _make_views(self) -> None:
        for source in self.sources:
            database = source.name if self.qualified else "main"
            existing = existing_columns(self.connection, database)
            prefix = source.name if self.qualified else None
            for name, statement in view_statements(source.schema, database, existing, prefix):
                self.connection.execute(statement)
                self.views.append(name)
        if self.qualified:
            self._make_unambiguous_aliases()

    def _make_unambiguous_aliases(self) -> None:
        """At the workspace level, ``AcmeTask`` alone names ``"acme-1".AcmeTask`` when only one
        installation has that entity type (a TEMP view over the qualified one)."""
        owners: dict[str, list[str]] = {}
        for name in self.views:
            _, _, entity = name.rpartition(".")
            owners.setdefault(entity, []).append(name)
        for entity, names in owners.items():
            if len(names) == 1 and entity and entity not in self.views:
                self.connection.execute(
                    f"CREATE TEMP VIEW {quote(entity)} AS SELECT * FROM temp.{quote(names[0])}"
                )
                self.views.append(entity)

    def _authorize(
        self, action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None
    ) -> int:
        if action in _ALLOWED_ACTIONS:
            return apsw.SQLITE_OK
        if action == apsw.SQLITE_FUNCTION and (arg2 or "").lower() != "load_extension":
            return apsw.SQLITE_OK
        if action == apsw.SQLITE_PRAGMA and (arg1 or "").lower() in READ_ONLY_PRAGMAS:
            return apsw.SQLITE_OK
        if self._denied is None:
            self._denied = _action_name(action, arg1)
        return apsw.SQLITE_DENY

    def close(self) -> None:
        self.connection.close()
        if self._servers is not None:
            self._servers.close()

    def __enter__(self) -> ReadOnlySql:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- running ---------------------------------------------------------------------------------

    def prepare(self, sql: str) -> str:
        """``sql`` with ``"acme-1".AcmeTask`` spelled as its view (workspace level only)."""
        if not self.qualified:
            return sql
        return qualify_entities(sql, [s.name for s in self.sources], self._entities)

    def execute_sync(self, sql: str, limit: int | None = None) -> SqlResult:
        """Run ``sql`` in this thread; at most ``limit`` rows (None: all)."""
        self._denied = None
        try:
            cursor = self.connection.cursor()
            described: list[tuple[str, ...]] = []

            def describe(running: Any, _sql: str, _bindings: Any) -> bool:
                # each statement, prepared and about to run: its columns, even with no rows
                if not described:
                    names = [d[0] for d in running.get_description()]
                    if names:
                        described.append(unique_names(names))
                return True

            cursor.exec_trace = describe
            cursor.execute(self.prepare(sql))
            rows: list[tuple[Any, ...]] = []
            truncated = False
            for row in cursor:
                if limit is not None and len(rows) >= limit:
                    truncated = True
                    break
                rows.append(tuple(row))
            cursor.close()
            columns = described[0] if described else ()
        except apsw.InterruptError:
            raise
        except apsw.Error as exc:
            message = sqlite_message(exc)
            if message.startswith("cannot modify"):  # a view
                self._denied = "changing a view"
            elif message.endswith("may not be modified"):  # a server's (virtual) table
                self._denied = "changing a table"
            if self._denied is None and not isinstance(exc, apsw.AuthError | apsw.ReadOnlyError):
                raise ErrSqlFailed(
                    reason=message,
                    hint="the views and their columns: max sql --help; fields: max schema",
                ) from None
            action = self._denied or "writing"
            raise ErrSqlReadOnly(
                action=action,
                reason=message,
                hint="use SELECT (or WITH … SELECT); data changes come from max sync",
            ) from None
        return SqlResult(columns, tuple(rows), truncated)

    async def execute(
        self, sql: str, *, time_limit: float = DEFAULT_TIMEOUT, limit: int | None = None
    ) -> SqlResult:
        """Run ``sql`` in a worker thread; interrupt it after ``time_limit`` seconds or when the
        caller is cancelled (the thread is always waited for, so the connection stays usable)."""
        state = {"running": True, "timed_out": False}

        finished = trio.Event()

        async def interrupt_until_finished() -> None:
            # sqlite3_interrupt() only stops statements already running: one sent while the
            # worker thread is still starting the statement would be lost, so keep sending.
            while state["running"] and not finished.is_set():
                self.connection.interrupt()
                with trio.move_on_after(0.05):
                    await finished.wait()

        async def watchdog() -> None:
            await trio.sleep(time_limit if math.isfinite(time_limit) else math.inf)
            state["timed_out"] = True
            await interrupt_until_finished()

        token = trio.lowlevel.current_trio_token()

        def work() -> SqlResult | Exception:
            try:
                return _capture(self.execute_sync, sql, limit)
            finally:
                token.run_sync_soon(finished.set)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(watchdog)
            try:
                # abandonable, so that Ctrl-C (KeyboardInterrupt) reaches this task at once …
                outcome = await trio.to_thread.run_sync(work, abandon_on_cancel=True)
            except BaseException:
                # … then the statement is interrupted and the thread waited for: the
                # connection never keeps running behind the caller's back, and is never
                # closed while the thread still uses it
                await _outlast_interrupts(interrupt_until_finished)
                raise
            finally:
                state["running"] = False
                nursery.cancel_scope.cancel()
        # raised here, outside the nursery, so callers get the error itself (not a group)
        if isinstance(outcome, TimeoutError):  # a server's own statement timeout
            state["timed_out"] = True
            outcome = apsw.InterruptError()
        if isinstance(outcome, apsw.InterruptError):
            if state["timed_out"]:
                raise ErrSqlTimeout(
                    seconds=f"{time_limit:g}",
                    hint="make the query cheaper, or give it longer with --timeout",
                )
            await trio.lowlevel.checkpoint()  # cancelled (Ctrl-C): raises Cancelled here
            raise ErrSqlFailed(reason="interrupted")
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


async def _outlast_interrupts(wait: Callable[[], Awaitable[None]]) -> None:
    """``await wait()`` to its end, shielded from cancellation — and from KeyboardInterrupt:
    a shield holds back cancellation only, and a second Ctrl-C pressed while the first one is
    being honoured would otherwise leave the worker thread running the statement (and the
    caller closing a connection that is busy in it)."""
    with trio.CancelScope(shield=True):
        while True:
            try:
                await wait()
                return
            except KeyboardInterrupt:
                continue  # the first Ctrl-C is already being honoured


def _capture(run: Any, *args: Any) -> SqlResult | Exception:
    """``run(*args)``, or the exception it raised (returned, to be raised by the caller)."""
    try:
        result: SqlResult = run(*args)
    except Exception as exc:
        return exc
    return result
