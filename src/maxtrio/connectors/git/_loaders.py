"""The git loaders: the repository's fields and its four complete collections.

Commits are listed in pages of :data:`COMMIT_PAGE_SIZE`: the ids of every commit reachable
from the branches, remote-tracking branches, tags and HEAD are read once per sync (a
``depends_on`` source, one ``git rev-list``), and each page reads its slice with one
``git log --no-walk --numstat``. The page cursor is the offset into that list.
"""

from __future__ import annotations

from maxtrio.core import Dependency, EntityInput, Loader, LoaderEnv, Page, PageRequest, Ref

from ._context import GitContext
from ._entities import GitAuthor, GitBranch, GitCommit, GitRepository, GitTag
from ._operations import (
    ListCommitIds,
    ListRefs,
    NoInput,
    ReadAuthors,
    ReadCommits,
    ReadInfo,
    ReadTips,
    RevRange,
    Shas,
)
from ._records import author_input, commit_input, ref_inputs, repository_input

COMMIT_PAGE_SIZE = 2000

Env = LoaderEnv[GitContext]


async def _commit_ids(ref: Ref, env: Env) -> list[str]:
    tips = await env.ops.execute(ReadTips, NoInput())
    return await env.ops.execute(ListCommitIds, RevRange(tuple(sorted(set(tips.values())))))


CommitIdsSource = Loader.single_source("git:repository:commit-ids", GitRepository, _commit_ids)


async def _repository_basic(ref: Ref, env: Env) -> EntityInput:
    return repository_input(env.ctx.repo.path, await env.ops.execute(ReadInfo, NoInput()))


async def _commits(ref: Ref, page: PageRequest, env: Env) -> Page[EntityInput]:
    shas: list[str] = env.deps.get_or_raise(CommitIdsSource)
    start = page.parse_as_numeric_offset()
    chunk = tuple(shas[start : start + COMMIT_PAGE_SIZE])
    records = await env.ops.execute(ReadCommits, Shas(chunk))
    end = start + len(chunk)
    more = end < len(shas)
    return Page([commit_input(r) for r in records], more, str(end) if more else None)


async def _authors(ref: Ref, page: PageRequest, env: Env) -> Page[EntityInput]:
    tips = await env.ops.execute(ReadTips, NoInput())
    stats = await env.ops.execute(ReadAuthors, Shas(tuple(sorted(set(tips.values()))), walk=True))
    return Page([author_input(s) for s in stats])


async def _branches(ref: Ref, page: PageRequest, env: Env) -> Page[EntityInput]:
    return Page(ref_inputs(await env.ops.execute(ListRefs, NoInput()))[0])


async def _tags(ref: Ref, page: PageRequest, env: Env) -> Page[EntityInput]:
    return Page(ref_inputs(await env.ops.execute(ListRefs, NoInput()))[1])


RepositoryBasicLoader = Loader.entity("git:repository:basic", GitRepository, _repository_basic)
RepositoryCommitsLoader = Loader.collection(
    "git:repository:commits",
    GitRepository,
    GitCommit,
    _commits,
    complete=True,
    depends_on=[Dependency(CommitIdsSource)],
)
RepositoryAuthorsLoader = Loader.collection(
    "git:repository:authors", GitRepository, GitAuthor, _authors, complete=True
)
RepositoryBranchesLoader = Loader.collection(
    "git:repository:branches", GitRepository, GitBranch, _branches, complete=True
)
RepositoryTagsLoader = Loader.collection(
    "git:repository:tags", GitRepository, GitTag, _tags, complete=True
)

GIT_LOADERS = (
    RepositoryBasicLoader,
    RepositoryCommitsLoader,
    RepositoryAuthorsLoader,
    RepositoryBranchesLoader,
    RepositoryTagsLoader,
)
