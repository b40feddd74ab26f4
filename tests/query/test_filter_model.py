"""The Python filter model used by storage tests: spec examples, and leaf-by-leaf agreement
with a real SQLite database for the parts it models (affinity, NULLs, ordering, ``~=``).

``~=`` is checked against the SQL the engine compiles (``maxtrio.storage._sql``), comparisons
against plain ``"col" <op> ?``: the model's affinity rules are SQLite's, whatever the engine
binds. The ``@example``s pin the edge cases random exploration found once (NUL and other control
characters, text longer than SQLite's ``LIKE`` pattern limit), so every run checks them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import apsw
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from maxtrio.core import EMPTY_WHERE, EntityDef, Field, Op, Where, and_, or_
from maxtrio.query import parse_where
from maxtrio.storage import TableSpec
from maxtrio.storage._sql import where_sql

from ..hypothesis_budget import examples
from .filter_model import evaluate, filter_rows, is_empty

AcmeUser = EntityDef.create("AcmeUser", {"displayName": Field.string()})
Project = EntityDef.create(
    "Project",
    {
        "title": Field.string(),
        "priority": Field.number(),
        "active": Field.boolean(),
        "owner": Field.ref(AcmeUser),
        "due": Field.date(),
        "members": Field.collection(AcmeUser),
    },
)

ROWS: list[dict[str, Any]] = [
    {
        "_id": "p1",
        "title": "Alpha",
        "priority": 5,
        "active": True,
        "owner": AcmeUser.ref("owner1"),
        "due": dt.datetime(2024, 1, 10, tzinfo=dt.UTC),
    },
    {
        "_id": "p2",
        "title": "42",
        "priority": 2.5,
        "active": False,
        "owner": "ein:AcmeUser:42",
        "due": dt.datetime(2024, 2, 1, 12, 30, tzinfo=dt.UTC),
    },
    {"_id": "p3", "title": "50% off", "priority": None, "active": None, "owner": None},
    {"_id": "p4", "title": "1000", "priority": "7", "active": 1, "owner": "owner1"},
    {"_id": "p5", "title": "Charlie_x", "priority": 10.0, "active": 0, "owner": "u9"},
    {"_id": "p6", "title": None, "priority": -1, "owner": "ein:AcmeUser:owner1"},
]


def ids(text: str) -> list[str]:
    where = parse_where(text, Project).where
    return [row["_id"] for row in filter_rows(where, ROWS, Project)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title = 42", ["p2"]),  # a number against TEXT compares as text
        ("title = 42.0", ["p2"]),  # integral floats bind as integers
        ("title = 1e3", ["p4"]),
        ("title = '42'", ["p2"]),
        ("priority > '5'", ["p4", "p5"]),  # numeric text against REAL compares as a number
        ("priority > 5", ["p4", "p5"]),
        ("priority >= 5", ["p1", "p4", "p5"]),
        ("priority < 0", ["p6"]),
        ("priority = 7", ["p4"]),
        ("priority = 10", ["p5"]),
        ("priority != 5", ["p2", "p4", "p5", "p6"]),  # NULL never matches, not even !=
        ("title != Alpha", ["p2", "p3", "p4", "p5"]),
        ("active = true", ["p1", "p4"]),
        ("active = false", ["p2", "p5"]),
        ("active != true", ["p2", "p5"]),
        ("owner = ein:AcmeUser:owner1", ["p1", "p4", "p6"]),
        ("owner = owner1", ["p1", "p4", "p6"]),
        ("owner = 42", ["p2"]),  # a number against a ref column compares with the id text
        ("_id = p3", ["p3"]),
        ("_id > p4", ["p5", "p6"]),
        ("title ~= li", ["p5"]),
        ("title ~= ALP", ["p1"]),
        ("title ~= '50%'", ["p3"]),  # % is a literal character (MAXTRIO escaping)
        ("title ~= '%'", ["p3"]),
        ("title ~= _", ["p5"]),
        ("title ~= '0_'", []),
        ("priority ~= '.5'", ["p2"]),  # the stored REAL's text
        ("priority ~= '.0'", ["p1", "p4", "p5", "p6"]),
        ("active ~= true", []),  # not column-converted: the text "true" is not in 1
        ("title ~= ''", ["p1", "p2", "p3", "p4", "p5"]),
        ("due < 2024-02-01", ["p1"]),  # dates compare as ISO text
        ("due > 2024-02-01", ["p2"]),
        ("due ~= '2024-02-01T12:30:00.000Z'", ["p2"]),
        ("title ~= a OR priority < 0", ["p1", "p5", "p6"]),
        ("title ~= a AND priority < 0", []),
        ("priority > 1 OR title = 42 AND active = false", ["p2", "p5"]),
    ],
)
def test_spec_examples(text: str, expected: list[str]) -> None:
    assert ids(text) == expected


@pytest.mark.parametrize(
    ("rows", "leaf", "expected"),
    [
        # NUL is a character like any other: it is searched for, found, compared and ordered
        ([("a", "0"), ("b", "a\x00b")], Where("title", Op.CONTAINS, "\x00"), ["b"]),
        ([("a", "b"), ("b", "a\x00B")], Where("title", Op.CONTAINS, "b"), ["a", "b"]),
        ([("a", "x"), ("b", "\x00")], Where("title", Op.EQ, "\x00"), ["b"]),
        ([("a", "a"), ("b", "a\x00")], Where("title", Op.GT, "a"), ["b"]),
        ([("a", "a\x01"), ("b", "a\x00")], Where("title", Op.LT, "a\x01"), ["b"]),
        ([("a", "tab\there"), ("b", "tab here")], Where("title", Op.CONTAINS, "\t"), ["a"]),
        ([("a", "\x7f"), ("b", "\x1f")], Where("title", Op.CONTAINS, "\x1f"), ["b"]),
    ],
)
def test_control_characters_are_literal(
    rows: list[tuple[str, str]], leaf: Where, expected: list[str]
) -> None:
    table = [{"_id": id_, "title": title} for id_, title in rows]
    assert [r["_id"] for r in filter_rows(leaf, table, Project)] == expected


def test_non_ascii_letters_do_not_fold() -> None:
    rows = [{"_id": "a", "title": "Émile"}, {"_id": "b", "title": "émile"}]
    leaf = Where("title", Op.CONTAINS, "ÉMILE")
    assert [r["_id"] for r in filter_rows(leaf, rows, Project)] == ["a"]
    leaf = Where("title", Op.CONTAINS, "MILE")
    assert [r["_id"] for r in filter_rows(leaf, rows, Project)] == ["a", "b"]


def test_empty_groups_are_dropped_like_the_sql_compiler_does() -> None:
    row = ROWS[0]
    assert evaluate(EMPTY_WHERE, row, Project)
    assert evaluate(or_(), row, Project)
    assert is_empty(or_(and_(), or_()))
    assert evaluate(or_(and_(), or_()), row, Project)
    never = Where("title", Op.EQ, "nope")
    assert not evaluate(or_(and_(), never), row, Project)  # not "or(true, …)"
    assert evaluate(and_(and_(), Where("title", Op.EQ, "Alpha")), row, Project)


def test_values_of_every_python_kind_bind_like_the_engine() -> None:
    row = ROWS[0]
    assert evaluate(Where("owner", Op.EQ, AcmeUser.ref("owner1")), row, Project)
    assert evaluate(Where("active", Op.EQ, 1), row, Project)
    due = dt.datetime(2024, 1, 10, tzinfo=dt.UTC)
    assert evaluate(Where("due", Op.EQ, due), row, Project)
    assert not evaluate(Where("priority", Op.EQ, None), row, Project)
    assert not evaluate(Where("priority", Op.EQ, float("nan")), row, Project)


def test_fields_the_engine_cannot_filter() -> None:
    with pytest.raises(LookupError):
        evaluate(Where("members", Op.EQ, "x"), ROWS[0], Project)
    with pytest.raises(LookupError):
        evaluate(Where("nosuch", Op.EQ, "x"), ROWS[0], Project)


def test_without_a_def_affinity_follows_the_stored_value() -> None:
    assert evaluate(Where("n", Op.GT, "5"), {"n": 7.0})
    assert evaluate(Where("s", Op.EQ, 42), {"s": "42"})
    assert not evaluate(Where("missing", Op.NE, 1), {})


# -- agreement with SQLite, leaf by leaf ------------------------------------------------------

Cell = EntityDef.create("Cell", {"t": Field.string(), "r": Field.number(), "i": Field.boolean()})
_COLUMNS = ("t", "r", "i")
_OPS = {Op.EQ: "=", Op.NE: "!=", Op.LT: "<", Op.GT: ">", Op.LE: "<=", Op.GE: ">="}

_numbers = st.one_of(
    st.integers(-(2**53) + 1, 2**53 - 1),
    st.sampled_from([0, 1, -1, 5, 42, 1000]),
    st.floats(allow_nan=False, width=64).filter(lambda f: not f.is_integer()),
    st.sampled_from([0.5, -2.5, 1e20, 1e-7, 3.25, float("inf"), -float("inf")]),
)
_texts = st.one_of(
    st.sampled_from(["", "5", " 5 ", "5.0", "1e3", "-2.5", "0x10", "abc", "ABC", "Inf"]),
    st.sampled_from(["42", "1000", "a%b", "a_b", "x\\y", "Émile", "日本", "10", "9"]),
    st.sampled_from(["\x00", "a\x00b", "\x00A", "5\x00", "\x01", "\t", "\x1f", "\x7f", "\x85"]),
    st.text(max_size=6),
)
_stored = st.one_of(st.none(), _numbers, _texts)
_operand = st.one_of(_numbers, _texts)


CELLS = TableSpec(Cell, lambda name: None)


@pytest.fixture(scope="module")
def sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[apsw.Connection]:
    path: Path = tmp_path_factory.mktemp("filter-model") / "cells.db"
    connection = apsw.Connection(str(path))
    connection.execute(CELLS.create_sql())
    yield connection
    connection.close()


#: ``LIKE`` stops reading its pattern at a NUL (so ``~= "\x00"`` matched everything) and its
#: subject too (so text after a stored NUL was never searched); patterns over 50,000 bytes fail.
_LONG = "x" * 50_001


@settings(max_examples=examples(500))
@given(
    column=st.sampled_from(_COLUMNS),
    stored=_stored,
    op=st.one_of(st.sampled_from(list(_OPS)), st.just(Op.CONTAINS)),
    operand=_operand,
    needle=st.one_of(st.sampled_from([".0", ".", "e+", "0e", "Inf", "%", "_", "\\", "É"]), _texts),
)
@example(column="t", stored=0, op=Op.CONTAINS, operand=0, needle="\x00")  # issue 17
@example(column="t", stored="a\x00b", op=Op.CONTAINS, operand=0, needle="B")
@example(column="t", stored="a\x00b", op=Op.CONTAINS, operand=0, needle="\x00B")
@example(column="t", stored="ab", op=Op.CONTAINS, operand=0, needle="a\x00")
@example(column="r", stored=0.5, op=Op.CONTAINS, operand=0, needle="\x00")
@example(column="i", stored=1, op=Op.CONTAINS, operand=0, needle="\x00")
@example(column="t", stored="\x01\x1f\x7f", op=Op.CONTAINS, operand=0, needle="\x1f")
@example(column="t", stored="\x85", op=Op.CONTAINS, operand=0, needle="\x85")
@example(column="t", stored=_LONG, op=Op.CONTAINS, operand=0, needle=_LONG)
@example(column="t", stored="x", op=Op.CONTAINS, operand=0, needle=_LONG)
@example(column="r", stored=float("inf"), op=Op.CONTAINS, operand=0, needle="inf")
@example(column="t", stored="\x00", op=Op.EQ, operand="\x00", needle="")
@example(column="t", stored="a", op=Op.EQ, operand="a\x00", needle="")
@example(column="t", stored="a\x00", op=Op.GT, operand="a", needle="")
@example(column="t", stored="a\x00", op=Op.LT, operand="a\x01", needle="")
@example(column="r", stored=5.0, op=Op.LT, operand="5\x00", needle="")
@example(column="r", stored=5.0, op=Op.EQ, operand="5\x1f", needle="")
@example(column="r", stored=5.0, op=Op.EQ, operand="\x0b5\x0c", needle="")
def test_leaf_agrees_with_sqlite(
    sqlite: apsw.Connection, column: str, stored: Any, op: Op, operand: Any, needle: str
) -> None:
    if op is Op.CONTAINS:
        operand = needle
    leaf = Where(column, op, operand)
    with sqlite:
        sqlite.execute(f"DELETE FROM {CELLS.quoted}")
        sqlite.execute(f'INSERT INTO {CELLS.quoted} (_id, "{column}") VALUES (?, ?)', ("c", stored))
    params: list[Any] = []
    if op is Op.CONTAINS:
        condition = where_sql(CELLS, leaf, params)
    else:
        condition = f'"{column}" {_OPS[op]} ?'
        params.append(operand)
    sql = f"SELECT count(*) FROM {CELLS.quoted} WHERE {condition}"
    (count,) = next(iter(sqlite.execute(sql, params)))
    assert evaluate(leaf, {"_id": "c", column: stored}, Cell) == (count == 1), (
        column,
        stored,
        op,
        operand,
    )
