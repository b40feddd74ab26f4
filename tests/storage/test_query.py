"""Queries: filters, ordering, projections, limits and cursors
(docs/storage.md, docs/filter-language.md). Every test runs against both engines."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from maxtrio.core import (
    EMPTY_WHERE,
    EntityQuery,
    EntityResult,
    Op,
    Ordering,
    PageRequest,
    Projection,
    Query,
    Ref,
    Where,
    WhereClause,
    and_,
    or_,
    parse_ref_key,
)
from maxtrio.query import parse_where
from maxtrio.storage import Engine
from maxtrio.storage._sql import compile_query
from maxtrio.storage._table import TableSpec

from .entities import (
    ACME,
    AcmeProject,
    AcmeTask,
    AcmeUser,
    Stranger,
    ids_of,
    page_through,
    raises_max,
    results_of,
)


@pytest.fixture
async def users(engine: Engine) -> Engine:
    """The reference's three users."""
    await engine.store_many(
        [
            AcmeUser.input(
                "u1", displayName="Alice", email="alice@acme.test", role="admin", active=True
            ),
            AcmeUser.input(
                "u2", displayName="Bob", email="bob@acme.test", role="member", active=False
            ),
            AcmeUser.input(
                "u3", displayName="Charlie", email="charlie@acme.test", role="admin", active=True
            ),
        ]
    )
    return engine


async def matching(engine: Engine, entity: Any, where: WhereClause) -> list[str]:
    return ids_of(await engine.query(EntityQuery(entity, where, projection=Projection.refs())))


async def filtered(engine: Engine, entity: Any, text: str) -> list[str]:
    """Ids matching filter-language ``text`` (parsed and lowered by ``maxtrio.query``)."""
    return await matching(engine, entity, parse_where(text, entity).where)


def names(page: Any) -> list[str]:
    return [r.get("displayName") for r in results_of(page)]


# -- the reference's scenarios ------------------------------------------------------------------


class TestReferenceScenarios:
    async def test_filter_on_a_boolean(self, users: Engine) -> None:
        page = await users.query(Query.from_(AcmeUser).where("active", "=", True).select_all())
        assert names(page) == ["Alice", "Charlie"]
        assert not page.has_more and page.cursor is None

    async def test_limit_two_has_more(self, users: Engine) -> None:
        page = await users.query(Query.from_(AcmeUser).select_all(), PageRequest(limit=2))
        assert len(page.items) == 2
        assert page.has_more

    async def test_order_by_name_descending(self, users: Engine) -> None:
        page = await users.query(Query.from_(AcmeUser).order_by("displayName", "desc").select_all())
        assert names(page) == ["Charlie", "Bob", "Alice"]

    async def test_refs_projection(self, users: Engine) -> None:
        page = await users.query(Query.from_(AcmeUser).where("active", "=", False).refs())
        assert list(page.items) == [Ref(AcmeUser, "u2")]
        assert all(isinstance(r, Ref) and r.entity_def is AcmeUser for r in page.items)

    async def test_contains(self, users: Engine) -> None:
        query = Query.from_(AcmeUser).where("displayName", Op.CONTAINS, "li").select_all()
        page = await users.query(query)
        assert names(page) == ["Alice", "Charlie"]

    async def test_select_all_and_a_generous_limit(self, users: Engine) -> None:
        everyone = await users.query(Query.from_(AcmeUser).select_all())
        assert len(everyone.items) == 3 and not everyone.has_more
        ten = await users.query(Query.from_(AcmeUser).select_all(), PageRequest(limit=10))
        assert len(ten.items) == 3 and not ten.has_more and ten.cursor is None

    async def test_cursor_paging(self, users: Engine) -> None:
        query = Query.from_(AcmeUser).select_all()
        first = await users.query(query, PageRequest(limit=2))
        assert first.cursor is not None
        assert parse_ref_key(first.cursor).entity_type == "AcmeUser"
        assert parse_ref_key(first.cursor).entity_id == "u2"
        second = await users.query(query, PageRequest(first.cursor, 2))
        assert len(second.items) == 1
        assert not second.has_more and second.cursor is None
        assert sorted(names(first) + names(second)) == ["Alice", "Bob", "Charlie"]

    async def test_cursor_paging_with_a_filter(self, users: Engine) -> None:
        pages = await page_through(
            users, Query.from_(AcmeUser).where("active", "=", True).select_all(), 1
        )
        assert [names(p) for p in pages] == [["Alice"], ["Charlie"]]

    async def test_load_page_projections(self, users: Engine) -> None:
        refs = await users.load_page(AcmeUser, Projection.refs())
        assert list(refs.items) == [Ref(AcmeUser, u) for u in ("u1", "u2", "u3")]
        assert not refs.has_more
        everything = await users.load_page(AcmeUser, Projection.all())
        assert results_of(everything)[0].get("email") == "alice@acme.test"
        selected = results_of(await users.load_page(AcmeUser, Projection.select("role")))
        assert [r.get("role") for r in selected] == ["admin", "member", "admin"]
        assert not selected[0].has("email")

    async def test_load_page_cursors_are_ref_keys(self, users: Engine) -> None:
        first = await users.load_page(AcmeUser, Projection.refs(), PageRequest(limit=2))
        assert first.cursor == "ein:AcmeUser:u2" and first.has_more
        second = await users.load_page(AcmeUser, Projection.refs(), PageRequest(first.cursor, 2))
        assert ids_of(first) + ids_of(second) == ["u1", "u2", "u3"]
        assert not second.has_more and second.cursor is None


