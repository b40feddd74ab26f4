"""The files context: the config and what the seeder remembered of the last sync.

``FilesState.snapshot`` maps a file's id to the ``(size, mtime in ms)`` its stored row was
read with. The seeder fills it from the installation's data before a full sync (it has the
engine; loaders do not); the files loader reads a file's content again only when its size or
time differs. Without a snapshot (a resumed sync) every file is read.
"""

from __future__ import annotations

import attrs

from ._config import FilesConfig

Snapshot = dict[str, tuple[int, int]]


@attrs.define
class FilesState:
    snapshot: Snapshot | None = None


@attrs.frozen
class FilesContext:
    config: FilesConfig
    state: FilesState = attrs.field(factory=FilesState)
