"""The git ``ConnectorDef`` (with its change feed), built on import: schema, seeder, resolvers,
operations, onboarding and change feed (docs/connector-git.md, docs/connectors.md).

Imported on the first use of ``connector.definition`` (see ``_connector``), not by a command
that only starts the connector and asks its health.
"""

from __future__ import annotations

from maxtrio.connector import ConnectorDef

from ._entities import GitSchema
from ._feed import GitChangeFeed
from ._onboarding import GitOnboarding
from ._operations import GIT_OPERATIONS
from ._resolvers import GIT_RESOLVERS
from ._seeder import GitSeeder

GitConnectorDef = ConnectorDef.create(
    name="git",
    display_name="Git",
    description="A local git repository: commits, authors, branches and tags",
    version="0.1.0",
    schema=GitSchema,
    seeder=GitSeeder,
    resolvers=GIT_RESOLVERS,
    operations=GIT_OPERATIONS,
    onboarding=GitOnboarding,
    change_feed=GitChangeFeed,
)