class TestRefFilters:
    @pytest.fixture
    async def projects(self, engine: Engine) -> Engine:
        await engine.store_many(
            [
                AcmeProject.input("p1", name="Alpha", owner=Ref(AcmeUser, "owner1")),
                AcmeProject.input("p2", name="Beta", owner="ein:AcmeUser:owner2"),
                AcmeProject.input("p3", name="Gamma", owner="42"),
                AcmeProject.input("p4", name="Delta"),
            ]
        )
        return engine

    @pytest.mark.parametrize(
        "owner",
        [
            "ein:AcmeUser:owner1",
            "owner1",
            Ref(AcmeUser, "owner1"),
            "ews:inst-1:AcmeUser:owner1",
        ],
        ids=["refkey", "bare-id", "ref", "workspace-refkey"],
    )
    async def test_each_form_finds_the_same_project(self, projects: Engine, owner: Any) -> None:
        query = Query.from_(AcmeProject).where("owner", "=", owner).select_all()
        page = await projects.query(query)
        assert [r.get("name") for r in results_of(page)] == ["Alpha"]

    async def test_a_number_compares_with_the_id_as_text(self, projects: Engine) -> None:
        assert await matching(projects, AcmeProject, Where("owner", "=", 42)) == ["p3"]
        assert await matching(projects, AcmeProject, Where("owner", "=", 42.0)) == ["p3"]
        assert await filtered(projects, AcmeProject, "owner = 42") == ["p3"]

    async def test_not_equal_skips_projects_without_an_owner(self, projects: Engine) -> None:
        assert await filtered(projects, AcmeProject, "owner != owner1") == ["p2", "p3"]

    async def test_the_reference_worked_example_compiles_to_bound_sql(self) -> None:
        """The SQL example (unordered form; an ordered query uses a keyset condition instead)."""
        table = TableSpec(AcmeProject, ACME.get_definition)
        query = Query.from_(AcmeProject).where("owner", "=", "ein:AcmeUser:owner1").select("name")
        compiled = compile_query(table, query, table.select_columns(("name",)), 3, "p1", None)
        assert compiled.sql == (
            'SELECT _id, "name" FROM "_acme_project" WHERE "owner" = ? AND _id > ? '
            "ORDER BY _id ASC LIMIT 3"
        )
        assert compiled.params == ("owner1", "p1")


# -- filter semantics ---------------------------------------------------------------------------


class TestNullSemantics:
    @pytest.fixture
    async def statuses(self, engine: Engine) -> Engine:
        await engine.store_many(
            [
                AcmeProject.input("p1", status="open"),
                AcmeProject.input("p2", status="closed"),
                AcmeProject.input("p3", status=None),
                AcmeProject.input("p4"),
            ]
        )
        return engine

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("status != closed", ["p1"]),
            ("status = closed", ["p2"]),
            ("status < zzz", ["p1", "p2"]),
            ("status >= a", ["p1", "p2"]),
            ("status ~= o", ["p1", "p2"]),
            ("status != closed OR status = closed", ["p1", "p2"]),
            ("_id ~= p", ["p1", "p2", "p3", "p4"]),
        ],
    )
    async def test_null_never_matches(
        self, statuses: Engine, text: str, expected: list[str]
    ) -> None:
        assert await filtered(statuses, AcmeProject, text) == expected

    async def test_comparing_with_none_matches_nothing(self, statuses: Engine) -> None:
        for op in (Op.EQ, Op.NE, Op.LT, Op.GE):
            assert await matching(statuses, AcmeProject, Where("status", op, None)) == []

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            # the NULL rule: NOT is the complement, so it keeps the projects without a status
            ("NOT status = closed", ["p1", "p3", "p4"]),
            ("NOT status != closed", ["p2", "p3", "p4"]),
            ("NOT (status = open OR status = closed)", ["p3", "p4"]),
            ("NOT NOT status = open", ["p1"]),
            ("status IN (open, closed, zzz)", ["p1", "p2"]),
            ("NOT status IN (open)", ["p2", "p3", "p4"]),
            ("status IS NULL", ["p3", "p4"]),
            ("status IS NOT NULL", ["p1", "p2"]),
            ("NOT status IS NULL AND status IN (closed)", ["p2"]),
            ("_id IS NULL", []),
            ("NOT _id IN (p1, p3)", ["p2", "p4"]),
        ],
    )
    async def test_not_in_and_null_tests(
        self, statuses: Engine, text: str, expected: list[str]
    ) -> None:
        assert await filtered(statuses, AcmeProject, text) == expected


