"""The six acme resolvers: every stored field to its entity loader, every collection to its
complete collection loader.

Stored fields come from the record tables of ``_records`` (one column per stored field), so a
partial plan such as ``AcmeUser(*).fields{*}`` or ``AcmeTask(*).fields{dueDate}`` resolves every
field to ``acme:<noun>:basic`` — and no field is declared and never loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maxtrio.core import CollectionLoader, EntityLoader, Resolver

from ._entities import AcmeRoot
from ._loaders import (
    FileBasicLoader,
    ProjectBasicLoader,
    ProjectFilesLoader,
    ProjectTasksLoader,
    RootWorkspacesLoader,
    TaskBasicLoader,
    UserBasicLoader,
    WorkspaceBasicLoader,
    WorkspaceProjectsLoader,
    WorkspaceUsersLoader,
)
from ._records import FILE, PROJECT, TASK, USER, WORKSPACE, RecordSpec


def _resolver(
    spec: RecordSpec,
    basic: EntityLoader[Any],
    collections: Mapping[str, CollectionLoader[Any]] | None = None,
) -> Resolver:
    mapping: dict[str, Any] = dict.fromkeys(spec.fields, basic)
    mapping.update(collections or {})
    return Resolver.for_(spec.entity, mapping)


AcmeRootResolver = Resolver.for_(AcmeRoot, {"workspaces": RootWorkspacesLoader})
AcmeWorkspaceResolver = _resolver(
    WORKSPACE,
    WorkspaceBasicLoader,
    {"users": WorkspaceUsersLoader, "projects": WorkspaceProjectsLoader},
)
AcmeUserResolver = _resolver(USER, UserBasicLoader)
AcmeProjectResolver = _resolver(
    PROJECT, ProjectBasicLoader, {"tasks": ProjectTasksLoader, "files": ProjectFilesLoader}
)
AcmeTaskResolver = _resolver(TASK, TaskBasicLoader)
AcmeFileResolver = _resolver(FILE, FileBasicLoader)

ACME_RESOLVERS = (
    AcmeRootResolver,
    AcmeWorkspaceResolver,
    AcmeUserResolver,
    AcmeProjectResolver,
    AcmeTaskResolver,
    AcmeFileResolver,
)
