"""The remote tests share the daemon tests' seeded Acme servers (``tests/daemon/conftest.py``):
``acme`` answers at once, ``slow_acme`` takes 150 ms a request (a sync lasts seconds)."""

from tests.daemon.conftest import acme, slow_acme

__all__ = ["acme", "slow_acme"]
