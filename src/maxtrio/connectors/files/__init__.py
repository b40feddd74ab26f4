"""maxtrio.connectors.files — a local directory tree (docs/connector-files.md).

Config ``{"root": "/abs/dir", "include": [...], "exclude": [...], "gitignore": true}``;
entities FilesRoot (the root), FilesDirectory, FilesFile. Every sync lists the tree (one
``stat`` per file), reads only files whose size or time changed, and removes what is gone.
``connector`` is entry point ``files`` of ``maxtrio.connectors``.

Names are loaded on first use (PEP 562): the registry's ``connector`` comes from ``_connector``
alone, so starting the connector and asking its health (``max ls``, ``max status``) imports
neither the definition (``FilesConnectorDef``, module ``_definition``) nor the seeder,
loaders, resolvers and onboarding it is built from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maxtrio._lazy import lazy_names

if TYPE_CHECKING:
    from ._config import (
        FilesConfig,
    )
    from ._connector import (
        connector,
        initialise,
    )
    from ._context import (
        FilesContext,
        FilesState,
        Snapshot,
    )
    from ._definition import (
        FilesConnectorDef,
    )
    from ._entities import (
        ROOT_DIRECTORY_ID,
        ROOT_ID,
        ROOT_REF,
        FilesDirectory,
        FilesFile,
        FilesRoot,
        FilesSchema,
    )
    from ._errors import (
        ErrInvalidConfig,
        ErrRootUnavailable,
        FilesConnectorBoundary,
    )
    from ._loaders import (
        FILE_PAGE_SIZE,
        FILES_LOADERS,
        TreeSource,
        file_inputs,
    )
    from ._onboarding import (
        FilesOnboarding,
    )
    from ._resolvers import (
        FILES_RESOLVERS,
        FilesRootResolver,
    )
    from ._root import (
        check_root,
    )
    from ._seeder import (
        FILES_SYNC_PLAN,
        FilesSeeder,
        read_snapshot,
    )
    from ._tree import (
        Content,
        DirRecord,
        FileRecord,
        Walk,
        mime_type,
        read_content,
        walk,
    )

_SOURCES = {
    "FILES_LOADERS": "._loaders",
    "FILES_RESOLVERS": "._resolvers",
    "FILES_SYNC_PLAN": "._seeder",
    "FILE_PAGE_SIZE": "._loaders",
    "ROOT_DIRECTORY_ID": "._entities",
    "ROOT_ID": "._entities",
    "ROOT_REF": "._entities",
    "Content": "._tree",
    "DirRecord": "._tree",
    "ErrInvalidConfig": "._errors",
    "ErrRootUnavailable": "._errors",
    "FileRecord": "._tree",
    "FilesConfig": "._config",
    "FilesConnectorBoundary": "._errors",
    "FilesConnectorDef": "._definition",
    "FilesContext": "._context",
    "FilesDirectory": "._entities",
    "FilesFile": "._entities",
    "FilesOnboarding": "._onboarding",
    "FilesRoot": "._entities",
    "FilesRootResolver": "._resolvers",
    "FilesSchema": "._entities",
    "FilesSeeder": "._seeder",
    "FilesState": "._context",
    "Snapshot": "._context",
    "TreeSource": "._loaders",
    "Walk": "._tree",
    "check_root": "._root",
    "connector": "._connector",
    "file_inputs": "._loaders",
    "initialise": "._connector",
    "mime_type": "._tree",
    "read_content": "._tree",
    "read_snapshot": "._seeder",
    "walk": "._tree",
}

__all__ = [
    "FILES_LOADERS",
    "FILES_RESOLVERS",
    "FILES_SYNC_PLAN",
    "FILE_PAGE_SIZE",
    "ROOT_DIRECTORY_ID",
    "ROOT_ID",
    "ROOT_REF",
    "Content",
    "DirRecord",
    "ErrInvalidConfig",
    "ErrRootUnavailable",
    "FileRecord",
    "FilesConfig",
    "FilesConnectorBoundary",
    "FilesConnectorDef",
    "FilesContext",
    "FilesDirectory",
    "FilesFile",
    "FilesOnboarding",
    "FilesRoot",
    "FilesRootResolver",
    "FilesSchema",
    "FilesSeeder",
    "FilesState",
    "Snapshot",
    "TreeSource",
    "Walk",
    "check_root",
    "connector",
    "file_inputs",
    "initialise",
    "mime_type",
    "read_content",
    "read_snapshot",
    "walk",
]


__getattr__, __dir__ = lazy_names(__name__, _SOURCES, globals())
