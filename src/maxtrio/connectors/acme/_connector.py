"""The acme ``ConnectorDef`` (with its change feed) and ``initialise`` (docs/acme.md,
docs/connectors.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from maxtrio.connector import ConnectorDef, ConnectorModule, Installation, Platform

from ._change_feed import AcmeChangeFeed
from ._client import DEFAULT_PAGE_SIZE
from ._config import AcmeApiToken, AcmeConfig
from ._connection import AcmeAppContext, AcmeConnection
from ._entities import AcmeSchema
from ._onboarding import AcmeOnboarding
from ._operations import ACME_OPERATIONS
from ._resolvers import ACME_RESOLVERS
from ._seeder import AcmeSeeder

if TYPE_CHECKING:
    import httpx

AcmeConnectorDef = ConnectorDef.create(
    name="acme",
    display_name="Acme",
    description="Project management connector powered by Acme",
    version="0.1.0",
    schema=AcmeSchema,
    seeder=AcmeSeeder,
    resolvers=ACME_RESOLVERS,
    operations=ACME_OPERATIONS,
    onboarding=AcmeOnboarding,
    credentials=[AcmeApiToken],
    change_feed=AcmeChangeFeed,
)


def create_installation(
    config: Mapping[str, Any],
    platform: Platform,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Installation[AcmeAppContext]:
    """``initialise`` with the transport seam and page size exposed (tests, benchmarks)."""
    acme_config = AcmeConfig.from_mapping(config)
    connection = AcmeConnection(
        acme_config,
        platform.credentials.get(AcmeApiToken),
        transport=transport,
        page_size=page_size,
    )
    context = AcmeAppContext(api=connection, workspace_id=acme_config.workspace_id)
    return Installation.create(
        context, start=connection.start, stop=connection.stop, health=connection.health
    )


def initialise(config: Mapping[str, Any], platform: Platform) -> Installation[AcmeAppContext]:
    """Pure assembly, no I/O: check the config, take the token handle, build the context."""
    return create_installation(config, platform)


connector = ConnectorModule(AcmeConnectorDef, initialise)