TITLES = {
    "t1": "50% off",
    "t2": "5000 units",
    "t3": "snake_case",
    "t4": "snakeXcase",
    "t5": "back\\slash",
    "t6": "backXslash",
    "t7": "Café",
    "t8": "CAFÉ",
    "t9": "ALICE in wonderland",
}


class TestContains:
    @pytest.fixture
    async def titles(self, engine: Engine) -> Engine:
        await engine.store_many([AcmeTask.input(i, title=t) for i, t in TITLES.items()])
        await engine.store(AcmeTask.input("t0"))  # NULL title
        return engine

    @pytest.mark.parametrize(
        ("needle", "expected"),
        [
            ("50%", ["t1"]),
            ("%", ["t1"]),
            ("e_c", ["t3"]),
            ("_", ["t3"]),
            ("k\\s", ["t5"]),
            ("\\", ["t5"]),
            ("alice", ["t9"]),
            ("SNAKE", ["t3", "t4"]),
            ("é", ["t7"]),
            ("É", ["t8"]),
            ("caf", ["t7", "t8"]),
            ("", ["t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"]),
        ],
    )
    async def test_a_literal_substring_case_insensitive_for_ascii_only(
        self, titles: Engine, needle: str, expected: list[str]
    ) -> None:
        assert await matching(titles, AcmeTask, Where("title", Op.CONTAINS, needle)) == expected

    async def test_through_the_filter_language(self, titles: Engine) -> None:
        assert await filtered(titles, AcmeTask, 'title ~= "50%"') == ["t1"]
        assert await filtered(titles, AcmeTask, "title ~= e_c") == ["t3"]
        assert await filtered(titles, AcmeTask, 'title ~= "k\\\\s"') == ["t5"]
        assert await filtered(titles, AcmeTask, "title ~= 500") == ["t2"]

    async def test_nul_and_other_control_characters_are_literal(self, engine: Engine) -> None:
        """Issue 17: ``LIKE`` read ``'%' || char(0) || '%'`` as ``'%'`` (every row) and stopped
        reading stored text at a NUL; ``~=`` now finds exactly the rows holding the text."""
        titles = {
            "n1": "a\x00b",
            "n2": "\x00",
            "n3": "tab\there",
            "n4": "bell\x07",
            "n5": "del\x7f",
            "n6": "plain",
            "n7": "A\x00B",
        }
        await engine.store_many([AcmeTask.input(i, title=t) for i, t in titles.items()])
        await engine.store(AcmeTask.input("n8", priority=1.5))  # NULL title
        contains = {
            "\x00": ["n1", "n2", "n7"],
            "a\x00b": ["n1", "n7"],
            "\x00B": ["n1", "n7"],
            "b": ["n1", "n3", "n4", "n7"],  # n1 and n7: found after a NUL
            "\t": ["n3"],
            "\x07": ["n4"],
            "\x7f": ["n5"],
            "\x01": [],
            "x" * 60_000: [],  # over LIKE's 50,000-byte pattern limit
        }
        for needle, expected in contains.items():
            assert await matching(engine, AcmeTask, Where("title", Op.CONTAINS, needle)) == (
                expected
            ), needle
        assert await matching(engine, AcmeTask, Where("priority", Op.CONTAINS, "\x00")) == []
        assert await matching(engine, AcmeTask, Where("_id", Op.CONTAINS, "\x00")) == []
        assert await filtered(engine, AcmeTask, 'title ~= "\x00"') == ["n1", "n2", "n7"]
        assert await matching(engine, AcmeTask, Where("title", Op.EQ, "\x00")) == ["n2"]
        assert await matching(engine, AcmeTask, Where("title", Op.EQ, "a")) == []
        assert await matching(engine, AcmeTask, Where("title", Op.GT, "a")) == [
            "n1",
            "n3",
            "n4",
            "n5",
            "n6",
        ]
        assert await matching(engine, AcmeTask, Where("title", Op.LT, "a\x01")) == [
            "n1",
            "n2",
            "n7",
        ]

    async def test_a_long_needle_is_searched_for(self, engine: Engine) -> None:
        await engine.store(AcmeTask.input("long", title="y" + "x" * 60_000 + "y"))
        assert await matching(engine, AcmeTask, Where("title", Op.CONTAINS, "X" * 60_000)) == [
            "long"
        ]

    async def test_numbers_and_booleans_are_searched_as_stored_text(self, engine: Engine) -> None:
        await engine.store_many(
            [
                AcmeTask.input("t1", priority=1.5, done=True),
                AcmeTask.input("t2", priority=3, done=False),
                AcmeTask.input("t3", priority=1e16),
            ]
        )
        assert await filtered(engine, AcmeTask, "priority ~= .5") == ["t1"]
        assert await filtered(engine, AcmeTask, 'priority ~= "3.0"') == ["t2"]
        assert await filtered(engine, AcmeTask, 'priority ~= "00000000"') == ["t3"]
        assert await filtered(engine, AcmeTask, "done ~= 1") == ["t1"]
        assert await filtered(engine, AcmeTask, "done ~= true") == []  # text, not booleans


