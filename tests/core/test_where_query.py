"""The where tree (with NOT, IN and null tests, and its wire form), the query builder,
projections and field selectors, and how user text appears in errors."""

from __future__ import annotations

import json

import pytest

from maxtrio.core import (
    ALL,
    EMPTY_WHERE,
    NULL_TESTS,
    QUOTE_LIMIT,
    EntityDef,
    EntityQuery,
    Field,
    FieldSelector,
    Op,
    Ordering,
    Projection,
    ProjectionKind,
    Query,
    Where,
    WhereGroup,
    WhereNot,
    and_,
    closest,
    did_you_mean,
    is_leaf,
    iter_leaves,
    not_,
    or_,
    printable,
    quote_input,
    where_from_wire,
    where_to_wire,
)

Task = EntityDef.create(
    "Task",
    {"title": Field.string(), "priority": Field.number(), "done": Field.boolean()},
)


class TestWhereTree:
    def test_ops_are_the_closed_set(self) -> None:
        assert [op.value for op in Op] == [
            *("=", "!=", ">", "<", ">=", "<=", "contains"),
            *("in", "is null", "is not null"),
        ]

    def test_leaf_converts_the_op(self) -> None:
        leaf = Where("priority", ">=", 5)
        assert leaf.op is Op.GE
        assert leaf == Where("priority", Op.GE, 5)

    def test_unknown_op_is_rejected(self) -> None:
        with pytest.raises(ValueError):
            Where("priority", "==", 5)

    def test_empty_where_is_an_and_without_clauses(self) -> None:
        assert WhereGroup("and", ()) == EMPTY_WHERE
        assert EMPTY_WHERE.is_empty
        assert list(iter_leaves(EMPTY_WHERE)) == []
        assert not and_(Where("done", Op.EQ, True)).is_empty

    def test_leaf_or_node(self) -> None:
        leaf = Where("title", Op.CONTAINS, "bug")
        assert is_leaf(leaf)
        assert not is_leaf(and_(leaf))
        assert not is_leaf(EMPTY_WHERE)

    def test_and_or_build_nested_trees(self) -> None:
        a = Where("title", Op.EQ, "a")
        b = Where("title", Op.EQ, "b")
        c = Where("done", Op.EQ, True)
        tree = and_(or_(a, b), c)
        assert tree.kind == "and"
        assert tree.clauses == (WhereGroup("or", (a, b)), c)
        assert list(iter_leaves(tree)) == [a, b, c]

    def test_trees_are_values(self) -> None:
        left = and_(Where("priority", Op.GT, 1), or_(Where("done", Op.EQ, False)))
        right = and_(Where("priority", Op.GT, 1), or_(Where("done", Op.EQ, False)))
        assert left == right
        assert hash(left) == hash(right)
        assert left != or_(*left.clauses)


class TestQueryBuilder:
    def test_several_wheres_make_one_flat_and_in_call_order(self) -> None:
        query = (
            Query.from_(Task)
            .where("title", "contains", "bug")
            .where("priority", Op.GE, 3)
            .where("done", "=", False)
            .refs()
        )
        assert query.where == WhereGroup(
            "and",
            (
                Where("title", Op.CONTAINS, "bug"),
                Where("priority", Op.GE, 3),
                Where("done", Op.EQ, False),
            ),
        )

    def test_no_where_is_the_empty_where(self) -> None:
        query = Query.from_(Task).select_all()
        assert query.where == EMPTY_WHERE
        assert query.ordering is None

    def test_order_by_keeps_the_last_call(self) -> None:
        query = Query.from_(Task).order_by("title").order_by("priority", "desc").refs()
        assert query.ordering == Ordering("priority", "desc")
        assert query.ordering.descending

    def test_order_by_defaults_to_ascending(self) -> None:
        ordering = Query.from_(Task).order_by("title").refs().ordering
        assert ordering == Ordering("title", "asc")
        assert ordering is not None and not ordering.descending

    def test_terminals_set_the_projection(self) -> None:
        builder = Query.from_(Task).where("done", "=", True)
        assert builder.refs().projection == Projection.refs()
        assert builder.select_all().projection == Projection.all()
        assert builder.select("title", "priority").projection == Projection(
            ProjectionKind.SELECT, ("title", "priority")
        )

    def test_select_accepts_names_and_lists_of_names(self) -> None:
        query = Query.from_(Task).select("title", ["priority", "done"])
        assert query.projection.fields == ("title", "priority", "done")

    def test_descriptor_is_complete_and_frozen(self) -> None:
        query = Query.from_(Task).where("priority", ">", 1).order_by("title").select("title")
        assert query == EntityQuery(
            Task,
            WhereGroup("and", (Where("priority", Op.GT, 1),)),
            Ordering("title"),
            Projection.select("title"),
        )
        assert query.entity is Task
        with pytest.raises(AttributeError):
            query.ordering = None  # type: ignore[misc]

    def test_a_built_query_does_not_see_later_builder_calls(self) -> None:
        builder = Query.from_(Task).where("done", "=", False)
        first = builder.refs()
        builder.where("priority", ">", 2).order_by("title")
        assert first.where == WhereGroup("and", (Where("done", Op.EQ, False),))
        assert first.ordering is None
        assert len(builder.refs().where.clauses) == 2  # type: ignore[union-attr]

    def test_unknown_op_string_is_rejected(self) -> None:
        with pytest.raises(ValueError):
            Query.from_(Task).where("priority", "=>", 5)

    def test_entity_query_defaults(self) -> None:
        query = EntityQuery(Task)
        assert query.where == EMPTY_WHERE
        assert query.ordering is None
        assert query.projection == Projection.all()


