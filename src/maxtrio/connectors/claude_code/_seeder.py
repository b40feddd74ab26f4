"""The claude-code seeder: store the root, then list projects and sessions, read the logs.

1 for_root(root).load_fields(path)
2 for_root(root).load_collection(projects)
3 for_root(root).load_collection(sessions)
4 for_root(root).load_collection(messages)     logs read in pages of ~8 MiB
5 for_root(root).load_collection(toolCalls)    the same logs, tool lines only
"""

from __future__ import annotations

from maxtrio.core import EntityInput, Seeder, SeederEnv, Step, SyncPlan

from ._context import ClaudeCodeContext
from ._entities import ROOT_REF

CLAUDE_CODE_SYNC_PLAN = SyncPlan.create(
    Step.for_root(ROOT_REF).load_fields("path"),
    Step.for_root(ROOT_REF).load_collection("projects"),
    Step.for_root(ROOT_REF).load_collection("sessions"),
    Step.for_root(ROOT_REF).load_collection("messages"),
    Step.for_root(ROOT_REF).load_collection("toolCalls"),
)


async def _seed(env: SeederEnv[ClaudeCodeContext]) -> SyncPlan:
    await env.engine.store(EntityInput(ROOT_REF, {}))
    return CLAUDE_CODE_SYNC_PLAN


ClaudeCodeSeeder: Seeder[ClaudeCodeContext] = Seeder(_seed)
