"""The launcher tests share the daemon tests' fixtures (``tests/daemon/conftest.py``)."""

from tests.daemon.conftest import acme, machine, slow_acme

__all__ = ["acme", "machine", "slow_acme"]
