"""A real pseudo-terminal for tests: ``max …`` with a person at the keyboard.

:class:`Terminal` starts a program with a new pseudo-terminal as its controlling terminal
(``pty.fork``: the child leads a new session, and the terminal's foreground process group is
the child's), so what the program sees is what it sees in a person's terminal: ``isatty()`` on
stdin, stdout and stderr, a window size, echo, and **Ctrl-C** — writing ``\\x03`` to the master
side makes the terminal driver send SIGINT to the foreground process group, exactly as a key
press does (no ``kill`` from the test).

A program that shows nothing while it works (``max sql`` running a statement) is watched with
:func:`wait_for_busy_thread`: a thread other than the main one of a process has used some CPU
time (from ``/proc``), so the work has started, with no guess of how long start-up takes.

The test reads what was drawn (:attr:`Terminal.raw`, or :meth:`Terminal.text` without escape
sequences), waits for something to appear (:meth:`Terminal.expect`, polling with a deadline —
the program is another process), types (:meth:`Terminal.send`, :meth:`Terminal.ctrl_c`) and
collects the exit code (:meth:`Terminal.finish`). Used as a context manager, a program still
running when the block ends is killed, so a failing test never leaves one behind.

Blocking calls (``select``): call them from plain (not ``async``) test functions, or through
``trio.to_thread.run_sync`` when the test's nursery serves something.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import struct
import termios
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

#: CSI sequences (colours, cursor moves, erase), OSC sequences and single-character escapes.
_ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
CTRL_C = b"\x03"


def strip_escapes(raw: bytes) -> str:
    """``raw`` terminal output as a transcript: escape sequences removed, line ends as
    ``\\n`` — a bare ``\\r`` too (a redrawn line or frame starts on a line of its own)."""
    text = _ESCAPES.sub(b"", raw).decode(errors="replace")
    return re.sub(r"\r+\n?", "\n", text)


def _thread_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU time (user + system) of each thread of ``pid`` but its main thread."""
    ticks = os.sysconf("SC_CLK_TCK")
    times: dict[int, float] = {}
    with contextlib.suppress(FileNotFoundError):
        for tid in os.listdir(f"/proc/{pid}/task"):
            if int(tid) == pid:
                continue
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
                fields = stat.rsplit(") ", 1)[1].split()
                times[int(tid)] = (int(fields[11]) + int(fields[12])) / ticks
    return times


def wait_for_busy_thread(pid: int, cpu_seconds: float = 0.3, timeout: float = 60) -> None:
    """Wait until a non-main thread of ``pid`` used ``cpu_seconds`` more CPU than when the
    wait began (a worker thread is computing: the statement runs)."""
    start = _thread_cpu_seconds(pid)
    deadline = time.monotonic() + timeout
    while True:
        now = _thread_cpu_seconds(pid)
        if any(seconds - start.get(tid, 0.0) >= cpu_seconds for tid, seconds in now.items()):
            return
        assert time.monotonic() < deadline, f"no thread of {pid} got busy in {timeout:g} s"
        time.sleep(0.05)


class Terminal:
    """``argv`` running on a pseudo-terminal of ``rows`` × ``columns`` (see module docstring)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        rows: int = 40,
        columns: int = 120,
    ) -> None:
        self.argv = list(argv)
        self.raw = b""
        self.exit_code: int | None = None
        environment = {"TERM": "xterm-256color", **env}
        pid, fd = pty.fork()
        if pid == 0:  # the child: a session leader with the terminal as its controlling tty
            try:
                # A foreground job of an interactive shell: Ctrl-C and Ctrl-\ do their default,
                # even when the tests run with them ignored (started in the background by a
                # non-interactive shell, which ignores SIGINT for its asynchronous commands).
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGQUIT, signal.SIG_DFL)
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
                os.chdir(cwd)
                os.execve(self.argv[0], self.argv, environment)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self._closed = False

    # -- reading -------------------------------------------------------------------------------

    def _read(self, timeout: float) -> bool:
        """Append what arrives within ``timeout`` seconds; False once the terminal closed."""
        if self._closed:
            return False
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: every process holding the child side is gone
            chunk = b""
        if not chunk:
            self._closed = True
            return False
        self.raw += chunk
        return True

    def _drain(self) -> None:
        """Read what is still buffered (until the end, or 50 ms without output)."""
        while True:
            before = len(self.raw)
            if not self._read(0.05) or len(self.raw) == before:
                return

    def text(self) -> str:
        """Everything drawn so far, without escape sequences."""
        return strip_escapes(self.raw)

    def expect(self, pattern: str | re.Pattern[str], timeout: float = 30) -> re.Match[str]:
        """Wait until ``pattern`` (text, or a regular expression) appears in :meth:`text`."""
        wanted = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
        deadline = time.monotonic() + timeout
        while True:
            found = wanted.search(self.text())
            if found is not None:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"never saw {wanted.pattern!r} on the terminal:\n{self.text()}"
                )
            if not self._read(min(left, 0.2)):
                found = wanted.search(self.text())
                if found is None:
                    raise AssertionError(
                        f"the terminal closed before {wanted.pattern!r}:\n{self.text()}"
                    )
                return found

    # -- typing --------------------------------------------------------------------------------

    def send(self, text: str | bytes) -> None:
        os.write(self.fd, text.encode() if isinstance(text, str) else text)

    def ctrl_c(self) -> None:
        """Press Ctrl-C: the terminal driver sends SIGINT to the foreground process group."""
        self.send(CTRL_C)

    def echo_is_on(self) -> bool:
        return bool(termios.tcgetattr(self.fd)[3] & termios.ECHO)

    # -- the end -------------------------------------------------------------------------------

    def finish(self, timeout: float = 60) -> int:
        """Read until the program exits; its exit code (130 for Ctrl-C as `max` reports it).

        Everything is read first, up to the end of the terminal (every process holding it
        is gone), then the exit status is collected. A program still running after
        ``timeout`` seconds is killed and the test fails."""
        deadline = time.monotonic() + timeout
        while self.exit_code is None:
            before = len(self.raw)
            open_ = self._read(min(0.2, max(deadline - time.monotonic(), 0)))
            if not open_ or len(self.raw) == before:  # the end, or a quiet moment
                done, status = os.waitpid(self.pid, 0 if not open_ else os.WNOHANG)
                if done:
                    self.exit_code = os.waitstatus_to_exitcode(status)
                    self._drain()
                    break
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(
                    f"{self.argv[1:]} still ran after {timeout:g} s:\n{self.text()}"
                )
        return self.exit_code

    def kill(self) -> None:
        if self.exit_code is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            _, status = os.waitpid(self.pid, 0)
            self.exit_code = os.waitstatus_to_exitcode(status)

    def close(self) -> None:
        self.kill()
        if not self._closed:
            self._closed = True
        with contextlib.suppress(OSError):
            os.close(self.fd)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
