"""The four acme resolvers (spec acme-and-connectors §2.7). There is no AcmeTask resolver:
tasks are stored only as children of project collections, as in the reference."""

from __future__ import annotations

from maxtrio.core import Resolver

from ._entities import AcmeProject, AcmeRoot, AcmeUser, AcmeWorkspace
from ._loaders import (
    ProjectBasicLoader,
    ProjectTasksLoader,
    RootWorkspacesLoader,
    UserBasicLoader,
    WorkspaceBasicLoader,
    WorkspaceProjectsLoader,
    WorkspaceUsersLoader,
)

AcmeRootResolver = Resolver.for_(AcmeRoot, {"workspaces": RootWorkspacesLoader})
AcmeWorkspaceResolver = Resolver.for_(
    AcmeWorkspace,
    {
        "name": WorkspaceBasicLoader,
        "users": WorkspaceUsersLoader,
        "projects": WorkspaceProjectsLoader,
    },
)
AcmeUserResolver = Resolver.for_(
    AcmeUser,
    {
        "displayName": UserBasicLoader,
        "email": UserBasicLoader,
        "role": UserBasicLoader,
        "active": UserBasicLoader,
    },
)
AcmeProjectResolver = Resolver.for_(
    AcmeProject,
    {
        "name": ProjectBasicLoader,
        "description": ProjectBasicLoader,
        "status": ProjectBasicLoader,
        "owner": ProjectBasicLoader,
        "tasks": ProjectTasksLoader,
    },
)

ACME_RESOLVERS = (AcmeRootResolver, AcmeWorkspaceResolver, AcmeUserResolver, AcmeProjectResolver)
