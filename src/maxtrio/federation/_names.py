"""Installation names: what is allowed, and the derived default (``acme-1``, ``acme-2``…).

A name is a directory name under ``.max/installations/`` and a Max URL segment, so it is kept to
letters, digits, ``.``, ``_`` and ``-``, starting with a letter or digit, at most 64 characters.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from ._errors import ErrInvalidInstallationName

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SCOPED = re.compile(r"@[^/]+/connector-(.+)")


def installation_name_problem(name: object) -> str | None:
    """Why ``name`` cannot name an installation, or None."""
    if not isinstance(name, str) or not name:
        return "a name is required"
    if len(name) > 64:
        return "at most 64 characters"
    if not _NAME.fullmatch(name):
        return "use letters, digits, '.', '_' and '-', starting with a letter or digit"
    return None


def check_installation_name(name: str) -> str:
    problem = installation_name_problem(name)
    if problem is not None:
        raise ErrInvalidInstallationName(name=name, reason=problem)
    return name


def name_base(connector: str) -> str:
    """``x`` for ``@scope/connector-x``, else the connector name itself."""
    scoped = _SCOPED.fullmatch(connector)
    return scoped.group(1) if scoped else connector


def derive_installation_name(connector: str, taken: Collection[str]) -> str:
    """``<base>-<n>`` for the smallest n ≥ 1 not in ``taken``."""
    base = name_base(connector)
    n = 1
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
