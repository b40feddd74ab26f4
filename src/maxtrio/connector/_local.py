"""Helpers for connectors of local data (a git repository, a directory tree, log files).

* :func:`local_path_onboarding` — the onboarding of a connector configured by one directory:
  ask for the path (or take ``--config KEY=…``), resolve it against the caller's directory
  (``~`` expanded), check it, store the absolute path;
* :func:`directory_problem` — why a path is not a listable directory (or None);
* :func:`config_directory` — read that path back from the config at ``initialise`` (an
  absolute path string, or one line naming the problem);
* :func:`date_from_epoch` — seconds since the epoch as the engine's date text
  (``2026-03-08T14:03:27.512Z``, already in the stored form, so it is written as it is).

The onboarding modules are imported by :func:`local_path_onboarding` alone: a connector's
``initialise`` and health check (``config_directory``, ``directory_problem``) run in ``max ls``
and ``max status``, which never onboard.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._onboarding import Config, InputField, OnboardingContext, OnboardingFlow
    from ._onboarding_runner import Prompter


def date_from_epoch(seconds: float) -> str:
    """``1700000000.25`` → ``2023-11-14T22:13:20.250Z`` (UTC, milliseconds)."""
    whole = int(seconds // 1)
    millis = round((seconds - whole) * 1000)
    if millis >= 1000:
        whole, millis = whole + 1, millis - 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


def resolve_local_path(text: str, cwd: Path | None = None) -> Path:
    """``text`` with ``~`` expanded, made absolute against ``cwd`` (default: this process's)."""
    path = Path(os.path.expanduser(text.strip()))
    if not path.is_absolute():
        path = (cwd if cwd is not None else Path.cwd()) / path
    return Path(os.path.normpath(path))


def directory_problem(path: Path) -> str | None:
    """Why ``path`` is not a directory this process can list, or None (blocking)."""
    if not path.exists():
        return "no such directory"
    if not path.is_dir():
        return "not a directory"
    if not os.access(path, os.R_OK | os.X_OK):
        return "permission denied"
    return None


def config_directory(config: object, key: str) -> Path | str:
    """The absolute directory ``config[key]`` names, or a one-line reason it does not.

    Only the form is checked (``initialise`` does no I/O); whether it exists is the
    onboarding's and the first sync's business."""
    if not isinstance(config, Mapping):
        return f"expected a mapping with {key}"
    value = config.get(key)
    if not isinstance(value, str) or not value.strip():
        return f"{key} must be a directory path"
    if "\x00" in value:
        return f"{key} must not contain NUL"
    path = Path(value)
    if not path.is_absolute():
        return f"{key} must be an absolute path (max connect resolves relative ones), got {value!r}"
    return path


def local_path_onboarding(
    field: str,
    *,
    label: str,
    description: str,
    validate: Callable[[Path], Awaitable[None]],
    default: str | None = None,
    options: Mapping[str, InputField] | None = None,
) -> OnboardingFlow:
    """Ask for ``field`` (a path), store it absolute (relative to the caller's directory, ``~``
    expanded), then ``validate(path)``: raise an error with a one-line message when the path
    cannot be used (missing, not a directory, not a repository…); nothing is stored then.
    ``options`` are further (optional) fields asked in the same step."""
    from ._onboarding import CustomStep, InputField, InputStep, OnboardingFlow, ValidationStep

    async def resolve(config: Config, ctx: OnboardingContext, prompter: Prompter) -> Config:
        return {field: str(resolve_local_path(str(config[field]), ctx.cwd))}

    async def check(config: Config, ctx: OnboardingContext) -> None:
        await validate(Path(str(config[field])))

    return OnboardingFlow.create(
        InputStep(
            label=label,
            description=description,
            fields={
                field: InputField(
                    "Path", "string", required=default is None, default=default, check=_non_empty
                ),
                **(options or {}),
            },
        ),
        CustomStep(label="Resolve the path", execute=resolve),
        ValidationStep(label=f"Check {field}", validate=check),
    )


def _non_empty(value: object) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must be a path"
