"""The acme ``ConnectorDef`` (with its change feed), built on import: schema, seeder,
resolvers, operations, onboarding, credential and change feed (docs/acme.md,
docs/connectors.md).

Imported on the first use of ``connector.definition`` (see ``_connector``), not by a command
that only starts the connector and asks its health.
"""

from __future__ import annotations

from maxtrio.connector import ConnectorDef

from ._change_feed import AcmeChangeFeed
from ._config import AcmeApiToken
from ._entities import AcmeSchema
from ._onboarding import AcmeOnboarding
from ._operations import ACME_OPERATIONS
from ._resolvers import ACME_RESOLVERS
from ._seeder import AcmeSeeder

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
