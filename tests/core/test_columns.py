"""``EntityColumns``: the bulk form of entity inputs, and its expansion."""

from __future__ import annotations

import pytest

from maxtrio.core import (
    EntityColumns,
    EntityDef,
    EntityInput,
    Field,
    Ref,
    count_entities,
    expand_entities,
)

User = EntityDef.create("CUser", {"name": Field.string()})
Task = EntityDef.create("CTask", {"title": Field.string(), "owner": Field.ref(User)})


def test_columns_mean_one_input_per_id() -> None:
    batch = EntityColumns(Task, ["t1", "t2"], {"title": ["a", None], "owner": ["u1", None]})

    assert len(batch) == 2 and batch.fields == ("title", "owner")
    assert batch.inputs() == [
        EntityInput(Task.ref("t1"), {"title": "a", "owner": Ref(User, "u1")}),
        EntityInput(Task.ref("t2"), {"title": None, "owner": None}),
    ]
    assert list(batch.ref_keys()) == ["ein:CTask:t1", "ein:CTask:t2"]
    assert batch.ref_keys()[1] == "ein:CTask:t2" and batch.refs() == [
        Task.ref("t1"),
        Task.ref("t2"),
    ]


def test_mixed_items_expand_in_order_and_count_their_entities() -> None:
    single = EntityInput(User.ref("u1"), {"name": "Ann"})
    batch = EntityColumns(Task, ["t1"], {"title": ["x"]})

    assert expand_entities([single, batch]) == [single, *batch.inputs()]
    assert count_entities([single, batch, EntityColumns(Task, [], {})]) == 2


def test_a_column_of_another_length_is_refused() -> None:
    with pytest.raises(ValueError, match="column 'title' has 1 values for 2 ids"):
        EntityColumns(Task, ["t1", "t2"], {"title": ["a"]})
