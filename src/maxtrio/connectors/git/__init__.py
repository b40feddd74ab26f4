"""maxtrio.connectors.git — a local git repository as five entity types (docs/connector-git.md).

Config ``{"path": "/abs/repo"}``; entities GitRepository (the root), GitCommit, GitAuthor,
GitBranch, GitTag. A full sync lists everything through the git CLI; after it, the change feed
(cursor = where every ref pointed) makes each sync read only new commits and remove those a
force-push made unreachable. ``connector`` is entry point ``git`` of ``maxtrio.connectors``.
"""

from ._config import GitConfig
from ._connector import GitConnectorDef, connector, initialise
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
from ._feed import GitChangeFeed, GitCursor
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
from ._loaders import COMMIT_PAGE_SIZE, GIT_LOADERS, CommitIdsSource
from ._onboarding import GitOnboarding
from ._operations import GIT_OPERATIONS, GIT_PROCESS_LIMIT, GitContext
from ._resolvers import GIT_RESOLVERS, GitRepositoryResolver
from ._seeder import GIT_SYNC_PLAN, GitSeeder

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
