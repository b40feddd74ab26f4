"""Entity definitions and small helpers shared by the storage tests.

The schema is Acme-shaped with every field kind, a reserved
SQL word as a field name, a ref whose target is given by name, and an entity type whose only
field is a collection (it has a table with just ``_id``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from maxtrio.core import (
    EntityDef,
    EntityQuery,
    EntityResult,
    Field,
    MaxError,
    Page,
    PageRequest,
    Schema,
)
from maxtrio.storage import Engine, QueryItem

AcmeUser = EntityDef.create(
    "AcmeUser",
    {
        "displayName": Field.string(),
        "email": Field.string(),
        "role": Field.string(),
        "active": Field.boolean(),
        "score": Field.number(),
        "joined": Field.date(),
        "avatarURL": Field.string(),
    },
)
AcmeTask = EntityDef.create(
    "AcmeTask",
    {
        "title": Field.string(),
        "priority": Field.number(),
        "done": Field.boolean(),
        "due": Field.date(),
        "project": Field.ref("AcmeProject"),
        "order": Field.string(),
        "group": Field.string(),
    },
)
AcmeProject = EntityDef.create(
    "AcmeProject",
    {
        "name": Field.string(),
        "description": Field.string(),
        "status": Field.string(),
        "owner": Field.ref(AcmeUser),
        "tasks": Field.collection(AcmeTask, via="project"),
    },
)
AcmeWorkspace = EntityDef.create("AcmeWorkspace", {"users": Field.collection(AcmeUser)})

ACME = Schema.create(
    "acme", [AcmeWorkspace, AcmeUser, AcmeProject, AcmeTask], roots=[AcmeWorkspace]
)

#: A type that is not in :data:`ACME`.
Stranger = EntityDef.create("Stranger", {"name": Field.string()})


@contextmanager
def raises_max(code: str) -> Iterator[pytest.ExceptionInfo[MaxError]]:
    """Expect a :class:`MaxError` with exactly ``code`` (and a one-line message)."""
    with pytest.raises(MaxError) as caught:
        yield caught
    assert caught.value.code == code, caught.value
    assert caught.value.message and "\n" not in caught.value.message


def ids_of(page: Page[QueryItem]) -> list[str]:
    """The entity ids of a page's items (refs or results)."""
    return [item.id for item in page.items]


def results_of(page: Page[QueryItem]) -> list[EntityResult]:
    items = list(page.items)
    assert all(isinstance(i, EntityResult) for i in items)
    return [i for i in items if isinstance(i, EntityResult)]


async def all_ids(engine: Engine, entity: EntityDef) -> list[str]:
    """Every stored id of a type, in ``_id`` order (one big page)."""
    page = await engine.load_page(entity, page=PageRequest(limit=1_000_000))
    assert not page.has_more
    return ids_of(page)


async def page_through(
    engine: Engine, query: EntityQuery, limit: int, *, max_pages: int = 100_000
) -> list[Page[QueryItem]]:
    """Every page of ``query`` at ``limit`` rows a page, following cursors to the end."""
    pages: list[Page[QueryItem]] = []
    cursor: str | None = None
    while len(pages) < max_pages:
        page = await engine.query(query, PageRequest(cursor, limit))
        pages.append(page)
        if not page.has_more:
            assert page.cursor is None
            return pages
        assert page.cursor, "a page with more rows after it must carry a cursor"
        cursor = page.cursor
    raise AssertionError(f"paging did not finish within {max_pages} pages")
