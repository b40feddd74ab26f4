"""A workspace-level ``ReadOnlySql`` with one installation on the session's real PostgreSQL
server (virtual tables over ``storage.PgTableRows``) beside one ``data.db`` holding the same
entities: every query answers the same on both, joins across them work, nothing can be
written, and the server's rows come from one snapshot."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from maxtrio.core import EntityInput, MaxError
from maxtrio.sql import ErrSqlReadOnly, ErrSqlTimeout, ReadOnlySql, SqlSource
from maxtrio.storage import PgTableRows, SqliteEngine

from ..pg.server import PgServer
from ..storage.entities import ACME, AcmeProject, AcmeTask, AcmeUser
from ..storage.sql_engines import pg_engine

QUERIES = [
    'SELECT * FROM "{i}".AcmeTask ORDER BY _id',
    'SELECT * FROM "{i}".AcmeUser ORDER BY _id',
    'SELECT * FROM "{i}"._acme_task ORDER BY _id',
    "SELECT _id, title FROM \"{i}\".AcmeTask WHERE _id = 't' || char(0) || '1'",
    "SELECT _id FROM \"{i}\".AcmeTask WHERE title = 'Write' COLLATE NOCASE ORDER BY 1",
    'SELECT _id FROM "{i}".AcmeTask WHERE project = 7 ORDER BY 1',
    'SELECT _id FROM "{i}".AcmeTask WHERE "group" = 7 ORDER BY 1',
    'SELECT _id FROM "{i}".AcmeTask WHERE project = NULL',
    'SELECT _id FROM "{i}".AcmeTask WHERE done AND priority > 1.5 ORDER BY 1',
    "SELECT _id, due FROM \"{i}\".AcmeTask WHERE due < '2025-01-01' ORDER BY due, _id",
    'SELECT typeof(priority), typeof(done), typeof(due), count(*) FROM "{i}".AcmeTask '
    "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    'SELECT p.name, count(t._id) FROM "{i}".AcmeProject p LEFT JOIN "{i}".AcmeTask t '
    "ON t.project = p._id GROUP BY p._id ORDER BY p._id",
    'SELECT t._id, u."displayName" FROM "{i}".AcmeTask t JOIN "{i}".AcmeProject p '
    'ON p._id = t.project JOIN "{i}".AcmeUser u ON u._id = p.owner ORDER BY t._id',
    "SELECT _id FROM \"{i}\".AcmeTask WHERE project IN ('p1', 'p2') ORDER BY _id",
]


def _inputs() -> list[EntityInput]:
    users = [
        EntityInput(AcmeUser.ref(f"u{n}"), {"displayName": f"User {n}", "active": n % 2 == 0})
        for n in range(3)
    ]
    projects = [
        EntityInput(AcmeProject.ref(f"p{n}"), {"name": f"P{n}", "owner": AcmeUser.ref(f"u{n}")})
        for n in range(3)
    ]
    tasks = []
    for n in range(40):
        values: dict[str, Any] = {
            "title": ["Write", "write", "Re\x00view", "ship"][n % 4],
            "priority": [1, 2.5, None, 3][n % 4],
            "done": [True, False, None][n % 3],
            "due": datetime(2024 + n % 3, 1 + n % 12, 1, tzinfo=UTC) if n % 5 else None,
            "project": AcmeProject.ref(f"p{n % 4}") if n % 7 else None,
            "group": "7" if n % 6 == 0 else "x",
        }
        tasks.append(EntityInput(AcmeTask.ref(f"t\x00{n}" if n < 10 else f"t{n}"), values))
    return users + projects + tasks


@pytest.fixture
async def installations(
    pg_server: PgServer, tmp_path: Path
) -> AsyncIterator[tuple[list[SqlSource], PgServer, str]]:
    path = tmp_path / "data.db"
    sqlite = SqliteEngine.open(path, ACME)
    try:
        await sqlite.store_many(_inputs())
    finally:
        await sqlite.aclose()
    with pg_engine(pg_server, ACME) as pg:
        await pg.store_many(_inputs())
        schema = pg.database.schema
        opener = functools.partial(PgTableRows, pg_server.dsn(), schema, time_limit=5.0)
        sources = [SqlSource("on-file", path, ACME), SqlSource("on-pg", None, ACME, rows=opener)]
        yield sources, pg_server, schema


@pytest.fixture
def database(
    installations: tuple[list[SqlSource], PgServer, str],
) -> Iterator[ReadOnlySql]:
    sources, _, _ = installations
    with ReadOnlySql(sources, qualified=True) as database:
        yield database


async def test_every_query_answers_as_on_the_file(database: ReadOnlySql) -> None:
    for query in QUERIES:
        on_file = await database.execute(query.format(i="on-file"))
        on_pg = await database.execute(query.format(i="on-pg"))
        assert on_pg == on_file, query
        assert on_pg.rows or "NULL" in query or "project = 7" in query, query


async def test_joins_across_installations(database: ReadOnlySql) -> None:
    query = (
        'SELECT t._id, p.name FROM "{a}".AcmeTask t JOIN "{b}".AcmeProject p '
        "ON p._id = t.project ORDER BY t._id"
    )
    mixed = await database.execute(query.format(a="on-pg", b="on-file"))
    assert mixed == await database.execute(query.format(a="on-file", b="on-pg"))
    assert mixed == await database.execute(query.format(a="on-file", b="on-file"))
    assert len(mixed.rows) > 20


async def test_nothing_is_written_to_the_server(database: ReadOnlySql) -> None:
    for statement in (
        'DELETE FROM "on-pg".AcmeTask',
        'UPDATE "on-pg"._acme_task SET title = 1',
        "INSERT INTO \"on-pg\"._acme_task (_id) VALUES ('x')",
        'DROP TABLE "on-pg"._acme_task',
    ):
        with pytest.raises(MaxError) as refused:
            await database.execute(statement)
        assert ErrSqlReadOnly.matches(refused.value), statement
    count = await database.execute('SELECT count(*) FROM "on-pg".AcmeTask')
    assert count.rows == ((40,),)


async def test_one_snapshot_for_the_whole_statement(
    installations: tuple[list[SqlSource], PgServer, str],
) -> None:
    sources, server, schema = installations
    with ReadOnlySql(sources, qualified=True) as database:
        before = await database.execute('SELECT count(*) FROM "on-pg".AcmeTask')
        with psycopg.connect(server.dsn(), autocommit=True) as other:
            other.execute(f'DELETE FROM "{schema}"._acme_task WHERE _id = %s', ("t11",))
        after = await database.execute('SELECT count(*) FROM "on-pg".AcmeTask')
        assert before.rows == after.rows == ((40,),)  # the connection's snapshot
    with ReadOnlySql(sources, qualified=True) as fresh:
        assert (await fresh.execute('SELECT count(*) FROM "on-pg".AcmeTask')).rows == ((39,),)


async def test_a_slow_server_read_is_the_timeout_error(
    installations: tuple[list[SqlSource], PgServer, str],
) -> None:
    _, server, schema = installations
    slow = functools.partial(PgTableRows, server.dsn(), schema, time_limit=0.2)
    with psycopg.connect(server.dsn()) as locker:  # holds the table: the scan waits on it
        locker.execute(f'LOCK TABLE "{schema}"._acme_task IN ACCESS EXCLUSIVE MODE')
        with (
            ReadOnlySql([SqlSource("on-pg", None, ACME, rows=slow)], qualified=True) as database,
            pytest.raises(MaxError) as slow_read,
        ):
            await database.execute('SELECT count(*) FROM "on-pg".AcmeTask', time_limit=0.2)
        assert ErrSqlTimeout.matches(slow_read.value)


class _Recording:
    """``PgTableRows`` that records what each scan asked the server for."""

    def __init__(self, rows: PgTableRows) -> None:
        self.rows = rows
        self.scans: list[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]] = []

    def tables(self) -> dict[str, list[tuple[str, str]]]:
        return self.rows.tables()

    def scan(self, table: str, columns: Any, equals: Any = ()) -> Iterator[tuple[Any, ...]]:
        self.scans.append((table, tuple(columns), tuple(equals)))
        return self.rows.scan(table, columns, equals)

    def close(self) -> None:
        self.rows.close()


async def test_lookups_and_used_columns_are_sent_to_the_server(
    installations: tuple[list[SqlSource], PgServer, str],
) -> None:
    sources, server, schema = installations
    recording = _Recording(PgTableRows(server.dsn(), schema))
    source = SqlSource("on-pg", None, ACME, rows=lambda: recording)
    with ReadOnlySql([source, sources[0]], qualified=True) as database:
        found = await database.execute("SELECT title FROM \"on-pg\".AcmeTask WHERE _id = 't13'")
        assert found.rows == (("write",),)
        assert recording.scans == [("_acme_task", ("_id", "title"), (("_id", "t13"),))]
        recording.scans.clear()
        join = (
            'SELECT count(*) FROM "on-file".AcmeTask t JOIN "{}".AcmeProject p ON p._id = t.project'
        )
        joined = await database.execute(join.format("on-pg"))
        assert joined == await database.execute(join.format("on-file"))
        assert joined.rows[0][0] > 20
        # a lookup per task, each project's read from the server once (then cached)
        assert set(recording.scans) <= {
            ("_acme_project", ("_id",), (("_id", f"p{n}"),)) for n in range(4)
        }
