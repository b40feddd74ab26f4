"""The ``flows`` boundary and the errors the workflow engine raises internally.

HTTP error bodies are *not* built from these messages blindly: the API maps each error code to
the exact status and body of the MaxQ contract (see ``_api.py``). Launch-check messages, on the
other hand, are the contract's text verbatim because they end up in ``stderr`` columns.
"""

from __future__ import annotations

from maxtrio.core import BadInput, Boundary, NotAvailable, NotFound

Flows = Boundary("flows")

ErrInvalidConfig = Flows.define("invalid_config", facets=[BadInput], message="{reason}")
ErrDataDirInUse = Flows.define(
    "data_dir_in_use",
    facets=[NotAvailable],
    message="flows data dir {dir} is in use by {holder}",
)
ErrDataDirUnusable = Flows.define(
    "data_dir_unusable",
    facets=[BadInput],
    message="cannot lock flows data dir {dir}: {reason}",
)

# Launch checks; ``message`` is the exact text stored in stderr / logged.
ErrLaunchCheck = Flows.define("launch_check", facets=[BadInput], message="{text}")

# Stage graph checks.
ErrDuplicateStepIds = Flows.define(
    "duplicate_step_ids",
    facets=[BadInput],
    message="Duplicate step IDs detected - all step IDs must be unique",
)
ErrUnknownDependency = Flows.define(
    "unknown_dependency",
    facets=[BadInput],
    message='Step "{step}" depends on unknown step ID "{dependency}"',
)
ErrCircularDependency = Flows.define(
    "circular_dependency",
    facets=[BadInput],
    message="Circular dependency detected among steps: {ids}",
)

# Store refusals the API turns into status codes.
ErrRunNotFound = Flows.define("run_not_found", facets=[NotFound], message="Run not found")
ErrRunTerminated = Flows.define(
    "run_terminated",
    facets=[BadInput],
    message="Cannot schedule stages for terminated run ({reason})",
)
ErrRunCompleted = Flows.define("run_completed", facets=[BadInput], message="Run already completed")
ErrStepRunning = Flows.define(
    "step_running", facets=[BadInput], message='Step "{step}" is currently running'
)
ErrStepIdTaken = Flows.define(
    "step_id_taken", facets=[BadInput], message='Step ID "{step}" is already used by another run'
)
