"""Script processes: launching, output capture, and the live-process table.

Every script runs directly (no shell), with stdin from ``/dev/null``, stdout and stderr piped,
in a **new session** — its own process group — so that ``kill`` reaches the whole tree
(``curl``, ``sleep`` and other grandchildren). A process is complete when it has exited *and*
both pipes reached end-of-file.

:class:`ProcessTable` is the only in-memory state the engine keeps besides the concurrency
limiter: which processes each run has alive. It answers "how many" (abort/pause responses) and
"kill them all" (SIGTERM to each group, wait up to the grace period, SIGKILL the rest).

Cancellation: if the task running :func:`run_script` is cancelled (server shutdown), the
process group is killed with SIGKILL before the cancellation propagates.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

import attrs
import trio

from ._discovery import Script

READ_CHUNK = 65536
ProcessKind = Literal["flow", "step"]


@attrs.frozen
class ProcessOutcome:
    """How a script ended. ``returncode`` is negative for a signal, None if it never started."""

    returncode: int | None
    stdout: str
    stderr: str
    killed: bool = False
    """True when abort, pause or shutdown terminated it: its results must be ignored."""

    @property
    def succeeded(self) -> bool:
        # D4: a signal death (negative code) is a failure, never a success.
        return self.returncode == 0


class OutputCapture:
    """Keeps the first ``limit`` characters of a stream and counts what it drops."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        # UTF-8 needs at most 4 bytes a character; keep enough bytes for ``limit`` characters.
        self._byte_budget = limit * 4 + 4
        self._chunks: list[bytes | bytearray] = []
        self._kept = 0
        self._dropped = False

    def feed(self, data: bytes | bytearray) -> None:
        room = self._byte_budget - self._kept
        if len(data) > room:
            self._dropped = True
            data = data[: max(room, 0)]
        if data:
            self._chunks.append(data)
            self._kept += len(data)

    def text(self) -> str:
        decoded = b"".join(self._chunks).decode("utf-8", errors="replace")
        if len(decoded) > self._limit or self._dropped:
            return decoded[: self._limit] + f"\n... (output truncated at {self._limit} bytes)"
        return decoded


@attrs.define(eq=False)
class LiveProcess:
    """One running script in the :class:`ProcessTable`."""

    run_id: str
    kind: ProcessKind
    pid: int
    step_id: str | None = None
    killed: bool = False
    finished: trio.Event = attrs.field(factory=trio.Event)

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to the process group (the script and everything it started)."""
        if self.finished.is_set():
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)


class ProcessTable:
    """The live flow and step processes of every run, by run id."""

    def __init__(self) -> None:
        self._by_run: dict[str, set[LiveProcess]] = {}

    def add(self, entry: LiveProcess) -> None:
        self._by_run.setdefault(entry.run_id, set()).add(entry)

    def remove(self, entry: LiveProcess) -> None:
        entries = self._by_run.get(entry.run_id)
        if entries is not None:
            entries.discard(entry)
            if not entries:
                del self._by_run[entry.run_id]

    def count(self, run_id: str) -> int:
        return len(self._by_run.get(run_id, ()))

    async def terminate_run(self, run_id: str, grace_seconds: float) -> int:
        """SIGTERM every process group of ``run_id``, wait up to the grace period for them to
        finish, SIGKILL the groups still alive. Return how many processes were signalled."""
        entries = list(self._by_run.get(run_id, ()))
        await terminate(entries, grace_seconds)
        return len(entries)


async def terminate(entries: list[LiveProcess], grace_seconds: float) -> None:
    """SIGTERM, wait at most ``grace_seconds`` for every entry to finish, then SIGKILL."""
    for entry in entries:
        entry.killed = True
        entry.signal_group(signal.SIGTERM)
    with trio.move_on_after(grace_seconds):
        for entry in entries:
            await entry.finished.wait()
    for entry in entries:
        entry.signal_group(signal.SIGKILL)


async def run_script(
    script: Script,
    environment: Mapping[str, str],
    *,
    capture_limit: int,
    table: ProcessTable,
    run_id: str,
    kind: ProcessKind,
    step_id: str | None = None,
    still_wanted: Callable[[], Awaitable[bool]] | None = None,
) -> ProcessOutcome:
    """Run ``script`` to completion in its own process group and capture its output.

    ``still_wanted`` is asked once the process is in the table; if it answers False (the run
    was aborted or paused while we were launching) the group is killed at once — so a control
    operation racing with a launch never leaves a process behind.
    """
    stdout = OutputCapture(capture_limit)
    stderr = OutputCapture(capture_limit)
    try:
        process = await trio.lowlevel.open_process(
            [script.path],
            cwd=script.cwd,
            env=dict(environment),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in an environment value
        return ProcessOutcome(returncode=None, stdout="", stderr=f"\nProcess error: {exc}")
    entry = LiveProcess(run_id=run_id, kind=kind, pid=process.pid, step_id=step_id)
    table.add(entry)
    try:
        if still_wanted is not None and not await still_wanted():
            entry.killed = True
            entry.signal_group(signal.SIGKILL)
        assert process.stdout is not None and process.stderr is not None
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_drain, process.stdout, stdout)
            nursery.start_soon(_drain, process.stderr, stderr)
        returncode = await process.wait()
    except BaseException:
        # Cancelled (shutdown) or broken: never leave the group running behind us.
        entry.killed = True
        entry.signal_group(signal.SIGKILL)
        with trio.CancelScope(shield=True), trio.move_on_after(1):
            await process.wait()
        raise
    finally:
        table.remove(entry)
        entry.finished.set()
    return ProcessOutcome(
        returncode=returncode, stdout=stdout.text(), stderr=stderr.text(), killed=entry.killed
    )


async def _drain(stream: trio.abc.ReceiveStream, capture: OutputCapture) -> None:
    async with stream:
        while chunk := await stream.receive_some(READ_CHUNK):
            capture.feed(chunk)