class TestProjection:
    def test_refs_and_all_have_no_fields(self) -> None:
        assert Projection.refs().kind is ProjectionKind.REFS
        assert Projection.refs().fields == ()
        assert Projection.all().kind is ProjectionKind.ALL
        assert Projection.all().fields == ()

    def test_select_keeps_field_order(self) -> None:
        projection = Projection.select("priority", "_id", "title")
        assert projection.kind is ProjectionKind.SELECT
        assert projection.fields == ("priority", "_id", "title")

    def test_projections_are_values(self) -> None:
        assert Projection.select("a", "b") == Projection.select("a", "b")
        assert Projection.select("a", "b") != Projection.select("b", "a")
        assert Projection.refs() is Projection.refs()
        assert ProjectionKind("select") is ProjectionKind.SELECT


class TestFieldSelector:
    def test_all(self) -> None:
        assert ALL.is_all
        assert ALL.fields is None
        assert FieldSelector(None) == ALL

    def test_select(self) -> None:
        selector = FieldSelector.select("title", "done")
        assert not selector.is_all
        assert selector.fields == ("title", "done")

    def test_select_nothing_is_not_all(self) -> None:
        nothing = FieldSelector.select()
        assert nothing.fields == ()
        assert not nothing.is_all


class TestNotInAndNullTests:
    def test_not_in_and_null_leaves_and_their_leaves(self) -> None:
        tree = and_(
            not_(or_(Where("title", Op.IN, ("a", "b")), Where("done", Op.IS_NULL, None))),
            Where("priority", Op.IS_NOT_NULL, None),
        )
        assert [leaf.field for leaf in iter_leaves(tree)] == ["title", "done", "priority"]
        assert not_(EMPTY_WHERE) == WhereNot(EMPTY_WHERE)
        assert {Op.IS_NULL, Op.IS_NOT_NULL} == NULL_TESTS

    def test_wire_form_round_trips(self) -> None:
        tree = and_(
            not_(Where("title", Op.IN, ("a", 2, True))),
            Where("done", Op.IS_NULL, None),
            not_(not_(Where("priority", Op.IS_NOT_NULL, None))),
        )
        wire = where_to_wire(tree)
        assert wire["clauses"][0] == {
            "not": {"field": "title", "op": "in", "value": ["a", 2, True]}
        }
        assert wire["clauses"][1] == {"field": "done", "op": "is null", "value": None}
        assert where_from_wire(json.loads(json.dumps(wire))) == tree

    @pytest.mark.parametrize(
        "wire",
        [
            {"field": "a", "op": "in", "value": "x"},
            {"field": "a", "op": "in", "value": [["nested"]]},
            {"field": "a", "op": "is null", "value": 1},
            {"not": 5},
        ],
    )
    def test_malformed_wire_forms_are_rejected(self, wire: dict[str, object]) -> None:
        with pytest.raises(ValueError):
            where_from_wire(wire)


class TestUserText:
    def test_printable_escapes_control_characters_and_surrogates(self) -> None:
        assert printable("a\nb\x00c\ud800é") == "a\\nb\\x00c\\ud800é"
        assert printable("plain text") == "plain text"

    def test_quote_input_shortens_to_the_limit_without_cutting_an_escape(self) -> None:
        assert quote_input("short") == "short"
        long = quote_input("x" * 40_000)
        assert len(long) == QUOTE_LIMIT and long.endswith("…")
        escaped = quote_input("\n" * 300, limit=10)
        assert escaped == "\\n" * 4 + "…"
        assert quote_input("a" * 9 + "\x00", limit=10) == "a" * 9 + "…"

    @pytest.mark.parametrize(
        ("word", "choices", "expected"),
        [
            ("titel", ["title", "status"], "title"),
            ("acmetask", ["AcmeUser", "AcmeTask"], "AcmeTask"),
            ("AcmeTsk", ["AcmeUser", "AcmeTask"], "AcmeTask"),
            ("title", ["title"], None),
            ("zzz", ["title", "status"], None),
            ("x", [], None),
        ],
    )
    def test_closest(self, word: str, choices: list[str], expected: str | None) -> None:
        assert closest(word, choices) == expected
        hint = did_you_mean(word, choices)
        assert hint == (None if expected is None else f'did you mean "{expected}"?')
