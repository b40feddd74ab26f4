"""The acme change feed: what changed in Acme since a cursor, as complete inputs and deletions.

The cursor is an Acme changelog sequence as a string (``"0"``: before everything).

* ``head`` — ``acme:change:head`` (``GET /api/changes/recent?limit=1``): the newest event's
  sequence, or the server's ``X-Changelog-Head`` when it is larger (our fake sends it, so a log
  that compaction emptied still has a head), ``"0"`` when neither says more.
* ``changes(cursor, env, max_changes)`` — ``acme:change:list`` (``GET /api/changes?since=&
  limit=1000``) page after page until a page comes back shorter than asked. More than
  ``max_changes`` events → ``ChangeSet(overflow=True)`` at once (nothing more is read). A 410
  (the cursor is older than the retained log), or a cursor that is not a sequence, raises the
  core's ``feed_cursor_expired``.

Events are collapsed per (type, id) to the latest. Their payloads are **not** used: a task update
carries only the changed fields, a file update none, and no update carries ``updatedAt``.
Instead every touched id that was not deleted is read back with one batch get per type touched
(``acme:<noun>:batch``, chunks of ≤ 1,000 ids and an ~8 KB URL), concurrently, and turned into
inputs by the same record readers as the list loaders — so an incremental sync writes rows
identical to a full sync's. An id asked for but not returned is gone: a deletion. Ids holding a
comma cannot travel in ``?ids=``; they are read one by one (``acme:<noun>:get``, 404 = gone).

Event types the connector does not sync are skipped; an event that is not well formed (not an
object, a sequence that is not a number above the cursor, an empty id) is a
``connector-acme.bad_response`` naming the request and the item.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import attrs
import trio

from maxtrio.core import (
    DEFAULT_MAX_CHANGES,
    ChangeFeed,
    ChangeSet,
    EntityInput,
    ErrFeedCursorExpired,
    LoaderEnv,
    MaxError,
    Operation,
    Ref,
    json_kind,
)

from ._client import AcmeResponse, id_batches
from ._connection import AcmeAppContext
from ._errors import ErrNotFound, bad_response
from ._operations import (
    BatchFiles,
    BatchProjects,
    BatchTasks,
    BatchUsers,
    BatchWorkspaces,
    ById,
    ByIds,
    ChangesHead,
    ChangesPage,
    GetFile,
    GetProject,
    GetTask,
    GetUser,
    GetWorkspace,
    ListChanges,
    RecentChanges,
)
from ._records import FILE, PROJECT, TASK, USER, WORKSPACE, RecordSpec

Env = LoaderEnv[AcmeAppContext]

CHANGES_PAGE_SIZE: Final = 1000
"""Events asked for per ``acme:change:list`` call."""


@attrs.frozen
class FeedKind:
    """How the feed reads back one Acme entity type: its batch get, get and record reader."""

    batch: Operation[AcmeAppContext, ByIds, AcmeResponse]
    get: Operation[AcmeAppContext, ById, AcmeResponse]
    spec: RecordSpec


FEED_KINDS: Final[dict[str, FeedKind]] = {
    "workspace": FeedKind(BatchWorkspaces, GetWorkspace, WORKSPACE),
    "user": FeedKind(BatchUsers, GetUser, USER),
    "project": FeedKind(BatchProjects, GetProject, PROJECT),
    "task": FeedKind(BatchTasks, GetTask, TASK),
    "file": FeedKind(BatchFiles, GetFile, FILE),
}
"""By the changelog's ``entityType``."""


@attrs.frozen
class Event:
    """The part of a change event the feed uses."""

    sequence: int
    entity_type: str
    entity_id: str
    action: str


# -- reading the log --------------------------------------------------------------------------


def _event_problem(event: object, after: int) -> str | None:
    if type(event) is not dict:
        return f"the event is {json_kind(event)}, not an object"
    sequence = event.get("sequence")
    if type(sequence) is not int:
        return f"'sequence' must be a number, got {json_kind(sequence)}"
    if sequence <= after:
        return f"sequence {sequence} does not follow {after}"
    for key in ("entityType", "entityId", "action"):
        value = event.get(key)
        if type(value) is not str:
            return f"'{key}' must be a string, got {json_kind(value)}"
        if not value:
            return f"'{key}' is empty"
    return None


def read_events(response: AcmeResponse, items: Sequence[Any], after: int) -> list[Event]:
    """The checked events of ``items`` (oldest first), each after the one before it."""
    events: list[Event] = []
    for index, item in enumerate(items):
        problem = _event_problem(item, after)
        if problem is not None:
            raise bad_response(response.request, f"event {index}: {problem}")
        after = item["sequence"]
        events.append(Event(after, item["entityType"], item["entityId"], item["action"]))
    return events


