"""A tenant: one isolated Acme database (apsw, a file or in memory) and everything done to it.

The :class:`Tenant` is synchronous; each call is short except seeding. Every mutation is one
SQLite transaction holding the row change and its changelog event (and, for tasks, the history
entry); subscribers (:meth:`Tenant.on_webhook`) are told after the commit. Entities come back as
JSON text straight from the ``wire`` column (:mod:`._schema`), so the server writes them to the
socket as they are and the in-process client decodes them once.

Async code shares a tenant by holding :attr:`Tenant.guard` (a ``trio.Lock``) around every call;
long calls (seeding) then run in a worker thread without another task slipping a write into
their transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Final, cast

import apsw
import attrs
import trio

from . import _model as m
from ._errors import ErrCursorExpired, ErrEntityNotFound, ErrInvalidInput, ErrInvalidReference
from ._schema import (
    CHANGE_EVENT_WIRE,
    DDL,
    DELIVERY_WIRE,
    FILE,
    HISTORY_ENTRY_WIRE,
    KIND_OF_INPUT,
    KINDS,
    SCHEMA_VERSION,
    TASK,
    TASK_TRACKED_FIELDS,
    WEBHOOK_WIRE,
    Kind,
)
from ._wire import camel, to_json_value

Clock = Callable[[], float]
"""Seconds since the epoch (``time.time``); inject a fixed one for golden tests."""
IdFactory = Callable[[str], str]
"""Makes an id for a prefix (``"tsk"`` → ``"tsk_<32 hex>"``); inject one for golden tests."""
WebhookCallback = Callable[[m.WebhookPayload], object]

DEFAULT_PORT: Final = 4567
HORIZON_KEY: Final = "changelog_horizon"
"""``tenant_meta`` key of the compaction horizon: the greatest sequence that may be gone."""


def random_id(prefix: str) -> str:
    """``<prefix>_`` and a random UUID v4 as 32 lowercase hex digits."""
    return f"{prefix}_{uuid.uuid4().hex}"


def iso_timestamp(seconds: float) -> str:
    """``2026-03-08T14:03:27.512Z``: UTC, milliseconds, a ``Z`` (JavaScript's toISOString)."""
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@attrs.frozen
class WireList:
    """A JSON array (text) of entities and, when more remain after it, the cursor to go on."""

    json: str
    next_cursor: str | None = None


class Tenant:
    """One Acme tenant. Build it with :meth:`in_memory` or the functions of ``_tenant_files``."""

    def __init__(
        self,
        name: str,
        db: apsw.Connection,
        *,
        path: Path | None = None,
        clock: Clock = time.time,
        ids: IdFactory = random_id,
    ) -> None:
        self.name = name
        self.path = path
        self.clock = clock
        self._ids = ids
        self._db = db
        self._subscribers: list[WebhookCallback] = []
        self._active_webhooks: int | None = None
        self.guard = trio.Lock()
        """Held by async code around every call on this tenant (see the module docstring)."""
        self._prepare(is_file=path is not None)

    @classmethod
    def in_memory(
        cls, name: str = "test", *, clock: Clock = time.time, ids: IdFactory = random_id
    ) -> Tenant:
        """A fresh tenant that lives in memory and vanishes on :meth:`close`."""
        return cls(name, apsw.Connection(":memory:"), clock=clock, ids=ids)

    def _prepare(self, *, is_file: bool) -> None:
        db = self._db
        db.setbusytimeout(5000)
        if is_file:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        version = db.execute("PRAGMA user_version").fetchone()
        if version is not None and version[0] not in (0, SCHEMA_VERSION):
            raise ErrInvalidInput(
                reason=f"tenant {self.name!r} has schema version {version[0]}, "
                f"this maxtrio reads version {SCHEMA_VERSION}"
            )
        with db:
            db.execute(DDL)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        self.api_key()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Tenant:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = str(self.path) if self.path else "memory"
        return f"<Tenant {self.name!r} at {where}>"

    # -- time, ids, transactions ----------------------------------------------------------------

    def now(self) -> str:
        return iso_timestamp(self.clock())

    def new_id(self, prefix: str) -> str:
        return self._ids(prefix)

    @contextmanager
    def transaction(self) -> Iterator[apsw.Connection]:
        """One SQLite transaction (nests as a savepoint); yields the connection."""
        with self._db:
            yield self._db

    def change_token(self) -> tuple[int, int]:
        """Changes whenever the database changes (by this connection or any other process)."""
        other = self._scalar("PRAGMA data_version")
        return self._db.total_changes(), int(other)

    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self._db.execute(sql, params).fetchone()
        return None if row is None else row[0]

    # -- API keys and metadata ------------------------------------------------------------------

    def api_key(self) -> str:
        """The most recently created active key (one is created when none is active)."""
        key = self._scalar("SELECT key FROM api_keys WHERE active = 1 ORDER BY rowid DESC LIMIT 1")
        return str(key) if key is not None else self._add_api_key()

    def _add_api_key(self) -> str:
        key = f"acme_{uuid.uuid4().hex}"
        self._db.execute("INSERT INTO api_keys(key, created_at) VALUES (?, ?)", (key, self.now()))
        return key

    def validate_api_key(self, key: str) -> bool:
        found = self._scalar("SELECT 1 FROM api_keys WHERE key = ? AND active = 1", (key,))
        return bool(found == 1)

    def rotate_api_key(self) -> str:
        """Deactivate every key and create a new active one (old keys are rejected from now)."""
        with self._db:
            self._db.execute("UPDATE api_keys SET active = 0")
            key = self._add_api_key()
        return key

    def meta(self, key: str) -> str | None:
        value = self._scalar("SELECT value FROM tenant_meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO tenant_meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @property
    def port(self) -> int:
        """The port stored when the tenant was created, else 4567."""
        stored = self.meta("port")
        return int(stored) if stored is not None and stored.isdigit() else DEFAULT_PORT

    # -- entities: reads ------------------------------------------------------------------------

    def list_wire(
        self,
        collection: m.Collection,
        *,
        parent_id: str | None = None,
        ids: Sequence[str] | None = None,
        limit: int | None = None,
        after: int | None = None,
    ) -> WireList:
        """Live entities in insertion order as a JSON array.

        ``parent_id`` filters users/projects by workspace and tasks/files by project; ``ids``
        keeps only those entities (unknown ids are left out); ``limit``/``after`` page through
        the list (``after`` is the cursor of the previous page).
        """
        kind = KINDS[collection]
        where = ["deleted_at IS NULL"]
        params: list[Any] = []
        if parent_id is not None and kind.parent is not None:
            where.append(f"{kind.parent} = ?")
            params.append(parent_id)
        if ids is not None:
            where.append("id IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(ids)))
        if after is not None:
            where.append("rowid > ?")
            params.append(after)
        sql = f"SELECT rowid, wire FROM {kind.table} WHERE {' AND '.join(where)} ORDER BY rowid"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit + 1)
        rows = self._db.execute(sql, params).fetchall()
        next_cursor = None
        if limit is not None and len(rows) > limit:
            rows = rows[:limit]
            next_cursor = str(rows[-1][0])
        return WireList("[" + ",".join([str(row[1]) for row in rows]) + "]", next_cursor)

    def get_wire(self, collection: m.Collection, entity_id: str) -> str | None:
        """The live entity as JSON text, or None when it does not exist or was deleted."""
        value = self._scalar(
            f"SELECT wire FROM {KINDS[collection].table} WHERE id = ? AND deleted_at IS NULL",
            (entity_id,),
        )
        return None if value is None else str(value)

    def is_live(self, collection: m.Collection, entity_id: str) -> bool:
        found = self._scalar(
            f"SELECT 1 FROM {KINDS[collection].table} WHERE id = ? AND deleted_at IS NULL",
            (entity_id,),
        )
        return bool(found == 1)

    def live_ids(self, collection: m.Collection, *, parent_id: str | None = None) -> list[str]:
        """Ids of the live entities of a collection (optionally of one parent), in order."""
        kind = KINDS[collection]
        sql = f"SELECT id FROM {kind.table} WHERE deleted_at IS NULL"
        params: list[Any] = []
        if parent_id is not None and kind.parent is not None:
            sql += f" AND {kind.parent} = ?"
            params.append(parent_id)
        return [str(row[0]) for row in self._db.execute(sql + " ORDER BY rowid", params)]

    def parent_of(self, collection: m.Collection, entity_id: str) -> str | None:
        kind = KINDS[collection]
        if kind.parent is None:
            return None
        value = self._scalar(f"SELECT {kind.parent} FROM {kind.table} WHERE id = ?", (entity_id,))
        return None if value is None else str(value)

    # -- entities: writes -----------------------------------------------------------------------

    def insert_created(
        self,
        kind: Kind,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        timestamp: str,
    ) -> None:
        """Insert new rows and one ``create`` changelog event each, in row order.

        The bulk path shared by :meth:`create` and the seeder; the caller holds the transaction
        and notifies subscribers after the commit. Values are SQL-ready (``tags`` as JSON text,
        booleans as 0/1) and references are trusted.
        """
        first = self._scalar(f"SELECT coalesce(max(rowid), 0) FROM {kind.table}")
        marks = ", ".join("?" * len(columns))
        self._db.executemany(
            f"INSERT INTO {kind.table}({', '.join(columns)}) VALUES ({marks})", rows
        )
        self._db.execute(
            "INSERT INTO changelog(entity_type, entity_id, action, payload, timestamp) "
            f"SELECT ?, id, 'create', wire, ? FROM {kind.table} WHERE rowid > ? ORDER BY rowid",
            (kind.entity_type, timestamp, first),
        )

    def create(self, entity: m.EntityInput) -> str:
        """Create an entity from its input; returns the stored entity as JSON text."""
        kind = KIND_OF_INPUT[type(entity)]
        values = {name: _sql_value(v) for name, v in attrs.asdict(entity, recurse=False).items()}
        self._check_references(kind, values)
        entity_id = self.new_id(kind.prefix)
        now = self.now()
        row = {"id": entity_id, **values, "created_at": now, "updated_at": now}
        if kind.tracks_modifier:
            row["last_modified_by_id"] = row["created_by_id"]
        with self._db:
            self.insert_created(kind, list(row), [tuple(row.values())], timestamp=now)
        self._notify([(kind.entity_type, entity_id, "create")])
        return cast(str, self.get_wire(kind.table, entity_id))

    def update(self, collection: m.Collection, entity_id: str, patch: m.EntityPatch) -> str:
        """Apply the supplied fields of ``patch``; returns the stored entity as JSON text."""
        kind = KINDS[collection]
        if type(patch) is not kind.patch_cls:
            raise TypeError(f"{type(patch).__name__} does not patch {collection}")
        changes = m.supplied(patch)
        with self._db:
            current_wire = self.get_wire(collection, entity_id)
            if current_wire is None:
                raise ErrEntityNotFound(label=kind.label, id=entity_id)
            assignments = {name: _sql_value(v) for name, v in changes.items()}
            self._check_references(kind, assignments)
            now = self.now()
            assignments["updated_at"] = now
            payload: dict[str, Any] | None
            if kind is TASK:
                payload = self._record_task_changes(entity_id, json.loads(current_wire), patch, now)
                if changes.get("status") == "done":
                    assignments["completed_at"] = now
            elif kind is FILE:
                payload = None
            else:
                payload = {camel(name): to_json_value(v) for name, v in changes.items()}
            sets = ", ".join(f"{name} = ?" for name in assignments)
            self._db.execute(
                f"UPDATE {kind.table} SET {sets} WHERE id = ?", (*assignments.values(), entity_id)
            )
            self._log(kind.entity_type, entity_id, "update", payload, now)
        self._notify([(kind.entity_type, entity_id, "update")])
        return cast(str, self.get_wire(collection, entity_id))

    def _record_task_changes(
        self, task_id: str, current: dict[str, Any], patch: m.EntityPatch, now: str
    ) -> dict[str, Any]:
        """The changelog payload of a task update (changed tracked fields), plus its history."""
        assert isinstance(patch, m.TaskPatch)
        changed: dict[str, m.FieldChange] = {}
        for name in TASK_TRACKED_FIELDS:
            value = getattr(patch, name)
            if value is m.UNSET:
                continue
            key = camel(name)
            after = to_json_value(value)
            if current[key] != after:
                changed[key] = {"before": current[key], "after": after}
        if changed:
            self._db.execute(
                "INSERT INTO task_history(task_id, changed_by_id, changed_at, changes) "
                "VALUES (?, ?, ?, ?)",
                (task_id, patch.last_modified_by_id, now, json.dumps(changed)),
            )
        return {key: change["after"] for key, change in changed.items()}

    def delete(self, collection: m.Collection, entity_id: str) -> None:
        """Soft-delete a live entity (it vanishes from lists and gets; nothing cascades)."""
        kind = KINDS[collection]
        with self._db:
            now = self.now()
            self._db.execute(
                f"UPDATE {kind.table} SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
                (now, entity_id),
            )
            if self._db.changes() == 0:
                raise ErrEntityNotFound(label=kind.label, id=entity_id)
            self._log(kind.entity_type, entity_id, "delete", None, now)
        self._notify([(kind.entity_type, entity_id, "delete")])

    def _check_references(self, kind: Kind, values: dict[str, Any]) -> None:
        for column, collection in kind.references:
            target = values.get(column)
            if target is not None and not self.is_live(collection, target):
                label = KINDS[collection].entity_type
                raise ErrInvalidReference(field=camel(column), label=label, id=target)

    def _log(
        self,
        entity_type: m.EntityType,
        entity_id: str,
        action: m.ChangeAction,
        payload: dict[str, Any] | None,
        timestamp: str,
    ) -> None:
        self._db.execute(
            "INSERT INTO changelog(entity_type, entity_id, action, payload, timestamp) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                entity_type,
                entity_id,
                action,
                None if payload is None else json.dumps(payload),
                timestamp,
            ),
        )

    # -- changelog and task history -------------------------------------------------------------

    def last_sequence(self) -> int:
        """The newest sequence handed out (the horizon when compaction emptied the log)."""
        newest = int(self._scalar("SELECT coalesce(max(sequence), 0) FROM changelog"))
        return max(newest, self.changelog_horizon())

    def changelog_horizon(self) -> int:
        """The greatest sequence compaction may have dropped (0: nothing was ever dropped).

        A reader that has seen everything up to ``since`` can go on iff ``since >= horizon``.
        It lives in ``tenant_meta``, so it survives a changelog that compaction emptied.
        """
        stored = self.meta(HORIZON_KEY)
        return int(stored) if stored is not None and stored.isdigit() else 0

    def compact_changes(self, before: int) -> m.CompactionResult:
        """Drop every changelog event whose sequence is below ``before`` (MAXTRIO extension).

        The horizon becomes ``before - 1``, but never beyond the newest sequence handed out
        (compacting "before a million" on a short log must not expire cursors of events that
        never happened) and never backwards. Reading ``since`` a cursor below the horizon then
        fails with ``acme.cursor_expired`` (HTTP 410).
        """
        with self._db:
            newest = self.last_sequence()
            horizon = max(self.changelog_horizon(), min(before - 1, newest))
            self._db.execute("DELETE FROM changelog WHERE sequence <= ?", (horizon,))
            dropped = self._db.changes()
            self.set_meta(HORIZON_KEY, str(horizon))
        return {"dropped": dropped, "oldestAvailable": horizon + 1}

    def changes_wire(self, since: int = 0, limit: int = 100) -> str:
        """``{"events": […], "nextCursor": n}``: events after ``since``, oldest first.

        ``since`` below the compaction horizon raises ``acme.cursor_expired``: events after it
        may be gone, so the answer could not be complete.
        """
        horizon = self.changelog_horizon()
        if since < horizon:
            raise ErrCursorExpired(cursor=since, oldest=horizon + 1)
        rows = self._db.execute(
            f"SELECT sequence, {CHANGE_EVENT_WIRE} FROM changelog WHERE sequence > ? "
            "ORDER BY sequence LIMIT ?",
            (since, limit),
        ).fetchall()
        next_cursor = rows[-1][0] if rows else since
        events = ",".join([str(row[1]) for row in rows])
        return f'{{"events":[{events}],"nextCursor":{next_cursor}}}'

    def recent_changes_wire(self, limit: int = 50) -> str:
        """The newest ``limit`` events, newest first, as a JSON array."""
        return self._array(
            f"SELECT {CHANGE_EVENT_WIRE} FROM changelog ORDER BY sequence DESC LIMIT ?", (limit,)
        )

    def history_wire(self, task_id: str, *, before: int | None = None, limit: int = 50) -> str:
        """``{"entries": […], "nextCursor": id | null}``: a task's history, newest first."""
        sql = f"SELECT id, {HISTORY_ENTRY_WIRE} FROM task_history WHERE task_id = ?"
        params: list[Any] = [task_id]
        if before:
            sql += " AND id < ?"
            params.append(before)
        rows = self._db.execute(sql + " ORDER BY id DESC LIMIT ?", (*params, limit)).fetchall()
        next_cursor = str(rows[-1][0]) if rows and len(rows) == limit else "null"
        entries = ",".join([str(row[1]) for row in rows])
        return f'{{"entries":[{entries}],"nextCursor":{next_cursor}}}'

    def _array(self, sql: str, params: Sequence[Any] = ()) -> str:
        return "[" + ",".join([str(row[0]) for row in self._db.execute(sql, params)]) + "]"

    # -- webhooks -------------------------------------------------------------------------------

    def on_webhook(self, callback: WebhookCallback) -> Callable[[], None]:
        """Call ``callback(payload)`` after every committed mutation; returns the unsubscriber.

        Callbacks run synchronously in the thread that made the mutation, in subscription
        order; what they raise is swallowed (a subscriber never fails a mutation).
        """
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def _notify(self, events: Sequence[tuple[m.EntityType, str, m.ChangeAction]]) -> None:
        if not self._subscribers or not events:
            return
        cursor = self.last_sequence()
        now = self.now()
        subscribers = list(self._subscribers)
        for entity_type, entity_id, action in events:
            payload: m.WebhookPayload = {
                "entityType": entity_type,
                "entityId": entity_id,
                "action": action,
                "cursor": cursor,
                "timestamp": now,
            }
            for callback in subscribers:
                with suppress(Exception):
                    callback(payload)

    def notify_since(self, sequence: int) -> None:
        """Tell subscribers about every changelog event after ``sequence`` (bulk writers)."""
        if not self._subscribers:
            return
        rows = self._db.execute(
            "SELECT entity_type, entity_id, action FROM changelog WHERE sequence > ? "
            "ORDER BY sequence",
            (sequence,),
        ).fetchall()
        self._notify([cast(tuple[m.EntityType, str, m.ChangeAction], tuple(row)) for row in rows])

    def register_webhook(self, url: str) -> str:
        """Register an active webhook for ``url``; returns the registration as JSON text."""
        hook_id = self.new_id("wh")
        self._db.execute(
            "INSERT INTO webhooks(id, url, created_at) VALUES (?, ?, ?)", (hook_id, url, self.now())
        )
        self._active_webhooks = None
        return str(self._scalar(f"SELECT {WEBHOOK_WIRE} FROM webhooks WHERE id = ?", (hook_id,)))

    def delete_webhook(self, hook_id: str) -> None:
        """Deactivate a webhook (unknown ids are not an error, as in the reference)."""
        self._db.execute("UPDATE webhooks SET active = 0 WHERE id = ?", (hook_id,))
        self._active_webhooks = None

    def list_webhooks_wire(self) -> str:
        return self._array(f"SELECT {WEBHOOK_WIRE} FROM webhooks WHERE active = 1 ORDER BY rowid")

    def active_webhooks(self) -> list[tuple[str, str]]:
        """``(id, url)`` of every active webhook."""
        return [
            (row[0], row[1])
            for row in self._db.execute("SELECT id, url FROM webhooks WHERE active = 1")
        ]

    @property
    def has_active_webhooks(self) -> bool:
        if self._active_webhooks is None:
            self._active_webhooks = int(
                self._scalar("SELECT count(*) FROM webhooks WHERE active = 1")
            )
        return self._active_webhooks > 0

    def record_delivery(
        self,
        hook_id: str,
        payload: m.WebhookPayload,
        status_code: int | None,
        delivered_at: str,
    ) -> None:
        success = status_code is not None and 200 <= status_code < 300
        self._db.execute(
            "INSERT INTO webhook_deliveries(webhook_id, payload, status_code, delivered_at, "
            "success) VALUES (?, ?, ?, ?, ?)",
            (hook_id, json.dumps(payload), status_code, delivered_at, int(success)),
        )

    def recent_deliveries(self, limit: int = 50) -> list[m.WebhookDelivery]:
        """Recorded delivery attempts, newest first."""
        text = self._array(
            f"SELECT {DELIVERY_WIRE} FROM webhook_deliveries ORDER BY id DESC LIMIT ?", (limit,)
        )
        return cast(list[m.WebhookDelivery], json.loads(text))

    # -- seeding and stats ----------------------------------------------------------------------

    def seed(self, options: m.SeedOptions | None = None) -> m.SeedResult:
        """Create sample data in one transaction; see :func:`._seed.seed_tenant`."""
        from ._seed import seed_tenant

        return seed_tenant(self, options or m.SeedOptions())

    def stats(self, *, generating: bool = False) -> m.TenantStats:
        """Live-entity counts, changelog size and active webhooks."""
        counts = {
            table: int(self._scalar(f"SELECT count(*) FROM {table} WHERE deleted_at IS NULL"))
            for table in KINDS
        }
        return {
            "workspaces": counts["workspaces"],
            "users": counts["users"],
            "projects": counts["projects"],
            "tasks": counts["tasks"],
            "files": counts["files"],
            "changelogSize": int(self._scalar("SELECT count(*) FROM changelog")),
            "webhooks": int(self._scalar("SELECT count(*) FROM webhooks WHERE active = 1")),
            "generating": generating,
        }


def _sql_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, tuple | list):
        return json.dumps(list(value))
    return value
