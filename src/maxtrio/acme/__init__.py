"""maxtrio.acme — the Acme fake SaaS: tenants, seeding, HTTP server and clients.

A fake project-management SaaS (workspaces, users, projects, tasks, files) that connectors and
benchmarks sync from, wire-compatible with the reference's ``@max/acme``.

Typical use in a test::

    tenant = Tenant.in_memory()
    tenant.seed(SeedOptions(tasks_per_project=1000))
    async with trio.open_nursery() as nursery:
        server = await nursery.start(serve_acme, tenant)      # bound, port 0
        async with AcmeHttpClient(server.url, tenant.api_key()) as client:
            tasks = await client.list_tasks(project_id)
        nursery.cancel_scope.cancel()

From the command line: ``max acme create|seed|start|list`` (see ``docs/acme.md``).
"""

from ._client import AcmeClient, EntityMethods, ListPage
from ._errors import (
    Acme,
    Conflict,
    ErrEntityNotFound,
    ErrInvalidInput,
    ErrInvalidReference,
    ErrInvalidTenantName,
    ErrNoProjectsToSeed,
    ErrNothingToGenerate,
    ErrRequestFailed,
    ErrTenantExists,
    ErrTenantNotFound,
    ErrWorkspaceHasNoUsers,
    http_status_of,
)
from ._generation import run_generation
from ._http_client import AcmeHttpClient
from ._inprocess_client import (
    AcmeInProcessClient,
    ProjectFixture,
    UserFixture,
    WorkspaceFixture,
    default_email,
)
from ._model import (
    UNSET,
    ChangeAction,
    ChangeEvent,
    ChangesPage,
    Collection,
    EntityType,
    FaultInjection,
    File,
    FileInput,
    FilePatch,
    GenerationOptions,
    HistoryPage,
    Project,
    ProjectInput,
    ProjectPatch,
    ProjectStatus,
    SeedOptions,
    SeedResult,
    ServerStatistics,
    Task,
    TaskHistoryEntry,
    TaskInput,
    TaskPatch,
    TaskPriority,
    TaskStatus,
    TenantStats,
    Unset,
    User,
    UserInput,
    UserPatch,
    UserRole,
    WebhookDelivery,
    WebhookPayload,
    WebhookRegistration,
    Workspace,
    WorkspaceInput,
    WorkspacePatch,
)
from ._seed import SeedGenerators, seed_tenant
from ._server import AcmeServer, build_app, open_acme_server, serve_acme
from ._tenant import Clock, IdFactory, Tenant, WireList, iso_timestamp, random_id
from ._tenant_files import (
    DEFAULT_DATA_DIR,
    check_tenant_name,
    create_tenant,
    list_tenants,
    open_or_create_tenant,
    open_tenant,
    tenant_db_path,
)
from ._webhooks import WebhookDispatcher, WebhookStatistics
from ._wire import from_json, to_json

__all__ = [
    "DEFAULT_DATA_DIR",
    "UNSET",
    "Acme",
    "AcmeClient",
    "AcmeHttpClient",
    "AcmeInProcessClient",
    "AcmeServer",
    "ChangeAction",
    "ChangeEvent",
    "ChangesPage",
    "Clock",
    "Collection",
    "Conflict",
    "EntityMethods",
    "EntityType",
    "ErrEntityNotFound",
    "ErrInvalidInput",
    "ErrInvalidReference",
    "ErrInvalidTenantName",
    "ErrNoProjectsToSeed",
    "ErrNothingToGenerate",
    "ErrRequestFailed",
    "ErrTenantExists",
    "ErrTenantNotFound",
    "ErrWorkspaceHasNoUsers",
    "FaultInjection",
    "File",
    "FileInput",
    "FilePatch",
    "GenerationOptions",
    "HistoryPage",
    "IdFactory",
    "ListPage",
    "Project",
    "ProjectFixture",
    "ProjectInput",
    "ProjectPatch",
    "ProjectStatus",
    "SeedGenerators",
    "SeedOptions",
    "SeedResult",
    "ServerStatistics",
    "Task",
    "TaskHistoryEntry",
    "TaskInput",
    "TaskPatch",
    "TaskPriority",
    "TaskStatus",
    "Tenant",
    "TenantStats",
    "Unset",
    "User",
    "UserFixture",
    "UserInput",
    "UserPatch",
    "UserRole",
    "WebhookDelivery",
    "WebhookDispatcher",
    "WebhookPayload",
    "WebhookRegistration",
    "WebhookStatistics",
    "WireList",
    "Workspace",
    "WorkspaceFixture",
    "WorkspaceInput",
    "WorkspacePatch",
    "build_app",
    "check_tenant_name",
    "create_tenant",
    "default_email",
    "from_json",
    "http_status_of",
    "iso_timestamp",
    "list_tenants",
    "open_acme_server",
    "open_or_create_tenant",
    "open_tenant",
    "random_id",
    "run_generation",
    "seed_tenant",
    "serve_acme",
    "tenant_db_path",
    "to_json",
]
