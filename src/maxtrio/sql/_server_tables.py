"""Tables kept on a database server, read by SQLite as virtual tables.

A workspace-level ``max sql`` runs in one SQLite connection. An installation whose data lives on
a server (PostgreSQL) has no ``data.db`` to attach; instead an empty in-memory database is
attached under its name and each of its tables becomes a read-only virtual table there, with the
table's own name and columns. The views of ``_views`` are then made over them exactly as over a
file, so ``"acme-pg".AcmeTask`` joins ``"acme-1".AcmeUser`` like any two installations.

The rows come from a :class:`TableRows` (``maxtrio.storage.PgTableRows`` for PostgreSQL): one
snapshot for the whole statement. SQLite's planner is told what a scan costs: a whole table is
expensive, a lookup ``column = 'text'`` (refs and ``_id``, under SQLite's default ``BINARY``
collation) is cheap and is sent to the server. SQLite still checks every condition on the rows
it gets back, so what the server narrows never changes an answer. Only the columns the statement
uses are fetched.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import apsw

from maxtrio.storage import quote

MODULE_NAME = "max_server_table"

#: Planner costs: a whole table is read from the server; a narrowed scan is an index lookup.
SCAN_COST = 1_000_000.0
LOOKUP_COST = 10.0


class TableRows(Protocol):
    """What a server installation's tables offer SQLite (blocking calls)."""

    def tables(self) -> dict[str, list[tuple[str, str]]]:
        """Each table → its columns as ``(name, SQLite type)``."""
        ...

    def scan(
        self, table: str, columns: Sequence[str], equals: Sequence[tuple[str, str]] = ()
    ) -> Iterator[tuple[Any, ...]]:
        """The rows of ``table`` (``columns`` only) whose text columns equal the texts."""
        ...

    def close(self) -> None: ...


class ServerTables:
    """The virtual-table module of one connection; :meth:`attach` adds an installation."""

    def __init__(self, connection: apsw.Connection) -> None:
        self.connection = connection
        self.pending: dict[tuple[str, str], tuple[TableRows, list[tuple[str, str]]]] = {}
        self.sources: list[TableRows] = []
        module: Any = self  # apsw's VTModule protocol, by its method names
        connection.create_module(MODULE_NAME, module, use_bestindex_object=True, read_only=True)

    def attach(self, name: str, rows: TableRows) -> None:
        """Attach an in-memory database ``name`` holding one virtual table per table of
        ``rows``; ``rows`` is closed by :meth:`close`."""
        self.sources.append(rows)
        self.connection.execute(f"ATTACH ':memory:' AS {quote(name)}")
        for table, columns in rows.tables().items():
            self.pending[(name, table)] = (rows, columns)
            self.connection.execute(
                f"CREATE VIRTUAL TABLE {quote(name)}.{quote(table)} USING {MODULE_NAME}"
            )

    def Create(
        self, _connection: apsw.Connection, _module: str, database: str, table: str, *_args: Any
    ) -> tuple[str, _Table]:
        rows, columns = self.pending[(database, table)]
        body = ", ".join(f"{quote(column)} {kind}" for column, kind in columns)
        return f"CREATE TABLE x({body})", _Table(rows, table, columns)

    Connect = Create

    def close(self) -> None:
        """Close every attached source (after the connection is closed)."""
        for rows in self.sources:
            rows.close()
        self.sources.clear()


class _Table:
    def __init__(self, rows: TableRows, table: str, columns: list[tuple[str, str]]) -> None:
        self.rows = rows
        self.table = table
        self.columns = [column for column, _ in columns]
        self.text = [kind == "TEXT" for _, kind in columns]

    def BestIndexObject(self, info: apsw.IndexInfo) -> bool:
        used = sorted(c for c in info.colUsed if 0 <= c < len(self.columns))
        equals: list[int] = []
        for i in range(info.nConstraint):
            column = info.get_aConstraint_iColumn(i)
            if (
                info.get_aConstraint_usable(i)
                and info.get_aConstraint_op(i) == apsw.SQLITE_INDEX_CONSTRAINT_EQ
                and 0 <= column < len(self.columns)
                and self.text[column]
                and info.get_aConstraint_collation(i).upper() == "BINARY"
                and column not in equals
            ):
                equals.append(column)
                info.set_aConstraintUsage_argvIndex(i, len(equals))  # SQLite rechecks it
        info.idxStr = json.dumps({"columns": used, "equals": equals})
        info.estimatedCost = LOOKUP_COST if equals else SCAN_COST
        info.estimatedRows = 10 if equals else 1_000_000
        return True

    def Open(self) -> _Cursor:
        return _Cursor(self)

    def Disconnect(self) -> None:
        pass

    Destroy = Disconnect


class _Cursor:
    def __init__(self, table: _Table) -> None:
        self.table = table
        self.rows: Iterator[tuple[Any, ...]] = iter(())
        self.row: tuple[Any, ...] | None = None
        self.positions: dict[int, int] = {}
        self.rowid = 0

    def Filter(self, _number: int, plan: str | None, args: tuple[Any, ...] | None) -> None:
        self.Close()
        decided = json.loads(plan) if plan else {"columns": [], "equals": []}
        names = self.table.columns
        used: list[int] = decided["columns"]
        self.positions = {column: place for place, column in enumerate(used)}
        if any(value is None for value in args or ()):  # ``= NULL`` is never true
            self.rows, self.row = iter(()), None
            return
        # a value that is not text (SQLite may compare it as text) is left to SQLite's check
        equals = [
            (names[column], value)
            for column, value in zip(decided["equals"], args or (), strict=False)
            if isinstance(value, str)
        ]
        self.rows = self.table.rows.scan(self.table.table, [names[c] for c in used], equals)
        self.rowid = 0
        self.Next()

    def Eof(self) -> bool:
        return self.row is None

    def Next(self) -> None:
        self.row = next(self.rows, None)
        self.rowid += 1

    def Rowid(self) -> int:
        return self.rowid

    def Column(self, number: int) -> Any:
        if number == -1:
            return self.rowid
        place = self.positions.get(number)
        return None if place is None or self.row is None else self.row[place]

    def Close(self) -> None:
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()
