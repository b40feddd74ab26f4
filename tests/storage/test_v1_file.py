"""A ``data.db`` written by maxtrio before sync state moved onto the rows opens migrated.

``fixtures/v1-acme-data.db`` was made by the previous release (``max sync`` of an Acme fake with
1 workspace, 4 users, 2 projects × 5 tasks): entity tables without sync columns, 61
``_max_sync_meta`` rows, one completed sync.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import apsw

from maxtrio.connectors.acme import AcmeSchema
from maxtrio.storage import open_installation_store

FIXTURE = Path(__file__).parent / "fixtures" / "v1-acme-data.db"


def _copy(tmp_path: Path) -> Path:
    path = tmp_path / "data.db"
    shutil.copyfile(FIXTURE, path)
    return path


async def test_a_v1_file_keeps_its_rows_and_gains_sync_state(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    before = apsw.Connection(str(path))
    users = sorted(tuple(r) for r in before.execute('SELECT * FROM "_acme_user"'))
    tasks = sorted(tuple(r) for r in before.execute('SELECT * FROM "_acme_task"'))
    meta_times = {r[0] for r in before.execute("SELECT synced_at FROM _max_sync_meta")}
    before.close()

    store = open_installation_store(path, AcmeSchema)
    try:
        conn = store.database.writer
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        width = len(users[0])
        users_after = sorted(
            tuple(r)[:width] for r in conn.execute('SELECT * FROM "_acme_user" ORDER BY _id')
        )
        tasks_after = sorted(
            tuple(r)[: len(tasks[0])] for r in conn.execute('SELECT * FROM "_acme_task"')
        )
        states = list(conn.execute('SELECT _synced_at, _synced_mask, _seen FROM "_acme_user"'))
        record = await store.sync_store.get("sync-1")
        fresh = await store.sync_meta.get_field_sync_time(
            f"ein:AcmeUser:{users[0][0]}", "displayName"
        )
    finally:
        store.close()

    assert "_max_sync_meta" not in tables and "_max_listings" in tables
    assert users_after == users and tasks_after == tasks
    # displayName, email, role, active are columns 1–4 of the v1 table: bits 1–4.
    assert {(mask, seen) for _, mask, seen in states} == {(0b11110, None)}
    assert {at for at, _, _ in states} <= meta_times
    assert fresh in meta_times
    assert record is not None and record.status.value == "completed"
    assert record.mode.value == "full" and record.feed_cursor is None


def test_the_old_tables_pages_are_given_back(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    open_installation_store(path, AcmeSchema).close()

    conn = apsw.Connection(str(path))
    try:
        (free,) = conn.execute("PRAGMA freelist_count").fetchone()
        (check,) = conn.execute("PRAGMA integrity_check").fetchone()
    finally:
        conn.close()
    assert (free, check) == (0, "ok")