class TestIdColumn:
    async def test_filter_and_order_by_id(self, users: Engine) -> None:
        assert await filtered(users, AcmeUser, "_id = u2") == ["u2"]
        assert await filtered(users, AcmeUser, "_id > u1 AND _id != u3") == ["u2"]
        desc = await users.query(EntityQuery(AcmeUser, ordering=Ordering("_id", "desc")))
        assert ids_of(desc) == ["u3", "u2", "u1"]
        by_id = EntityQuery(AcmeUser, ordering=Ordering("_id"))
        asc = await users.query(by_id, PageRequest(None, 1))
        assert asc.cursor == "ein:AcmeUser:u1"  # _id ascending keeps the reference cursor

    async def test_paging_by_id_descending(self, users: Engine) -> None:
        by_id = Ordering("_id", "desc")
        query = EntityQuery(AcmeUser, ordering=by_id, projection=Projection.refs())
        pages = await page_through(users, query, 2)
        assert [ids_of(p) for p in pages] == [["u3", "u2"], ["u1"]]
        assert pages[0].cursor is not None and pages[0].cursor.startswith("ord1.")

    async def test_ids_sort_bytewise(self, engine: Engine) -> None:
        await engine.store_many([AcmeUser.input(i) for i in ("u10", "u2", "U3", "é", "z")])
        assert ids_of(await engine.load_page(AcmeUser)) == ["U3", "u10", "u2", "z", "é"]
        assert await filtered(engine, AcmeUser, "_id = 10 OR _id < u2") == ["U3", "u10"]


class TestAffinity:
    @pytest.fixture
    async def tasks(self, engine: Engine) -> Engine:
        await engine.store_many(
            [
                AcmeTask.input("t1", title="42", priority=3),
                AcmeTask.input("t2", title="42.0", priority=5),
                AcmeTask.input("t3", title="1000", priority=10),
                AcmeTask.input("t4", title="42.5", priority=-1.5),
                AcmeTask.input("t5", title="abc"),
            ]
        )
        return engine

    @pytest.mark.parametrize(
        ("where", "expected"),
        [
            (Where("title", "=", 42), ["t1"]),
            (Where("title", "=", 42.0), ["t1"]),
            (Where("title", "=", 1e3), ["t3"]),
            (Where("title", "=", 42.5), ["t4"]),
            (Where("title", "=", "42.0"), ["t2"]),
            (Where("title", ">", 5), ["t5"]),  # text comparison: "42" < "5" < "abc"
            (Where("priority", ">", "5"), ["t3"]),  # numeric comparison: 10 > 5
            (Where("priority", "=", "5"), ["t2"]),
            (Where("priority", "=", " 5 "), ["t2"]),
            (Where("priority", "=", "\t5\x0b"), ["t2"]),  # SQLite skips ASCII whitespace only
            (Where("priority", "<=", "-1.5e0"), ["t4"]),
            (Where("priority", ">=", 3), ["t1", "t2", "t3"]),
            (Where("priority", "<", 2**70), ["t1", "t2", "t3", "t4"]),
        ],
        ids=repr,
    )
    async def test_sqlite_affinity_rules(
        self, tasks: Engine, where: Where, expected: list[str]
    ) -> None:
        assert await matching(tasks, AcmeTask, where) == expected

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("title = 42", ["t1"]),
            ("title = 42.0", ["t1"]),
            ('title = "42.0"', ["t2"]),
            ("title = 1e3", ["t3"]),
            ('priority > "5"', ["t3"]),
            ("priority = 0x0A", ["t3"]),
        ],
    )
    async def test_through_the_filter_language(
        self, tasks: Engine, text: str, expected: list[str]
    ) -> None:
        assert await filtered(tasks, AcmeTask, text) == expected


class TestBooleans:
    @pytest.mark.parametrize("value", [True, 1, "true", "TRUE"])
    async def test_spellings_of_true(self, users: Engine, value: Any) -> None:
        assert await matching(users, AcmeUser, Where("active", "=", value)) == ["u1", "u3"]

    async def test_not_equal_false(self, users: Engine) -> None:
        await users.store(AcmeUser.input("u4", displayName="Nobody"))  # active is NULL
        assert await filtered(users, AcmeUser, "active != false") == ["u1", "u3"]


class TestDates:
    @pytest.fixture
    async def due(self, engine: Engine) -> Engine:
        plus_five = timezone(timedelta(hours=5))
        await engine.store_many(
            [
                AcmeTask.input("t1", due=datetime(2024, 1, 15, 0, 0, tzinfo=UTC)),
                AcmeTask.input("t2", due="2024-01-14T23:00:00-02:00"),  # 2024-01-15T01:00Z
                AcmeTask.input("t3", due=datetime(2024, 1, 15, 4, 0, tzinfo=plus_five)),
                AcmeTask.input("t4", due="2023-12-31"),
                AcmeTask.input("t5"),
            ]
        )
        return engine

    async def test_dates_order_chronologically_as_utc_text(self, due: Engine) -> None:
        query = EntityQuery(AcmeTask, ordering=Ordering("due"), projection=Projection.refs())
        assert ids_of(await due.query(query)) == ["t5", "t4", "t3", "t1", "t2"]
        desc = EntityQuery(AcmeTask, ordering=Ordering("due", "desc"))
        assert ids_of(await due.query(desc)) == ["t2", "t1", "t3", "t4", "t5"]

    async def test_date_filters_compare_iso_text(self, due: Engine) -> None:
        assert await filtered(due, AcmeTask, "due >= 2024-01-15") == ["t1", "t2"]
        assert await filtered(due, AcmeTask, "due = 2024-01-15") == []  # text, not a day
        midnight = datetime(2024, 1, 15, tzinfo=UTC)
        assert await matching(due, AcmeTask, Where("due", "=", midnight)) == ["t1"]
        assert await matching(due, AcmeTask, Where("due", "<", midnight)) == ["t3", "t4"]
        assert await filtered(due, AcmeTask, "due ~= 2024-01-15T01") == ["t2"]


