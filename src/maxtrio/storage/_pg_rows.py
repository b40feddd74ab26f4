"""An installation's PostgreSQL tables read as SQLite would read its ``data.db`` (blocking).

A workspace-level ``max sql`` joins installations in one SQLite connection; an installation on
PostgreSQL takes part through virtual tables (``maxtrio.sql``) whose rows come from here.

:class:`PgTableRows` holds one connection in one ``REPEATABLE READ READ ONLY`` transaction, so
every table a statement reads — however many times the statement's plan scans it — comes from
the same snapshot, and nothing can be written. Each scan is a server-side cursor fetched in
batches, so a large table is never held in memory; a scan narrowed to ``column = 'text'``
(what joins on refs and ``_id`` ask for) is cached for the statement, as a join repeats the same
few lookups many times. Values come back as a ``data.db`` holds them: booleans as 0/1, text
unescaped (``_pg_values``). The server's ``statement_timeout`` bounds every fetch.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg import sql

from ._errors import ErrStoreUnreachable
from ._pg_database import UNREACHABLE_HINT, PgConnection, connect, dsn_label, scrubbed_reason
from ._pg_values import decode_text, encode_text

#: Rows per fetch of a scan's server-side cursor.
FETCH_ROWS = 2000
#: Narrowed scans (``column = value``) each table keeps for the statement.
CACHED_LOOKUPS = 4096

_SQLITE_TYPES = {"double precision": "REAL", "boolean": "INTEGER", "bigint": "INTEGER"}


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return decode_text(value)
    return value


class PgTableRows:
    """The tables of schema ``schema`` of ``dsn``, read in one snapshot until :meth:`close`."""

    def __init__(self, dsn: str, schema: str, *, time_limit: float | None = None) -> None:
        self._dsn = dsn
        self.schema = schema
        try:
            self._conn: PgConnection = connect(dsn, schema)
        except psycopg.Error as exc:
            raise self._unreachable(exc) from None
        self._names = (f"max_scan_{n}" for n in itertools.count())
        self._lookups: dict[Any, list[tuple[Any, ...]]] = {}
        try:
            self._conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            if time_limit is not None:
                timeout_ms = max(1, int(time_limit * 1000)) if time_limit < 10**9 else 0
                self._conn.execute(f"SET LOCAL statement_timeout = {timeout_ms}")
            self._columns = self._read_columns()
        except psycopg.Error as exc:
            self._conn.close()
            raise self._unreachable(exc) from None

    def _unreachable(self, exc: BaseException) -> Exception:
        return ErrStoreUnreachable(
            store=dsn_label(self._dsn),
            reason=scrubbed_reason(exc, self._dsn),
            hint=UNREACHABLE_HINT,
        )

    def _read_columns(self) -> dict[str, list[tuple[str, str]]]:
        tables: dict[str, list[tuple[str, str]]] = {}
        rows = self._conn.execute(
            "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_schema, table_name) "
            "WHERE c.table_schema = %s AND t.table_type = 'BASE TABLE' "
            "ORDER BY c.table_name, c.ordinal_position",
            (self.schema,),
        ).fetchall()
        for table, column, data_type in rows:
            tables.setdefault(table, []).append((column, _SQLITE_TYPES.get(data_type, "TEXT")))
        return tables

    def tables(self) -> dict[str, list[tuple[str, str]]]:
        """Each table → its columns as ``(name, SQLite type)``, in the table's order."""
        return {table: list(columns) for table, columns in self._columns.items()}

    def scan(
        self, table: str, columns: Sequence[str], equals: Sequence[tuple[str, str]] = ()
    ) -> Iterator[tuple[Any, ...]]:
        """The rows of ``table`` (its ``columns``, in that order) whose text columns equal the
        given texts (byte for byte, as SQLite's ``BINARY`` collation compares)."""
        if table not in self._columns:
            raise KeyError(table)
        statement: sql.Composed = sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in columns) if columns else sql.SQL("1"),
            sql.Identifier(table),
        )
        if equals:
            statement = sql.Composed(
                [
                    statement,
                    sql.SQL(" WHERE "),
                    sql.SQL(" AND ").join(
                        sql.SQL("{} = %s").format(sql.Identifier(c)) for c, _ in equals
                    ),
                ]
            )
            key = (table, tuple(columns), tuple(equals))
            cached = self._lookups.get(key)
            if cached is None:
                cached = list(self._fetch(statement, [encode_text(v) for _, v in equals]))
                if len(self._lookups) >= CACHED_LOOKUPS:
                    self._lookups.pop(next(iter(self._lookups)))
                self._lookups[key] = cached
            return iter(cached)
        return self._fetch(statement, [])

    def _fetch(self, statement: sql.Composed, params: list[Any]) -> Iterator[tuple[Any, ...]]:
        try:
            with self._conn.cursor(name=next(self._names)) as cursor:
                cursor.itersize = FETCH_ROWS
                cursor.execute(statement, params)
                while batch := cursor.fetchmany(FETCH_ROWS):
                    for row in batch:
                        yield tuple(_sqlite_value(v) for v in row)
        except psycopg.errors.QueryCanceled:
            raise TimeoutError("the PostgreSQL statement timeout ran out") from None
        except psycopg.Error as exc:
            raise self._unreachable(exc) from None

    def close(self) -> None:
        """End the snapshot (nothing was written) and close the connection."""
        if self._conn.closed:
            return
        try:
            if not self._conn.broken:
                self._conn.execute("ROLLBACK")
        except psycopg.Error:
            pass
        finally:
            self._conn.close()
