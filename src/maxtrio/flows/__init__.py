"""maxtrio.flows — the MaxQ-compatible workflow engine: flows, store, scheduler, HTTP API.

A drop-in replacement for the MaxQ reference server: same environment variables, HTTP API,
``maxq.db`` schema and script protocol, with the reference's defects fixed (see
``docs/flows.md``). Run it with ``maxtrio-flows``, ``max flows serve`` or
``python -m maxtrio.flows``; embed it with :func:`serve`.
"""

from ._api import create_app
from ._clock import MonotonicMsClock
from ._config import FlowsConfig, ServeOptions
from ._dag import check_stage_graph, downstream, level_steps
from ._discovery import Script, flow_script, read_flow_title, step_script
from ._engine import FlowEngine
from ._environment import flow_environment, step_environment
from ._errors import (
    ErrCircularDependency,
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
from ._models import ClaimedStep, FieldsItem, Run, RunLog, StageTransition, Step, StepSpec
from ._processes import OutputCapture, ProcessOutcome, ProcessTable, run_script
from ._scheduler import SchedulerStatistics, StepScheduler
from ._server import serve
from ._sqlite_store import SqliteFlowStore
from ._store import FlowStore, LogQuery, NewLog, RunListQuery

__all__ = [
    "ClaimedStep",
    "ErrCircularDependency",
    "ErrDuplicateStepIds",
    "ErrInvalidConfig",
    "ErrLaunchCheck",
    "ErrRunCompleted",
    "ErrRunNotFound",
    "ErrRunTerminated",
    "ErrStepIdTaken",
    "ErrStepRunning",
    "ErrUnknownDependency",
    "FieldsItem",
    "FlowEngine",
    "FlowStore",
    "Flows",
    "FlowsConfig",
    "LogQuery",
    "MonotonicMsClock",
    "NewLog",
    "OutputCapture",
    "ProcessOutcome",
    "ProcessTable",
    "Run",
    "RunListQuery",
    "RunLog",
    "SchedulerStatistics",
    "Script",
    "ServeOptions",
    "SqliteFlowStore",
    "StageTransition",
    "Step",
    "StepScheduler",
    "StepSpec",
    "check_stage_graph",
    "create_app",
    "downstream",
    "flow_environment",
    "flow_script",
    "level_steps",
    "read_flow_title",
    "run_script",
    "serve",
    "step_environment",
    "step_script",
]
