"""The acme ``ConnectorModule``: ``initialise`` (config, token handle, connection), the
schema, and the definition, deferred to ``_definition`` (docs/acme.md, docs/connectors.md).

``initialise`` needs only the config, the credential and the HTTP client, so starting the
connector and asking its health (``max ls``, ``max status``) or reading its store (``max
search``) does not build the definition — the seeder, loaders, resolvers, operations,
onboarding and change feed — nor import their modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from maxtrio.connector import ConnectorModule, Installation, Platform

from ._client import DEFAULT_PAGE_SIZE
from ._config import AcmeApiToken, AcmeConfig
from ._connection import AcmeAppContext, AcmeConnection
from ._entities import AcmeSchema

if TYPE_CHECKING:
    import httpx


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


connector = ConnectorModule.deferred(
    "acme",
    "maxtrio.connectors.acme._definition:AcmeConnectorDef",
    initialise,
    schema=AcmeSchema,
    credentials=[AcmeApiToken],
)
