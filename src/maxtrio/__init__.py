"""maxtrio — Max on trio.

A federated data layer (typed connectors sync SaaS and local data into portable SQLite and a
CLI queries it locally) and a MaxQ-compatible workflow engine. Each subpackage is one layer of
``docs/architecture.md``; the public API of each lives in its ``__init__``.
"""

__version__ = "0.1.0"