class TestGroups:
    async def test_and_or_and_nesting(self, users: Engine) -> None:
        assert await filtered(users, AcmeUser, "role = admin AND active = true") == ["u1", "u3"]
        assert await filtered(users, AcmeUser, "displayName = Bob OR _id = u3") == ["u2", "u3"]
        # AND and OR have equal precedence and group from the left.
        assert await filtered(users, AcmeUser, "_id = u1 OR _id = u2 AND active = false") == ["u2"]
        assert await filtered(users, AcmeUser, "_id = u1 OR (_id = u2 AND active = false)") == [
            "u1",
            "u2",
        ]

    async def test_empty_groups_are_dropped(self, users: Engine) -> None:
        bob = Where("displayName", "=", "Bob")
        assert await matching(users, AcmeUser, EMPTY_WHERE) == ["u1", "u2", "u3"]
        assert await matching(users, AcmeUser, or_()) == ["u1", "u2", "u3"]
        assert await matching(users, AcmeUser, or_(EMPTY_WHERE, bob)) == ["u2"]
        assert await matching(users, AcmeUser, and_(or_(and_()), bob)) == ["u2"]
        assert await matching(users, AcmeUser, or_(bob, and_(or_()))) == ["u2"]

    async def test_values_are_bound_never_spliced(self, users: Engine) -> None:
        sneaky = "x' OR '1'='1"
        assert await matching(users, AcmeUser, Where("displayName", "=", sneaky)) == []
        assert await matching(users, AcmeUser, Where("displayName", Op.CONTAINS, sneaky)) == []
        assert await users.count(AcmeUser) == 3


# -- bad queries --------------------------------------------------------------------------------


class TestBadQueries:
    @pytest.mark.parametrize("field", ["nope", "tasks", "_ref"])
    async def test_unknown_field_in_filter_order_or_select(self, users: Engine, field: str) -> None:
        project_queries = [
            EntityQuery(AcmeProject, Where(field, "=", "x")),
            EntityQuery(AcmeProject, or_(Where("name", "=", "a"), and_(Where(field, "=", "x")))),
            EntityQuery(AcmeProject, Where(field, Op.CONTAINS, "x")),
            EntityQuery(AcmeProject, ordering=Ordering(field)),
            EntityQuery(AcmeProject, ordering=Ordering(field, "desc")),
            EntityQuery(AcmeProject, projection=Projection.select("name", field)),
        ]
        for query in project_queries:
            with raises_max("storage.field_not_found") as caught:
                await users.query(query)
            assert caught.value.data == {"entityType": "AcmeProject", "field": field}
        with raises_max("storage.field_not_found"):
            await users.load_page(AcmeProject, Projection.select(field))

    async def test_select_ignores_id_and_duplicates(self, users: Engine) -> None:
        page = await users.query(Query.from_(AcmeUser).select("_id", "role", "role"))
        assert results_of(page)[0].loaded_fields() == ["_id", "role"]

    @pytest.mark.parametrize(
        ("where", "kind"),
        [
            (Where("active", "=", "maybe"), "boolean"),
            (Where("active", "=", 2), "boolean"),
            (Where("active", "=", 1.0), "boolean"),
            (Where("score", "=", "abc"), "number"),
            (Where("score", ">", True), "number"),
            (Where("score", "=", "1_000"), "number"),
            # text SQLite would not read as a number compares as text, after every number
            (Where("score", "<", "5\x1f"), "number"),
            (Where("score", "<", "5\x00"), "number"),
            (Where("score", "=", "5\xa0"), "number"),
            (Where("score", "=", "\u0665"), "number"),  # ARABIC-INDIC DIGIT FIVE
            (Where("score", ">", "-Infinity"), "number"),
            (Where("score", "=", "nan"), "number"),
            (Where("joined", "=", 5), "date"),
            (Where("joined", "=", True), "date"),
        ],
        ids=repr,
    )
    async def test_a_value_the_column_can_never_hold(
        self, users: Engine, where: Where, kind: str
    ) -> None:
        with raises_max("storage.invalid_filter_value") as caught:
            await users.query(EntityQuery(AcmeUser, where))
        assert caught.value.has("BadInput")
        assert caught.value.data["field"] == where.field
        assert caught.value.message.startswith(f"Field '{where.field}' of AcmeUser is a {kind};")

    async def test_invalid_filter_value_through_the_filter_language(self, users: Engine) -> None:
        with raises_max("storage.invalid_filter_value") as caught:
            await filtered(users, AcmeUser, "active = maybe")
        assert caught.value.message == (
            "Field 'active' of AcmeUser is a boolean; str 'maybe' is not a valid boolean value"
        )

    async def test_an_in_list_names_the_value_that_does_not_fit(self, users: Engine) -> None:
        with raises_max("storage.invalid_filter_value") as caught:
            await filtered(users, AcmeUser, "active IN (true, maybe)")
        assert caught.value.message == (
            "Field 'active' of AcmeUser is a boolean; str 'maybe' is not a valid boolean value"
        )
        with raises_max("storage.invalid_filter_value"):  # built in code: a list is required
            await users.query(EntityQuery(AcmeUser, Where("email", Op.IN, "alice@acme.test")))

    async def test_a_boolean_against_a_ref_column(self, engine: Engine) -> None:
        with raises_max("storage.invalid_filter_value"):
            await engine.query(EntityQuery(AcmeProject, Where("owner", "=", True)))

    async def test_unknown_entity_type(self, engine: Engine) -> None:
        with raises_max("storage.entity_not_registered"):
            await engine.query(Query.from_(Stranger).refs())

    async def test_text_with_lone_surrogates(self, users: Engine) -> None:
        """Undecodable bytes in a command-line argument arrive as lone surrogates."""
        for where in (Where("email", "=", "\udcff"), Where("_id", Op.CONTAINS, "a\udcff")):
            with raises_max("storage.invalid_filter_value"):
                await users.query(EntityQuery(AcmeUser, where))
        with raises_max("storage.entity_not_found") as caught:
            await users.load(AcmeUser.ref("u\udcff"))
        assert caught.value.message == "AcmeUser not found: u\\udcff"
        with raises_max("storage.invalid_cursor"):
            await users.query(Query.from_(AcmeUser).refs(), PageRequest("ein:AcmeUser:\udcff"))


