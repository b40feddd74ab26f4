"""The record tables and their compiled readers, without a server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maxtrio.connectors.acme import (
    FILE,
    RECORD_SPECS,
    TASK,
    AcmeProject,
    AcmeResponse,
    AcmeTask,
    AcmeUser,
    ErrBadResponse,
    Kind,
    problem_of,
    tags_text,
)
from maxtrio.core import MaxError

STAMP = "2026-03-08T14:03:27.512Z"


def canonical(tags: list[str]) -> str:
    return json.dumps(tags, ensure_ascii=False, separators=(",", ":"))


@given(st.lists(st.text()))
def test_tags_text_is_compact_json_whatever_the_tags(tags: list[str]) -> None:
    assert tags_text(tags) == canonical(tags)
    assert json.loads(tags_text(tags) or "") == tags


def test_tags_text_of_plain_and_odd_tags() -> None:
    assert tags_text([]) == "[]"
    assert tags_text(["bug", "ux"]) == '["bug","ux"]'
    assert tags_text(['a","b']) == '["a\\",\\"b"]'  # a quote is escaped, not a separator
    assert tags_text(["naïve", "tab\there", "back\\slash"]) == canonical(
        ["naïve", "tab\there", "back\\slash"]
    )
    assert tags_text(["a", 1]) is None
    assert tags_text([None]) is None


def test_every_table_fills_every_stored_field_of_its_entity() -> None:
    for spec in RECORD_SPECS:
        stored = [n for n, f in spec.entity.fields.items() if f.is_stored]
        assert list(spec.fields) == stored, spec.noun  # and in the entity's order
    assert [c.key for c in TASK.columns if c.kind is Kind.REF] == [
        "assigneeId",
        "projectId",
        "createdById",
        "lastModifiedById",
    ]


def test_absent_nullable_keys_read_as_null_and_refs_are_shared_in_a_page() -> None:
    base = {
        "projectId": "prj_1",
        "title": "T",
        "status": "todo",
        "priority": "low",
        "createdById": "usr_1",
        "lastModifiedById": "usr_1",
        "tags": [],
        "createdAt": STAMP,
        "updatedAt": STAMP,
    }
    rows: list[Any] = [{"id": "tsk_1", **base}, {"id": "tsk_2", **base, "assigneeId": "usr_1"}]
    first, second = TASK.read_page(AcmeResponse(rows, "GET /api/tasks"))
    assert first.ref == AcmeTask.ref("tsk_1")
    assert {k: first.fields[k] for k in ("description", "assignee", "dueDate", "completedAt")} == (
        dict.fromkeys(("description", "assignee", "dueDate", "completedAt"))
    )
    assert first.fields["createdBy"] is first.fields["lastModifiedBy"] is second.fields["assignee"]
    assert first.fields["project"] == AcmeProject.ref("prj_1")
    assert second.fields["assignee"] == AcmeUser.ref("usr_1")


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ("x", "the file is string, not an object"),
        ({}, "'id' is missing"),
        ({"id": 3}, "'id' must be a string, got number"),
        ({"id": "fil_1", "name": None}, "'name' is null"),
        ({"id": "fil_1", "name": "n", "mimeType": "m", "sizeBytes": 1.5}, "'projectId' is missing"),
    ],
)
def test_problems_name_the_key(record: Any, problem: str) -> None:
    assert problem_of(record, FILE) == problem
    with pytest.raises(MaxError) as caught:
        FILE.read_page(AcmeResponse([record], "GET /api/files"))
    assert ErrBadResponse.matches(caught.value)
    assert caught.value.message.endswith(problem)


def test_a_float_size_is_a_number_too() -> None:
    record = {
        "id": "fil_1",
        "projectId": "prj_1",
        "name": "n",
        "mimeType": "m",
        "sizeBytes": 1.5,
        "createdById": "usr_1",
        "lastModifiedById": "usr_1",
        "createdAt": STAMP,
        "updatedAt": STAMP,
    }
    assert problem_of(record, FILE) is None
    (read,) = FILE.read_page(AcmeResponse([record], "GET /api/files"))
    assert read.fields["sizeBytes"] == 1.5
