"""``maxtrio.sql.ReadOnlySql`` on real ``data.db`` files written by the engine: the views, the
three locks (read-only open, ``query_only``, the authorizer), timeouts, attached workspaces."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import trio
import trio.testing

from maxtrio.connectors.acme import AcmeSchema, AcmeTask, AcmeUser
from maxtrio.core import EntityInput, MaxError
from maxtrio.sql import ErrSqlFailed, ErrSqlReadOnly, ErrSqlTimeout, ReadOnlySql, SqlSource
from maxtrio.storage import SqliteEngine

FOREVER = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"


async def make_db(path: Path, tasks: int = 10) -> Path:
    engine = SqliteEngine.open(path, AcmeSchema)
    try:
        await engine.store_many(
            [EntityInput(AcmeUser.ref("usr_1"), {"displayName": "Ada", "active": True})]
            + [
                EntityInput(
                    AcmeTask.ref(f"tsk_{i}"),
                    {
                        "title": f"Task {i}",
                        "status": "todo" if i % 2 else "done",
                        "assignee": AcmeUser.ref("usr_1"),
                    },
                )
                for i in range(tasks)
            ]
        )
    finally:
        await engine.aclose()
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_views_use_field_names_and_refs_as_ids(tmp_path: Path) -> None:
    path = await make_db(tmp_path / "data.db")
    with ReadOnlySql([SqlSource("acme-1", path, AcmeSchema)], qualified=False) as database:
        assert {"AcmeTask", "AcmeUser", "AcmeProject"} <= set(database.views)
        result = await database.execute(
            "select t.title, u.displayName from AcmeTask t join AcmeUser u "
            "on u._id = t.assignee where t.status = 'todo' order by 1"
        )
        assert result.columns == ("title", "displayName")
        assert result.rows[0] == ("Task 1", "Ada")
        assert len(result.rows) == 5
        columns = await database.execute("select name from pragma_table_info('AcmeUser')")
        names = [row[0] for row in columns.rows]
        assert names[0] == "_id" and "displayName" in names and "display_name" not in names
        assert not {"_synced_at", "_synced_mask", "_seen"} & set(names)


async def test_limit_and_duplicate_column_names(tmp_path: Path) -> None:
    path = await make_db(tmp_path / "data.db")
    with ReadOnlySql([SqlSource("acme-1", path, AcmeSchema)], qualified=False) as database:
        result = await database.execute("select title, title from AcmeTask", limit=3)
        assert result.columns == ("title", "title_2")
        assert len(result.rows) == 3 and result.truncated
        empty = await database.execute("select _id, title from AcmeTask where 0")
        assert empty.columns == ("_id", "title") and empty.rows == ()


@pytest.mark.parametrize(
    "statement",
    [
        "delete from _acme_task",
        "insert into _acme_task(_id) values ('x')",
        "update _acme_task set title = 'x'",
        "drop table _acme_task",
        "create index i on _acme_task(title)",
        "pragma query_only = 0",
        "pragma writable_schema = 1",
        "attach ':memory:' as other",
        "detach main",
        "begin immediate",
        "savepoint s",
        "analyze",
        "reindex",
        "vacuum",
        "select load_extension('libx')",
    ],
)
async def test_every_write_is_refused(tmp_path: Path, statement: str) -> None:
    path = await make_db(tmp_path / "data.db")
    before = digest(path)
    with ReadOnlySql([SqlSource("acme-1", path, AcmeSchema)], qualified=False) as database:
        with pytest.raises(MaxError) as raised:
            await database.execute(statement)
        assert ErrSqlReadOnly.matches(raised.value), raised.value
        # still usable afterwards
        assert (await database.execute("select count(*) from AcmeTask")).rows == ((10,),)
    assert digest(path) == before


async def test_the_file_is_opened_read_only_even_without_the_authorizer(tmp_path: Path) -> None:
    path = await make_db(tmp_path / "data.db")
    before = digest(path)
    database = ReadOnlySql([SqlSource("acme-1", path, AcmeSchema)], qualified=False)
    try:
        database.connection.authorizer = None
        database.connection.execute("pragma query_only = 0")
        with pytest.raises(Exception, match="readonly"):
            database.connection.execute("delete from _acme_task")
    finally:
        database.close()
    assert digest(path) == before


async def test_timeout_interrupts_and_the_connection_stays_usable(tmp_path: Path) -> None:
    path = await make_db(tmp_path / "data.db")
    with ReadOnlySql([SqlSource("acme-1", path, AcmeSchema)], qualified=False) as database:
        with trio.fail_after(10), pytest.raises(MaxError, match=r"after 0\.2 s") as raised:
            await database.execute(FOREVER, time_limit=0.2)
        assert ErrSqlTimeout.matches(raised.value)
        assert (await database.execute("select 1")).rows == ((1,),)


async def test_cancellation_interrupts_the_statement(tmp_path: Path) -> None:
    path = await make_db(tmp_path / "data.db")
    with ReadOnlySql([SqlSource("acme-1", path, AcmeSchema)], qualified=False) as database:
        with trio.fail_after(10):
            with trio.move_on_after(0.2) as scope:
                await database.execute(FOREVER, time_limit=600)
        assert scope.cancelled_caught
        assert (await database.execute("select 2")).rows == ((2,),)


async def test_workspace_attaches_each_installation_under_its_name(tmp_path: Path) -> None:
    one = await make_db(tmp_path / "one.db", tasks=4)
    two = await make_db(tmp_path / "two.db", tasks=6)
    sources = [SqlSource("acme-1", one, AcmeSchema), SqlSource("acme2", two, AcmeSchema)]
    with ReadOnlySql(sources, qualified=True) as database:
        result = await database.execute(
            'select (select count(*) from "acme-1".AcmeTask),'
            " (select count(*) from acme2.AcmeTask),"
            ' (select count(*) from "acme2"."_acme_task")'
        )
        assert result.rows == ((4, 6, 6),)
        with pytest.raises(MaxError) as refused:
            await database.execute('delete from "acme-1"._acme_task')
        assert ErrSqlReadOnly.matches(refused.value)
        with pytest.raises(MaxError, match="no such table: AcmeTask") as unknown:
            await database.execute("select * from AcmeTask")
        assert ErrSqlFailed.matches(unknown.value)


async def test_a_file_that_is_no_database_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "data.db"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(MaxError, match="not a database") as raised:
        ReadOnlySql([SqlSource("acme-1", path, AcmeSchema)], qualified=False)
    assert ErrSqlFailed.matches(raised.value)


async def test_a_second_ctrl_c_does_not_cut_the_wait_for_the_statement_short() -> None:
    """While a cancelled statement is being interrupted, a KeyboardInterrupt (Ctrl-C pressed
    again: a cancel scope's shield does not hold it back) must not end the wait — the
    statement would run on in its worker thread and the connection close under it."""
    from maxtrio.sql._readonly import _outlast_interrupts

    calls: list[str] = []
    thread_done = trio.Event()

    async def interrupt_until_finished() -> None:
        calls.append("wait")
        if len(calls) == 1:
            raise KeyboardInterrupt  # the second Ctrl-C, delivered to the waiting task
        await thread_done.wait()

    async def worker_finishes() -> None:
        await trio.testing.wait_all_tasks_blocked()
        thread_done.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(worker_finishes)
        with trio.CancelScope() as scope:
            scope.cancel()  # the caller was cancelled (the first Ctrl-C): still shielded
            await _outlast_interrupts(interrupt_until_finished)
    assert calls == ["wait", "wait"] and thread_done.is_set()
