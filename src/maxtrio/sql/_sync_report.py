"""What one sync did, read back from an installation's ``data.db`` (``max sync``, ``max status``).

Both commands describe a sync with this one reader, so they always say the same numbers:

* **entities synced** — the rows the sync wrote or listed, each counted once, per entity type:
  the rows whose ``_seen`` is the sync's number (the ``rowid`` of its ``_max_sync`` record,
  stable across resumes). ``_seen`` holds the *last* sync that saw a row, so the count is
  exact for the latest sync (the one both commands show); an older sync's rows seen again
  since count for the newer one. A row listed and then loaded again by another step of the
  same sync is one entity, not two;
* **work units** — the sync's task graph in ``_max_tasks``: listing pages, field loads, fan-out
  steps and groups, by state. Internal bookkeeping (``completed`` of ``total``), never to be
  read as a number of rows;
* the record itself: id, status, mode, start and end, upstream requests, rows removed.

The file is opened read-only (``mode=ro``); a ``data.db`` without the tables (never synced)
reads as no sync.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

import apsw
import attrs

from maxtrio.core import Schema
from maxtrio.storage import quote, table_name

#: The ``_max_tasks`` states that still have work to do when a sync is resumed.
_UNFINISHED = ("new", "pending", "running", "paused", "awaiting_children")


@attrs.frozen
class WorkUnits:
    """A sync's tasks by state (internal: pages, field loads, fan-outs, groups)."""

    completed: int = 0
    failed: int = 0
    unfinished: int = 0  # new, pending, running, paused, awaiting children
    total: int = 0

    @classmethod
    def of(cls, by_state: Mapping[str, int]) -> WorkUnits:
        """From a sync's task counts by state (``_max_tasks``)."""
        return cls(
            completed=int(by_state.get("completed", 0)),
            failed=int(by_state.get("failed", 0)),
            unfinished=sum(int(by_state.get(state, 0)) for state in _UNFINISHED),
            total=sum(int(n) for n in by_state.values()),
        )

    def to_json(self) -> dict[str, int]:
        return {
            "completed": self.completed,
            "failed": self.failed,
            "unfinished": self.unfinished,
            "total": self.total,
        }


@attrs.frozen
class SyncReport:
    """One sync as ``data.db`` records it (see the module docstring)."""

    sync_id: str
    status: str
    mode: str
    started_at: int
    completed_at: int | None
    requests: int
    removed: int
    entities: Mapping[str, int]  # entity type → rows synced (types with none left out)
    work_units: WorkUnits

    @classmethod
    def of(
        cls, record: Sequence[Any], entities: Mapping[str, int], work_units: WorkUnits
    ) -> SyncReport:
        """From ``_max_sync``'s ``id, status, started_at, completed_at, mode, requests,
        removed``."""
        sync_id, status, started_at, completed_at, mode, requests, removed = record
        return cls(
            sync_id=sync_id,
            status=status,
            mode=mode or "full",
            started_at=started_at,
            completed_at=completed_at,
            requests=requests or 0,
            removed=removed or 0,
            entities=entities,
            work_units=work_units,
        )

    @property
    def entities_synced(self) -> int:
        return sum(self.entities.values())

    @property
    def resumable(self) -> bool:
        """``max sync --resume`` continues it (interrupted or failed, or left running)."""
        return self.status in ("interrupted", "failed", "paused", "running")

    def to_json(self) -> dict[str, Any]:
        """The fields ``max sync -o json`` and ``max status -o json`` share."""
        return {
            "syncId": self.sync_id,
            "status": self.status,
            "mode": self.mode,
            "startedAt": self.started_at,
            "completedAt": self.completed_at,
            "entitiesSynced": self.entities_synced,
            "entities": dict(self.entities),
            "workUnits": self.work_units.to_json(),
            "requests": self.requests,
            "removed": self.removed,
        }


def read_sync_report(path: Path, schema: Schema, sync_id: str | None = None) -> SyncReport | None:
    """The report of ``sync_id`` (None: the latest sync) in the ``data.db`` at ``path``, or
    None when there is no such sync (or no file). Blocking: run it in a worker thread."""
    if not path.is_file():
        return None
    uri = f"file:{url_quote(str(path.resolve()))}?mode=ro"
    connection = apsw.Connection(uri, flags=apsw.SQLITE_OPEN_URI | apsw.SQLITE_OPEN_READONLY)
    try:
        connection.setbusytimeout(5000)
        with connection:  # one read transaction: one consistent snapshot
            report = _read(connection, schema, sync_id)
    except apsw.SQLError as exc:
        if "no such table" in str(exc):
            return None
        raise
    finally:
        connection.close()
    return report


def _read(connection: apsw.Connection, schema: Schema, sync_id: str | None) -> SyncReport | None:
    columns = "rowid, id, status, started_at, completed_at, mode, requests, removed"
    if sync_id is None:
        sql = f"SELECT {columns} FROM _max_sync ORDER BY started_at DESC, rowid DESC LIMIT 1"
        rows = list(connection.execute(sql))
    else:
        rows = list(connection.execute(f"SELECT {columns} FROM _max_sync WHERE id = ?", (sync_id,)))
    if not rows:
        return None
    number, *record = rows[0]
    found_id = record[0]
    return SyncReport.of(
        record, _entities(connection, schema, number), _work_units(connection, found_id)
    )


def _entities(connection: apsw.Connection, schema: Schema, number: int) -> dict[str, int]:
    tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
    counts: dict[str, int] = {}
    for entity in schema.entity_types:
        table = table_name(entity)
        if table not in tables:
            continue
        (count,) = next(
            connection.execute(f"SELECT count(*) FROM {quote(table)} WHERE _seen = ?", (number,))
        )
        if count:
            counts[entity] = int(count)
    return counts


def _work_units(connection: apsw.Connection, sync_id: str) -> WorkUnits:
    return WorkUnits.of(
        dict(
            connection.execute(
                "SELECT state, count(*) FROM _max_tasks WHERE sync_id = ? GROUP BY state",
                (sync_id,),
            )
        )
    )
