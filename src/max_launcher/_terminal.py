"""Answering the daemon's prompts from this terminal.

The prompt text goes to stderr (as in direct mode, so stdout stays the command's result); the
answer is one line of stdin. Secret prompts turn the terminal's echo off (``termios``) and
always turn it back on — also when Ctrl-C interrupts the prompt. End of input gives ``None``
(the daemon's command then reports the missing value).
"""

from __future__ import annotations

import sys


def ask(message: str, *, secret: bool) -> str | None:
    err = sys.stderr
    if err is not None:
        err.write(message)
        err.flush()
    stdin = sys.stdin
    if stdin is None:
        return None
    if secret and _isatty(stdin):
        line = _read_without_echo(stdin)
        if err is not None:
            err.write("\n")
            err.flush()
    else:
        line = stdin.readline()
    if not line:
        return None
    return line.rstrip("\r\n")


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False


def _read_without_echo(stdin: object) -> str:
    import termios

    fd = stdin.fileno()  # type: ignore[attr-defined]
    saved = termios.tcgetattr(fd)
    quiet = list(saved)
    quiet[3] = quiet[3] & ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSADRAIN, quiet)
    try:
        return str(stdin.readline())  # type: ignore[attr-defined]
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
