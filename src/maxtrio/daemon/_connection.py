"""One launcher connection: its request, its command, its conversation.

Each connection has a nursery of its own with three jobs:

* the **sender** — the only task that writes to the socket: messages queue in an
  :class:`Outbox` in the order they are produced (command output, prompts, the final
  response) and leave as whole lines, consecutive writes to one stream merged;
* the **reader** — after the request: ``input`` answers the pending prompt (dropped when none
  is pending), ``cancel`` asks the command to stop, end-of-file or a malformed line cancels it;
* the **command** — run in a cancel scope of its own (see ``_runner``).

A ``cancel`` reaches a command that listens for it (``max sync`` stops cleanly and reports an
interrupted, resumable sync); any other command's cancel scope is cancelled. A second
``cancel``, the client going away, or a protocol error cancels the scope in any case. A
malformed or oversized line ends the connection with ``{"kind":"response","exitCode":2,
"stderr":"Error: …"}`` — one line, never a traceback, and the daemon carries on.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

import trio

from maxtrio.core import MaxError

from ._errors import ErrMessageTooLarge, ErrUnexpectedMessage
from ._protocol import (
    MAX_LINE_BYTES,
    STDERR,
    Cancel,
    ClientMessage,
    DaemonMessage,
    Input,
    Prompt,
    Ready,
    Request,
    Response,
    Tty,
    Write,
    decode_client_line,
    encode_daemon_messages,
)

if TYPE_CHECKING:
    from ._server import WorkspaceDaemon

log = logging.getLogger("maxtrio.daemon")

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
#: Longest ``write`` text in one message (JSON-escaped it stays well under the line limit).
WRITE_CHUNK = 1 << 16
_RECEIVE_BYTES = 1 << 16


class ClientGone(Exception):
    """The launcher closed its end."""


class LineReader:
    """Complete lines from a byte stream; partial lines wait for more data."""

    def __init__(self, stream: trio.abc.ReceiveStream, limit: int = MAX_LINE_BYTES) -> None:
        self._stream = stream
        self._limit = limit
        self._buffer = bytearray()
        self._scanned = 0

    async def line(self) -> bytes:
        """The next non-empty line; :class:`ClientGone` at end of file; a line longer than the
        limit raises ``daemon.message_too_large``."""
        while True:
            end = self._buffer.find(b"\n", self._scanned)
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                self._scanned = 0
                if len(line) > self._limit:
                    raise ErrMessageTooLarge(limit=self._limit)
                if line.strip():
                    return line
                continue
            if len(self._buffer) > self._limit:
                raise ErrMessageTooLarge(limit=self._limit)
            self._scanned = len(self._buffer)
            try:
                data = await self._stream.receive_some(_RECEIVE_BYTES)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                data = b""
            if not data:
                raise ClientGone()
            self._buffer += data

    async def message(self) -> ClientMessage:
        return decode_client_line(await self.line())


class Outbox:
    """The connection's messages, in order, until the final one; sent by :meth:`run_sender`."""

    def __init__(self) -> None:
        self._send, self._receive = trio.open_memory_channel[DaemonMessage](math.inf)
        self.closed = False
        self.broken = False
        self.on_broken: Callable[[], None] = lambda: None

    def put(self, message: DaemonMessage) -> None:
        if self.closed:
            raise BrokenPipeError("the client connection is closed")
        self._send.send_nowait(message)

    def write(self, stream: str, text: str) -> None:
        for start in range(0, len(text), WRITE_CHUNK):
            chunk = text[start : start + WRITE_CHUNK]
            self.put(Write(chunk, "stderr" if stream == STDERR else "stdout"))

    def finish(self, final: DaemonMessage | None) -> None:
        """Queue the last message (if the connection still works) and close: the sender
        ends once everything queued has left (or the socket broke)."""
        if not self.closed and final is not None:
            self._send.send_nowait(final)
        self.closed = True
        self._send.close()

    async def run_sender(self, stream: trio.abc.SendStream) -> None:
        async with self._receive:
            async for first in self._receive:
                batch = _merged([first, *_drain(self._receive)])
                if self.broken:
                    continue
                try:
                    await stream.send_all(encode_daemon_messages(batch))
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    self.broken = True
                    self.closed = True
                    self.on_broken()


def _drain(channel: trio.MemoryReceiveChannel[DaemonMessage]) -> Iterator[DaemonMessage]:
    while True:
        try:
            yield channel.receive_nowait()
        except (trio.WouldBlock, trio.EndOfChannel):
            return


def _merged(messages: list[DaemonMessage]) -> list[DaemonMessage]:
    """Consecutive writes to the same stream as one message (up to WRITE_CHUNK)."""
    out: list[DaemonMessage] = []
    for message in messages:
        last = out[-1] if out else None
        if (
            isinstance(message, Write)
            and isinstance(last, Write)
            and last.stream == message.stream
            and len(last.text) + len(message.text) <= WRITE_CHUNK
        ):
            out[-1] = Write(last.text + message.text, message.stream)
        else:
            out.append(message)
    return out


