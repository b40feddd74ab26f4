"""Shared fixtures (real temp directories and real SQLite files) and the Hypothesis profiles.

Profiles, chosen by ``HYPOTHESIS_PROFILE`` (or pytest's ``--hypothesis-profile``):

* ``ci`` — the default, and what ``make test`` and CI run. Deterministic: each property test
  draws the same examples on every run (``derandomize``: they are a function of the test's
  source), nothing is replayed from an earlier run (no example database), there is no deadline
  (a loaded 2-core machine must not turn slowness into failures) and the timing-based
  ``too_slow`` health check is off. A test that passes once passes every time; a new edge case
  is found by ``make fuzz``, then pinned with ``@example``.
* ``fuzz`` — ``make fuzz``: the same properties, random examples, ``FUZZ_EXAMPLES`` (default
  5000) where ``ci`` runs 100 — per-test budgets scale alike (``tests/hypothesis_budget.py``).
  Failures are saved in ``.hypothesis/`` and replayed first on the next fuzz run, and printed
  with a ``@reproduce_failure`` blob.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# The session's PostgreSQL server (``pg_server``) for the tests of the PostgreSQL store.
pytest_plugins = ["tests.pg.fixtures"]


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> bool | None:
    """pytest-timeout's thread method, saying which test ran over before the stacks it prints
    (its own names only the threads, and ``-q`` prints no test names)."""
    if settings.method != "thread" or not settings.timeout:
        return None
    from pytest_timeout import timeout_timer

    def expire() -> None:
        sys.stderr.write(f"\nTimeout: {item.nodeid} ran over {settings.timeout:g} s\n")
        sys.stderr.flush()
        timeout_timer(item, settings)

    timer = threading.Timer(settings.timeout, expire)
    timer.daemon = True

    def cancel() -> None:
        timer.cancel()
        timer.join()

    item.cancel_timeout = cancel  # type: ignore[attr-defined]  # pytest-timeout's cancel hook
    timer.start()
    return True


settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=100,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    derandomize=False,
    deadline=None,
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "5000")),
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# `max` is the launcher: without this, every test that runs it would start a workspace daemon
# (and leave it running until its idle timeout). Daemon tests (tests/daemon, tests/launcher)
# remove it for the processes they start.
os.environ["MAX_NO_DAEMON"] = "1"


@pytest.fixture(autouse=True)
def _isolated_max_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every test gets its own ``MAX_HOME`` so nothing touches the real ``~/.max``."""
    home = tmp_path_factory.mktemp("max-home")
    old = os.environ.get("MAX_HOME")
    os.environ["MAX_HOME"] = str(home)
    yield
    if old is None:
        os.environ.pop("MAX_HOME", None)
    else:
        os.environ["MAX_HOME"] = old


@pytest.fixture(autouse=True)
def _restore_sys_path() -> Iterator[None]:
    """In-process CLI runs may append connector roots to ``sys.path``; keep tests apart."""
    saved = list(sys.path)
    yield
    sys.path[:] = saved


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data.db"
