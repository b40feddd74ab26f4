"""``search -o ndjson`` lines written straight from stored rows are the very lines of the
general path (rows → EntityResults → objects → ``dumps_line``): on a real ``data.db`` holding
every kind of value, odd ones too, for every field selection."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from maxtrio.cli._output import PLAIN
from maxtrio.cli._search_output import SearchPage, SearchPrinter
from maxtrio.cli._stored_lines import line_encoder, writes_fields
from maxtrio.core import EntityInput, EntityQuery, FieldKind, PageRequest, Schema
from maxtrio.storage import SqliteEngine

from .test_printers import Task, User  # every kind of field

ODD_TEXT = ["plain", 'quote " and \\ back', "line\nbreak\ttab\x01\x1f\x7f", "é ü 日本 🎉", "", " "]
NUMBERS = [0.0, -0.0, 5.0, 3.5, 0.1 + 0.2, 1e21, 1e20, 1.5e-7, -2.5, 2**53 + 2.0, 12345678.9]
DATES = [
    datetime(2026, 3, 8, 14, 3, 27, 512000, tzinfo=UTC),
    datetime(2026, 3, 8, 14, 3, 27, tzinfo=UTC),  # no milliseconds: isoformat drops them
    datetime(1999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
    datetime(2026, 3, 8, 14, 3, 27, 1000, tzinfo=timezone(timedelta(hours=2))),
]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[SqliteEngine]:
    opened = SqliteEngine.open(tmp_path / "data.db", Schema.create("t", [User, Task]))
    yield opened
    opened.close()


async def _fill(engine: SqliteEngine) -> None:
    rows = []
    for i in range(60):
        fields: dict[str, object] = {
            "title": ODD_TEXT[i % len(ODD_TEXT)] if i % 7 else None,
            "done": bool(i % 2) if i % 5 else None,
            "points": NUMBERS[i % len(NUMBERS)] if i % 6 else None,
            "due": DATES[i % len(DATES)] if i % 9 else None,
            "owner": User.ref(f'u-{i % 3} "ü"') if i % 3 else None,
        }
        rows.append(EntityInput.create(Task, f"t{i:02d}-{ODD_TEXT[i % 4][:3]}", fields))
    await engine.store_many(rows)
    # Values a file may hold that the engine's writes never make: integers in the number
    # column, infinities, booleans other than 0/1, dates in older or broken text.
    odd = [
        ("points", 7, "t01-quo"),
        ("points", float("inf"), "t02-lin"),
        ("points", float("-inf"), "t03-é ü"),
        ("done", 2, "t04-pla"),
        ("due", "2026-03-08T14:03:27+02:00", "t05-quo"),
        ("due", "2026-02-31T00:00:00.000Z", "t06-lin"),
        ("due", "not a date", "t09-quo"),
        ("due", "2026-03-08", "t10-lin"),
        ("title", b"\x00a blob", "t11-é ü"),  # not text: the checked encoder writes this page
        ("owner", 42, "t13-quo"),
    ]

    def patch(conn: object) -> None:
        for column, value, id_ in odd:
            conn.execute(f'UPDATE "_task" SET "{column}" = ? WHERE _id = ?', (value, id_))  # type: ignore[attr-defined]

    await engine.database.write(patch)


async def _both(
    engine: SqliteEngine, selected: tuple[str, ...] | None, limit: int
) -> tuple[str, str]:
    query = EntityQuery(Task)
    general, fast = (
        SearchPrinter("ndjson", PLAIN, streaming=True),
        SearchPrinter("ndjson", PLAIN, streaming=True),
    )
    out_general: list[str] = []
    out_fast: list[str] = []
    cursor: str | None = None
    while True:
        page = await engine.query(query, PageRequest(cursor, limit))
        out_general += general.page(
            SearchPage("Task", page.items, page.has_more, page.cursor, selected)
        )
        stored = await engine.query_stored(query, PageRequest(cursor, limit))
        view = SearchPage("Task", (), stored.has_more, stored.cursor, selected, stored=stored)
        assert writes_fields(selected)
        out_fast += fast.page(view)
        assert stored.cursor == page.cursor and stored.has_more == page.has_more
        if not page.has_more:
            return "\n".join(out_general), "\n".join(out_fast)
        cursor = page.cursor


@pytest.mark.parametrize(
    "selected",
    [
        None,
        ("title",),
        ("due", "_id", "owner"),
        ("_ref", "points", "done", "title"),
        ("owner", "_ref"),
    ],
)
async def test_stored_lines_equal_the_general_path(
    engine: SqliteEngine, selected: tuple[str, ...] | None
) -> None:
    await _fill(engine)
    general, fast = await _both(engine, selected, limit=7)
    assert general.count("\n") == 59
    assert fast == general


async def test_every_odd_value_is_in_the_lines(engine: SqliteEngine) -> None:
    await _fill(engine)
    _, fast = await _both(engine, None, limit=1000)
    for text in ('"points":7', '"points":null', '"done":false', '"due":"2026-03-08T14:03:27+02:00"',
                 '"due":"2026-02-31T00:00:00.000Z"', '"due":"not a date"',
                 '"due":"2026-03-08T00:00:00+00:00"', '"due":"2026-03-08T14:03:27+00:00"',
                 '"due":"2026-03-08T14:03:27.512000+00:00"', '"points":100000000000000000000',
                 '"points":1e+21', "日本 🎉", '\\"ü\\"', '"title":"b\'\\\\x00a blob\'"',
                 '"owner":"ein:User:42"'):  # fmt: skip
        assert text in fast, text


def test_a_field_the_rows_lack_has_no_encoder() -> None:
    fields = ("_id", "title")
    kinds = ((FieldKind.STRING, None), (FieldKind.STRING, None))
    assert line_encoder("Task", ("_id", "missing"), fields, kinds) is None
    assert line_encoder("Task", ("title",), ("title",), kinds[:1]) is None  # no _id first
    encode = line_encoder("Task", ("_ref", "title"), fields, kinds)
    assert encode is not None
    assert encode([("a", None), ("b", "x")]) == [
        '{"_ref":"ein:Task:a"}',
        '{"_ref":"ein:Task:b","title":"x"}',
    ]
