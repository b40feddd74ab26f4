"""Property tests of the entity engines (issue 3).

Each property runs twice, on SQLite and on PostgreSQL (``sql_store``), each time comparing that
SQL engine with the in-memory engine (and with a model): the filter language means the same on
every engine.

1. Random sequences of partial upserts leave the tables equal to a dict model merged in order.
2. Paging any ordered query at any page size returns every matching row exactly once, in the
   order of one unpaged query — and the SQLite and in-memory engines agree page by page.
3. Random valid filter strings — ``NOT``, ``IN`` and ``IS [NOT] NULL`` included — parsed and
   lowered by ``maxtrio.query`` and compiled to SQL, select exactly the rows
   ``tests/query/filter_model.py`` (a Python evaluation of the same filter) selects, on both
   engines; ``NOT`` keeps the rows whose field is NULL (the two-valued NULL rule), and
   ``NOT x`` always selects exactly the rows ``x`` does not.

4. Any value, stored or filtered on, and any cursor (hand-made keyset tokens included) gives
   both engines the same answer or the same MaxError.

Text values include NUL and other control characters, which SQLite's ``LIKE`` once mishandled
(issue 17); the ``@example``s pin those cases so every run checks them.

Hypothesis drives synchronous tests that call ``trio.run`` per example (``@given`` does not
mix with trio fixtures); the SQLite databases are ``:memory:`` because the point here is many
examples (the file-backed paths are covered by the other storage tests); each PostgreSQL
example gets a new schema of the session's server.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
import trio
from hypothesis import example, given, settings
from hypothesis import strategies as st

from maxtrio.core import (
    EMPTY_WHERE,
    EntityDef,
    EntityInput,
    EntityQuery,
    Field,
    MaxError,
    Op,
    Ordering,
    PageRequest,
    Projection,
    Ref,
    Schema,
    Where,
    WhereClause,
    WhereNot,
)
from maxtrio.query import parse_where
from maxtrio.storage import Engine, InMemoryEngine

from ..hypothesis_budget import examples
from ..pg.server import PgServer
from ..query.filter_model import evaluate
from .entities import all_ids, ids_of, page_through, results_of
from .sql_engines import SQL_STORES, open_sql_engine

Target = EntityDef.create("Target", {"label": Field.string()})
Item = EntityDef.create(
    "Item",
    {
        "text": Field.string(),
        "amount": Field.number(),
        "flag": Field.boolean(),
        "when": Field.date(),
        "target": Field.ref(Target),
        "order": Field.string(),
        "children": Field.collection(Target),
    },
)
SCHEMA = Schema.create("props", [Item, Target])
STORED_FIELDS = Item.stored_field_names


@pytest.fixture(scope="module", params=SQL_STORES)
def sql_store(request: pytest.FixtureRequest) -> PgServer | None:
    """The SQL engine of this run: None for SQLite, the PostgreSQL server for PostgreSQL."""
    if request.param == "sqlite":
        return None
    server: PgServer = request.getfixturevalue("pg_server")
    return server


def run_on_engines(
    sql_store: PgServer | None, body: Callable[[list[Engine]], Awaitable[None]]
) -> None:
    """Run ``body`` under trio with a fresh SQL engine (SQLite in memory, or a new PostgreSQL
    schema) and an InMemoryEngine."""

    async def main() -> None:
        with open_sql_engine(sql_store, SCHEMA) as engine:
            await body([engine, InMemoryEngine(SCHEMA)])

    trio.run(main)


# -- 1. partial upserts against a dict model ----------------------------------------------------

ZONES = st.sampled_from(
    [None, UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
)
DATES = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES)
TARGET_IDS = st.text(alphabet="abcXYZ019-", min_size=1, max_size=6)


@st.composite
def ref_values(draw: st.DrawFn) -> Pair:
    """A ref in any accepted spelling, and the Ref the engine must load back."""
    id_ = draw(TARGET_IDS)
    spelling = draw(st.sampled_from(["ref", "refkey", "bare"]))
    given_value: Any = {
        "ref": Ref(Target, id_),
        "refkey": f"ein:Target:{id_}",
        "bare": id_,
    }[spelling]
    return given_value, Ref(Target, id_)


def expected_number(value: int | float) -> float | None:
    return None if math.isnan(value) else float(value)


def expected_date(value: datetime) -> datetime:
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


Pair = tuple[Any, Any]


def or_none(pairs: st.SearchStrategy[Pair]) -> st.SearchStrategy[Pair]:
    """``(given, expected)`` pairs; one in five is an explicit None (it clears the field)."""
    return st.integers(0, 4).flatmap(lambda n: st.just((None, None)) if n == 0 else pairs)


def with_expectation(
    values: st.SearchStrategy[Any], expect: Callable[[Any], Any]
) -> st.SearchStrategy[Pair]:
    return or_none(values.map(lambda v: (v, expect(v))))


FIELD_VALUES: dict[str, st.SearchStrategy[Pair]] = {
    "text": with_expectation(st.text(max_size=8), lambda v: v),
    "amount": with_expectation(
        st.one_of(st.integers(-(2**70), 2**70), st.floats()), expected_number
    ),
    "flag": with_expectation(st.booleans(), lambda v: v),
    "when": with_expectation(DATES, expected_date),
    "target": or_none(ref_values()),
    "order": with_expectation(st.sampled_from(["", "a", "b", "SELECT"]), lambda v: v),
}
IGNORED_KEYS = {"children": st.just(([Ref(Target, "x")], None)), "nonsense": st.just((1, None))}


ITEM_KEYS = {**FIELD_VALUES, **IGNORED_KEYS}


@st.composite
def upserts(draw: st.DrawFn, key_count: int | None = None) -> tuple[EntityInput, dict[str, Any]]:
    """A partial upsert of an Item (a random subset of fields, ``key_count`` of them if
    given) and what it means per stored field."""
    id_ = draw(st.sampled_from(["i1", "i2", "i3", "i4", "i5"]))
    if key_count is None:
        fields = draw(st.fixed_dictionaries({}, optional=ITEM_KEYS))
    else:
        keys = draw(
            st.lists(
                st.sampled_from(sorted(ITEM_KEYS)),
                min_size=key_count,
                max_size=key_count,
                unique=True,
            )
        )
        fields = {key: draw(ITEM_KEYS[key]) for key in keys}
    meaning = {k: expected for k, (_, expected) in fields.items() if k in STORED_FIELDS}
    return Item.input(id_, {k: given for k, (given, _) in fields.items()}), meaning


target_upserts = st.builds(
    lambda id_, label: (Target.input(id_, label=label), {"label": label}),
    st.sampled_from(["t1", "t2"]),
    st.one_of(st.none(), st.text(max_size=4)),
)
mixed_batches = st.lists(st.one_of(upserts(), target_upserts), min_size=1, max_size=12)
# One type, equally many keys per input: the engine's column-at-a-time fast path.
uniform_batches = st.integers(1, 3).flatmap(
    lambda n: st.lists(upserts(key_count=n), min_size=2, max_size=8)
)
batches = st.lists(st.one_of(mixed_batches, uniform_batches), min_size=1, max_size=4)


@settings(max_examples=examples(200))
@given(batches=batches)
def test_partial_upserts_match_a_dict_model(
    sql_store: PgServer | None, batches: list[list[tuple[EntityInput, Any]]]
) -> None:
    model: dict[tuple[str, str], dict[str, Any]] = {}
    for batch in batches:
        for entity, meaning in batch:
            key = (entity.ref.entity_type, entity.ref.id)
            fields = entity.ref.entity_def.stored_field_names
            row = model.setdefault(key, dict.fromkeys(fields))
            row.update(meaning)

    async def body(engines: list[Engine]) -> None:
        for engine in engines:
            for batch in batches:
                await engine.store_many([entity for entity, _ in batch])
            for entity_def in (Item, Target):
                page = await engine.load_page(entity_def, page=PageRequest(limit=100))
                stored = {(entity_def.name, r.id): r.values for r in results_of(page)}
                expected = {k: v for k, v in model.items() if k[0] == entity_def.name}
                assert stored == expected, type(engine).__name__
                for result in results_of(page):
                    when = result.values.get("when")
                    assert when is None or when.utcoffset() == timedelta(0)
                    target = result.values.get("target")
                    assert target is None or target.entity_def is Target

    run_on_engines(sql_store, body)


# -- 2. ordered pagination ----------------------------------------------------------------------

ROW_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "text": st.sampled_from([None, "", "a", "B", "b", "ab", "42", "a\x00", "\x00", "a\x01b"]),
    "amount": st.sampled_from([None, -1.5, 0, 2, 2.0, 1e16, math.inf]),
    "flag": st.sampled_from([None, True, False]),
    "when": st.sampled_from(
        [None, datetime(2024, 1, 1, tzinfo=UTC), datetime(2023, 12, 31, 23, tzinfo=UTC)]
    ),
    "target": st.sampled_from([None, "x", "y", "10", "9"]),
    "order": st.sampled_from([None, "p", "q"]),
}
row_ids = st.text(alphabet="abAB09-é", min_size=1, max_size=4)
rows_strategy = st.dictionaries(row_ids, st.fixed_dictionaries(ROW_VALUES), max_size=40)
filters = st.sampled_from(
    [
        EMPTY_WHERE,
        Where("amount", Op.GE, 0),
        Where("text", Op.NE, "a"),
        Where("flag", Op.EQ, True),
        Where("target", Op.CONTAINS, "1"),
        Where("_id", Op.GT, "a"),
        Where("text", Op.CONTAINS, "\x00"),
        WhereNot(Where("text", Op.EQ, "a")),
        Where("amount", Op.IN, (0, 2, "1e16")),
        Where("when", Op.IS_NULL, None),
        WhereNot(Where("flag", Op.IS_NOT_NULL, None)),
    ]
)
_NUL_ROWS = {
    "a": {"text": "a\x00"},
    "b": {"text": "a"},
    "c": {"text": "a\x00"},
    "d": {"text": "\x00"},
    "e": {"text": "a\x01b"},
    "f": {},
}


@settings(max_examples=examples(200))
@given(
    rows=rows_strategy,
    field=st.sampled_from([*ROW_VALUES, "_id"]),
    direction=st.sampled_from(["asc", "desc"]),
    page_size=st.integers(1, 20),
    where=filters,
)
@example(rows=_NUL_ROWS, field="text", direction="asc", page_size=1, where=EMPTY_WHERE)
@example(rows=_NUL_ROWS, field="text", direction="desc", page_size=1, where=EMPTY_WHERE)
@example(
    rows=_NUL_ROWS,
    field="text",
    direction="asc",
    page_size=1,
    where=Where("text", Op.CONTAINS, "\x00"),
)
def test_paging_returns_every_row_once_in_order_on_both_engines(
    sql_store: PgServer | None,
    rows: dict[str, dict[str, Any]],
    field: str,
    direction: str,
    page_size: int,
    where: WhereClause,
) -> None:
    query = EntityQuery(
        Item,
        where,
        Ordering(field, "desc" if direction == "desc" else "asc"),
        Projection.select(field) if field != "_id" else Projection.refs(),
    )

    async def body(engines: list[Engine]) -> None:
        paged_per_engine = []
        for engine in engines:
            await engine.store_many([Item.input(id_, values) for id_, values in rows.items()])
            whole = await engine.query(query, PageRequest(limit=len(rows) + 1))
            assert not whole.has_more
            pages = await page_through(engine, query, page_size)
            paged = [i for page in pages for i in ids_of(page)]
            assert paged == ids_of(whole)
            assert len(paged) == len(set(paged))
            assert set(paged) <= set(rows)
            if where is EMPTY_WHERE:
                assert sorted(paged) == await all_ids(engine, Item)
            paged_per_engine.append([(ids_of(p), p.has_more, p.cursor) for p in pages])
        assert paged_per_engine[0] == paged_per_engine[1]

    run_on_engines(sql_store, body)


# -- 3. filter strings: parse → lower → SQL against a Python evaluation -----------------------

LETTERS = st.text(alphabet="abcAB", min_size=1, max_size=3)  # never spells true/false
#: Text with NUL and other control characters; no quote or backslash, so it quotes as is.
CONTROL_TEXT = st.text(alphabet="aB\x00\x01\t\x1f\x7f", min_size=1, max_size=3)
NUMBER_LITERALS = st.one_of(
    st.integers(-3, 12).map(str),
    st.sampled_from(["0.5", "-1.5", "2.0", "1e1", ".5", "10.25"]),
)


def quoted(text: str) -> str:
    return '"' + text + '"'


def values_for(draw: st.DrawFn, field: str, op: str) -> str:
    """A value for ``field op …`` that the field's kind accepts (so the engine never refuses
    it)."""
    if op == "~=":
        value = draw(
            st.one_of(LETTERS, NUMBER_LITERALS, LETTERS.map(quoted), CONTROL_TEXT.map(quoted))
        )
    elif field == "amount":
        value = draw(st.one_of(NUMBER_LITERALS, NUMBER_LITERALS.map(quoted)))
    elif field == "flag":
        value = draw(st.sampled_from(["true", "false", "TRUE", "False", "1", "0"]))
    elif field == "when":
        value = draw(st.sampled_from(["2024-01-01", "2023-12-31T23", "2024-01-01T00:00:00.000Z"]))
    elif field == "target":
        value = draw(st.one_of(LETTERS, NUMBER_LITERALS, LETTERS.map("ein:Target:{}".format)))
    else:  # text, order, _id
        value = draw(
            st.one_of(LETTERS, NUMBER_LITERALS, LETTERS.map(quoted), CONTROL_TEXT.map(quoted))
        )
    return value


FIELDS = ["text", "amount", "flag", "when", "target", "order", "_id"]


@st.composite
def comparisons(draw: st.DrawFn) -> str:
    """One condition — a comparison, an ``IN`` list or a null test — that the engine takes."""
    field = draw(st.sampled_from(FIELDS))
    form = draw(st.sampled_from(["cmp", "cmp", "cmp", "in", "null"]))
    if form == "null":
        return f"{field} IS {draw(st.sampled_from(['', 'NOT ']))}NULL"
    if form == "in":
        listed = [values_for(draw, field, "=") for _ in range(draw(st.integers(1, 3)))]
        return f"{field} IN ({', '.join(listed)})"
    op = draw(st.sampled_from(["=", "!=", ">", "<", ">=", "<=", "~="]))
    space = draw(st.sampled_from(["", " "]))
    return f"{field}{space}{op}{space}{values_for(draw, field, op)}"


def filter_texts() -> st.SearchStrategy[str]:
    def combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.builds(
                lambda left, keyword, right, grouped: (
                    f"({left} {keyword} {right})" if grouped else f"{left} {keyword} {right}"
                ),
                children,
                st.sampled_from(["AND", "OR", "and", "or"]),
                children,
                st.booleans(),
            ),
            st.builds(lambda child: f"NOT ({child})", children),
        )

    return st.recursive(comparisons(), combine, max_leaves=6)


FILTER_ROW_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "text": st.one_of(st.none(), LETTERS, st.sampled_from(["1", "10", "2.0", "-3"]), CONTROL_TEXT),
    "amount": st.one_of(st.none(), st.integers(-3, 12), st.sampled_from([0.5, -1.5, 10.25])),
    "flag": st.one_of(st.none(), st.booleans()),
    "when": st.sampled_from(
        [None, datetime(2024, 1, 1, tzinfo=UTC), datetime(2023, 12, 31, 23, 30, tzinfo=UTC)]
    ),
    "target": st.one_of(st.none(), LETTERS, st.sampled_from(["2", "10"])),
    "order": st.one_of(st.none(), LETTERS),
}
filter_row_sets = st.dictionaries(
    st.text(alphabet="abAB12", min_size=1, max_size=3),
    st.fixed_dictionaries(FILTER_ROW_VALUES),
    max_size=25,
)


@settings(max_examples=examples(300))
@given(rows=filter_row_sets, text=filter_texts())
@example(rows={"a": {"text": "x"}, "b": {"text": "\x00"}, "c": {}}, text='text ~= "\x00"')
@example(rows={"a": {"text": "a\x00B"}, "b": {"text": "a"}}, text='text ~= "b"')
@example(rows={"a": {"text": "a\x00"}, "b": {"text": "a"}}, text='text > "a" OR _id = "\x00"')
@example(rows={"a": {"amount": 5}, "b": {"when": None}}, text='amount ~= "\x00"')
@example(rows={"a": {"text": "a"}, "b": {}, "c": {"text": "b"}}, text="NOT (text = a)")
@example(rows={"a": {"flag": True}, "b": {}, "c": {"flag": False}}, text="NOT (flag IN (true))")
@example(rows={"a": {"amount": 1}, "b": {}}, text="NOT (amount IS NULL) OR text IS NOT NULL")
@example(rows={"a": {"target": "x"}, "b": {}}, text="target IN (ein:Target:x, 2)")
def test_filter_strings_select_what_a_python_evaluation_selects(
    sql_store: PgServer | None, rows: dict[str, dict[str, Any]], text: str
) -> None:
    where = parse_where(text, Item).where
    expected = sorted(
        id_ for id_, values in rows.items() if evaluate(where, {"_id": id_, **values}, Item)
    )

    async def body(engines: list[Engine]) -> None:
        for engine in engines:
            await engine.store_many([Item.input(id_, values) for id_, values in rows.items()])
            query = EntityQuery(Item, where, projection=Projection.refs())
            page = await engine.query(query, PageRequest(limit=100))
            assert ids_of(page) == expected, (type(engine).__name__, text, where)
            negated = EntityQuery(Item, WhereNot(where), projection=Projection.refs())
            rest = await engine.query(negated, PageRequest(limit=100))
            assert ids_of(rest) == sorted(set(rows) - set(expected)), (text, "NOT")

    run_on_engines(sql_store, body)


# -- 4. arbitrary input never escapes as anything but a MaxError --------------------------------

ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(alphabet=st.characters(codec=None, categories=["L", "N", "P", "Cs", "Zs", "Cc"])),
    st.binary(max_size=4),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
    st.datetimes(timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=-12))])),
    st.dates(),
    st.builds(Ref, st.just(Target), st.text(max_size=3)),
)


@attrs.frozen
class KeysetValue:
    """A hand-made keyset cursor for the test's ordering, holding ``value``: JSON of any kind,
    which the engines must take only when the order column can hold it."""

    value: Any

    def token(self, field: str) -> str:
        raw = json.dumps([field, "asc", self.value, "a"]).encode()
        return "ord1." + base64.urlsafe_b64encode(raw).decode().rstrip("=")


CURSOR_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=3),
    st.sampled_from(["\x00", "a\x00", 2**63, -(2**63) - 1, [1]]),
)


async def outcome(call: Awaitable[Any]) -> str:
    """``ok`` or the MaxError code; any other exception fails the test."""
    try:
        await call
    except MaxError as error:
        assert error.message
        if error.domain == "storage":  # (core.invalid_ref_key quotes the raw text)
            assert "\n" not in error.message
        return error.code
    return "ok"


@settings(max_examples=examples(300))
@given(
    field=st.sampled_from([*STORED_FIELDS, "_id"]),
    value=ANY_VALUE,
    op=st.sampled_from(list(Op)),
    cursor=st.one_of(
        st.none(), st.text(max_size=12), st.just("ord1.WyJ4Il0"), CURSOR_VALUES.map(KeysetValue)
    ),
)
@example(field="text", value="\x00", op=Op.CONTAINS, cursor=None)  # issue 17
@example(field="text", value="a\x00", op=Op.CONTAINS, cursor=None)
@example(field="amount", value="\x00", op=Op.CONTAINS, cursor=None)
@example(field="text", value="x" * 50_001, op=Op.CONTAINS, cursor=None)
@example(field="text", value="\x00", op=Op.EQ, cursor=KeysetValue("\x00"))
@example(field="amount", value="5\x00", op=Op.LT, cursor=None)
@example(field="amount", value="5\x1f", op=Op.GE, cursor=None)
@example(field="text", value="\ud800", op=Op.CONTAINS, cursor=None)
@example(field="text", value="a", op=Op.EQ, cursor=KeysetValue("\ud800"))
@example(field="text", value=None, op=Op.EQ, cursor=KeysetValue(float("nan")))
@example(field="amount", value=None, op=Op.EQ, cursor=KeysetValue(float("nan")))
@example(field="amount", value=None, op=Op.EQ, cursor=KeysetValue(10**30))
@example(field="amount", value=None, op=Op.EQ, cursor=KeysetValue("1.5"))
@example(field="text", value=None, op=Op.EQ, cursor=KeysetValue(-0.0))
def test_arbitrary_values_give_a_max_error_or_an_answer(
    sql_store: PgServer | None, field: str, value: Any, op: Op, cursor: str | KeysetValue | None
) -> None:
    """A value of any type, stored or filtered on, and any cursor: both engines either answer
    or raise the same MaxError, and a refused write leaves the table as it was."""
    page = PageRequest(cursor.token(field) if isinstance(cursor, KeysetValue) else cursor, 5)

    async def body(engines: list[Engine]) -> None:
        results = []
        for engine in engines:
            await engine.store(Item.input("keep", text="kept"))
            if field == "_id":
                write = engine.store(EntityInput(Ref(Item, value), {}))
            else:
                write = engine.store_many([Item.input("a"), Item.input("b", {field: value})])
            written = await outcome(write)
            assert written in ("ok", "storage.invalid_value")
            if written != "ok":
                assert await all_ids(engine, Item) == ["keep"]
            query = EntityQuery(Item, Where(field, op, value), projection=Projection.refs())
            found = await outcome(engine.query(query, page))
            ordered = EntityQuery(Item, ordering=Ordering(field), projection=Projection.refs())
            paged = await outcome(engine.query(ordered, page))
            results.append((written, found, paged, await all_ids(engine, Item)))
        assert results[0] == results[1]

    run_on_engines(sql_store, body)
