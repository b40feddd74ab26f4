"""The environment given to flow and step scripts.

Scripts get the server's own environment, minus any inherited stage variables and minus
``MAXQ_API_KEY`` (scripts authenticate with their run's ``MAXQ_API_TOKEN`` instead, see
``_auth.py``), plus the ``MAXQ_*`` variables of their call. A step's user ``env`` is applied
last (a user key may override a ``MAXQ_*`` variable, as in the reference). Every variable
*name* we add is checked; values are strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ._errors import ErrLaunchCheck
from ._names import quoted

ENV_NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Never inherited from the server's environment: they describe one particular call.
CALL_SPECIFIC_VARIABLES = (
    "MAXQ_COMPLETED_STAGE",
    "MAXQ_FAILED_STAGE",
    "MAXQ_STAGE",
    "MAXQ_STEP_ID",
    "MAXQ_STEP_NAME",
    "MAXQ_API_TOKEN",
    "MAXQ_API_KEY",  # the server's secret: scripts get a token scoped to their run instead
)


def flow_environment(
    base: Mapping[str, str],
    *,
    run_id: str,
    flow_name: str,
    api_url: str,
    api_token: str | None = None,
    completed_stage: str | None = None,
    failed_stage: str | None = None,
) -> dict[str, str]:
    """Environment of one ``flow.sh`` call; at most one of the stage arguments is given."""
    added = {"MAXQ_RUN_ID": run_id, "MAXQ_FLOW_NAME": flow_name, "MAXQ_API": api_url}
    if api_token is not None:
        added["MAXQ_API_TOKEN"] = api_token
    if completed_stage is not None:
        added["MAXQ_COMPLETED_STAGE"] = completed_stage
    if failed_stage is not None:
        added["MAXQ_FAILED_STAGE"] = failed_stage
    return _compose(base, added)


def step_environment(
    base: Mapping[str, str],
    *,
    run_id: str,
    flow_name: str,
    stage_name: str,
    step_id: str,
    step_name: str,
    api_url: str,
    api_token: str | None = None,
    user_env: Mapping[str, object] | None = None,
) -> dict[str, str]:
    """Environment of one ``step.sh`` attempt."""
    added: dict[str, str] = {
        "MAXQ_RUN_ID": run_id,
        "MAXQ_FLOW_NAME": flow_name,
        "MAXQ_STAGE": stage_name,
        "MAXQ_STEP_ID": step_id,
        "MAXQ_STEP_NAME": step_name,
        "MAXQ_API": api_url,
    }
    if api_token is not None:
        added["MAXQ_API_TOKEN"] = api_token
    for key, value in (user_env or {}).items():
        added[key] = value if isinstance(value, str) else _stringify(value)
    return _compose(base, added)


def check_variable_name(name: str) -> None:
    """Raise ``flows.launch_check`` unless ``name`` is a portable environment variable name."""
    if ENV_NAME_PATTERN.fullmatch(name) is None:
        raise ErrLaunchCheck(
            text=(
                f'Invalid environment variable name: "{quoted(name)}". Only alphanumeric and '
                "underscore allowed, must start with letter or underscore."
            )
        )


def _compose(base: Mapping[str, str], added: Mapping[str, str]) -> dict[str, str]:
    for name in added:
        check_variable_name(name)
    environment = {k: v for k, v in base.items() if k not in CALL_SPECIFIC_VARIABLES}
    environment.update(added)
    return environment


def _stringify(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
