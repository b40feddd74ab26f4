"""``max worker --join SYNC_ID`` — help a running sync; and the worker processes of
``max sync --workers N``.

Workspace level: ``max worker <INSTALLATION> --join SYNC_ID [--lease DURATION]``; installation
level: ``max worker --join SYNC_ID``. The worker claims the sync's tasks under a lease (10 s
by default, renewed every third of it) beside the process that started the sync, until
nothing is left to claim; that process completes the sync. It never takes the installation's
``sync.lock``. Output: ``Worker done: 12 work units completed, 0 failed (sync-3)`` (or the
result as JSON with ``-o json``); exit 0. Ctrl-C (SIGINT, SIGTERM) stops it: its running tasks
go to the other workers at once (``Worker stopped; its running tasks went back to sync-3.``,
exit 130). An unknown sync id, or a sync that is not running (finished, interrupted, its
process gone), is one line, exit 1.

:class:`WorkerProcesses` is the other side: ``max sync --workers N`` starts N − 1 of these
commands as child processes (``python -m maxtrio.cli -t <installation url> worker --join …
--events``) once the sync's tasks are stored. With ``--events`` a worker prints its progress
as JSON lines on stdout, which the parent feeds into its own display, so the display shows the
whole sync. When the parent is stopped, every child gets SIGINT and is waited for (killed after
:data:`STOP_GRACE` seconds); when the parent's sync ends, children still running get
:data:`END_GRACE` seconds to notice before they are stopped too.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import asyncclick as click

from ._dispatch import EXIT_ERROR, EXIT_INTERRUPTED, ignore_further_ctrl_c
from ._invocation import interrupt_requests
from ._printers import dumps_line, dumps_pretty
from ._session import debug_option, output_option, session

#: Seconds a stopped child gets to hand its tasks over before it is killed.
STOP_GRACE = 10.0
#: Seconds children get to end by themselves once the parent's sync has ended.
END_GRACE = 5.0
#: At most this many worker processes per ``max sync``.
MAX_WORKERS = 64


def _event_line(event: Any) -> dict[str, Any] | None:
    """The ``--events`` JSON of one executor event (None: not shown)."""
    kind = getattr(event, "kind", None)
    if kind == "task-completed":
        return {
            "event": kind,
            "entityType": event.entity_type,
            "operation": event.operation,
            "count": event.count,
        }
    if kind == "task-failed":
        return {"event": kind, "entityType": event.entity_type}
    if kind == "operation-retried":
        return {"event": kind, "delay": event.delay}
    return None


def _done_text(result: Any) -> str:
    return (
        f"Worker done: {result.tasks_completed} work units completed, "
        f"{result.tasks_failed} failed ({result.sync_id})"
    )


async def run_worker_command(
    installation_name: str | None, sync_id: str, lease: str, output: str, events: bool
) -> None:
    import trio

    from maxtrio.core import quote_input

    from ._cmd_sync import parse_duration
    from ._errors import ErrInvalidOption
    from ._targeting import open_target

    run = session()
    if not sync_id.strip():
        raise ErrInvalidOption(option="--join", reason="the sync id must not be empty")
    lease_ms = int(parse_duration("--lease", lease).total_seconds() * 1000)
    if lease_ms < 1000:
        raise ErrInvalidOption(option="--lease", reason=f"{quote_input(lease)} is under 1s")

    def on_event(event: Any) -> None:
        line = _event_line(event) if events else None
        if line is not None:
            run.lines([dumps_line(line)])

    async with open_target(run.targeting) as target:
        installation = target.installation
        if installation is None:
            workspace = target.require_workspace()
            if installation_name is None:
                from ._dispatch import CliUsageError

                raise CliUsageError(
                    "Missing argument 'INSTALLATION'.",
                    ["  max ls lists the installations of this workspace."],
                )
            installation = await workspace.installation(installation_name)
        result: Any = None
        with interrupt_requests() as signals:
            async with trio.open_nursery() as nursery:

                async def stop_on_signal() -> None:
                    async for _ in signals:
                        ignore_further_ctrl_c()
                        nursery.cancel_scope.cancel()
                        return

                async def work() -> None:
                    nonlocal result
                    try:
                        result = await installation.join_sync(
                            sync_id, on_event=on_event, lease_ms=lease_ms
                        )
                    except Exception as exc:
                        raise _join_error(exc, sync_id, installation.name) from None
                    nursery.cancel_scope.cancel()

                nursery.start_soon(stop_on_signal)
                nursery.start_soon(work)
    if result is None or result.status.value == "interrupted":
        run.note(f"Worker stopped; its running tasks went back to {quote_input(sync_id)}.")
        raise click.exceptions.Exit(EXIT_INTERRUPTED)
    if events:
        run.lines([dumps_line({"event": "done", **result.to_json()})])
    elif output == "json":
        run.lines([dumps_pretty(result.to_json())])
    else:
        run.lines([_done_text(result)])
    if result.status.value != "completed":
        raise click.exceptions.Exit(EXIT_ERROR)


def _join_error(exc: Exception, sync_id: str, installation: str) -> Exception:
    """An unknown or finished sync as one line with what to do next (the id quoted)."""
    from maxtrio.core import MaxError, quote_input
    from maxtrio.execution import ErrSyncNotFound, ErrSyncNotRunning

    if not isinstance(exc, MaxError):
        return exc
    shown = quote_input(sync_id)
    if ErrSyncNotFound.matches(exc):
        hint = f"max status -t {installation} lists its syncs; join one that is running"
        return ErrSyncNotFound(syncId=shown, hint=hint)
    if ErrSyncNotRunning.matches(exc):
        status = str(exc.data.get("status", "?"))
        if status in ("completed", "cancelled"):
            hint = f"start a new sync with max sync {installation} --workers N"
        else:
            hint = f"continue it with max sync {installation} --resume {shown} --workers N"
        return ErrSyncNotRunning(syncId=shown, status=status, hint=hint)
    return exc


class WorkerProcesses:
    """The extra worker processes of one ``max sync --workers N`` (see the module docstring).

    ``on_event`` receives the children's progress as executor events; ``count`` children are
    started by :meth:`start` (called once the sync's tasks are stored)."""

    def __init__(
        self,
        nursery: Any,
        *,
        count: int,
        target: str,
        cwd: str,
        on_event: Callable[[Any], None],
    ) -> None:
        self._nursery = nursery
        self._count = count
        self._target = target
        self._cwd = cwd
        self._on_event = on_event
        self._started = False
        self._running: dict[int, Any] = {}  # child number → trio.Process
        self._alive = 0  # children started and not ended yet
        self._all_ended: Any = None  # a trio.Event, set when the last child ended
        self.failures: list[str] = []  # "worker 2: Error: …" lines of children that failed

    def start(self, sync_id: str) -> None:
        """Start the children for ``sync_id`` (once; later calls do nothing)."""
        if self._started or self._count < 1:
            return
        import trio

        self._started = True
        self._alive = self._count
        self._all_ended = trio.Event()
        for number in range(2, self._count + 2):
            self._nursery.start_soon(self._run_one, number, sync_id)

    async def wind_down(self) -> None:
        """The parent's sync ended: let the children end by themselves, then stop the rest."""
        import trio

        if self._all_ended is None:
            return
        with trio.move_on_after(END_GRACE):
            await self._all_ended.wait()
        for process in list(self._running.values()):
            process.send_signal(signal.SIGINT)

    def _argv(self, sync_id: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "maxtrio.cli",
            "-t",
            self._target,
            "worker",
            "--join",
            sync_id,
            "--events",
        ]

    async def _run_one(self, number: int, sync_id: str) -> None:
        try:
            await self._run_child(number, sync_id)
        finally:
            self._alive -= 1
            if self._alive == 0:
                self._all_ended.set()

    async def _run_child(self, number: int, sync_id: str) -> None:
        import trio

        env = dict(os.environ)
        env["MAX_NO_DAEMON"] = "1"
        env.pop("MAX_TARGET", None)
        process = await trio.lowlevel.open_process(
            self._argv(sync_id),
            cwd=self._cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._running[number] = process
        errors: list[bytes] = []
        try:
            async with trio.open_nursery() as pipes:
                pipes.start_soon(self._read_events, process.stdout, sync_id)
                pipes.start_soon(_read_all, process.stderr, errors)
                await process.wait()
        except BaseException:
            with trio.CancelScope(shield=True):
                await _stop(process)
            raise
        finally:
            self._running.pop(number, None)
        if process.returncode not in (0, EXIT_INTERRUPTED):
            for line in b"".join(errors).decode(errors="replace").splitlines():
                if line.strip():
                    self.failures.append(f"worker {number}: {line}")

    async def _read_events(self, stream: Any, sync_id: str) -> None:
        from maxtrio.execution import OperationRetried, TaskCompleted, TaskFailed

        buffer = b""
        while chunk := await stream.receive_some(65536):
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                try:
                    line = json.loads(raw)
                except ValueError:
                    continue
                kind = line.get("event") if isinstance(line, dict) else None
                if kind == "task-completed":
                    event: Any = TaskCompleted(
                        sync_id, "", line["entityType"], line["operation"], line["count"]
                    )
                elif kind == "task-failed":
                    event = TaskFailed(sync_id, "", line["entityType"], "", "", "")
                elif kind == "operation-retried":
                    event = OperationRetried(sync_id, "", 0, float(line["delay"]), "")
                else:
                    continue
                self._on_event(event)


async def _read_all(stream: Any, into: list[bytes]) -> None:
    while chunk := await stream.receive_some(65536):
        into.append(chunk)


async def _stop(process: Any) -> None:
    """SIGINT (the worker hands its tasks over), then SIGKILL after :data:`STOP_GRACE`."""
    import trio

    if process.returncode is None:
        process.send_signal(signal.SIGINT)
    with trio.move_on_after(STOP_GRACE):
        await process.wait()
        return
    process.kill()
    await process.wait()


_HELP_TEXT = """
Help a sync that is running: claim its tasks beside the process that started it (on this
machine or another one sharing the installation's store) until nothing is left. Tasks are
claimed under a lease, renewed while they run: a worker that dies loses nothing, its tasks go
back to the others when the lease runs out. The process that started the sync completes it.
Ctrl-C stops the worker and hands its running tasks over at once.
"""
_JOIN_HELP = "The running sync to help (e.g. sync-3; max status shows it)."
_LEASE_HELP = "How long a claimed task stays this worker's without renewal (default 10s)."


@click.command(
    name="worker",
    help="Help a running sync of an installation."
    + _HELP_TEXT
    + """
\b
Examples:
  max worker acme-1 --join sync-3
  max worker acme-1 --join sync-3 --lease 30s
""",
)
@click.argument("installation", required=False)
@click.option("--join", "sync_id", metavar="SYNC_ID", required=True, help=_JOIN_HELP)
@click.option("--lease", metavar="DURATION", default="10s", help=_LEASE_HELP)
@click.option("--events", is_flag=True, hidden=True)
@output_option(("text", "json"))
@debug_option
async def worker_workspace(
    installation: str | None, sync_id: str, lease: str, events: bool, output: str
) -> None:
    """``max worker`` at workspace level."""
    await run_worker_command(installation, sync_id, lease, output, events)


@click.command(
    name="worker",
    help="Help a running sync of this installation."
    + _HELP_TEXT
    + """
\b
Examples:
  max -t my-project/acme-1 worker --join sync-3
""",
)
@click.option("--join", "sync_id", metavar="SYNC_ID", required=True, help=_JOIN_HELP)
@click.option("--lease", metavar="DURATION", default="10s", help=_LEASE_HELP)
@click.option("--events", is_flag=True, hidden=True)
@output_option(("text", "json"))
@debug_option
async def worker_installation(sync_id: str, lease: str, events: bool, output: str) -> None:
    """``max worker`` at installation level."""
    await run_worker_command(None, sync_id, lease, output, events)
