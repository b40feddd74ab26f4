"""The acme seeder: store ``AcmeRoot("root")``, then list everything in three waves.

    1  for_root(root).load_collection("workspaces")
    2  for_all(AcmeWorkspace).load_collection("users")      } concurrently
       for_all(AcmeWorkspace).load_collection("projects")   }
    3  for_all(AcmeProject).load_collection("tasks")        } concurrently
       for_all(AcmeProject).load_collection("files")        }

Every list returns complete records (see ``_loaders``), so no ``load_fields`` step is needed:
the default seed (1 workspace, 6 users, 3 projects, 30 tasks, 15 files) takes 1 + 2 + 6 = 9
requests, where the reference's sequential 7-step plan of stubs and gets took 16 (without
files). Each wave waits for the one before: its targets are the entities the last one stored.
"""

from __future__ import annotations

from maxtrio.core import EntityInput, Seeder, SeederEnv, Step, SyncPlan, concurrent

from ._connection import AcmeAppContext
from ._entities import ROOT_ID, AcmeProject, AcmeRoot, AcmeWorkspace

ROOT_REF = AcmeRoot.ref(ROOT_ID)

ACME_SYNC_PLAN = SyncPlan.create(
    Step.for_root(ROOT_REF).load_collection("workspaces"),
    concurrent(
        Step.for_all(AcmeWorkspace).load_collection("users"),
        Step.for_all(AcmeWorkspace).load_collection("projects"),
    ),
    concurrent(
        Step.for_all(AcmeProject).load_collection("tasks"),
        Step.for_all(AcmeProject).load_collection("files"),
    ),
)


async def _seed(env: SeederEnv[AcmeAppContext]) -> SyncPlan:
    await env.engine.store(EntityInput(ROOT_REF, {}))
    return ACME_SYNC_PLAN


AcmeSeeder: Seeder[AcmeAppContext] = Seeder(_seed)
