"""Answering the daemon's prompts from this terminal.

The prompt text goes to stderr (as in direct mode, so stdout stays the command's result); the
answer is one line of stdin. For a secret prompt the terminal's echo is turned off (``termios``)
before the prompt is shown, and always turned back on — also when Ctrl-C interrupts the
prompt. End of input gives ``None`` (the daemon's command then reports the missing value).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO


def ask(message: str, *, secret: bool) -> str | None:
    stdin, err = sys.stdin, sys.stderr
    if stdin is None:
        _show(err, message)
        return None
    if secret and _isatty(stdin):
        line = _read_without_echo(stdin, err, message)
    else:
        _show(err, message)
        line = stdin.readline()
    if not line:
        return None
    return line.rstrip("\r\n")


def _show(stream: TextIO | None, text: str) -> None:
    if stream is not None:
        stream.write(text)
        stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _read_without_echo(stdin: TextIO, err: TextIO | None, message: str) -> str:
    import termios

    fd = stdin.fileno()
    saved = termios.tcgetattr(fd)
    quiet = list(saved)
    quiet[3] = quiet[3] & ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSADRAIN, quiet)
    try:
        _show(err, message)
        return stdin.readline()
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        _show(err, "\n")
