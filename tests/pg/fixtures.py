"""The session's PostgreSQL server as a pytest fixture (registered in ``tests/conftest.py``).

One server per test session, started the first time a test asks for ``pg_server`` and stopped
at the end. A server that cannot start FAILS the tests that need it — the store must work on
PostgreSQL everywhere the suite runs — unless ``MAXTRIO_PG_OPTIONAL=1`` is set by hand, which
skips them instead (``make test`` and ``.ci/run`` never set it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .server import PgServer, ServerUnavailable, running_server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    try:
        with running_server() as server:
            yield server
            return
    except ServerUnavailable as exc:
        reason = f"PostgreSQL test server unavailable: {exc}"
    if os.environ.get("MAXTRIO_PG_OPTIONAL") == "1":
        pytest.skip(reason)
    pytest.fail(reason, pytrace=False)
