"""The remote tests share the daemon tests' seeded Acme server (``tests/daemon/conftest.py``)."""

from tests.daemon.conftest import acme

__all__ = ["acme"]
