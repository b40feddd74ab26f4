"""One command over the daemon socket: wait for ``ready``, send the request, then follow the
daemon's lead.

A daemon greets every connection with ``{"kind": "ready", "pid": N}`` as it accepts it; the
request is only sent after that (:func:`await_ready`, bounded). A stopped (``SIGSTOP``) or hung
daemon, or a foreign process on ``daemon.sock`` that never answers or answers something else,
therefore never receives the command: the launcher can run it directly instead without any risk
of running it twice.

The daemon answers with any number of ``write`` (text for stdout or stderr, written as it
comes, byte for byte) and ``prompt`` messages (the launcher asks the person at the terminal
and replies with ``input``), then exactly one ``response`` (its exit code becomes ours) — or
``stale`` when it runs other code than this launcher (the caller restarts it once).

Ctrl-C: the first one sends ``cancel`` (the daemon stops the command cleanly — a sync becomes
interrupted and resumable — and still answers); a second one closes the socket and exits 130.
Ctrl-C at a prompt abandons the prompt (echo restored) and sends ``cancel``.

When whoever reads our stdout goes away (``max search … | head``), the socket is closed (the
daemon cancels the command) and the launcher exits 0 quietly, as direct mode does.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found,unused-ignore]
import _socket
import os
import sys
import time

from ._wire import MAX_LINE_BYTES, decode_message, encode_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FrameType
    from typing import BinaryIO

STALE = -1  # returned instead of an exit code when the daemon answered ``stale``
EXIT_INTERRUPTED = 130
_SEND_FLAGS = getattr(_socket, "MSG_NOSIGNAL", 0)
_RECEIVE_BYTES = 1 << 16


class ConnectionLost(Exception):
    """The daemon went away (or spoke nonsense) after it took the request, before its
    response; ``silent`` when it had not written anything yet. ``syncs`` are the syncs the
    command had started (``sync-started`` messages: installation, its URL, the sync id)."""

    def __init__(self, reason: str, *, silent: bool = False) -> None:
        super().__init__(reason)
        self.silent = silent
        self.syncs: list[dict[str, object]] = []


class NotReady(Exception):
    """The daemon did not greet the connection in time (or something else answered): the
    request was never sent."""


def await_ready(sock: _socket.socket, budget: float) -> bytes:
    """Wait up to ``budget`` seconds for the daemon's ``ready`` line; returns what arrived
    after it. Raises :class:`NotReady` (nothing was sent, so running directly is safe)."""
    deadline = time.monotonic() + budget
    received = b""
    try:
        while b"\n" not in received:
            left = deadline - time.monotonic()
            if left <= 0:
                raise NotReady(f"no answer on the daemon socket after {budget:g}s")
            sock.settimeout(left)
            try:
                chunk = sock.recv(_RECEIVE_BYTES)
            except TimeoutError:
                continue
            except OSError as exc:
                raise NotReady(f"cannot read the daemon socket ({exc.strerror})") from None
            if not chunk:
                raise NotReady("the daemon socket closed without an answer")
            received += chunk
            if len(received) > MAX_LINE_BYTES:
                break
    finally:
        try:
            sock.settimeout(None)
        except OSError:
            pass
    rest = after_ready(received)
    if rest is None:
        raise NotReady("something other than a maxtrio daemon answers on the daemon socket")
    return rest


def after_ready(received: bytes) -> bytes | None:
    """What follows the ``ready`` line that ``received`` starts with; None when its first
    line is not ``ready``."""
    line, _, rest = received.partition(b"\n")
    try:
        kind = decode_message(line)["kind"]
    except ValueError:
        kind = None
    return rest if kind == "ready" else None


class _PromptInterrupted(Exception):
    pass


class Conversation:
    """The launcher's half of one connection."""

    def __init__(self, sock: _socket.socket, received: bytes = b"") -> None:
        self.sock = sock
        self.received = received  # what arrived after ``ready``
        self.syncs: list[dict[str, object]] = []
        self.interrupts = 0
        self.prompting = False
        self.sending = False
        self.cancel_pending = False
        self.stale_version: str | None = None
        self._streams: dict[str, BinaryIO | None] = {
            "stdout": _binary(sys.stdout),
            "stderr": _binary(sys.stderr),
        }
        self._dirty: BinaryIO | None = None
        self.heard = False  # any message from the daemon yet?

    # -- sending -----------------------------------------------------------------------------

    def send(self, message: dict[str, object]) -> None:
        self.sending = True
        try:
            self.sock.sendall(encode_line(message), _SEND_FLAGS)
        except OSError as exc:
            raise ConnectionLost(f"cannot write to the daemon socket ({exc.strerror})") from None
        finally:
            self.sending = False
        if self.cancel_pending:
            self.cancel_pending = False
            self._send_cancel()

    def _send_cancel(self) -> None:
        try:
            self.sock.sendall(encode_line({"kind": "cancel"}), _SEND_FLAGS)
        except OSError:
            pass  # the daemon is gone; the receive loop reports it

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        self.interrupts += 1
        if self.prompting:
            raise _PromptInterrupted()
        if self.interrupts > 1:
            raise KeyboardInterrupt()
        if self.sending:
            self.cancel_pending = True
        else:
            self._send_cancel()

    # -- the conversation ----------------------------------------------------------------------

    def run(self, request: dict[str, object]) -> int:
        """Send ``request`` and follow the daemon until its answer: the exit code, or
        :data:`STALE`. Raises :class:`ConnectionLost`; ``KeyboardInterrupt`` on a second
        Ctrl-C."""
        previous = _signal.signal(_signal.SIGINT, self._on_sigint)
        try:
            self.send(request)
            return self._receive()
        except ConnectionLost as lost:
            lost.syncs = self.syncs
            raise
        finally:
            _signal.signal(_signal.SIGINT, previous)

    def _receive(self) -> int:
        pending, chunk = b"", self.received
        self.received = b""
        while True:
            if not chunk:
                try:
                    chunk = self.sock.recv(_RECEIVE_BYTES)
                except OSError as exc:
                    raise ConnectionLost(
                        f"cannot read the daemon socket ({exc.strerror})", silent=not self.heard
                    ) from None
                if not chunk:
                    self._flush()
                    raise ConnectionLost(
                        "the daemon closed the connection unexpectedly", silent=not self.heard
                    )
            pending += chunk
            chunk = b""
            lines = pending.split(b"\n")
            pending = lines.pop()
            if len(pending) > MAX_LINE_BYTES:
                raise ConnectionLost("a message from the daemon is too long")
            for line in lines:
                if not line.strip():
                    continue
                code = self._handle(line)
                if code is not None:
                    self._flush()
                    return code
            self._flush()

    def _handle(self, line: bytes) -> int | None:
        try:
            message = decode_message(line)
        except ValueError as exc:
            raise ConnectionLost(f"cannot parse a message from the daemon ({exc})") from None
        kind = message["kind"]
        self.heard = True
        if kind == "write":
            text = message.get("text")
            if isinstance(text, str):
                stream = "stderr" if message.get("stream") == "stderr" else "stdout"
                self._write(stream, text)
            return None
        if kind == "prompt":
            self._prompt(message)
            return None
        if kind == "response":
            stderr = message.get("stderr")
            if isinstance(stderr, str) and stderr:
                self._write("stderr", stderr)
            code = message.get("exitCode")
            return code if isinstance(code, int) and not isinstance(code, bool) else 1
        if kind == "sync-started":
            self.syncs.append(message)
            return None
        if kind == "stale":
            version = message.get("daemonVersion")
            self.stale_version = version if isinstance(version, str) else "?"
            return STALE
        return None  # unknown kinds are ignored (newer daemons may add some)

    # -- output ----------------------------------------------------------------------------

    def _write(self, stream: str, text: str) -> None:
        target = self._streams[stream]
        if target is None:
            return
        if self._dirty is not None and self._dirty is not target:
            self._flush()
        try:
            data = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            data = text.encode("utf-8", "replace")
        try:
            target.write(data)
        except BrokenPipeError:
            self._reader_gone(stream)
            return
        self._dirty = target

    def _flush(self) -> None:
        target, self._dirty = self._dirty, None
        if target is None:
            return
        try:
            target.flush()
        except BrokenPipeError:
            self._reader_gone("stdout" if target is self._streams["stdout"] else "stderr")

    def _reader_gone(self, stream: str) -> None:
        """Our reader closed its end: stop the command (close the socket) and exit 0."""
        self._streams[stream] = None
        if stream == "stdout":
            _silence_stdout()
            raise ReaderGone()

    # -- prompts -----------------------------------------------------------------------------

    def _prompt(self, message: dict[str, object]) -> None:
        from ._terminal import ask

        self._flush()
        text = message.get("message")
        secret = message.get("secret") is True
        self.prompting = True
        try:
            answer = ask(text if isinstance(text, str) else "", secret=secret)
        except _PromptInterrupted:
            self.prompting = False
            self._send_cancel()
            return
        finally:
            self.prompting = False
        self.send({"kind": "input", "value": answer})


class ReaderGone(Exception):
    """Whoever read our stdout went away: the command is abandoned, exit 0."""


def _binary(stream: object) -> BinaryIO | None:
    return getattr(stream, "buffer", None)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


def converse(sock: _socket.socket, request: dict[str, object], received: bytes = b"") -> int:
    """Run one request over ``sock`` (closed afterwards; ``received``: what came after
    ``ready``); returns the exit code or STALE."""
    conversation = Conversation(sock, received)
    try:
        return conversation.run(request)
    except ReaderGone:
        return 0
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    finally:
        sock.close()
