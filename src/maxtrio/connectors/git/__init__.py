"""maxtrio.connectors.git — a local git repository as five entity types (docs/connector-git.md).

Config ``{"path": "/abs/repo"}``; entities GitRepository (the root), GitCommit, GitAuthor,
GitBranch, GitTag. A full sync lists everything through the git CLI; after it, the change feed
(cursor = where every ref pointed) makes each sync read only new commits and remove those a
force-push made unreachable. ``connector`` is entry point ``git`` of ``maxtrio.connectors``.

Names are loaded on first use (PEP 562): the registry's ``connector`` comes from ``_connector``
alone, so starting the connector and asking its health (``max ls``, ``max status``) imports
neither the definition (``GitConnectorDef``, module ``_definition``) nor the operations,
loaders, seeder, resolvers, onboarding and change feed it is built from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maxtrio._lazy import lazy_names

if TYPE_CHECKING:
    from ._config import (
        GitConfig,
    )
    from ._connector import (
        connector,
        initialise,
    )
    from ._context import (
        GitContext,
    )
    from ._definition import (
        GitConnectorDef,
    )
    from ._entities import (
        ROOT_ID,
        ROOT_REF,
        GitAuthor,
        GitBranch,
        GitCommit,
        GitRepository,
        GitSchema,
        GitTag,
    )
    from ._errors import (
        ErrGitFailed,
        ErrGitMissing,
        ErrInvalidConfig,
        ErrNotARepository,
        GitConnectorBoundary,
    )
    from ._feed import (
        GitChangeFeed,
        GitCursor,
    )
    from ._git import (
        AuthorStats,
        CommitRecord,
        FileStat,
        GitRepo,
        RefRecord,
        RepositoryInfo,
        author_id,
        parse_authors,
        parse_log,
        parse_refs,
    )
    from ._loaders import (
        COMMIT_PAGE_SIZE,
        GIT_LOADERS,
        CommitIdsSource,
    )
    from ._onboarding import (
        GitOnboarding,
    )
    from ._operations import (
        GIT_OPERATIONS,
        GIT_PROCESS_LIMIT,
    )
    from ._resolvers import (
        GIT_RESOLVERS,
        GitRepositoryResolver,
    )
    from ._seeder import (
        GIT_SYNC_PLAN,
        GitSeeder,
    )

_SOURCES = {
    "COMMIT_PAGE_SIZE": "._loaders",
    "GIT_LOADERS": "._loaders",
    "GIT_OPERATIONS": "._operations",
    "GIT_PROCESS_LIMIT": "._operations",
    "GIT_RESOLVERS": "._resolvers",
    "GIT_SYNC_PLAN": "._seeder",
    "ROOT_ID": "._entities",
    "ROOT_REF": "._entities",
    "AuthorStats": "._git",
    "CommitIdsSource": "._loaders",
    "CommitRecord": "._git",
    "ErrGitFailed": "._errors",
    "ErrGitMissing": "._errors",
    "ErrInvalidConfig": "._errors",
    "ErrNotARepository": "._errors",
    "FileStat": "._git",
    "GitAuthor": "._entities",
    "GitBranch": "._entities",
    "GitChangeFeed": "._feed",
    "GitCommit": "._entities",
    "GitConfig": "._config",
    "GitConnectorBoundary": "._errors",
    "GitConnectorDef": "._definition",
    "GitContext": "._context",
    "GitCursor": "._feed",
    "GitOnboarding": "._onboarding",
    "GitRepo": "._git",
    "GitRepository": "._entities",
    "GitRepositoryResolver": "._resolvers",
    "GitSchema": "._entities",
    "GitSeeder": "._seeder",
    "GitTag": "._entities",
    "RefRecord": "._git",
    "RepositoryInfo": "._git",
    "author_id": "._git",
    "connector": "._connector",
    "initialise": "._connector",
    "parse_authors": "._git",
    "parse_log": "._git",
    "parse_refs": "._git",
}

__all__ = [
    "COMMIT_PAGE_SIZE",
    "GIT_LOADERS",
    "GIT_OPERATIONS",
    "GIT_PROCESS_LIMIT",
    "GIT_RESOLVERS",
    "GIT_SYNC_PLAN",
    "ROOT_ID",
    "ROOT_REF",
    "AuthorStats",
    "CommitIdsSource",
    "CommitRecord",
    "ErrGitFailed",
    "ErrGitMissing",
    "ErrInvalidConfig",
    "ErrNotARepository",
    "FileStat",
    "GitAuthor",
    "GitBranch",
    "GitChangeFeed",
    "GitCommit",
    "GitConfig",
    "GitConnectorBoundary",
    "GitConnectorDef",
    "GitContext",
    "GitCursor",
    "GitOnboarding",
    "GitRepo",
    "GitRepository",
    "GitRepositoryResolver",
    "GitSchema",
    "GitSeeder",
    "GitTag",
    "RefRecord",
    "RepositoryInfo",
    "author_id",
    "connector",
    "initialise",
    "parse_authors",
    "parse_log",
    "parse_refs",
]


__getattr__, __dir__ = lazy_names(__name__, _SOURCES, globals())