class TestBadInputEndToEnd:
    """Filter text through ``maxtrio.query`` into the engine: every refusal is a MaxError
    with its code and a one-line message, and nothing is written or lost."""

    @pytest.mark.parametrize(
        ("entity", "text", "code"),
        [
            (AcmeUser, "displayName=", "query-parser.parse_failed"),
            (AcmeUser, "displayName Alice", "query-parser.parse_failed"),
            (AcmeUser, "displayName = 'open", "query-parser.parse_failed"),
            (AcmeUser, "a=1 AND(b=2)", "query-parser.parse_failed"),
            (AcmeUser, "nope = 1", "cli.filter_parse"),
            (AcmeUser, "role = admin OR (_ref = x)", "cli.filter_parse"),
            (AcmeProject, "tasks = t1", "cli.filter_parse"),  # B16: collections excluded
            (AcmeUser, "active = maybe", "storage.invalid_filter_value"),
            (AcmeUser, "score > lots", "storage.invalid_filter_value"),
            (AcmeUser, "joined < 5", "storage.invalid_filter_value"),
            (AcmeProject, "owner = true", "storage.invalid_filter_value"),
        ],
    )
    async def test_bad_filters(self, users: Engine, entity: Any, text: str, code: str) -> None:
        with raises_max(code) as caught:
            await filtered(users, entity, text)
        assert caught.value.has("BadInput")
        assert await users.count(AcmeUser) == 3


# -- limits and cursors -------------------------------------------------------------------------


class TestLimits:
    async def test_limit_zero(self, users: Engine) -> None:
        page = await users.query(Query.from_(AcmeUser).select_all(), PageRequest(limit=0))
        assert list(page.items) == [] and page.has_more and page.cursor is None
        none = Query.from_(AcmeUser).where("role", "=", "owner").refs()
        empty = await users.query(none, PageRequest(limit=0))
        assert list(empty.items) == [] and not empty.has_more and empty.cursor is None
        ordered = Query.from_(AcmeUser).order_by("email").refs()
        zero = await users.query(ordered, PageRequest(limit=0))
        assert zero.has_more and zero.cursor is None

    @pytest.mark.parametrize("limit", [-1, -2, -1000])
    async def test_a_negative_limit_is_refused(self, users: Engine, limit: int) -> None:
        with raises_max("storage.invalid_limit") as caught:
            await users.query(Query.from_(AcmeUser).refs(), PageRequest(limit=limit))
        assert caught.value.has("BadInput")
        assert caught.value.message == f"Invalid limit {limit}: limit must be ≥ 0"
        with raises_max("storage.invalid_limit"):
            await users.load_page(AcmeUser, page=PageRequest(limit=limit))

    async def test_the_default_limit_is_1000(self, engine: Engine) -> None:
        await engine.store_many([AcmeUser.input(f"u{i:04d}") for i in range(1001)])
        page = await engine.query(Query.from_(AcmeUser).refs())
        assert len(page.items) == 1000 and page.has_more
        assert page.cursor == "ein:AcmeUser:u0999"


def keyset_token(payload: Any) -> str:
    raw = json.dumps(payload).encode()
    return "ord1." + base64.urlsafe_b64encode(raw).decode().rstrip("=")


