"""The git resolver: every field of the repository and its four collections."""

from __future__ import annotations

from maxtrio.core import Resolver

from ._entities import GitRepository
from ._loaders import (
    RepositoryAuthorsLoader,
    RepositoryBasicLoader,
    RepositoryBranchesLoader,
    RepositoryCommitsLoader,
    RepositoryTagsLoader,
)

REPOSITORY_FIELDS = ("path", "name", "head", "headCommit", "bare", "originUrl")

GitRepositoryResolver = Resolver.for_(
    GitRepository,
    {
        **{name: RepositoryBasicLoader for name in REPOSITORY_FIELDS},
        "commits": RepositoryCommitsLoader,
        "authors": RepositoryAuthorsLoader,
        "branches": RepositoryBranchesLoader,
        "tags": RepositoryTagsLoader,
    },
)

GIT_RESOLVERS = (GitRepositoryResolver,)
