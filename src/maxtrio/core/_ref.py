"""Refs and RefKeys: a pointer to one entity, and its exact string form.

==============  ===================================================  =========================
scope           RefKey                                               example
==============  ===================================================  =========================
installation    ``ein:<entityType>:<entityId>``                      ``ein:AcmeUser:u1``
workspace       ``ews:<installationId>:<entityType>:<entityId>``     ``ews:inst-1:Team:t1``
global          ``egl:<workspaceId>:<installationId>:<type>:<id>``   ``egl:ws-1:inst-1:User:u1``
==============  ===================================================  =========================

The entity id is everything after the last structural colon, so ids may contain ``:``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from ._core_errors import ErrInvalidRefKey
from ._scope import INSTALLATION, GlobalScope, InstallationScope, Scope, WorkspaceScope

if TYPE_CHECKING:
    from ._entity import EntityDef


@attrs.frozen
class ParsedRefKey:
    """The parts of a RefKey string."""

    entity_type: str
    entity_id: str
    scope: Scope


def format_ref_key(entity_type: str, entity_id: str, scope: Scope = INSTALLATION) -> str:
    """Build the RefKey string for a type, id and scope."""
    if isinstance(scope, InstallationScope):
        return f"ein:{entity_type}:{entity_id}"
    if isinstance(scope, WorkspaceScope):
        return f"ews:{scope.installation_id}:{entity_type}:{entity_id}"
    return f"egl:{scope.workspace_id}:{scope.installation_id}:{entity_type}:{entity_id}"


def try_parse_ref_key(key: str) -> ParsedRefKey | None:
    """Parse a RefKey, or return None when it is not one."""
    prefix, sep, rest = key.partition(":")
    if not sep:
        return None
    if prefix == "ein":
        parts = rest.split(":", 1)
        if len(parts) != 2:
            return None
        return ParsedRefKey(parts[0], parts[1], INSTALLATION)
    if prefix == "ews":
        parts = rest.split(":", 2)
        if len(parts) != 3:
            return None
        return ParsedRefKey(parts[1], parts[2], WorkspaceScope(parts[0]))
    if prefix == "egl":
        parts = rest.split(":", 3)
        if len(parts) != 4:
            return None
        return ParsedRefKey(parts[2], parts[3], GlobalScope(parts[0], parts[1]))
    return None


def parse_ref_key(key: str) -> ParsedRefKey:
    """Parse a RefKey; raise ``core.invalid_ref_key`` when it is not one."""
    parsed = try_parse_ref_key(key)
    if parsed is None:
        raise ErrInvalidRefKey(key=key)
    return parsed


def is_valid_ref_key(key: str) -> bool:
    return try_parse_ref_key(key) is not None


@attrs.frozen(repr=False)
class Ref:
    """A pointer to one entity. Equality (and hashing) compare entity type and id only."""

    entity_def: EntityDef = attrs.field(eq=False)
    id: str
    scope: Scope = attrs.field(default=INSTALLATION, eq=False)

    @property
    def entity_type(self) -> str:
        return self.entity_def.name

    # Equality on (entity_type, id): attrs compares ``id`` only, so add the type here.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ref):
            return NotImplemented
        return self.id == other.id and self.entity_def.name == other.entity_def.name

    def __hash__(self) -> int:
        return hash((self.entity_def.name, self.id))

    def to_key(self) -> str:
        return format_ref_key(self.entity_def.name, self.id, self.scope)

    def __str__(self) -> str:
        return self.to_key()

    def __repr__(self) -> str:
        t, i, s = self.entity_def.name, self.id, self.scope
        if isinstance(s, InstallationScope):
            return f"Ref<{t}>({i})"
        if isinstance(s, WorkspaceScope):
            return f"Ref<{t}>({i}, inst:{s.installation_id})"
        return f"Ref<{t}>({i}, ws:{s.workspace_id}, inst:{s.installation_id})"

    def upgrade_scope(self, scope: Scope) -> Ref:
        return Ref(self.entity_def, self.id, scope)

    @classmethod
    def from_key(cls, entity_def: EntityDef, key: str) -> Ref:
        """Parse ``key`` and build a ref to ``entity_def`` (the key's type is not checked)."""
        parsed = parse_ref_key(key)
        return cls(entity_def, parsed.entity_id, parsed.scope)
