"""The acme seeder: store ``AcmeRoot("root")``, then the reference's fully sequential 7-step plan.

    1 for_root(root).load_collection("workspaces")
    2 for_all(AcmeWorkspace).load_fields("name")
    3 for_all(AcmeWorkspace).load_collection("users")
    4 for_all(AcmeWorkspace).load_collection("projects")
    5 for_all(AcmeUser).load_fields("displayName", "email", "role", "active")
    6 for_all(AcmeProject).load_fields("name", "description", "status", "owner")
    7 for_all(AcmeProject).load_collection("tasks")

(The tutorial of the reference shows 3–4 and 5–6 as concurrent groups; its code, which the
benchmarks and engine tests depend on, is sequential — so is this.)
"""

from __future__ import annotations

from maxtrio.core import EntityInput, Seeder, SeederEnv, Step, SyncPlan

from ._connection import AcmeAppContext
from ._entities import ROOT_ID, AcmeProject, AcmeRoot, AcmeUser, AcmeWorkspace

ROOT_REF = AcmeRoot.ref(ROOT_ID)

ACME_SYNC_PLAN = SyncPlan.create(
    Step.for_root(ROOT_REF).load_collection("workspaces"),
    Step.for_all(AcmeWorkspace).load_fields("name"),
    Step.for_all(AcmeWorkspace).load_collection("users"),
    Step.for_all(AcmeWorkspace).load_collection("projects"),
    Step.for_all(AcmeUser).load_fields("displayName", "email", "role", "active"),
    Step.for_all(AcmeProject).load_fields("name", "description", "status", "owner"),
    Step.for_all(AcmeProject).load_collection("tasks"),
)


async def _seed(env: SeederEnv[AcmeAppContext]) -> SyncPlan:
    await env.engine.store(EntityInput(ROOT_REF, {}))
    return ACME_SYNC_PLAN


AcmeSeeder: Seeder[AcmeAppContext] = Seeder(_seed)
