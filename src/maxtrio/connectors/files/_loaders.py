"""The files loaders: the root's fields, every directory, every file.

The tree is walked once per sync (a ``depends_on`` source, in a worker thread); the
``directories`` and ``files`` collections page through that walk. A files page of
:data:`FILE_PAGE_SIZE` is built in one worker thread: a file whose size and time match the
snapshot is written with its listing fields only (the stored hash, preview and line count are
kept); any other is read (sha256, text sniffing, lines, preview). A file that cannot be read
is left out and counted (``Page.skipped``), as are what the walk could not follow.
"""

from __future__ import annotations

import os
from pathlib import Path

import trio

from maxtrio.connector import date_from_epoch
from maxtrio.core import Dependency, EntityInput, Loader, LoaderEnv, Page, PageRequest, Ref

from ._context import FilesContext, Snapshot
from ._entities import ROOT_DIRECTORY_ID, FilesDirectory, FilesFile, FilesRoot
from ._errors import ErrRootUnavailable
from ._root import ensure_root
from ._tree import DirRecord, FileRecord, Walk, mime_type, read_content, walk

FILE_PAGE_SIZE = 5000
DIRECTORY_PAGE_SIZE = 5000

Env = LoaderEnv[FilesContext]


def _walk_tree(ctx: FilesContext) -> Walk:
    config = ctx.config
    ensure_root(config.root)
    try:
        return walk(
            config.root, include=config.include, exclude=config.exclude, gitignore=config.gitignore
        )
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ErrRootUnavailable(path=str(config.root), reason=reason, connector="files") from None


async def _walk(ref: Ref, env: Env) -> Walk:
    return await trio.to_thread.run_sync(_walk_tree, env.ctx)


TreeSource = Loader.single_source("files:root:walk", FilesRoot, _walk)


def _name_and_parent(path: str) -> tuple[str, str]:
    parent, _, name = path.rpartition("/")
    return name, parent or ROOT_DIRECTORY_ID


def directory_input(record: DirRecord, root: Path) -> EntityInput:
    if record.path == ROOT_DIRECTORY_ID:
        name, parent = root.name, None
    else:
        name, parent_id = _name_and_parent(record.path)
        parent = FilesDirectory.ref(parent_id)
    return EntityInput(
        FilesDirectory.ref(record.path),
        {"path": record.path, "name": name, "parent": parent, "depth": record.depth},
    )


def file_listing(record: FileRecord) -> dict[str, object]:
    """The fields a directory listing knows (no content read)."""
    name = record.path.rpartition("/")[2]
    stem, dot, extension = name.rpartition(".")
    return {
        "path": record.path,
        "name": name,
        "extension": extension.lower() if dot and stem else None,
        "directory": FilesDirectory.ref(record.directory),
        "size": record.size,
        "modified": date_from_epoch(record.mtime_ms / 1000),
    }


def file_inputs(
    records: list[FileRecord], root: Path, snapshot: Snapshot | None
) -> tuple[list[EntityInput], int]:
    """Inputs for one page of files (blocking: run in a thread) and how many were skipped."""
    inputs: list[EntityInput] = []
    skipped = 0
    known = snapshot or {}
    for record in records:
        fields = file_listing(record)
        if known.get(record.path) != (record.size, record.mtime_ms):
            try:
                content = read_content(os.path.join(root, record.path))
            except OSError:
                skipped += 1
                continue
            fields["mimeType"] = mime_type(str(fields["name"]), content.is_text)
            fields["isText"] = content.is_text
            fields["sha256"] = content.sha256
            fields["lineCount"] = content.line_count
            fields["preview"] = content.preview
        inputs.append(EntityInput(FilesFile.ref(record.path), fields))
    return inputs, skipped


async def _root_basic(ref: Ref, env: Env) -> EntityInput:
    root = env.ctx.config.root
    await trio.to_thread.run_sync(ensure_root, root)  # the sync's first step: a clear failure
    return EntityInput(ref, {"path": str(root), "name": root.name})


async def _directories(ref: Ref, page: PageRequest, env: Env) -> Page[EntityInput]:
    tree: Walk = env.deps.get_or_raise(TreeSource)
    start = page.parse_as_numeric_offset()
    end = min(start + DIRECTORY_PAGE_SIZE, len(tree.directories))
    root = env.ctx.config.root
    items = [directory_input(d, root) for d in tree.directories[start:end]]
    more = end < len(tree.directories)
    # what the walk could not follow is reported once, with the last page
    return Page(items, more, str(end) if more else None, skipped=0 if more else tree.skipped)


async def _files(ref: Ref, page: PageRequest, env: Env) -> Page[EntityInput]:
    tree: Walk = env.deps.get_or_raise(TreeSource)
    start = page.parse_as_numeric_offset()
    end = min(start + FILE_PAGE_SIZE, len(tree.files))
    chunk = tree.files[start:end]
    ctx = env.ctx
    inputs, skipped = await trio.to_thread.run_sync(
        file_inputs, chunk, ctx.config.root, ctx.state.snapshot
    )
    more = end < len(tree.files)
    return Page(inputs, more, str(end) if more else None, skipped=skipped)


RootBasicLoader = Loader.entity("files:root:basic", FilesRoot, _root_basic)
RootDirectoriesLoader = Loader.collection(
    "files:root:directories",
    FilesRoot,
    FilesDirectory,
    _directories,
    complete=True,
    depends_on=[Dependency(TreeSource)],
)
RootFilesLoader = Loader.collection(
    "files:root:files",
    FilesRoot,
    FilesFile,
    _files,
    complete=True,
    depends_on=[Dependency(TreeSource)],
)

FILES_LOADERS = (RootBasicLoader, RootDirectoriesLoader, RootFilesLoader)
