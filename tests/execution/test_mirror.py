"""The mirror: complete listings remove what they no longer list, cleared fields clear, change
feeds make later syncs incremental, and ``max_age`` skips what is fresh.

Runs every test on the in-memory stores and on the apsw stores of a real ``data.db``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import attrs

from maxtrio.execution import SyncMode, SyncSetup, SyncStatus, run_sync

from .conftest import MakeStores
from .harness import FAST_RETRY, Stores
from .mirror_connector import (
    MIRROR_FEED,
    MIRROR_RESOLVERS,
    MIRROR_SCHEMA,
    MIRROR_SEEDER,
    MCtx,
    MDoc,
    MFolder,
    Upstream,
    seeded_upstream,
)


def _setup(stores: Stores, up: Upstream, *, feed: bool = True) -> SyncSetup:
    return SyncSetup(
        engine=stores.engine,
        resolvers=MIRROR_RESOLVERS,
        ctx=MCtx(up),
        task_store=stores.task_store,
        sync_store=stores.sync_store,
        retry=FAST_RETRY,
        change_feed=MIRROR_FEED if feed else None,
        freshness=stores.sync_meta,
    )


async def _sync(stores: Stores, up: Upstream, **kw: Any) -> Any:
    feed = kw.pop("feed", True)
    return await run_sync(_setup(stores, up, feed=feed), seeder=MIRROR_SEEDER, **kw)


async def _docs(stores: Stores) -> dict[str, dict[str, Any]]:
    return await stores.rows(MDoc)


async def test_a_full_sync_removes_what_the_source_no_longer_lists(
    make_stores: MakeStores,
) -> None:
    up = seeded_upstream()
    stores = make_stores(MIRROR_SCHEMA)
    first = await _sync(stores, up, feed=False)
    assert first.status is SyncStatus.COMPLETED and first.removed == 0
    assert len(await _docs(stores)) == 15

    up.delete_doc("f1d2")
    up.delete_doc("f3d5")
    for doc in [d for d, v in up.docs.items() if v["folder"] == "f2"]:
        up.delete_doc(doc)
    up.delete_folder("f2")
    second = await _sync(stores, up, feed=False)

    assert second.status is SyncStatus.COMPLETED and second.mode is SyncMode.FULL
    assert second.removed == 2 + 5 + 1
    assert sorted(await _docs(stores)) == sorted(up.docs)
    assert sorted(await stores.rows(MFolder)) == ["f1", "f3"]


async def test_a_failed_sync_removes_nothing(make_stores: MakeStores) -> None:
    up = seeded_upstream()
    stores = make_stores(MIRROR_SCHEMA)
    await _sync(stores, up, feed=False)
    up.delete_doc("f1d1")
    up.delete_doc("f3d1")
    up.fail_listing_of = "f3"

    failed = await _sync(stores, up, feed=False)

    assert failed.status is SyncStatus.FAILED and failed.removed == 0
    # f1 was listed completely, but the sync failed: nothing goes, not even f1d1.
    assert "f1d1" in await _docs(stores) and "f3d1" in await _docs(stores)
    up.fail_listing_of = None
    healed = await _sync(stores, up, feed=False)
    assert healed.removed == 2 and "f1d1" not in await _docs(stores)


async def test_a_cleared_field_clears(make_stores: MakeStores) -> None:
    up = seeded_upstream()
    stores = make_stores(MIRROR_SCHEMA)
    await _sync(stores, up, feed=False)
    assert (await _docs(stores))["f1d1"]["note"] == "note 1"

    up.put_doc("f1d1", "Doc 1.1", "f1", note=None)
    await _sync(stores, up, feed=False)

    assert (await _docs(stores))["f1d1"]["note"] is None


async def test_after_a_full_sync_the_feed_makes_the_next_one_incremental(
    make_stores: MakeStores,
) -> None:
    up = seeded_upstream()
    stores = make_stores(MIRROR_SCHEMA)
    first = await _sync(stores, up)
    assert first.mode is SyncMode.FULL and up.calls["head"] == 1
    up.calls.clear()

    up.put_doc("f1d9", "New doc", "f1", note="fresh")  # create
    up.put_doc("f2d1", "Renamed", "f2", note=None)  # update, clearing the note
    up.delete_doc("f3d2")  # delete
    up.put_folder("f4", "Folder 4")  # a new parent
    up.put_doc("f1d8", "Short-lived", "f1")
    up.delete_doc("f1d8")  # created and deleted between two syncs
    second = await _sync(stores, up)

    assert second.status is SyncStatus.COMPLETED and second.mode is SyncMode.INCREMENTAL
    assert second.requests == 2 == sum(up.calls.values())  # the changes and one batch get
    assert second.removed == 1
    docs = await _docs(stores)
    assert docs["f1d9"] == {"title": "New doc", "note": "fresh", "folder": "f1"}
    assert docs["f2d1"] == {"title": "Renamed", "note": None, "folder": "f2"}
    assert "f3d2" not in docs and "f1d8" not in docs
    fresh = make_stores(MIRROR_SCHEMA)
    await _sync(fresh, up, feed=False)
    assert await stores.snapshot(MIRROR_SCHEMA) == await fresh.snapshot(MIRROR_SCHEMA)

    nothing = await _sync(stores, up)
    assert nothing.mode is SyncMode.INCREMENTAL and nothing.removed == 0
    assert await stores.snapshot(MIRROR_SCHEMA) == await fresh.snapshot(MIRROR_SCHEMA)


async def test_an_expired_cursor_falls_back_to_a_full_sync(make_stores: MakeStores) -> None:
    up = seeded_upstream()
    stores = make_stores(MIRROR_SCHEMA)
    await _sync(stores, up)
    up.delete_doc("f2d2")
    up.compact()  # the feed forgets everything up to now
    up.calls.clear()

    result = await _sync(stores, up)

    assert result.mode is SyncMode.FULL and result.status is SyncStatus.COMPLETED
    assert up.calls["changes"] == 1 and up.calls["head"] == 1
    assert result.requests == sum(up.calls.values())
    assert "f2d2" not in await _docs(stores)
    assert (await _sync(stores, up)).mode is SyncMode.INCREMENTAL


async def test_an_unreadable_feed_falls_back_to_a_full_sync(make_stores: MakeStores) -> None:
    up = seeded_upstream()
    stores = make_stores(MIRROR_SCHEMA)
    await _sync(stores, up)
    up.delete_doc("f1d1")
    up.feed_down = True

    result = await _sync(stores, up)

    assert result.mode is SyncMode.FULL and result.status is SyncStatus.COMPLETED
    assert result.removed == 1 and "f1d1" not in await _docs(stores)


async def test_too_many_changes_fall_back_to_a_full_sync(make_stores: MakeStores) -> None:
    up = seeded_upstream()
    stores = make_stores(MIRROR_SCHEMA)
    setup = _setup(stores, up)
    await run_sync(setup, seeder=MIRROR_SEEDER)
    for i in range(5):
        up.put_doc(f"f1x{i}", f"Bulk {i}", "f1")
    small = attrs.evolve(setup, max_changes=3)

    result = await run_sync(small, seeder=MIRROR_SEEDER)

    assert result.mode is SyncMode.FULL and len(await _docs(stores)) == 20


async def test_full_forces_a_full_sync(make_stores: MakeStores) -> None:
    up = seeded_upstream()
    stores = make_stores(MIRROR_SCHEMA)
    await _sync(stores, up)
    up.calls.clear()

    result = await _sync(stores, up, full=True)

    assert result.mode is SyncMode.FULL and up.calls["changes"] == 0
    assert up.calls["folders:list"] == 2 and up.calls["head"] == 1


async def test_max_age_skips_collections_listed_recently(make_stores: MakeStores) -> None:
    up = seeded_upstream()
    stores = make_stores(MIRROR_SCHEMA)
    await _sync(stores, up, feed=False)
    up.calls.clear()

    again = await _sync(stores, up, feed=False, max_age=timedelta(hours=1))
    zero = await _sync(stores, up, feed=False, max_age=timedelta(0))

    assert again.status is SyncStatus.COMPLETED and again.removed == 0
    # The folders were listed again (a root listing), every folder's docs were skipped...
    assert again.requests == 2
    # ...and with a max age of zero nothing counts as fresh.
    assert zero.requests == 2 + 3 * 3
    assert len(await _docs(stores)) == 15
