"""The execution tables of an installation's PostgreSQL schema: ``_max_tasks``, ``_max_sync``,
``_max_listings`` and the task id sequence.

The columns are those of the SQLite tables (``_execution_tables``, ``_sync_state``) with
PostgreSQL types, plus what a shared server needs:

* ``_max_tasks.seq`` — the task's id as a number, computed by the server (ids are decimal
  strings handed out by the sequence ``_max_task_ids``, so two processes never hand out the
  same one); claims take the oldest claimable tasks in ``seq`` order, as SQLite takes them in
  ``rowid`` order;
* ``_max_tasks.worker`` and ``lease_until`` (ms) — who claimed a running task and until when
  its lease holds; a running task whose lease ran out is claimable again;
* ``_max_sync.number`` — the sync's integer identity in the rows' ``_seen`` column (SQLite uses
  the record's ``rowid``).

:func:`ensure_pg_execution_tables` creates what is missing inside the caller's transaction
(under the schema's migration lock, so processes opening a new installation at once do not
race).
"""

from __future__ import annotations

from typing import Any

PG_EXECUTION_DDL = (
    "CREATE SEQUENCE IF NOT EXISTS _max_task_ids",
    """CREATE TABLE IF NOT EXISTS _max_tasks (
  id            text COLLATE "C" PRIMARY KEY,
  seq           bigint GENERATED ALWAYS AS (CAST(id AS bigint)) STORED,
  sync_id       text NOT NULL,
  state         text NOT NULL,
  payload       text NOT NULL,
  parent_id     text COLLATE "C",
  blocked_by    text COLLATE "C",
  not_before    bigint,
  created_at    bigint NOT NULL,
  completed_at  bigint,
  error         text,
  attempts      integer NOT NULL DEFAULT 0,
  error_json    text,
  worker        text,
  lease_until   bigint
)""",
    "CREATE INDEX IF NOT EXISTS idx_tasks_claim ON _max_tasks (sync_id, state, seq)",
    "CREATE INDEX IF NOT EXISTS idx_tasks_parent ON _max_tasks (parent_id)",
    "CREATE INDEX IF NOT EXISTS idx_tasks_blocked ON _max_tasks (blocked_by, state)",
    """CREATE TABLE IF NOT EXISTS _max_sync (
  id           text COLLATE "C" PRIMARY KEY,
  number       bigserial UNIQUE,
  status       text NOT NULL,
  started_at   bigint NOT NULL,
  completed_at bigint,
  mode         text,
  feed_cursor  text,
  removed      bigint,
  requests     bigint
)""",
    """CREATE TABLE IF NOT EXISTS _max_listings (
  parent_type  text COLLATE "C" NOT NULL,
  field        text COLLATE "C" NOT NULL,
  parent_id    text COLLATE "C" NOT NULL,
  entity_type  text COLLATE "C" NOT NULL,
  via          text COLLATE "C",
  sync_id      text COLLATE "C" NOT NULL,
  listed_at    bigint NOT NULL,
  PRIMARY KEY (parent_type, field, parent_id)
)""",
    "CREATE INDEX IF NOT EXISTS idx_listings_sync ON _max_listings (sync_id, entity_type, via)",
)


def ensure_pg_execution_tables(conn: Any) -> None:
    """Create the execution tables, their indexes and the id sequence if absent (the caller's
    transaction; the schema's migration lock is taken first, as ``PgEngine`` takes it)."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('maxtrio:' || current_schema()))")
    for statement in PG_EXECUTION_DDL:
        conn.execute(statement)
