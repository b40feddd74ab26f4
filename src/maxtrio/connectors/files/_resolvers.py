"""The files resolver: the root's fields and its two complete collections."""

from __future__ import annotations

from maxtrio.core import Resolver

from ._entities import FilesRoot
from ._loaders import RootBasicLoader, RootDirectoriesLoader, RootFilesLoader

FilesRootResolver = Resolver.for_(
    FilesRoot,
    {
        "path": RootBasicLoader,
        "name": RootBasicLoader,
        "directories": RootDirectoriesLoader,
        "files": RootFilesLoader,
    },
)

FILES_RESOLVERS = (FilesRootResolver,)
