"""The git operations: each runs one git process (``env.ops`` counts them as requests).

All share ``Limit.concurrent("git:process", 4)``: a sync never runs more than four git
processes against a repository at once.
"""

from __future__ import annotations

import attrs

from maxtrio.core import Limit, Operation, OperationEnv

from ._context import GitContext
from ._git import AuthorStats, CommitRecord, RefRecord, RepositoryInfo

GIT_PROCESS_LIMIT = Limit.concurrent("git:process", 4)


@attrs.frozen
class RevRange:
    """Commits reachable from ``include`` and not from ``exclude``."""

    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()


@attrs.frozen
class Shas:
    """Commits by sha; ``walk`` also takes every ancestor (``git log`` without ``--no-walk``)."""

    shas: tuple[str, ...]
    walk: bool = False


@attrs.frozen
class NoInput:
    pass


Env = OperationEnv[GitContext]


async def _info(_: NoInput, env: Env) -> RepositoryInfo:
    return await env.ctx.repo.info()


async def _refs(_: NoInput, env: Env) -> list[RefRecord]:
    return await env.ctx.repo.refs()


async def _tips(_: NoInput, env: Env) -> dict[str, str]:
    return await env.ctx.repo.tips()


async def _rev_list(query: RevRange, env: Env) -> list[str]:
    return await env.ctx.repo.rev_list(query.include, query.exclude)


async def _commits(query: Shas, env: Env) -> list[CommitRecord]:
    return await env.ctx.repo.commits(query.shas)


async def _authors(query: Shas, env: Env) -> list[AuthorStats]:
    return await env.ctx.repo.authors(query.shas, walk=query.walk)


ReadInfo: Operation[GitContext, NoInput, RepositoryInfo] = Operation.define(
    "git:repository:info", _info, limit=GIT_PROCESS_LIMIT
)
ListRefs: Operation[GitContext, NoInput, list[RefRecord]] = Operation.define(
    "git:ref:list", _refs, limit=GIT_PROCESS_LIMIT
)
ReadTips: Operation[GitContext, NoInput, dict[str, str]] = Operation.define(
    "git:ref:tips", _tips, limit=GIT_PROCESS_LIMIT
)
ListCommitIds: Operation[GitContext, RevRange, list[str]] = Operation.define(
    "git:commit:list", _rev_list, limit=GIT_PROCESS_LIMIT
)
ReadCommits: Operation[GitContext, Shas, list[CommitRecord]] = Operation.define(
    "git:commit:read", _commits, limit=GIT_PROCESS_LIMIT
)
ReadAuthors: Operation[GitContext, Shas, list[AuthorStats]] = Operation.define(
    "git:author:list", _authors, limit=GIT_PROCESS_LIMIT
)

GIT_OPERATIONS = (ReadInfo, ListRefs, ReadTips, ListCommitIds, ReadCommits, ReadAuthors)
