"""``max sql`` as a real process over a synced workspace: views, levels, formats, refusals.

Every refusal is checked against the file itself: ``data.db`` hashes the same before and after
(and no view or table was written into it).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import apsw
import pytest

from maxtrio.sql import qualify_entities
from tests.daemon.harness import Machine, daemon_env
from tests.terminal import Terminal, wait_for_busy_thread

from .conftest import MAX, SHARED_TASKS, Synced, assert_one_line_error, max_env, max_proc

COUNT_BY_STATUS = "select status, count(*) as n from AcmeTask group by 1 order by 1"
FOREVER = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"


def data_db(synced: Synced) -> Path:
    return synced.root / ".max" / "installations" / "acme-1" / "data.db"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def sql(synced: Synced, *args: str) -> object:
    return await max_proc("sql", *args, cwd=synced.root, home=synced.home)


async def test_installation_level_views_match_search(synced: Synced) -> None:
    result = await max_proc(
        "-t", "acme-1", "sql", COUNT_BY_STATUS, "-o", "json", cwd=synced.root, home=synced.home
    )
    assert result.code == 0, result
    document = result.json()
    assert isinstance(document, dict)
    assert document["columns"] == ["status", "n"]
    assert sum(row["n"] for row in document["rows"]) == SHARED_TASKS
    assert document["truncated"] is False


async def test_view_columns_are_field_names_without_sync_state(synced: Synced) -> None:
    result = await max_proc(
        "-t", "acme-1", "sql", "select * from AcmeTask limit 1", "-o", "csv",
        cwd=synced.root, home=synced.home,
    )  # fmt: skip
    assert result.code == 0, result
    header = next(csv.reader(io.StringIO(result.out)))
    assert header[0] == "_id"
    assert {"title", "status", "assignee", "createdBy", "dueDate"} <= set(header)
    assert not {"_synced_at", "_synced_mask", "_seen", "created_by"} & set(header)


async def test_refs_are_ids_and_filter_like_the_issue_example(synced: Synced) -> None:
    users = await max_proc(
        "-t", "acme-1", "sql", "select _id from AcmeUser order by _id limit 1", "-o", "ndjson",
        cwd=synced.root, home=synced.home,
    )  # fmt: skip
    user = json.loads(users.out.splitlines()[0])["_id"]
    query = f"select title, status from AcmeTask where assignee = '{user}'"
    result = await max_proc(
        "-t", "acme-1", "sql", query, "-o", "ndjson", cwd=synced.root, home=synced.home
    )
    assert result.code == 0, result
    rows = [json.loads(line) for line in result.out.splitlines()]
    search = await max_proc(
        "search", "acme-1", "AcmeTask", "-f", f"assignee = {user}", "--all", "-o", "ndjson",
        cwd=synced.root, home=synced.home,
    )  # fmt: skip
    assert sorted(r["title"] for r in rows) == sorted(
        json.loads(line)["title"] for line in search.out.splitlines()
    )
    assert rows and set(rows[0]) == {"title", "status"}


async def test_workspace_level_qualifies_by_installation(synced: Synced) -> None:
    query = (
        'select u.displayName, count(*) as n from "acme-1".AcmeTask t '
        'join "acme-1"."AcmeUser" u on u._id = t.assignee group by 1'
    )
    result = await sql(synced, query, "-o", "json")
    assert result.code == 0, result
    assert sum(row["n"] for row in result.json()["rows"]) <= SHARED_TASKS
    raw = await sql(synced, 'select count(*) as n from "acme-1"._acme_task', "-o", "json")
    assert raw.json()["rows"] == [{"n": SHARED_TASKS}]
    # With one installation holding AcmeTask, the bare name is that installation's view.
    bare = await sql(synced, "select count(*) as n from AcmeTask", "-o", "json")
    assert bare.code == 0, bare
    assert bare.json()["rows"] == [{"n": SHARED_TASKS}]


@pytest.mark.parametrize("output", ["text", "table", "csv", "ndjson"])
async def test_every_output_format(synced: Synced, output: str) -> None:
    result = await max_proc(
        "-t", "acme-1", "sql", COUNT_BY_STATUS, "-o", output, cwd=synced.root, home=synced.home
    )
    assert result.code == 0, result
    assert "todo" in result.out and "\x1b[" not in result.out
    if output == "ndjson":
        assert all(set(json.loads(line)) == {"status", "n"} for line in result.out.splitlines())
    if output == "csv":
        assert result.out.splitlines()[0] == "status,n"


async def test_limit_truncates_with_a_note(synced: Synced) -> None:
    result = await max_proc(
        "-t", "acme-1", "sql", "select _id from AcmeTask", "--limit", "5", "-o", "json",
        cwd=synced.root, home=synced.home,
    )  # fmt: skip
    assert result.code == 0, result
    assert len(result.json()["rows"]) == 5 and result.json()["truncated"] is True
    assert "--limit 0" in result.err


@pytest.mark.parametrize(
    ("statement", "action"),
    [
        ("delete from _acme_task", "DELETE"),
        ("update _acme_task set title = 'x'", "UPDATE"),
        ("insert into _acme_task(_id) values ('x')", "INSERT"),
        ("update AcmeTask set title = 'x'", "changing a view"),
        ("drop table _acme_task", "changing the schema"),
        ("create table t(x)", "changing the schema"),
        ("create temp view v as select 1", "changing the schema"),
        ("attach 'other.db' as other", "ATTACH"),
        ("pragma query_only = 0", "PRAGMA"),
        ("pragma journal_mode = delete", "PRAGMA"),
        ("select load_extension('x')", "load_extension"),
        ("vacuum", "VACUUM"),
    ],
)
async def test_writes_are_refused_and_the_file_is_unchanged(
    synced: Synced, statement: str, action: str
) -> None:
    before = digest(data_db(synced))
    result = await max_proc("-t", "acme-1", "sql", statement, cwd=synced.root, home=synced.home)
    assert_one_line_error(result, contains="read-only")
    assert action in result.err.splitlines()[0]
    assert result.out == ""
    assert digest(data_db(synced)) == before
    qualified = statement.replace("_acme_task", '"acme-1"._acme_task')
    workspace = await sql(synced, qualified.replace(" AcmeTask", ' "acme-1".AcmeTask'))
    assert_one_line_error(workspace, contains="read-only")
    assert digest(data_db(synced)) == before


async def test_no_view_is_written_into_the_file(synced: Synced) -> None:
    await max_proc("-t", "acme-1", "sql", "select 1", cwd=synced.root, home=synced.home)
    connection = apsw.Connection(
        f"file:{data_db(synced)}?mode=ro", flags=apsw.SQLITE_OPEN_URI | apsw.SQLITE_OPEN_READONLY
    )
    try:
        kinds = {row[0] for row in connection.execute("select type from sqlite_master")}
    finally:
        connection.close()
    assert "view" not in kinds


async def test_syntax_error_is_sqlites_message(synced: Synced) -> None:
    result = await max_proc("-t", "acme-1", "sql", "selec 1", cwd=synced.root, home=synced.home)
    assert_one_line_error(result, contains='near "selec": syntax error')
    unknown = await max_proc(
        "-t", "acme-1", "sql", "select nope from AcmeTask", cwd=synced.root, home=synced.home
    )
    assert_one_line_error(unknown, contains="no such column: nope")


async def test_a_long_statement_is_interrupted(synced: Synced) -> None:
    result = await max_proc(
        "-t", "acme-1", "sql", FOREVER, "--timeout", "0.5", cwd=synced.root, home=synced.home
    )
    assert_one_line_error(result, contains="interrupted after 0.5 s")


@pytest.mark.parametrize("presses", [1, 2], ids=["ctrl-c", "ctrl-c-twice"])
def test_ctrl_c_interrupts_a_running_statement(synced: Synced, presses: int) -> None:
    """Ctrl-C at the terminal while an endless statement runs in its worker thread: the
    statement is interrupted and the thread waited for, once or with a second Ctrl-C pressed
    meanwhile (it used to leave the statement running and fail closing the connection)."""
    argv = [MAX, "-t", "acme-1", "sql", FOREVER, "--timeout", "600"]
    with Terminal(argv, cwd=synced.root, env=max_env(synced.home)) as terminal:
        wait_for_busy_thread(terminal.pid)  # the statement runs (no sleep: start-up varies)
        for _ in range(presses):
            terminal.ctrl_c()
        assert terminal.finish(timeout=30) == 130, terminal.text()
        assert terminal.text().replace("^C", "").strip() == "Interrupted."


def test_ctrl_c_interrupts_a_statement_the_daemon_runs(synced: Synced) -> None:
    machine = Machine(synced.home.parent)
    assert machine.home == synced.home
    argv = [MAX, "-t", "acme-1", "sql", FOREVER, "--timeout", "600"]
    try:
        with Terminal(argv, cwd=synced.root, env=daemon_env(synced.home)) as terminal:
            daemon = machine.wait_running(synced.root)
            wait_for_busy_thread(daemon)
            terminal.ctrl_c()
            assert terminal.finish(timeout=30) == 130, terminal.text()
            assert terminal.text().replace("^C", "").strip() == "Interrupted."
        answered = machine.run("-t", "acme-1", "sql", "select count(*) as n from AcmeTask",
                               "-o", "json", cwd=synced.root)  # fmt: skip
        assert json.loads(answered.out)["rows"] == [{"n": SHARED_TASKS}]  # it serves on
    finally:
        assert not machine.stop_all()


async def test_bad_timeout_is_a_usage_error(synced: Synced) -> None:
    result = await sql(synced, "select 1", "--timeout", "0")
    assert result.code == 2 and "timeout must be > 0" in result.err


async def test_not_at_global_level(synced: Synced) -> None:
    result = await max_proc("-g", "sql", "select 1", cwd=synced.root, home=synced.home)
    assert result.code == 2 and "not available at the global level" in result.err


def test_qualify_entities_rewrites_outside_literals_only() -> None:
    sql = (
        """select "acme-1".AcmeTask.title, 'x "acme-1".AcmeTask' """
        """from "acme-1" . "AcmeTask" -- "acme-1".AcmeUser"""
    )
    rewritten = qualify_entities(sql, ["acme-1"], ["AcmeTask", "AcmeUser"])
    assert rewritten == (
        """select "acme-1.AcmeTask".title, 'x "acme-1".AcmeTask' """
        """from "acme-1.AcmeTask" -- "acme-1".AcmeUser"""
    )
    assert qualify_entities("select * from acme1.AcmeTaskX", ["acme1"], ["AcmeTask"]) == (
        "select * from acme1.AcmeTaskX"
    )
    assert qualify_entities("select * from acme1.AcmeTask", ["acme1"], ["AcmeTask"]) == (
        'select * from "acme1.AcmeTask"'
    )
