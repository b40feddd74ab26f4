"""maxtrio.connectors.acme — the acme connector: the Acme fake's API into five entity types.

Names are the reference's (spec acme-and-connectors §2): connector ``acme``, namespace ``acme``,
entities AcmeUser/AcmeTask/AcmeProject/AcmeWorkspace/AcmeRoot, config ``{baseUrl,
workspaceId}``, credential ``api_token``, the seven operations under ``Limit("acme:api", 50)``,
the seven loaders, four resolvers and the sequential 7-step plan. ``connector`` is the
``ConnectorModule`` registered as entry point ``acme`` of group ``maxtrio.connectors``.

The connector talks to Acme over HTTP only (its own httpx client, :class:`AcmeApiClient`);
``create_installation(..., transport=...)`` swaps the transport in tests.
"""

from ._client import DEFAULT_PAGE_SIZE, AcmeApiClient, AcmeResponse, parse_retry_after
from ._config import AcmeApiToken, AcmeConfig
from ._connection import AcmeAppContext, AcmeConnection
from ._connector import AcmeConnectorDef, connector, create_installation, initialise
from ._entities import (
    ROOT_ID,
    AcmeProject,
    AcmeRoot,
    AcmeSchema,
    AcmeTask,
    AcmeUser,
    AcmeWorkspace,
)
from ._errors import (
    AcmeConnectorBoundary,
    ErrBadResponse,
    ErrClientNotStarted,
    ErrConnectionFailed,
    ErrForbidden,
    ErrInvalidConfig,
    ErrNotFound,
    ErrRateLimited,
    ErrRequestFailed,
    ErrTimeout,
    ErrUnauthorized,
    ErrUpstreamError,
)
from ._loaders import (
    ACME_LOADERS,
    ProjectBasicLoader,
    ProjectTasksLoader,
    RootWorkspacesLoader,
    UserBasicLoader,
    WorkspaceBasicLoader,
    WorkspaceProjectsLoader,
    WorkspaceUsersLoader,
)
from ._onboarding import AcmeOnboarding, acme_onboarding
from ._operations import (
    ACME_API_LIMIT,
    ACME_OPERATIONS,
    ById,
    GetProject,
    GetUser,
    GetWorkspace,
    ListPage,
    ListProjects,
    ListTasks,
    ListUsers,
    ListWorkspaces,
)
from ._resolvers import (
    ACME_RESOLVERS,
    AcmeProjectResolver,
    AcmeRootResolver,
    AcmeUserResolver,
    AcmeWorkspaceResolver,
)
from ._seeder import ACME_SYNC_PLAN, ROOT_REF, AcmeSeeder

__all__ = [
    "ACME_API_LIMIT",
    "ACME_LOADERS",
    "ACME_OPERATIONS",
    "ACME_RESOLVERS",
    "ACME_SYNC_PLAN",
    "DEFAULT_PAGE_SIZE",
    "ROOT_ID",
    "ROOT_REF",
    "AcmeApiClient",
    "AcmeApiToken",
    "AcmeAppContext",
    "AcmeConfig",
    "AcmeConnection",
    "AcmeConnectorBoundary",
    "AcmeConnectorDef",
    "AcmeOnboarding",
    "AcmeProject",
    "AcmeProjectResolver",
    "AcmeResponse",
    "AcmeRoot",
    "AcmeRootResolver",
    "AcmeSchema",
    "AcmeSeeder",
    "AcmeTask",
    "AcmeUser",
    "AcmeUserResolver",
    "AcmeWorkspace",
    "AcmeWorkspaceResolver",
    "ById",
    "ErrBadResponse",
    "ErrClientNotStarted",
    "ErrConnectionFailed",
    "ErrForbidden",
    "ErrInvalidConfig",
    "ErrNotFound",
    "ErrRateLimited",
    "ErrRequestFailed",
    "ErrTimeout",
    "ErrUnauthorized",
    "ErrUpstreamError",
    "GetProject",
    "GetUser",
    "GetWorkspace",
    "ListPage",
    "ListProjects",
    "ListTasks",
    "ListUsers",
    "ListWorkspaces",
    "ProjectBasicLoader",
    "ProjectTasksLoader",
    "RootWorkspacesLoader",
    "UserBasicLoader",
    "WorkspaceBasicLoader",
    "WorkspaceProjectsLoader",
    "WorkspaceUsersLoader",
    "acme_onboarding",
    "connector",
    "create_installation",
    "initialise",
    "parse_retry_after",
]
