"""The git seeder: store the repository root, then read its fields and four collections.

1 for_root(repository).load_fields(path, name, head, headCommit, bare, originUrl)
2 for_root(repository).load_collection(commits)    pages of 2,000 commits
3 for_root(repository).load_collection(authors)
4 for_root(repository).load_collection(branches)
5 for_root(repository).load_collection(tags)
"""

from __future__ import annotations

from maxtrio.core import EntityInput, Seeder, SeederEnv, Step, SyncPlan

from ._context import GitContext
from ._entities import ROOT_REF
from ._resolvers import REPOSITORY_FIELDS

GIT_SYNC_PLAN = SyncPlan.create(
    Step.for_root(ROOT_REF).load_fields(*REPOSITORY_FIELDS),
    Step.for_root(ROOT_REF).load_collection("commits"),
    Step.for_root(ROOT_REF).load_collection("authors"),
    Step.for_root(ROOT_REF).load_collection("branches"),
    Step.for_root(ROOT_REF).load_collection("tags"),
)


async def _seed(env: SeederEnv[GitContext]) -> SyncPlan:
    await env.engine.store(EntityInput(ROOT_REF, {}))
    return GIT_SYNC_PLAN


GitSeeder: Seeder[GitContext] = Seeder(_seed)