class Connection:
    """The daemon's half of one connection (see the module docstring)."""

    def __init__(self, stream: trio.SocketStream, daemon: WorkspaceDaemon) -> None:
        self.stream = stream
        self.daemon = daemon
        self.outbox = Outbox()
        self.reader = LineReader(stream)
        self.request: Request | None = None
        self.command_scope = trio.CancelScope()
        self.cancel_requested = False
        self.client_gone = False
        self.protocol_error: MaxError | None = None
        self._listeners: list[trio.MemorySendChannel[None]] = []
        self._answers_send, self._answers = trio.open_memory_channel[str | None](0)
        self._prompt_lock = trio.Lock()
        self.outbox.on_broken = self._lost

    @property
    def tty(self) -> Tty:
        return self.request.terminals() if self.request is not None else Tty()

    async def serve(self) -> None:
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self.outbox.run_sender, self.stream)
                self.outbox.put(Ready(os.getpid()))  # the launcher sends its request after it
                self.outbox.finish(await self._converse(nursery))
        finally:
            with trio.CancelScope(shield=True):
                await self.stream.aclose()

    async def _converse(self, nursery: trio.Nursery) -> DaemonMessage | None:
        try:
            first = await self.reader.message()
        except ClientGone:
            return None
        except MaxError as error:
            log.warning("refused a request: %s", error.message[:300])
            return _usage_response(error)
        if not isinstance(first, Request):
            kind = "input" if isinstance(first, Input) else "cancel"
            return _usage_response(
                ErrUnexpectedMessage(kind=kind, reason="the first line must be the request")
            )
        self.request = first
        stale = self.daemon.staleness(first)
        if stale is not None:
            return stale
        reading = trio.CancelScope()
        nursery.start_soon(self._read_rest, reading)
        try:
            code = await self.daemon.run_command(self)
        finally:
            reading.cancel()
        if self.protocol_error is not None:
            return _usage_response(self.protocol_error)
        return Response(code)

    def interrupt(self) -> None:
        """The caller asked to stop (``cancel``, or the daemon is shutting down)."""
        if self.cancel_requested or not self._listeners:
            self.command_scope.cancel()
        else:
            for listener in list(self._listeners):
                with suppress(trio.WouldBlock, trio.BrokenResourceError):
                    listener.send_nowait(None)  # one pending request is enough
        self.cancel_requested = True

    def _lost(self) -> None:
        self.client_gone = True
        self.command_scope.cancel()

    async def _read_rest(self, scope: trio.CancelScope) -> None:
        with scope:
            while True:
                try:
                    message = await self.reader.message()
                except ClientGone:
                    self._lost()
                    return
                except MaxError as error:
                    log.warning("protocol error during a command: %s", error.message[:300])
                    self.protocol_error = error
                    self.command_scope.cancel()
                    return
                if isinstance(message, Input):
                    with suppress(trio.WouldBlock):  # no prompt waiting: dropped
                        self._answers_send.send_nowait(message.value)
                elif isinstance(message, Cancel):
                    self.interrupt()
                else:
                    self.protocol_error = ErrUnexpectedMessage(
                        kind=message.kind, reason="a connection carries one request"
                    )
                    self.command_scope.cancel()
                    return

    # -- what the running command uses ---------------------------------------------------------

    def emit(self, stream: str, text: str) -> None:
        self.outbox.write(stream, text)

    async def ask(self, message: str, *, secret: bool = False) -> str | None:
        """Ask the person at the caller's terminal; None when their input ended."""
        async with self._prompt_lock:
            self.outbox.put(Prompt(message, secret))
            return await self._answers.receive()

    @contextmanager
    def interrupt_requests(self) -> Iterator[trio.MemoryReceiveChannel[None]]:
        send, receive = trio.open_memory_channel[None](1)
        self._listeners.append(send)
        try:
            yield receive
        finally:
            self._listeners.remove(send)

    def note_interrupted(self) -> None:
        """The command was cancelled on request: say so, as direct mode does on Ctrl-C."""
        if not self.client_gone and not self.outbox.closed:
            self.outbox.write(STDERR, "Interrupted.\n")

    def describe(self) -> dict[str, Any]:
        request = self.request
        word = next((a for a in request.argv if not a.startswith("-")), "") if request else ""
        return {
            "command": word,
            "gone": self.client_gone,
            "cancel": self.cancel_requested,
            "closed": self.outbox.closed,
            "broken": self.outbox.broken,
        }


def _usage_response(error: MaxError) -> Response:
    return Response(EXIT_USAGE, stderr=f"Error: {error.message}\n")