def _parse_cursor(cursor: str) -> int:
    """The sequence of a cursor this feed handed out; anything else is expired."""
    if not (cursor.isascii() and cursor.isdigit()) or (len(cursor) > 1 and cursor[0] == "0"):
        raise ErrFeedCursorExpired(cursor=cursor, connector="acme")
    return int(cursor)


async def head(env: Env) -> str:
    """The newest sequence of the change log as a cursor (``"0"`` for an empty log)."""
    response = await env.ops.execute(ChangesHead, RecentChanges(1))
    events = read_events(response, response.data[:1], 0)
    newest = events[0].sequence if events else 0
    return str(max(newest, response.head or 0))


async def changes(cursor: str, env: Env, max_changes: int = DEFAULT_MAX_CHANGES) -> ChangeSet:
    """Everything that changed after ``cursor`` (see the module docstring)."""
    since = _parse_cursor(cursor)
    limit = max(1, min(CHANGES_PAGE_SIZE, max_changes + 1))
    latest: dict[tuple[str, str], str] = {}
    read = 0
    position = since
    while True:
        response = await env.ops.execute(ListChanges, ChangesPage(position, limit))
        page = response.data.get("events")
        if type(page) is not list:
            raise bad_response(
                response.request, f"'events' must be an array, got {json_kind(page)}"
            )
        events = read_events(response, page, position)
        read += len(events)
        if read > max_changes:
            return ChangeSet(cursor=cursor, overflow=True)
        for event in events:
            key = (event.entity_type, event.entity_id)
            latest.pop(key, None)  # keep the order of the latest change
            latest[key] = event.action
        if events:
            position = events[-1].sequence
        if len(events) < limit:
            break
    upserts, deletes = await _read_back(latest, env)
    return ChangeSet(tuple(upserts), tuple(deletes), str(position))


# -- reading back what changed ----------------------------------------------------------------


async def _read_back(
    latest: dict[tuple[str, str], str], env: Env
) -> tuple[list[EntityInput], list[Ref]]:
    """Complete inputs of the touched entities still alive; refs of the deleted and the gone."""
    touched: dict[str, list[str]] = {}
    deletes: list[Ref] = []
    for (entity_type, entity_id), action in latest.items():
        kind = FEED_KINDS.get(entity_type)
        if kind is None:
            continue
        if action == "delete":
            deletes.append(Ref(kind.spec.entity, entity_id))
        else:
            touched.setdefault(entity_type, []).append(entity_id)
    found: dict[str, dict[str, EntityInput]] = {entity_type: {} for entity_type in touched}

    async def batch(kind: FeedKind, ids: list[str], into: dict[str, EntityInput]) -> None:
        wanted = set(ids)
        response = await env.ops.execute(kind.batch, ByIds(tuple(ids)))
        for item in kind.spec.read_page(response):
            if item.ref.id in wanted:  # a server without ?ids= answers everything
                into[item.ref.id] = item

    async def one(kind: FeedKind, entity_id: str, into: dict[str, EntityInput]) -> None:
        try:
            response = await env.ops.execute(kind.get, ById(entity_id))
        except MaxError as err:
            if ErrNotFound.matches(err):
                return
            raise
        into[entity_id] = kind.spec.read_one(response, entity_id)

    failures: list[MaxError] = []

    async def guarded(
        read: Callable[[FeedKind, Any, dict[str, EntityInput]], Awaitable[None]], *args: Any
    ) -> None:
        try:
            await read(*args)
        except MaxError as err:  # raised below as itself, not inside the nursery's group
            failures.append(err)

    async with trio.open_nursery() as nursery:
        for entity_type, ids in touched.items():
            kind, into = FEED_KINDS[entity_type], found[entity_type]
            for chunk in id_batches([i for i in ids if "," not in i]):
                nursery.start_soon(guarded, batch, kind, chunk, into)
            for entity_id in (i for i in ids if "," in i):
                nursery.start_soon(guarded, one, kind, entity_id, into)
    if failures:
        raise failures[0]

    upserts: list[EntityInput] = []
    for entity_type, ids in touched.items():
        entity = FEED_KINDS[entity_type].spec.entity
        alive = found[entity_type]
        for entity_id in ids:
            if entity_id in alive:
                upserts.append(alive[entity_id])
            else:
                deletes.append(Ref(entity, entity_id))
    return upserts, deletes


AcmeChangeFeed = ChangeFeed.create("acme:changes", head=head, changes=changes)