class TestCursors:
    async def test_an_empty_cursor_means_the_first_page(self, users: Engine) -> None:
        for query in (
            Query.from_(AcmeUser).refs(),
            Query.from_(AcmeUser).order_by("displayName", "desc").refs(),
        ):
            page = await users.query(query, PageRequest("", 2))
            assert len(page.items) == 2

    @pytest.mark.parametrize("cursor", ["garbage", "ein:AcmeUser", "nope:AcmeUser:u1"])
    async def test_an_unordered_query_needs_a_ref_key(self, users: Engine, cursor: str) -> None:
        for call in (
            users.query(Query.from_(AcmeUser).refs(), PageRequest(cursor, 2)),
            users.load_page(AcmeUser, page=PageRequest(cursor, 2)),
        ):
            with raises_max("storage.invalid_cursor") as caught:
                await call
            assert "expected a RefKey such as ein:AcmeUser:<id>" in caught.value.message

    async def test_an_ordered_cursor_on_an_unordered_query(self, users: Engine) -> None:
        ordered = await users.query(
            Query.from_(AcmeUser).order_by("email").refs(), PageRequest(limit=1)
        )
        assert ordered.cursor is not None
        with raises_max("storage.invalid_cursor"):
            await users.query(Query.from_(AcmeUser).refs(), PageRequest(ordered.cursor, 1))

    @pytest.mark.parametrize("cursor", ["ein:Other:u1", "ein:AcmeUserX:u1", "ews:ws1:Other:u1"])
    async def test_a_ref_key_cursor_of_another_entity_type(
        self, users: Engine, cursor: str
    ) -> None:
        """MAXTRIO: the reference took the id and silently paged the wrong type."""
        with raises_max("storage.invalid_cursor") as caught:
            await users.query(Query.from_(AcmeUser).refs(), PageRequest(cursor, 5))
        assert "not of AcmeUser" in caught.value.message
        assert caught.value.has("BadInput")

    async def test_a_keyset_cursor_of_another_entity_type(self, users: Engine) -> None:
        by_name = Query.from_(AcmeUser).order_by("displayName").refs()
        first = await users.query(by_name, PageRequest(limit=1))
        assert first.cursor is not None
        foreign = keyset_token(["displayName", "asc", "Bob", "u2", "AcmeTask"])
        with raises_max("storage.invalid_cursor") as caught:
            await users.query(by_name, PageRequest(foreign, 1))
        assert "it is a cursor of AcmeTask, not of AcmeUser" in caught.value.message
        for bad in (
            keyset_token(["displayName", "asc", "Bob", "u2", 7]),
            keyset_token(["displayName", "asc", "Bob", "u2", "AcmeUser", "x"]),
        ):
            with raises_max("storage.invalid_cursor"):
                await users.query(by_name, PageRequest(bad, 1))
        own = keyset_token(["displayName", "asc", "Bob", "u2", "AcmeUser"])
        assert ids_of(await users.query(by_name, PageRequest(own))) == ["u3"]

    async def test_long_and_unprintable_cursors_are_quoted_shortly(self, users: Engine) -> None:
        for cursor in ("x" * 4096, "ein:\n" + "y" * 4096, "ord1." + "z" * 4096):
            for query in (
                Query.from_(AcmeUser).refs(),
                Query.from_(AcmeUser).order_by("email").refs(),
            ):
                with raises_max("storage.invalid_cursor") as caught:
                    await users.query(query, PageRequest(cursor, 1))
                message = caught.value.message
                assert len(message) < 400 and message.isprintable(), message
                assert "…" in message

    @pytest.mark.parametrize(
        "cursor",
        [
            "ein:AcmeUser:u1",
            "garbage",
            "ord1.",
            "ord1.!!!not-base64!!!",
            "ord1." + base64.urlsafe_b64encode(b"not json").decode(),
            keyset_token({"field": "email"}),
            keyset_token(["email", "asc", "x"]),
            keyset_token(["email", "sideways", "x", "u1"]),
            keyset_token(["email", "asc", ["nested"], "u1"]),
            keyset_token(["email", "asc", "x", 7]),
            keyset_token([1, "asc", "x", "u1"]),
        ],
    )
    async def test_garbage_keyset_cursors(self, users: Engine, cursor: str) -> None:
        query = Query.from_(AcmeUser).order_by("email").refs()
        with raises_max("storage.invalid_cursor") as caught:
            await users.query(query, PageRequest(cursor, 1))
        assert caught.value.has("BadInput")

    async def test_a_cursor_made_for_another_ordering(self, users: Engine) -> None:
        by_name = Query.from_(AcmeUser).order_by("displayName").refs()
        first = await users.query(by_name, PageRequest(limit=1))
        assert first.cursor is not None
        for other, made_for in (
            (Query.from_(AcmeUser).order_by("email").refs(), "email:asc"),
            (Query.from_(AcmeUser).order_by("displayName", "desc").refs(), "displayName:desc"),
            (EntityQuery(AcmeUser, ordering=Ordering("_id", "desc")), "_id:desc"),
        ):
            with raises_max("storage.invalid_cursor") as caught:
                await users.query(other, PageRequest(first.cursor, 1))
            assert f"made for --order-by displayName:asc, not {made_for}" in caught.value.message

    async def test_a_ref_key_cursor_on_an_ordered_query(self, users: Engine) -> None:
        with raises_max("storage.invalid_cursor") as caught:
            await users.query(
                Query.from_(AcmeUser).order_by("email").refs(), PageRequest("ein:AcmeUser:u1")
            )
        assert "ordered by email" in caught.value.message

    async def test_a_hand_made_keyset_cursor_for_the_right_ordering_works(
        self, users: Engine
    ) -> None:
        cursor = keyset_token(["displayName", "asc", "Bob", "u2"])
        query = Query.from_(AcmeUser).order_by("displayName").refs()
        assert ids_of(await users.query(query, PageRequest(cursor))) == ["u3"]

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("email", 5),  # a number for a text column
            ("email", 1.5),
            ("email", True),
            ("_id", 3),  # (only _id:desc pages with a keyset cursor)
            ("score", "5"),  # text for a number column
            ("score", float("nan")),
            ("score", 10**30),  # beyond 64 bits: SQLite could not bind it
            ("score", False),
            ("active", "true"),
        ],
        ids=repr,
    )
    async def test_a_keyset_cursor_whose_value_the_column_cannot_hold(
        self, users: Engine, field: str, value: Any
    ) -> None:
        """No engine makes such a cursor; both refuse it alike instead of answering by rules
        of their own (or failing to bind it)."""
        for direction in ("desc",) if field == "_id" else ("asc", "desc"):
            query = EntityQuery(AcmeUser, ordering=Ordering(field, direction))
            cursor = keyset_token([field, direction, value, "u1"])
            with raises_max("storage.invalid_cursor") as caught:
                await users.query(query, PageRequest(cursor, 5))
            assert caught.value.message.endswith("it is not a cursor this engine made")

    @pytest.mark.parametrize(
        ("field", "value", "expected"),
        [
            ("score", float("inf"), []),
            ("score", 2, ["u2"]),  # an int for a REAL column compares as the number
            ("score", 3.0, ["u2"]),  # a tie: after the cursor's id ("u0")
            ("email", None, ["u1", "u3", "u2"]),  # every non-NULL email follows NULL
            ("email", "bob\x00", ["u2"]),  # "bob" < "bob\x00" < "bob\x00x"
        ],
        ids=repr,
    )
    async def test_a_keyset_cursor_value_the_column_can_hold(
        self, engine: Engine, field: str, value: Any, expected: list[str]
    ) -> None:
        await engine.store_many(
            [
                AcmeUser.input("u1", score=1.0, email="a"),
                AcmeUser.input("u2", score=3.0, email="bob\x00x"),
                AcmeUser.input("u3", email="bob"),
            ]
        )
        query = EntityQuery(AcmeUser, ordering=Ordering(field), projection=Projection.refs())
        cursor = keyset_token([field, "asc", value, "u0"])
        assert ids_of(await engine.query(query, PageRequest(cursor, 5))) == expected

    async def test_text_with_nul_and_control_characters_pages_in_order(
        self, engine: Engine
    ) -> None:
        names_by_id = {"a": "x", "b": "x\x00", "c": "x\x00\x00", "d": "x\x01", "e": "\x00"}
        names_by_id |= {"f": "x\x00", "g": "\x7f", "h": "x\x00y", "i": "\t"}
        await engine.store_many([AcmeUser.input(i, displayName=n) for i, n in names_by_id.items()])
        for direction in ("asc", "desc"):
            query = EntityQuery(
                AcmeUser, ordering=Ordering("displayName", direction), projection=Projection.refs()
            )
            pages = await page_through(engine, query, 1)
            expected = sorted(names_by_id, key=lambda i: (names_by_id[i], i))
            if direction == "desc":
                expected = sorted(expected, key=lambda i: names_by_id[i], reverse=True)
            assert [i for page in pages for i in ids_of(page)] == expected

    async def test_keyset_pages_resume_after_the_last_row_not_an_offset(
        self, users: Engine
    ) -> None:
        query = Query.from_(AcmeUser).order_by("displayName").select_all()
        first = await users.query(query, PageRequest(limit=2))
        assert names(first) == ["Alice", "Bob"]
        await users.store_many(
            [
                AcmeUser.input("u0", displayName="Aaron"),  # sorts before the cursor
                AcmeUser.input("u9", displayName="Bobby"),  # sorts after it
            ]
        )
        second = await users.query(query, PageRequest(first.cursor, 2))
        assert names(second) == ["Bobby", "Charlie"]
        assert not second.has_more


async def test_an_entity_result_page_carries_loaded_values(users: Engine) -> None:
    page = await users.query(Query.from_(AcmeUser).order_by("role", "desc").select("role"))
    items = list(page.items)
    assert all(isinstance(i, EntityResult) for i in items)
    assert [(r.id, r.get("role")) for r in results_of(page)] == [
        ("u2", "member"),
        ("u1", "admin"),
        ("u3", "admin"),
    ]
