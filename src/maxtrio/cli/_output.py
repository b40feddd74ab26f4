"""Where the CLI writes, and how it looks: the colour decision, ANSI styles, and a stdout sink
that notices when the reader has gone away.

Colour: ``NO_COLOR`` set (any value) → never; ``TERM=dumb``
→ never; ``--no-color`` → off; ``--color`` → on; ``FORCE_COLOR`` set and not ``0`` → on;
otherwise on only when the stream is a terminal. Undecided is *off* (the reference defaults to
on and pipes ANSI codes). JSON, NDJSON and CSV output never carry ANSI codes.

Broken pipes (``max search --all | head``): the first write that fails with ``EPIPE`` raises
:class:`ReaderGone`; the entry point turns it into a quiet exit 0, and stdout is pointed at
``/dev/null`` so the interpreter's final flush cannot print a traceback.

Standard library only: every command imports this module.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Mapping
from typing import TextIO

from ._invocation import current_environ

_RESET = "\x1b[0m"
_CODES = {
    "bold": "\x1b[1m",
    "dim": "\x1b[2m",
    "underline": "\x1b[4m",
    "red": "\x1b[31m",
    "green": "\x1b[32m",
    "yellow": "\x1b[33m",
    "normal": "\x1b[37m",
}


class ReaderGone(Exception):
    """Whoever read our stdout closed it (``EPIPE``): stop producing output, exit 0."""


def decide_color(
    stream: TextIO, flag: bool | None, environ: Mapping[str, str] | None = None
) -> bool:
    """Whether to colour ``stream``; ``flag`` is ``--color`` (True), ``--no-color`` (False)."""
    env = current_environ() if environ is None else environ
    if "NO_COLOR" in env or env.get("TERM") == "dumb":
        return False
    if flag is not None:
        return flag
    force = env.get("FORCE_COLOR")
    if force is not None and force != "0":
        return True
    return _isatty(stream)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


class Style:
    """ANSI styling that is a no-op when colour is off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def apply(self, style: str, text: str) -> str:
        if not self.enabled or not text:
            return text
        return f"{_CODES[style]}{text}{_RESET}"

    def bold(self, text: str) -> str:
        return self.apply("bold", text)

    def dim(self, text: str) -> str:
        return self.apply("dim", text)

    def underline(self, text: str) -> str:
        return self.apply("underline", text)

    def red(self, text: str) -> str:
        return self.apply("red", text)

    def green(self, text: str) -> str:
        return self.apply("green", text)

    def yellow(self, text: str) -> str:
        return self.apply("yellow", text)

    def normal(self, text: str) -> str:
        return self.apply("normal", text)


PLAIN = Style(False)


def visible_len(text: str) -> int:
    """Length of ``text`` without ANSI escape sequences (for padding coloured cells)."""
    if "\x1b" not in text:
        return len(text)
    length = 0
    in_escape = False
    for char in text:
        if in_escape:
            in_escape = char != "m"
        elif char == "\x1b":
            in_escape = True
        else:
            length += 1
    return length


def pad(text: str, width: int) -> str:
    """``text`` left-justified to ``width`` visible characters."""
    return text + " " * max(0, width - visible_len(text))


class Sink:
    """A text stream the CLI writes whole chunks to; each chunk ends with one newline."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream

    def line(self, text: str = "") -> None:
        """Write ``text`` and a newline, flushed (so streamed pages reach a pipe promptly)."""
        self.write(f"{text}\n")

    def write(self, text: str) -> None:
        if self.stream is None:  # started with the descriptor closed (max ls >&-)
            raise ReaderGone()
        try:
            self.stream.write(text)
            self.stream.flush()
        except BrokenPipeError:
            raise ReaderGone() from None
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise ReaderGone() from None
            raise


def stdout() -> Sink:
    return Sink(sys.stdout)


def stderr() -> Sink:
    return Sink(sys.stderr)


def silence_stdout() -> None:
    """After ``EPIPE``: point fd 1 at ``/dev/null`` so the exit-time flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
