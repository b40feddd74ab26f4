"""maxtrio.flows — the MaxQ-compatible workflow engine: flows, store, scheduler, HTTP API.

A drop-in replacement for the MaxQ reference server: same environment variables, HTTP API,
``maxq.db`` schema and script protocol, with the reference's defects fixed (see
``docs/flows.md``). Run it with ``maxtrio-flows``, ``max flows serve`` or
``python -m maxtrio.flows``; embed it with :func:`serve`.

Names are loaded on first use (PEP 562), so ``from maxtrio.flows import FlowsClient`` — what the
``max flows`` client commands need — does not import the server stack (starlette, hypercorn,
apsw) and the CLI stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maxtrio._lazy import lazy_names

if TYPE_CHECKING:
    from ._api import create_app
    from ._auth import ApiKey, RequireApiKey
    from ._client import ErrApi, ErrUnreachable, FlowsClient, default_api_url
    from ._clock import MonotonicMsClock
    from ._config import FlowsConfig, ServeOptions
    from ._dag import check_stage_graph, downstream, level_steps
    from ._discovery import Script, flow_script, read_flow_title, step_script
    from ._engine import FlowEngine
    from ._environment import flow_environment, step_environment
    from ._errors import (
        ErrCircularDependency,
        ErrDatabaseUnavailable,
        ErrDataDirInUse,
        ErrDataDirUnusable,
        ErrDuplicateStepIds,
        ErrInvalidConfig,
        ErrLaunchCheck,
        ErrRunCompleted,
        ErrRunNotFound,
        ErrRunTerminated,
        ErrStepIdTaken,
        ErrStepRunning,
        ErrUnknownDependency,
        Flows,
    )
    from ._lock import DataDirLock
    from ._logging import configure_logging
    from ._models import ClaimedStep, FieldsItem, Run, RunLog, StageTransition, Step, StepSpec
    from ._names import is_valid_name, name_problem
    from ._peers import PeerWatch
    from ._pg_store import PgFlowStore, Requeued, ServerIdentity
    from ._processes import OutputCapture, ProcessOutcome, ProcessTable, run_script
    from ._scheduler import SchedulerStatistics, StepScheduler
    from ._server import serve
    from ._sql_store import SqlFlowStore
    from ._sqlite_store import SqliteFlowStore
    from ._store import FlowStore, LogQuery, NewLog, RunListQuery

_SOURCES = {
    "ApiKey": "._auth",
    "ClaimedStep": "._models",
    "DataDirLock": "._lock",
    "ErrApi": "._client",
    "ErrCircularDependency": "._errors",
    "ErrDataDirInUse": "._errors",
    "ErrDataDirUnusable": "._errors",
    "ErrDatabaseUnavailable": "._errors",
    "ErrDuplicateStepIds": "._errors",
    "ErrInvalidConfig": "._errors",
    "ErrLaunchCheck": "._errors",
    "ErrRunCompleted": "._errors",
    "ErrRunNotFound": "._errors",
    "ErrRunTerminated": "._errors",
    "ErrStepIdTaken": "._errors",
    "ErrStepRunning": "._errors",
    "ErrUnknownDependency": "._errors",
    "ErrUnreachable": "._client",
    "FieldsItem": "._models",
    "FlowEngine": "._engine",
    "FlowStore": "._store",
    "Flows": "._errors",
    "FlowsClient": "._client",
    "FlowsConfig": "._config",
    "LogQuery": "._store",
    "MonotonicMsClock": "._clock",
    "NewLog": "._store",
    "OutputCapture": "._processes",
    "PeerWatch": "._peers",
    "PgFlowStore": "._pg_store",
    "Requeued": "._pg_store",
    "ServerIdentity": "._pg_store",
    "SqlFlowStore": "._sql_store",
    "ProcessOutcome": "._processes",
    "ProcessTable": "._processes",
    "RequireApiKey": "._auth",
    "Run": "._models",
    "RunListQuery": "._store",
    "RunLog": "._models",
    "SchedulerStatistics": "._scheduler",
    "Script": "._discovery",
    "ServeOptions": "._config",
    "SqliteFlowStore": "._sqlite_store",
    "StageTransition": "._models",
    "Step": "._models",
    "StepScheduler": "._scheduler",
    "StepSpec": "._models",
    "check_stage_graph": "._dag",
    "configure_logging": "._logging",
    "create_app": "._api",
    "default_api_url": "._client",
    "downstream": "._dag",
    "flow_environment": "._environment",
    "flow_script": "._discovery",
    "is_valid_name": "._names",
    "level_steps": "._dag",
    "name_problem": "._names",
    "read_flow_title": "._discovery",
    "run_script": "._processes",
    "serve": "._server",
    "step_environment": "._environment",
    "step_script": "._discovery",
}


__getattr__, __dir__ = lazy_names(__name__, _SOURCES, globals())


__all__ = [
    "ApiKey",
    "ClaimedStep",
    "DataDirLock",
    "ErrApi",
    "ErrCircularDependency",
    "ErrDataDirInUse",
    "ErrDataDirUnusable",
    "ErrDatabaseUnavailable",
    "ErrDuplicateStepIds",
    "ErrInvalidConfig",
    "ErrLaunchCheck",
    "ErrRunCompleted",
    "ErrRunNotFound",
    "ErrRunTerminated",
    "ErrStepIdTaken",
    "ErrStepRunning",
    "ErrUnknownDependency",
    "ErrUnreachable",
    "FieldsItem",
    "FlowEngine",
    "FlowStore",
    "Flows",
    "FlowsClient",
    "FlowsConfig",
    "LogQuery",
    "MonotonicMsClock",
    "NewLog",
    "OutputCapture",
    "PeerWatch",
    "PgFlowStore",
    "ProcessOutcome",
    "ProcessTable",
    "Requeued",
    "RequireApiKey",
    "Run",
    "RunListQuery",
    "RunLog",
    "SchedulerStatistics",
    "Script",
    "ServeOptions",
    "ServerIdentity",
    "SqlFlowStore",
    "SqliteFlowStore",
    "StageTransition",
    "Step",
    "StepScheduler",
    "StepSpec",
    "check_stage_graph",
    "configure_logging",
    "create_app",
    "default_api_url",
    "downstream",
    "flow_environment",
    "flow_script",
    "is_valid_name",
    "level_steps",
    "name_problem",
    "read_flow_title",
    "run_script",
    "serve",
    "step_environment",
    "step_script",
]
