"""The execution tables of ``data.db``: ``_max_tasks``, ``_max_sync``, ``_max_listings``.

``_max_tasks`` and ``_max_sync`` start from the reference's DDL, word for word (execution-stores.md
has them), so a tool that reads a reference ``data.db`` reads ours; maxtrio adds
columns by migration (:data:`TASK_EXTRA_COLUMNS`: ``attempts``, how often a resume retried a
failed task, ``error_json``, the failure as a serialised ``MaxError``, and the lease of a
running task — ``worker``, who claimed it, and ``lease_until`` (ms), when another worker may
claim it again;
``SYNC_EXTRA_COLUMNS`` of ``_sync_state``: the sync's mode, change-feed cursor, removals and
requests). A file written by the reference or an older maxtrio gains them on open and keeps
its rows. The reference's ``_max_sync_meta`` (one row per entity and field) is gone: sync state
lives on the entity rows and in ``_max_listings`` (``_sync_state``).

:func:`ensure_execution_tables` is the one "ensure execution tables" step; every execution
store runs it (it is idempotent and cheap) inside its opening transaction. :func:`fetch_all`
is the typed row fetch the execution stores share.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apsw

from ._naming import quote
from ._sync_state import LISTINGS_DDL, SYNC_EXTRA_COLUMNS

TASKS_DDL = """\
CREATE TABLE IF NOT EXISTS _max_tasks (
  id            TEXT PRIMARY KEY,
  sync_id       TEXT NOT NULL,
  state         TEXT NOT NULL,
  payload       TEXT NOT NULL,      -- JSON, see _task.py
  parent_id     TEXT,
  blocked_by    TEXT,
  not_before    INTEGER,            -- ms
  created_at    INTEGER NOT NULL,   -- ms
  completed_at  INTEGER,            -- ms
  error         TEXT
);
CREATE INDEX IF NOT EXISTS idx_tasks_claim   ON _max_tasks (sync_id, state, not_before);
CREATE INDEX IF NOT EXISTS idx_tasks_parent  ON _max_tasks (parent_id);
CREATE INDEX IF NOT EXISTS idx_tasks_blocked ON _max_tasks (blocked_by, state);
"""

SYNC_DDL = """\
CREATE TABLE IF NOT EXISTS _max_sync (
  id           TEXT PRIMARY KEY,     -- "sync-<n>"
  status       TEXT NOT NULL,        -- running|paused|completed|failed|cancelled
  started_at   INTEGER NOT NULL,     -- ms
  completed_at INTEGER               -- ms, terminal statuses only
);
"""


#: Columns maxtrio adds to ``_max_tasks``: ``(name, declaration)``, added when missing.
TASK_EXTRA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("attempts", "INTEGER NOT NULL DEFAULT 0"),
    ("error_json", "TEXT"),
    ("lease_until", "INTEGER"),
    ("worker", "TEXT"),
)


#: A result row, as the execution stores read it.
Row = tuple[Any, ...]


def fetch_all(conn: apsw.Connection, sql: str, params: Sequence[Any] = ()) -> list[Row]:
    """Every row of ``sql`` (consumed at once, so a ``RETURNING`` statement completes)."""
    return [tuple(row) for row in conn.execute(sql, params)]


def ensure_execution_tables(conn: apsw.Connection) -> None:
    """Create the tables and their indexes if absent; add missing extra columns.

    Runs inside the caller's transaction.
    """
    conn.execute(TASKS_DDL)
    conn.execute(SYNC_DDL)
    conn.execute(LISTINGS_DDL)
    for table, extra in (("_max_tasks", TASK_EXTRA_COLUMNS), ("_max_sync", SYNC_EXTRA_COLUMNS)):
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for name, declaration in extra:
            if name not in present:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {quote(name)} {declaration}")
