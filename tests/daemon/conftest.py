"""Fixtures for daemon and launcher tests: a temporary machine whose daemons are always stopped,
and one seeded Acme server (a real ``max acme start`` process) for syncs and connects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from maxtrio.acme import SeedOptions
from tests.cli.conftest import seeded_tenant, start_acme_server, stop_process

from .harness import Machine

#: Enough pages that a sync against a slow server takes a few seconds (Ctrl-C tests).
USERS, PROJECTS, TASKS_PER_PROJECT = 6, 4, 300


@attrs.frozen
class Acme:
    url: str
    api_key: str


@pytest.fixture
def machine(tmp_path: Path) -> Iterator[Machine]:
    m = Machine(tmp_path)
    yield m
    killed = m.stop_all()
    assert not killed, f"daemons did not stop on SIGTERM and were killed: {killed}"


def _serve(tmp_path_factory: pytest.TempPathFactory, name: str, *extra: str) -> Iterator[Acme]:
    data = tmp_path_factory.mktemp(f"acme-{name}")
    seeded_tenant(
        data,
        name,
        SeedOptions(
            users_per_workspace=USERS,
            projects_per_workspace=PROJECTS,
            tasks_per_project=TASKS_PER_PROJECT,
            files_per_project=1,
        ),
    )
    process, started = start_acme_server(data, name, *extra)
    try:
        yield Acme(started["url"], started["apiKey"])
    finally:
        stop_process(process)


@pytest.fixture(scope="session")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Acme]:
    yield from _serve(tmp_path_factory, "fast")


@pytest.fixture(scope="session")
def slow_acme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Acme]:
    """Every request takes 150 ms: a sync lasts long enough to be interrupted."""
    yield from _serve(tmp_path_factory, "slow", "--latency-ms", "150")


def connect_args(acme: Acme, *extra: str) -> list[str]:
    return [
        "connect",
        "acme",
        "--config",
        f"baseUrl={acme.url}",
        "--credential",
        f"api_token={acme.api_key}",
        *extra,
    ]
