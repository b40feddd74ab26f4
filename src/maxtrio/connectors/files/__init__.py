"""maxtrio.connectors.files — a local directory tree (docs/connector-files.md).

Config ``{"root": "/abs/dir", "include": [...], "exclude": [...], "gitignore": true}``;
entities FilesRoot (the root), FilesDirectory, FilesFile. Every sync lists the tree (one
``stat`` per file), reads only files whose size or time changed, and removes what is gone.
``connector`` is entry point ``files`` of ``maxtrio.connectors``.
"""

from ._config import FilesConfig
from ._connector import FilesConnectorDef, connector, initialise
from ._context import FilesContext, FilesState, Snapshot
from ._entities import (
    ROOT_DIRECTORY_ID,
    ROOT_ID,
    ROOT_REF,
    FilesDirectory,
    FilesFile,
    FilesRoot,
    FilesSchema,
)
from ._errors import ErrInvalidConfig, ErrRootUnavailable, FilesConnectorBoundary
from ._loaders import FILE_PAGE_SIZE, FILES_LOADERS, TreeSource, file_inputs
from ._onboarding import FilesOnboarding, check_root
from ._resolvers import FILES_RESOLVERS, FilesRootResolver
from ._seeder import FILES_SYNC_PLAN, FilesSeeder, read_snapshot
from ._tree import Content, DirRecord, FileRecord, Walk, mime_type, read_content, walk

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
