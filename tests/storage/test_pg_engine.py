"""What only the PostgreSQL engine has: its schema per installation, typed columns, text with
NUL, SQLite's text of numbers, sync-state columns written as SQLite writes them, and errors
that never show the DSN's password. (Everything engines share runs on it through the
``engine`` fixture and the property tests.)"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
import trio
from hypothesis import example, given, settings
from hypothesis import strategies as st

from maxtrio.core import EntityQuery, PageRequest, Projection
from maxtrio.storage import PgEngine, SqliteEngine
from maxtrio.storage._pg_sql import REAL_TEXT_FUNCTION
from maxtrio.storage._pg_values import decode_text, encode_text
from maxtrio.storage._sqlite_semantics import real_text
from maxtrio.storage._table import SyncStamp

from ..hypothesis_budget import examples
from ..pg.server import PASSWORD, PgServer, free_port
from .entities import ACME, AcmeTask, AcmeUser, ids_of, raises_max
from .sql_engines import pg_engine

LOW_TEXT = st.text(alphabet="\x00\x01\x02\x03\x04ab\x7fé", max_size=6)


@settings(max_examples=examples(300))
@given(a=LOW_TEXT, b=LOW_TEXT)
@example(a="\x01\x03", b="\x02")  # an escaped needle never matches across two codes
def test_escaped_text_keeps_order_equality_and_substrings(a: str, b: str) -> None:
    ea, eb = encode_text(a), encode_text(b)
    assert "\x00" not in ea and decode_text(ea) == a
    assert (ea.encode() < eb.encode()) == (a < b)  # byte order (COLLATE "C") = code points
    assert (ea == eb) == (a == b)
    assert (eb in ea) == (b in a)


@pytest.fixture
def pg(pg_server: PgServer) -> Iterator[PgEngine]:
    with pg_engine(pg_server, ACME) as engine:
        yield engine


def _columns(engine: PgEngine, table: str) -> dict[str, str]:
    rows = engine.database.reader.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s",
        (table,),
    ).fetchall()
    return dict(rows)


async def test_each_installation_is_a_schema_with_typed_columns(
    pg_server: PgServer, pg: PgEngine
) -> None:
    assert _columns(pg, "_acme_user") == {
        "_id": "text",
        "display_name": "text",
        "email": "text",
        "role": "text",
        "active": "boolean",
        "score": "double precision",
        "joined": "text",
        "avatar_u_r_l": "text",
        "_synced_at": "bigint",
        "_synced_mask": "bigint",
        "_seen": "bigint",
    }
    await pg.store(AcmeUser.input("u1", displayName="Ada", active=True, score=2))
    with pg_engine(pg_server, ACME) as other:
        assert await other.count(AcmeUser) == 0
        await other.store(AcmeUser.input("u2", displayName="Bob"))
    assert [r.id for r in (await pg.load_page(AcmeUser)).items] == ["u1"]
    row = pg.database.reader.execute("SELECT active, score FROM _acme_user").fetchone()
    assert row == (True, 2.0)


@settings(max_examples=examples(300))
@given(
    value=st.one_of(
        st.floats(allow_nan=False),
        st.integers(-(10**20), 10**20).map(float),
        st.sampled_from([0.1, 1e15, 1e16, 1e17, 1e-4, 1e-5, 12.0, 123456.789, 5e-324]),
    )
)
def test_numbers_read_as_sqlites_text_when_15_digits_give_them_back(
    pg_server: PgServer, value: float
) -> None:
    """``~=`` on a number searches its text as SQLite writes it. The two agree whenever
    SQLite writes 15 significant digits or fewer; for the other numbers SQLite writes 17 by
    its own conversion, and PostgreSQL the shortest digits that give the number back — the
    same number, in the same notation."""
    row = _session(pg_server.dsn()).execute("SELECT _max_real_text(%s)", (value,)).fetchone()
    assert row is not None
    text = row[0]
    sqlite = real_text(value)
    if math.isinf(value):
        assert text == sqlite
        return
    assert float(text) == value == float(sqlite)
    if _significant_digits(sqlite) <= 15:
        assert text == sqlite
    else:
        assert ("e" in text) == ("e" in sqlite)


def _significant_digits(text: str) -> int:
    mantissa = text.lstrip("-").split("e")[0].replace(".", "")
    return len(mantissa.strip("0")) or 1


@functools.cache
def _session(dsn: str) -> psycopg.Connection[Any]:
    """One connection for the examples, with the function in its own schema."""
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute("CREATE SCHEMA IF NOT EXISTS real_text")
    conn.execute("SET search_path TO real_text")
    conn.execute(REAL_TEXT_FUNCTION)
    return conn


async def test_a_syncs_write_stamps_rows_as_sqlite_does(pg: PgEngine, db_path: Any) -> None:
    sqlite = SqliteEngine.open(db_path, ACME)
    try:
        for engine in (sqlite, pg):
            await engine.store_many(
                [AcmeTask.input("t1", title="a", done=True)], SyncStamp(1000, 1)
            )
            await engine.store_many([AcmeTask.input("t1", title="b")], SyncStamp(2000, 2))
            await engine.store_many(
                [AcmeTask.input("t1", title="c", done=False, priority=1)], SyncStamp(3000, 3)
            )
            await engine.store(AcmeTask.input("t2", title="outside a sync"))
        sql = "SELECT _id, _synced_at, _synced_mask, _seen FROM _acme_task ORDER BY _id"
        pg_rows = pg.database.reader.execute(sql).fetchall()
        sqlite_rows = [tuple(r) for r in sqlite.database.reader.execute(sql)]
        assert pg_rows == sqlite_rows
        assert pg_rows[0] == ("t1", 3000, 0b1110, 3)
    finally:
        sqlite.close()


async def test_text_search_finds_text_with_control_characters(pg: PgEngine) -> None:
    await pg.store(AcmeTask.input("a", title="hello\x00 world\x01"))
    await pg.store(AcmeTask.input("b", title="goodbye"))
    query = EntityQuery(AcmeTask, projection=Projection.refs(), text="hello world")
    assert ids_of(await pg.query(query)) == ["a"]


async def test_the_text_index_is_built_by_the_first_text_query(pg: PgEngine) -> None:
    def text_indexes() -> list[str]:
        sql = (
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND indexname LIKE '%\\_\\_text\\_%'"
        )
        return [row[0] for row in pg.database.reader.execute(sql).fetchall()]

    await pg.store(AcmeTask.input("a", title="hello world"))
    assert text_indexes() == []  # writes never pay for an index nobody asked for
    query = EntityQuery(AcmeTask, projection=Projection.refs(), text="hello")
    assert ids_of(await pg.query(query)) == ["a"]
    (name,) = text_indexes()
    assert name.startswith("_acme_task__text_")
    await pg.store(AcmeTask.input("b", title="hello again"))  # the index follows writes
    assert ids_of(await pg.query(query)) == ["a", "b"]
    assert text_indexes() == [name]


async def test_nul_and_control_characters_round_trip_in_ids_and_values(pg: PgEngine) -> None:
    ids = ["a\x00", "a", "\x00", "a\x01b", "\x03\x02"]
    for id_ in ids:
        await pg.store(
            AcmeTask.input(id_, title=id_ + "\x00T", due=datetime(2024, 1, 1, tzinfo=UTC))
        )
    page = await pg.load_page(AcmeTask, page=PageRequest(limit=100))
    assert ids_of(page) == sorted(ids)
    loaded = await pg.load(AcmeTask.ref("a\x01b"))
    assert loaded.get("title") == "a\x01b\x00T"
    assert await pg.delete_many([AcmeTask.ref("a\x00"), AcmeTask.ref("nope")]) == 1


def test_a_wrong_password_is_one_line_without_the_password(pg_server: PgServer) -> None:
    url = pg_server.url().replace(PASSWORD, "wrong-" + PASSWORD)
    with raises_max("storage.store_unreachable") as caught:
        PgEngine.open(url, "x", ACME)
    message = caught.value.message
    assert PASSWORD not in message and "wrong-" not in message
    assert "\n" not in message
    assert "postgresql://maxtrio_pw@127.0.0.1" in message


def test_a_server_that_is_down_is_one_line_without_the_password() -> None:
    url = f"postgresql://someone:{PASSWORD}@127.0.0.1:{free_port()}/db"
    with raises_max("storage.store_unreachable") as caught:
        PgEngine.open(url, "x", ACME)
    assert PASSWORD not in caught.value.message
    assert caught.value.message.startswith("cannot reach the store postgresql://someone@")


def test_the_engine_works_from_trio_with_the_password_role(pg_server: PgServer) -> None:
    async def main() -> list[str]:
        engine = PgEngine.open(pg_server.url(), pg_server.new_schema_name(), ACME)
        try:
            await engine.store_many([AcmeUser.input("u1", email="a@x")])
            return ids_of(await engine.load_page(AcmeUser))
        finally:
            engine.database.writer.execute(
                f'DROP SCHEMA "{engine.database.schema}" CASCADE'  # type: ignore[arg-type]
            )
            engine.close()

    assert trio.run(main) == ["u1"]
