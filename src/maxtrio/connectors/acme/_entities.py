"""The acme schema (spec acme-and-connectors §2.2): five entity types, declared leaf first.

Namespace ``acme``; registered in the reference's order AcmeUser, AcmeWorkspace, AcmeRoot,
AcmeProject, AcmeTask; the root is AcmeRoot (id ``root``). Entity ids are the upstream ids.
``AcmeTask.assignee`` is declared but never loaded (as in the reference).
"""

from __future__ import annotations

from maxtrio.core import EntityDef, Field, Schema

ROOT_ID = "root"

AcmeUser = EntityDef.create(
    "AcmeUser",
    {
        "displayName": Field.string(),
        "email": Field.string(),
        "role": Field.string(),
        "active": Field.boolean(),
    },
)

AcmeTask = EntityDef.create(
    "AcmeTask",
    {
        "title": Field.string(),
        "description": Field.string(),
        "status": Field.string(),
        "priority": Field.string(),
        "assignee": Field.ref(AcmeUser),
    },
)

AcmeProject = EntityDef.create(
    "AcmeProject",
    {
        "name": Field.string(),
        "description": Field.string(),
        "status": Field.string(),
        "owner": Field.ref(AcmeUser),
        "tasks": Field.collection(AcmeTask),
    },
)

AcmeWorkspace = EntityDef.create(
    "AcmeWorkspace",
    {
        "name": Field.string(),
        "users": Field.collection(AcmeUser),
        "projects": Field.collection(AcmeProject),
    },
)

AcmeRoot = EntityDef.create("AcmeRoot", {"workspaces": Field.collection(AcmeWorkspace)})

AcmeSchema = Schema.create(
    "acme",
    [AcmeUser, AcmeWorkspace, AcmeRoot, AcmeProject, AcmeTask],
    roots=[AcmeRoot],
)
