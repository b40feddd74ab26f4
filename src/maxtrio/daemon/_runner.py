"""Running one request with the CLI's own command table, for the caller.

The command is the same asyncclick invocation direct mode runs (``maxtrio.cli.run_args``:
level-gated dispatch, printers, error rendering, exit codes). Around it:

* an :class:`~maxtrio.cli.Invocation` — the caller's directory and allow-listed environment,
  prompts answered over the socket, ``cancel`` as the interrupt source, and the daemon's warm
  ``GlobalMax`` instead of a fresh one;
* :class:`~._stdio.CommandStreams` — ``sys.stdout``/``sys.stderr`` become ``write`` messages;
* a private asyncclick context stack;
* the connection's cancel scope: ``cancel`` (for commands that do not stop by themselves),
  a second ``cancel``, the client leaving, a protocol error or the daemon's shutdown cancel it.

``complete`` requests compute shell completions with asyncclick's completion classes from the
``COMP_WORDS``/``COMP_CWORD`` the shell script set (sent in the request's ``env``).
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from maxtrio.cli import Invocation, invocation_scope, root_group, run_args

from ._click_context import own_context_stack
from ._connection import EXIT_INTERRUPTED, EXIT_USAGE, Connection
from ._protocol import SyncStartedNote, Tty
from ._stdio import CommandStreams, command_streams

if TYPE_CHECKING:
    from maxtrio.federation import GlobalMax, InstallationMax

log = logging.getLogger("maxtrio.daemon")

EXIT_ERROR = 1
COMPLETE_VAR = "_MAX_COMPLETE"


async def run_request(connection: Connection, global_max: GlobalMax) -> int:
    """Run the connection's request; returns the exit code to answer with."""
    request = connection.request
    assert request is not None
    invocation = Invocation(
        cwd=Path(request.cwd),
        environ=dict(request.env),
        ask=connection.ask,
        interrupts=connection.interrupt_requests,
        global_max=global_max,
    )
    streams = CommandStreams(connection.emit, request.terminals())
    started = time.perf_counter()
    code = EXIT_ERROR
    with (
        connection.command_scope,
        invocation_scope(invocation),
        command_streams(streams),
        own_context_stack(),
        _observing_syncs(connection),
    ):
        try:
            if request.kind == "complete":
                code = await _complete(request.shell, request.env)
            else:
                code = await run_args(request.argv)
        except trio.Cancelled:
            raise
        except BaseException as exc:  # a command must never take the daemon down
            if isinstance(exc, BaseExceptionGroup) and exc.subgroup(trio.Cancelled):
                raise
            log.error("command failed outside the CLI's error handling:\n%s", _trace(exc))
            connection.emit("stderr", f"Error: {type(exc).__name__}: {exc}\n")
            code = EXIT_ERROR
    if connection.command_scope.cancelled_caught:
        if connection.client_gone or connection.protocol_error is not None:
            code = EXIT_USAGE if connection.protocol_error is not None else EXIT_ERROR
        else:
            connection.note_interrupted()
            code = EXIT_INTERRUPTED
    elapsed = (time.perf_counter() - started) * 1000
    log.info("%s %s → %s in %.1fms", request.kind, connection.describe()["command"], code, elapsed)
    return code


@contextmanager
def _observing_syncs(connection: Connection) -> Iterator[None]:
    """Tell the launcher each sync id as the command starts a sync (``sync-started``), so it
    can print the resume command should this daemon die."""
    from maxtrio.federation import sync_observer

    def note_sync(installation: InstallationMax, sync_id: str) -> None:
        with suppress(BrokenPipeError):  # the launcher is gone: nobody to tell
            note = SyncStartedNote(installation.name, str(installation.url), sync_id)
            connection.outbox.put(note)

    token = sync_observer.set(note_sync)
    try:
        yield
    finally:
        sync_observer.reset(token)


def _trace(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)).rstrip()


async def _complete(shell: str | None, env: Mapping[str, str]) -> int:
    import sys

    from asyncclick.shell_completion import get_completion_class, split_arg_string

    completer_class = get_completion_class(shell or "")
    if completer_class is None:
        sys.stderr.write(f"Error: cannot complete for shell {shell!r}\n")
        return EXIT_USAGE
    words = split_arg_string(env.get("COMP_WORDS", ""))
    if shell == "fish":
        incomplete = env.get("COMP_CWORD", "")
        if incomplete:
            incomplete = split_arg_string(incomplete)[0]
        args = words[1:]
        if incomplete and args and args[-1] == incomplete:
            args.pop()
    else:
        try:
            cword = int(env.get("COMP_CWORD", "0"))
        except ValueError:
            cword = len(words)
        args = words[1:cword]
        incomplete = words[cword] if 0 <= cword < len(words) else ""
    completer = completer_class(root_group(), {}, "max", COMPLETE_VAR)
    items = await completer.get_completions(args, incomplete)
    text = "\n".join(completer.format_completion(item) for item in items)
    if text:
        sys.stdout.write(text + "\n")
    return 0


async def warm_up_command(root: Path, global_max: GlobalMax) -> int:
    """``max ls`` in ``root`` with its output dropped (see ``WorkspaceDaemon``)."""
    invocation = Invocation(cwd=root, environ={}, global_max=global_max)
    streams = CommandStreams(lambda stream, text: None, Tty())
    with invocation_scope(invocation), command_streams(streams), own_context_stack():
        return await run_args(["ls"])
