"""The acme schema: six entity types holding every field the Acme API returns.

Namespace ``acme``; registered in the reference's order AcmeUser, AcmeWorkspace, AcmeRoot,
AcmeProject, AcmeTask, then AcmeFile; the root is AcmeRoot (id ``root``). Entity ids are the
upstream ids. Each type starts with the reference's fields in the reference's order (an existing
``data.db`` gains the new columns by migration); the wire's ``…Id`` keys become refs without
the suffix (``assigneeId`` → ``assignee``), timestamps are dates, a task's ``tags`` is the JSON
array as text (``["bug","ux"]``, ``[]`` when empty).

Collections name the child's ref back to the parent (``via``), so the engine answers them from
the child rows and scopes a complete listing's deletions to one parent; ``AcmeRoot.workspaces``
has none (a workspace does not point at the root): its complete listing covers the whole table.
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
        "workspace": Field.ref(lambda: AcmeWorkspace),
        "createdAt": Field.date(),
        "updatedAt": Field.date(),
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
        "project": Field.ref(lambda: AcmeProject),
        "createdBy": Field.ref(AcmeUser),
        "lastModifiedBy": Field.ref(AcmeUser),
        "dueDate": Field.date(),
        "completedAt": Field.date(),
        "createdAt": Field.date(),
        "updatedAt": Field.date(),
        "tags": Field.string(),
    },
)

AcmeFile = EntityDef.create(
    "AcmeFile",
    {
        "name": Field.string(),
        "mimeType": Field.string(),
        "sizeBytes": Field.number(),
        "project": Field.ref(lambda: AcmeProject),
        "createdBy": Field.ref(AcmeUser),
        "lastModifiedBy": Field.ref(AcmeUser),
        "createdAt": Field.date(),
        "updatedAt": Field.date(),
    },
)

AcmeProject: EntityDef = EntityDef.create(
    "AcmeProject",
    {
        "name": Field.string(),
        "description": Field.string(),
        "status": Field.string(),
        "owner": Field.ref(AcmeUser),
        "tasks": Field.collection(AcmeTask, via="project"),
        "workspace": Field.ref(lambda: AcmeWorkspace),
        "createdAt": Field.date(),
        "updatedAt": Field.date(),
        "files": Field.collection(AcmeFile, via="project"),
    },
)

AcmeWorkspace: EntityDef = EntityDef.create(
    "AcmeWorkspace",
    {
        "name": Field.string(),
        "users": Field.collection(AcmeUser, via="workspace"),
        "projects": Field.collection(AcmeProject, via="workspace"),
        "createdAt": Field.date(),
        "updatedAt": Field.date(),
    },
)

AcmeRoot = EntityDef.create("AcmeRoot", {"workspaces": Field.collection(AcmeWorkspace)})

AcmeSchema = Schema.create(
    "acme",
    [AcmeUser, AcmeWorkspace, AcmeRoot, AcmeProject, AcmeTask, AcmeFile],
    roots=[AcmeRoot],
)
