"""Flows on disk: where scripts live and the safety checks made before launching one.

A flow is ``<root>/<flow>/flow.sh``; a step script is ``<root>/<flow>/steps/<step>/step.sh``.
Discovery is lazy — every launch looks at the disk again — so editing a flow takes effect at
once. The checks run in the contract's order and raise ``flows.launch_check`` carrying the
contract's exact message:

1. the names follow the name rule of ``_names.py`` (so no ``..``, slashes, spaces or control
   characters) — the API refuses such names already, but rows written by other processes
   reach this check too;
2. the absolute script path lies strictly inside the absolute flows root — and, a maxtrio
   addition, so does its symlink-resolved path (a symlink cannot lead out of the root);
3. the script exists and is executable.
"""

from __future__ import annotations

import os

import attrs
import yaml

from ._errors import ErrLaunchCheck
from ._names import name_problem


@attrs.frozen
class Script:
    """A script that passed the launch checks: run ``path`` with ``cwd`` as working directory."""

    path: str
    cwd: str


def flow_script(root: str | os.PathLike[str], flow_name: str) -> Script:
    """The checked ``flow.sh`` of ``flow_name``; raise ``flows.launch_check`` otherwise."""
    _check_name(flow_name, "flow")
    return _checked_script(root, (flow_name, "flow.sh"))


def step_script(root: str | os.PathLike[str], flow_name: str, step_name: str) -> Script:
    """The checked ``steps/<step_name>/step.sh`` of ``flow_name``."""
    _check_name(flow_name, "flow")
    _check_name(step_name, "step")
    return _checked_script(root, (flow_name, "steps", step_name, "step.sh"))


def read_flow_title(root: str | os.PathLike[str], flow_name: str) -> str | None:
    """The ``title`` of ``flow.yaml`` if the flow is launchable and the file says one, else None.

    Missing, unreadable or unparsable files are ignored, as in the reference.
    """
    try:
        script = flow_script(root, flow_name)
    except Exception:
        return None
    try:
        with open(os.path.join(script.cwd, "flow.yaml"), encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(document, dict):
        return None
    title = document.get("title")
    if title is None or isinstance(title, dict | list):
        return None
    return str(title)


def _check_name(name: object, kind: str) -> None:
    problem = name_problem(name, kind)
    if problem is not None:
        raise ErrLaunchCheck(text=problem)


def _checked_script(root: str | os.PathLike[str], parts: tuple[str, ...]) -> Script:
    absolute_root = os.path.abspath(root)
    path = os.path.abspath(os.path.join(absolute_root, *parts))
    if not path.startswith(absolute_root + os.sep):
        raise ErrLaunchCheck(text="Path traversal attempt detected")
    real_root = os.path.realpath(absolute_root)
    if os.path.lexists(path) and not os.path.realpath(path).startswith(real_root + os.sep):
        raise ErrLaunchCheck(text="Path traversal attempt detected")
    if not os.path.isfile(path):
        raise ErrLaunchCheck(text=f"Script does not exist: {path}")
    if not os.access(path, os.X_OK):
        raise ErrLaunchCheck(
            text=f"Script exists but is not executable: {path}. Run: chmod +x {path}"
        )
    return Script(path=path, cwd=os.path.dirname(path))
