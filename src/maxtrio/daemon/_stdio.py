"""``sys.stdout``/``sys.stderr``/``sys.stdin`` of the daemon, routed per command.

The CLI (and asyncclick's help, and rich) write to ``sys.stdout`` and ``sys.stderr`` and ask
them ``isatty()``. In the daemon those are :class:`RoutedText` objects: while a command runs,
a context variable names its :class:`CommandStreams`, so its text becomes ``write`` messages
on its own connection and ``isatty()`` answers for the caller's terminal; anything written
outside a command (the daemon's own messages, a library's warning) goes to the daemon log.
Context variables follow trio's tasks, so commands running at the same time never see each
other's streams. Text written from a worker thread (``trio.to_thread``) is handed back to the
trio thread.

``sys.stdin`` answers ``isatty()`` for the caller's stdin and reads as empty: prompts go over
the socket (``Invocation.ask``), never through stdin.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO

import trio

from ._protocol import Tty

#: Where a command's text goes: ``emit(stream, text)`` (``stream`` is "stdout" or "stderr").
Emit = Callable[[str, str], None]


class CommandStreams:
    """One command's standard streams: text to ``emit``, terminals as the caller has them."""

    def __init__(self, emit: Emit, tty: Tty) -> None:
        self._emit = emit
        self.tty = tty
        self._token = trio.lowlevel.current_trio_token()
        self._thread = threading.get_ident()

    def write(self, stream: str, text: str) -> None:
        if threading.get_ident() == self._thread:
            self._emit(stream, text)
        else:
            trio.from_thread.run_sync(self._emit, stream, text, trio_token=self._token)

    def isatty(self, stream: str) -> bool:
        return bool(getattr(self.tty, stream))


_CURRENT: ContextVar[CommandStreams | None] = ContextVar("maxtrio_daemon_streams", default=None)


@contextmanager
def command_streams(streams: CommandStreams) -> Iterator[CommandStreams]:
    """Route ``sys.std*`` to ``streams`` for the enclosed command and its tasks."""
    token = _CURRENT.set(streams)
    try:
        yield streams
    finally:
        _CURRENT.reset(token)


class RoutedText(io.TextIOBase):
    """``sys.stdout`` or ``sys.stderr``: the current command's stream, else ``fallback``."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self, name: str, fallback: TextIO) -> None:
        super().__init__()
        self.name = name
        self.fallback = fallback

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        streams = _CURRENT.get()
        if streams is None:
            return self.fallback.write(text)
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if text:
            streams.write(self.name, text)
        return len(text)

    def flush(self) -> None:
        if _CURRENT.get() is None:
            self.fallback.flush()

    def isatty(self) -> bool:
        streams = _CURRENT.get()
        if streams is None:
            return False
        return streams.isatty(self.name)

    def fileno(self) -> int:
        if _CURRENT.get() is None:
            return self.fallback.fileno()
        raise io.UnsupportedOperation("a daemon-hosted command's stream has no file descriptor")


class RoutedInput(io.TextIOBase):
    """``sys.stdin``: a terminal when the caller's is, and always at end of input."""

    encoding = "utf-8"

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1, /) -> str:
        return ""

    def readline(self, size: int = -1, /) -> str:  # type: ignore[override]
        return ""

    def isatty(self) -> bool:
        streams = _CURRENT.get()
        return streams is not None and streams.isatty("stdin")

    def fileno(self) -> int:
        raise io.UnsupportedOperation("the daemon has no stdin")


@contextmanager
def routed_stdio() -> Iterator[None]:
    """Replace ``sys.stdout``/``sys.stderr``/``sys.stdin`` for the daemon's life (the
    originals — the daemon log — stay the fallback) and put them back afterwards."""
    saved = sys.stdout, sys.stderr, sys.stdin
    sys.stdout = RoutedText("stdout", saved[0])
    sys.stderr = RoutedText("stderr", saved[1])
    sys.stdin = RoutedInput()
    try:
        yield
    finally:
        sys.stdout, sys.stderr, sys.stdin = saved
