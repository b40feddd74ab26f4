"""Shared fixtures: real temp directories and real SQLite files."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

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
