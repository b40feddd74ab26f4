"""``ConnectorDef``: the static, pure-data description of a connector.

Identity (``name``, ``display_name``, ``description``, ``icon``, ``version``, ``scopes``), the
schema, the onboarding flow, the seeder, the resolvers, the operations and the credentials it
declares, and its change feed when the source has one. Built with :meth:`ConnectorDef.create`,
which checks what can be checked without running anything: a slug-like name, resolvers on
entities of the schema (one per entity), unique operation names prefixed with the connector
name, and unique credential names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import attrs

from maxtrio.core import ChangeFeed, EntityDef, Operation, Resolver, Schema, Seeder

from ._credentials import AnyCredential, credential_names
from ._errors import ErrInvalidConnectorDef
from ._onboarding import OnboardingFlow

_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")


@attrs.frozen(eq=False, repr=False)
class ConnectorDef:
    name: str
    display_name: str
    description: str
    version: str
    schema: Schema
    seeder: Seeder[Any]
    resolvers: tuple[Resolver, ...]
    operations: tuple[Operation[Any, Any, Any], ...] = ()
    onboarding: OnboardingFlow = attrs.field(factory=OnboardingFlow.empty)
    credentials: tuple[AnyCredential, ...] = ()
    icon: str = ""
    scopes: tuple[str, ...] = ()
    change_feed: ChangeFeed[Any] | None = None

    @classmethod
    def create(
        cls,
        *,
        name: str,
        display_name: str,
        description: str,
        version: str,
        schema: Schema,
        seeder: Seeder[Any],
        resolvers: Iterable[Resolver],
        operations: Iterable[Operation[Any, Any, Any]] = (),
        onboarding: OnboardingFlow | None = None,
        credentials: Iterable[AnyCredential] = (),
        icon: str = "",
        scopes: Iterable[str] = (),
        change_feed: ChangeFeed[Any] | None = None,
    ) -> ConnectorDef:
        definition = cls(
            name=name,
            display_name=display_name,
            description=description,
            version=version,
            schema=schema,
            seeder=seeder,
            resolvers=tuple(resolvers),
            operations=tuple(operations),
            onboarding=onboarding if onboarding is not None else OnboardingFlow.empty(),
            credentials=tuple(credentials),
            icon=icon,
            scopes=tuple(scopes),
            change_feed=change_feed,
        )
        definition._check()
        return definition

    def _check(self) -> None:
        def bad(reason: str) -> None:
            raise ErrInvalidConnectorDef(connector=self.name, reason=reason)

        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            bad("the name must be lowercase letters, digits and '-'")
        if not self.version:
            bad("a version is required")
        seen_entities: set[str] = set()
        for resolver in self.resolvers:
            entity = resolver.entity
            if not any(entity is e for e in self.schema.entities):
                bad(f"the resolver for {entity.name} is for an entity outside the schema")
            if entity.name in seen_entities:
                bad(f"{entity.name} has two resolvers")
            seen_entities.add(entity.name)
        op_names = [op.name for op in self.operations]
        for op_name in op_names:
            if op_names.count(op_name) > 1:
                bad(f"operation {op_name!r} is declared twice")
            if not op_name.startswith(f"{self.name}:"):
                bad(f"operation {op_name!r} must be named '{self.name}:<entity>:<verb>'")
        names = credential_names(self.credentials)
        if len(set(names)) != len(names):
            bad("credential names must be unique")

    def __repr__(self) -> str:
        return f"ConnectorDef({self.name} v{self.version})"

    def resolver_for(self, entity: EntityDef | str) -> Resolver | None:
        """The resolver of an entity type (by def or name), or None."""
        wanted = entity if isinstance(entity, str) else entity.name
        for resolver in self.resolvers:
            if resolver.entity.name == wanted:
                return resolver
        return None
