"""The files ``ConnectorDef``, built on import: schema, seeder, resolvers and onboarding
(docs/connector-files.md, docs/connectors.md).

Imported on the first use of ``connector.definition`` (see ``_connector``), not by a command
that only starts the connector and asks its health.
"""

from __future__ import annotations

from maxtrio.connector import ConnectorDef

from ._entities import FilesSchema
from ._onboarding import FilesOnboarding
from ._resolvers import FILES_RESOLVERS
from ._seeder import FilesSeeder

FilesConnectorDef = ConnectorDef.create(
    name="files",
    display_name="Files",
    description="A local directory tree: directories and files with hashes and text previews",
    version="0.1.0",
    schema=FilesSchema,
    seeder=FilesSeeder,
    resolvers=FILES_RESOLVERS,
    onboarding=FilesOnboarding,
)
