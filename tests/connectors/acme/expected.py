"""What the connector should make of Acme records, written out field by field from the wire
JSON — independently of the connector's own record tables."""

from __future__ import annotations

import json
from typing import Any

from maxtrio.acme import Tenant
from maxtrio.connectors.acme import AcmeFile, AcmeProject, AcmeTask, AcmeUser, AcmeWorkspace
from maxtrio.core import EntityInput, Ref


def upstream(tenant: Tenant, collection: str, parent_id: str | None = None) -> list[dict[str, Any]]:
    """What the fake holds, read straight from the tenant (not over HTTP)."""
    return json.loads(tenant.list_wire(collection, parent_id=parent_id).json)  # type: ignore[arg-type, no-any-return]


def _times(record: dict[str, Any]) -> dict[str, Any]:
    return {"createdAt": record["createdAt"], "updatedAt": record["updatedAt"]}


def _user(user_id: str | None) -> Ref | None:
    return None if user_id is None else AcmeUser.ref(user_id)


def expected_workspace(w: dict[str, Any]) -> EntityInput:
    return EntityInput(AcmeWorkspace.ref(w["id"]), {"name": w["name"], **_times(w)})


def expected_user(u: dict[str, Any]) -> EntityInput:
    fields = {
        "displayName": u["displayName"],
        "email": u["email"],
        "role": u["role"],
        "active": u["active"],
        "workspace": AcmeWorkspace.ref(u["workspaceId"]),
        **_times(u),
    }
    return EntityInput(AcmeUser.ref(u["id"]), fields)


def expected_project(p: dict[str, Any]) -> EntityInput:
    fields = {
        "name": p["name"],
        "description": p["description"],
        "status": p["status"],
        "owner": _user(p["ownerId"]),
        "workspace": AcmeWorkspace.ref(p["workspaceId"]),
        **_times(p),
    }
    return EntityInput(AcmeProject.ref(p["id"]), fields)


def expected_task(t: dict[str, Any]) -> EntityInput:
    fields = {
        "title": t["title"],
        "description": t["description"],
        "status": t["status"],
        "priority": t["priority"],
        "assignee": _user(t["assigneeId"]),
        "project": AcmeProject.ref(t["projectId"]),
        "createdBy": AcmeUser.ref(t["createdById"]),
        "lastModifiedBy": AcmeUser.ref(t["lastModifiedById"]),
        "dueDate": t["dueDate"],
        "completedAt": t["completedAt"],
        **_times(t),
        "tags": json.dumps(t["tags"], separators=(",", ":"), ensure_ascii=False),
    }
    return EntityInput(AcmeTask.ref(t["id"]), fields)


def expected_file(f: dict[str, Any]) -> EntityInput:
    fields = {
        "name": f["name"],
        "mimeType": f["mimeType"],
        "sizeBytes": f["sizeBytes"],
        "project": AcmeProject.ref(f["projectId"]),
        "createdBy": AcmeUser.ref(f["createdById"]),
        "lastModifiedBy": AcmeUser.ref(f["lastModifiedById"]),
        **_times(f),
    }
    return EntityInput(AcmeFile.ref(f["id"]), fields)
