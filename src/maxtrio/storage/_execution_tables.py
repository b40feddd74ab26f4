"""The execution tables of ``data.db``: ``_max_tasks``, ``_max_sync``, ``_max_sync_meta``.

The DDL below is the reference's, word for word (spec sync-engine §8.5, §9.7, §12.3), so any
tool that reads a reference ``data.db`` reads ours. maxtrio adds two columns to ``_max_tasks``
(:data:`TASK_EXTRA_COLUMNS`): ``attempts`` (how often a resume retried a failed task, §18.3)
and ``error_json`` (the failure as a serialised ``MaxError``, §9.5 — ``error`` keeps the
message). They are added by migration, so a file written by the reference (or by an older
maxtrio) gains them on open and keeps its rows.

:func:`ensure_execution_tables` is the one "ensure execution tables" step; every execution
store runs it (it is idempotent and cheap) inside its opening transaction. :func:`fetch_all`
is the typed row fetch the execution stores share.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apsw

from ._naming import quote

TASKS_DDL = """\
CREATE TABLE IF NOT EXISTS _max_tasks (
  id            TEXT PRIMARY KEY,
  sync_id       TEXT NOT NULL,
  state         TEXT NOT NULL,
  payload       TEXT NOT NULL,      -- JSON, §8.2
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

SYNC_META_DDL = """\
CREATE TABLE IF NOT EXISTS _max_sync_meta (
  ref_key     TEXT NOT NULL,      -- RefKey, e.g. ein:AcmeUser:u1
  field       TEXT NOT NULL,      -- schema field name (camelCase, not the column name)
  synced_at   INTEGER NOT NULL,   -- ms
  PRIMARY KEY (ref_key, field)
);
"""

#: Columns maxtrio adds to ``_max_tasks``: ``(name, declaration)``, added when missing.
TASK_EXTRA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("attempts", "INTEGER NOT NULL DEFAULT 0"),
    ("error_json", "TEXT"),
)


#: A result row, as the execution stores read it.
Row = tuple[Any, ...]


def fetch_all(conn: apsw.Connection, sql: str, params: Sequence[Any] = ()) -> list[Row]:
    """Every row of ``sql`` (consumed at once, so a ``RETURNING`` statement completes)."""
    return [tuple(row) for row in conn.execute(sql, params)]


def ensure_execution_tables(conn: apsw.Connection) -> None:
    """Create the three tables and their indexes if absent; add missing extra columns.

    Runs inside the caller's transaction.
    """
    conn.execute(TASKS_DDL)
    conn.execute(SYNC_DDL)
    conn.execute(SYNC_META_DDL)
    present = {row[1] for row in conn.execute("PRAGMA table_info(_max_tasks)")}
    for name, declaration in TASK_EXTRA_COLUMNS:
        if name not in present:
            conn.execute(f"ALTER TABLE _max_tasks ADD COLUMN {quote(name)} {declaration}")
