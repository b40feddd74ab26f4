"""maxtrio.connectors — the connectors that ship with maxtrio.

Each subpackage exposes one ``connector`` object (a ``maxtrio.connector.ConnectorModule``) and is
registered in the ``maxtrio.connectors`` entry-point group of maxtrio's own project metadata, so
``ConnectorRegistry.discover()`` finds it without scanning or importing anything:

* ``acme`` — the Acme project-management fake (``maxtrio.acme``), over its HTTP API;
* ``claude-code`` — Claude Code's conversation logs (docs/connector-claude-code.md);
* ``files`` — a local directory tree (docs/connector-files.md);
* ``git`` — a local git repository, through the git CLI (docs/connector-git.md).
"""

__all__: list[str] = []
