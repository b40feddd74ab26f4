"""A small connector with complete listings and a change feed, over an in-process upstream.

Upstream: folders, each with docs. The root lists every folder (a complete listing without
``via``: it covers the whole folder table); a folder lists its docs (complete, ``via="folder"``).
Every mutation appends to a change log; ``compact()`` forgets the log up to its end, so an
older cursor is expired. ``DocStat`` (fields loaded per doc, no feed involvement) exercises
``--max-age`` on ``load_fields`` steps. Calls are counted per operation name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import attrs
import trio

from maxtrio.core import (
    Boundary,
    ChangeFeed,
    ChangeSet,
    EntityDef,
    EntityInput,
    ErrFeedCursorExpired,
    Field,
    Loader,
    LoaderEnv,
    Operation,
    OperationEnv,
    Page,
    PageRequest,
    Ref,
    Resolver,
    Schema,
    Seeder,
    SeederEnv,
    Step,
    SyncPlan,
)

MRoot = EntityDef.create("MRoot", {"folders": Field.collection("MFolder")})
MFolder = EntityDef.create(
    "MFolder", {"name": Field.string(), "docs": Field.collection("MDoc", via="folder")}
)
MDoc = EntityDef.create(
    "MDoc",
    {"title": Field.string(), "note": Field.string(), "folder": Field.ref("MFolder")},
)
MIRROR_SCHEMA = Schema.create("mirror", [MRoot, MFolder, MDoc], roots=[MRoot])
MROOT = MRoot.ref("root")
ErrFeedDown = Boundary("mirror").define("feed_down", message="The change log is down")


@attrs.define
class Upstream:
    """Folders and docs, a change log with sequence numbers, and call counts."""

    folders: dict[str, str] = attrs.field(factory=dict)  # id → name
    docs: dict[str, dict[str, Any]] = attrs.field(factory=dict)  # id → title, note, folder
    log: list[tuple[int, str, str, str]] = attrs.field(factory=list)  # seq, kind, id, action
    horizon: int = 0  # cursors below this are expired
    page_size: int = 2
    calls: Counter[str] = attrs.field(factory=Counter)
    fail_listing_of: str | None = None  # a folder whose doc listing fails
    feed_down: bool = False  # the change log answers with an error

    @property
    def head(self) -> int:
        return self.log[-1][0] if self.log else self.horizon

    def _record(self, kind: str, id_: str, action: str) -> None:
        self.log.append((self.head + 1, kind, id_, action))

    def put_folder(self, id_: str, name: str) -> None:
        action = "update" if id_ in self.folders else "create"
        self.folders[id_] = name
        self._record("folder", id_, action)

    def put_doc(self, id_: str, title: str, folder: str, note: str | None = None) -> None:
        action = "update" if id_ in self.docs else "create"
        self.docs[id_] = {"title": title, "note": note, "folder": folder}
        self._record("doc", id_, action)

    def delete_doc(self, id_: str) -> None:
        del self.docs[id_]
        self._record("doc", id_, "delete")

    def delete_folder(self, id_: str) -> None:
        del self.folders[id_]
        self._record("folder", id_, "delete")

    def compact(self) -> None:
        self.horizon = self.head
        self.log.clear()


def seeded_upstream(folders: int = 3, docs: int = 5) -> Upstream:
    up = Upstream()
    for f in range(1, folders + 1):
        up.put_folder(f"f{f}", f"Folder {f}")
        for d in range(1, docs + 1):
            up.put_doc(f"f{f}d{d}", f"Doc {f}.{d}", f"f{f}", note=f"note {d}" if d % 2 else None)
    return up


@attrs.frozen
class MCtx:
    up: Upstream


def _doc_input(id_: str, doc: dict[str, Any]) -> EntityInput:
    return EntityInput(
        MDoc.ref(id_),
        {"title": doc["title"], "note": doc["note"], "folder": MFolder.ref(doc["folder"])},
    )


def _page_of(ids: list[str], cursor: str | None, size: int) -> tuple[list[str], str | None]:
    start = int(cursor) if cursor else 0
    end = start + size
    return ids[start:end], (str(end) if end < len(ids) else None)


async def _list_folders(req: tuple[str | None], env: OperationEnv[MCtx]) -> Any:
    up = env.ctx.up
    up.calls["folders:list"] += 1
    await trio.lowlevel.checkpoint()
    ids, cursor = _page_of(sorted(up.folders), req[0], up.page_size)
    return [(i, up.folders[i]) for i in ids], cursor


async def _list_docs(req: tuple[str, str | None], env: OperationEnv[MCtx]) -> Any:
    up = env.ctx.up
    up.calls["docs:list"] += 1
    await trio.lowlevel.checkpoint()
    folder, cursor = req
    if folder == up.fail_listing_of:
        raise RuntimeError(f"listing of {folder} failed")
    ids = sorted(i for i, d in up.docs.items() if d["folder"] == folder)
    chunk, nxt = _page_of(ids, cursor, up.page_size)
    return [(i, dict(up.docs[i])) for i in chunk], nxt


async def _get_docs(ids: Sequence[str], env: OperationEnv[MCtx]) -> Any:
    up = env.ctx.up
    up.calls["docs:get"] += 1
    await trio.lowlevel.checkpoint()
    return {i: dict(up.docs[i]) for i in ids if i in up.docs}


async def _changes(since: int, env: OperationEnv[MCtx]) -> Any:
    up = env.ctx.up
    up.calls["changes"] += 1
    await trio.lowlevel.checkpoint()
    if up.feed_down:
        raise ErrFeedDown()
    if since < up.horizon:
        raise ErrFeedCursorExpired(cursor=str(since))
    return [e for e in up.log if e[0] > since]


async def _head(_: None, env: OperationEnv[MCtx]) -> int:
    env.ctx.up.calls["head"] += 1
    await trio.lowlevel.checkpoint()
    return env.ctx.up.head


ListFolders = Operation.define("mirror:folder:list", _list_folders)
ListDocs = Operation.define("mirror:doc:list", _list_docs)
GetDocs = Operation.define("mirror:doc:get", _get_docs)
Changes = Operation.define("mirror:change:list", _changes)
Head = Operation.define("mirror:change:head", _head)


async def _root_folders(ref: Ref, page: PageRequest, env: LoaderEnv[MCtx]) -> Page[EntityInput]:
    items, cursor = await env.ops.execute(ListFolders, (page.cursor,))
    inputs = [EntityInput(MFolder.ref(i), {"name": name}) for i, name in items]
    return Page(inputs, cursor is not None, cursor)


async def _folder_docs(ref: Ref, page: PageRequest, env: LoaderEnv[MCtx]) -> Page[EntityInput]:
    items, cursor = await env.ops.execute(ListDocs, (ref.id, page.cursor))
    return Page([_doc_input(i, d) for i, d in items], cursor is not None, cursor)


RootFolders = Loader.collection("mirror:root:folders", MRoot, MFolder, _root_folders, complete=True)
FolderDocs = Loader.collection("mirror:folder:docs", MFolder, MDoc, _folder_docs, complete=True)
MIRROR_RESOLVERS = (
    Resolver.for_(MRoot, {"folders": RootFolders}),
    Resolver.for_(MFolder, {"docs": FolderDocs}),
)
MIRROR_PLAN = SyncPlan.create(
    Step.for_root(MROOT).load_collection("folders"),
    Step.for_all(MFolder).load_collection("docs"),
)


async def _seed(env: SeederEnv[MCtx]) -> SyncPlan:
    await env.engine.store(EntityInput(MROOT, {}))
    return MIRROR_PLAN


MIRROR_SEEDER: Seeder[MCtx] = Seeder(_seed)


async def _feed_head(env: LoaderEnv[MCtx]) -> str:
    return str(await env.ops.execute(Head, None))


async def _feed_changes(cursor: str, env: LoaderEnv[MCtx], max_changes: int) -> ChangeSet:
    events = await env.ops.execute(Changes, int(cursor))
    if len(events) > max_changes:
        return ChangeSet(overflow=True)
    last: dict[tuple[str, str], str] = {}
    for _, kind, id_, action in events:
        last[(kind, id_)] = action
    new_cursor = str(events[-1][0]) if events else cursor
    deletes: list[Ref] = []
    folders: list[EntityInput] = []
    doc_ids: list[str] = []
    for (kind, id_), action in last.items():
        entity = MFolder if kind == "folder" else MDoc
        if action == "delete":
            deletes.append(entity.ref(id_))
        elif kind == "doc":
            doc_ids.append(id_)
        else:
            folders.append(EntityInput(MFolder.ref(id_), {"name": env.ctx.up.folders[id_]}))
    docs = await env.ops.execute(GetDocs, doc_ids) if doc_ids else {}
    upserts = folders + [_doc_input(i, d) for i, d in docs.items()]
    deletes += [MDoc.ref(i) for i in doc_ids if i not in docs]
    return ChangeSet(upserts, deletes, new_cursor)


MIRROR_FEED = ChangeFeed.create("mirror", head=_feed_head, changes=_feed_changes)
