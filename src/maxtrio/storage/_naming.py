"""SQL names of entity types and fields: every ASCII uppercase ``X`` becomes ``_x``.

``AcmeUser`` → ``_acme_user``, ``displayName`` → ``display_name``, ``avatarURL`` →
``avatar_u_r_l``. Identifiers are always double-quoted in SQL (:func:`quote`).
"""

from __future__ import annotations

import re

_UPPER = re.compile(r"[A-Z]")


def snake_case(name: str) -> str:
    return _UPPER.sub(lambda m: "_" + m.group(0).lower(), name)


def table_name(entity_type: str) -> str:
    return snake_case(entity_type)


def column_name(field_name: str) -> str:
    return snake_case(field_name)


def quote(identifier: str) -> str:
    """A double-quoted SQL identifier (embedded quotes doubled)."""
    return '"' + identifier.replace('"', '""') + '"'
