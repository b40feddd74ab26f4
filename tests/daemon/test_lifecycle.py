"""The daemon's life in-process, on trio's mock clock: idle timeout (and what keeps it alive),
a vanished workspace root, retiring for a newer launcher, and many commands at once — each
with its own asyncclick context and output. Real sockets in a temporary directory."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncclick.globals
import pytest
import trio

import max_launcher
from maxtrio.cli import open_global
from maxtrio.daemon import WorkspaceDaemon, routed_stdio, use_task_local_contexts
from tests.daemon.harness import after_ready, request_line

IDLE = 900.0


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(asyncclick.globals, "_local", asyncclick.globals._local)
    use_task_local_contexts()  # undone by monkeypatch
    home = tmp_path / "h"
    monkeypatch.setenv("MAX_HOME", str(home))
    root = tmp_path / "ws"
    trio.run(_create, root)
    yield root.resolve()


async def _create(root: Path) -> None:
    async with open_global() as global_max:
        await global_max.create_workspace(root)


def claim_for(root: Path) -> max_launcher.Claim:
    claimed = max_launcher.claim(max_launcher.DaemonPaths.for_root(str(root)))
    assert claimed is not None
    return claimed


@asynccontextmanager
async def running(daemon: WorkspaceDaemon) -> AsyncIterator[trio.Nursery]:
    with routed_stdio():  # here, not in a fixture: pytest swaps sys.stdout between phases
        async with trio.open_nursery() as nursery:
            await nursery.start(daemon.serve)
            yield nursery


async def connect(daemon: WorkspaceDaemon) -> trio.SocketStream:
    sock = trio.socket.socket(trio.socket.AF_UNIX)
    with max_launcher.SocketAddress(daemon.paths.socket) as address:
        await sock.connect(address)
    return trio.SocketStream(sock)


async def ask(daemon: WorkspaceDaemon, line: bytes) -> list[dict[str, object]]:
    stream = await connect(daemon)
    async with stream:
        await stream.send_all(line)
        received = b""
        while chunk := await stream.receive_some():
            received += chunk
    return after_ready([json.loads(x) for x in received.splitlines()])


async def test_an_idle_daemon_stops_and_cleans_up(workspace: Path, autojump_clock: object) -> None:
    daemon = WorkspaceDaemon(
        workspace, claim_for(workspace), version="v", idle_seconds=IDLE, handle_signals=False
    )
    started = trio.current_time()
    async with running(daemon):
        assert os.path.exists(daemon.paths.socket) and os.path.exists(daemon.paths.pid)
    assert daemon.stop_reason == f"idle for {IDLE:g}s"
    assert trio.current_time() - started >= IDLE
    assert not os.path.exists(daemon.paths.socket) and not os.path.exists(daemon.paths.pid)
    assert not max_launcher.lock_is_held(daemon.paths)


async def test_an_open_connection_keeps_it_alive_and_commands_restart_the_clock(
    workspace: Path, autojump_clock: object
) -> None:
    daemon = WorkspaceDaemon(
        workspace, claim_for(workspace), version="v", idle_seconds=IDLE, handle_signals=False
    )
    async with running(daemon):
        idle_client = await connect(daemon)
        await trio.sleep(IDLE * 5)
        assert daemon.stop_reason is None
        await idle_client.aclose()
        await trio.sleep(IDLE - 1)
        answer = await ask(daemon, request_line(workspace, "ls", version="v"))
        assert answer[-1] == {"kind": "response", "exitCode": 0}
        await trio.sleep(IDLE - 1)
        assert daemon.stop_reason is None
    assert daemon.stop_reason == f"idle for {IDLE:g}s"


async def test_the_daemon_leaves_when_its_workspace_disappears(
    workspace: Path, autojump_clock: object
) -> None:
    daemon = WorkspaceDaemon(
        workspace,
        claim_for(workspace),
        version="v",
        idle_seconds=None,
        handle_signals=False,
        root_check_seconds=30,
    )
    async with running(daemon):
        await trio.sleep(100)
        assert daemon.stop_reason is None
        shutil.rmtree(workspace)
    assert daemon.stop_reason == f"the workspace root {workspace} disappeared"


async def test_a_newer_launcher_makes_it_retire_at_once(
    workspace: Path, autojump_clock: object
) -> None:
    daemon = WorkspaceDaemon(
        workspace, claim_for(workspace), version="old", idle_seconds=None, handle_signals=False
    )
    async with running(daemon):
        answer = await ask(daemon, request_line(workspace, "ls", version="new"))
        assert answer == [{"kind": "stale", "daemonVersion": "old"}]
        # the socket, PID file and lock are free for a fresh daemon right away
        assert not os.path.exists(daemon.paths.socket)
        assert not max_launcher.lock_is_held(daemon.paths)
    assert daemon.retired and daemon.stop_reason is not None


async def test_many_commands_at_once_each_get_their_own_answer(workspace: Path) -> None:
    daemon = WorkspaceDaemon(
        workspace, claim_for(workspace), version="v", idle_seconds=None, handle_signals=False
    )
    commands = [["ls"], ["ls", "-o", "json"], ["help"], ["bogus"], ["-t", "nope", "ls"]] * 4
    answers: dict[int, list[dict[str, object]]] = {}
    async with running(daemon) as nursery:

        async def one(i: int, argv: list[str]) -> None:
            answers[i] = await ask(daemon, request_line(workspace, *argv, version="v"))

        async with trio.open_nursery() as clients:
            for i, argv in enumerate(commands):
                clients.start_soon(one, i, argv)
        nursery.cancel_scope.cancel()
    by_command: dict[str, list[dict[str, object]]] = {}
    for i, argv in enumerate(commands):
        key = " ".join(argv)
        assert by_command.setdefault(key, answers[i]) == answers[i], key  # same every time
    assert json.loads(str(by_command["ls -o json"][0]["text"]))["url"] == "max://@/ws"
    assert by_command["bogus"][-1] == {"kind": "response", "exitCode": 2}
    assert by_command["ls"][-1] == {"kind": "response", "exitCode": 0}
