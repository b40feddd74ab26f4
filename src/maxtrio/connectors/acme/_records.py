"""Reading Acme JSON records into entity inputs, checking every value the connector uses.

This is the boundary where upstream data is validated: a record that is not an object, lacks a
field the connector reads, or has a value of the wrong JSON type fails with
``connector-acme.bad_response`` naming the request, the item and the field — before anything is
written, so a bad answer fails its task and never reaches ``data.db``.

What is read (spec acme-and-connectors §2.11): workspace ``id, name``; user ``id,
displayName, email, role, active``; project ``id, name, description, ownerId, status``; task
``id, title, description, status, priority``. ``description`` and ``ownerId`` may be null (an
absent key reads as null); an empty or null ``description`` is not written.

:func:`task_inputs` is the hot path (1,000 tasks per call): one pass, a few ``type() is`` checks
per row, a plain dict per row; the detailed reason is worked out only when a row is bad.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from maxtrio.core import EntityDef, EntityInput, Ref, json_kind

from ._client import AcmeResponse
from ._entities import AcmeTask, AcmeUser
from ._errors import bad_response


@attrs.frozen
class RecordSpec:
    """The fields of one Acme record type the connector reads: (key, JSON type, nullable)."""

    noun: str
    fields: tuple[tuple[str, type, bool], ...]


WORKSPACE = RecordSpec("workspace", (("id", str, False), ("name", str, False)))
USER = RecordSpec(
    "user",
    (
        ("id", str, False),
        ("displayName", str, False),
        ("email", str, False),
        ("role", str, False),
        ("active", bool, False),
    ),
)
PROJECT = RecordSpec(
    "project",
    (
        ("id", str, False),
        ("name", str, False),
        ("description", str, True),
        ("status", str, False),
        ("ownerId", str, True),
    ),
)
TASK = RecordSpec(
    "task",
    (
        ("id", str, False),
        ("title", str, False),
        ("description", str, True),
        ("status", str, False),
        ("priority", str, False),
    ),
)
STUB = RecordSpec("entity", (("id", str, False),))

_JSON_NAMES = {str: "a string", bool: "a boolean"}


def problem_of(record: object, spec: RecordSpec) -> str | None:
    """The first problem of ``record`` against ``spec``, or None when it is fine."""
    if type(record) is not dict:
        return f"the {spec.noun} is {json_kind(record)}, not an object"
    for key, kind, nullable in spec.fields:
        value = record.get(key)
        if value is None:
            if nullable:
                continue
            return f"'{key}' is missing" if key not in record else f"'{key}' is null"
        if type(value) is not kind:
            return f"'{key}' must be {_JSON_NAMES[kind]}, got {json_kind(value)}"
    if not record["id"]:
        return "'id' is empty"
    return None


def _item_problem(items: Sequence[Any], index: int, spec: RecordSpec) -> str:
    record = items[index]
    problem = problem_of(record, spec) or "unreadable record"
    entity_id = record.get("id") if type(record) is dict else None
    where = f"item {index}" + (f" ({entity_id})" if type(entity_id) is str and entity_id else "")
    return f"{where}: {problem}"


def read_record(response: AcmeResponse, spec: RecordSpec, expected_id: str) -> dict[str, Any]:
    """The checked object of a get call for ``expected_id``."""
    record = response.data
    problem = problem_of(record, spec)
    if problem is not None:
        raise bad_response(response.request, problem)
    if record["id"] != expected_id:
        raise bad_response(
            response.request, f"asked for {spec.noun} {expected_id!r}, got {record['id']!r}"
        )
    return record  # type: ignore[no-any-return]


def read_records(response: AcmeResponse, spec: RecordSpec) -> list[dict[str, Any]]:
    """The checked objects of a list call."""
    items: list[Any] = response.data
    for index, record in enumerate(items):
        if problem_of(record, spec) is not None:
            raise bad_response(response.request, _item_problem(items, index, spec))
    return items


def stub_inputs(entity: EntityDef, response: AcmeResponse) -> list[EntityInput]:
    """One input without fields per listed entity (workspaces, users, projects)."""
    return [EntityInput(Ref(entity, r["id"]), {}) for r in read_records(response, STUB)]


def workspace_input(ref: Ref, response: AcmeResponse) -> EntityInput:
    record = read_record(response, WORKSPACE, ref.id)
    return EntityInput(ref, {"name": record["name"]})


def user_input(ref: Ref, response: AcmeResponse) -> EntityInput:
    record = read_record(response, USER, ref.id)
    return EntityInput(
        ref,
        {
            "displayName": record["displayName"],
            "email": record["email"],
            "role": record["role"],
            "active": record["active"],
        },
    )


def project_input(ref: Ref, response: AcmeResponse) -> EntityInput:
    record = read_record(response, PROJECT, ref.id)
    owner_id = record.get("ownerId")
    fields: dict[str, Any] = {"name": record["name"]}
    if record.get("description"):
        fields["description"] = record["description"]
    fields["status"] = record["status"]
    fields["owner"] = Ref(AcmeUser, owner_id) if owner_id else None
    return EntityInput(ref, fields)


def task_inputs(response: AcmeResponse) -> list[EntityInput]:
    """Full task inputs of one list page (the sync's hot path)."""
    items: list[Any] = response.data
    out: list[EntityInput] = []
    append = out.append
    task = AcmeTask
    for index, row in enumerate(items):
        if type(row) is not dict:
            raise bad_response(response.request, _item_problem(items, index, TASK))
        task_id = row.get("id")
        title = row.get("title")
        status = row.get("status")
        priority = row.get("priority")
        description = row.get("description")
        if (
            type(task_id) is not str
            or type(title) is not str
            or type(status) is not str
            or type(priority) is not str
            or not task_id
        ):
            raise bad_response(response.request, _item_problem(items, index, TASK))
        if description is None or description == "":
            fields = {"title": title, "status": status, "priority": priority}
        elif type(description) is str:
            fields = {
                "title": title,
                "description": description,
                "status": status,
                "priority": priority,
            }
        else:
            raise bad_response(response.request, _item_problem(items, index, TASK))
        append(EntityInput(Ref(task, task_id), fields))
    return out


def workspace_choices(response: AcmeResponse) -> list[tuple[str, str]]:
    """``(name, id)`` of each listed workspace (onboarding's select step)."""
    return [(r["name"], r["id"]) for r in read_records(response, WORKSPACE)]
