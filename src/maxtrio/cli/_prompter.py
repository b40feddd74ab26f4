"""Prompters for ``max connect``: the terminal (a person answers) and none (flags answer).

Both write the onboarding conversation — descriptions, ``Verify credentials... done`` — to
stderr, so stdout carries only the command's result (and ``-o json`` stays parseable). Without
a person (``--no-input``) the conversation is shown only when stderr is a terminal: a script
or an agent sees just the result, or one ``Error:`` line.

:class:`TerminalPrompter` reads answers from the terminal in a worker thread (``input`` /
``getpass``, which turns echo off for secrets); the thread is abandoned if the command is
cancelled (Ctrl-C), so a pending prompt never hangs the process. :class:`NoInputPrompter` is
``--no-input``: the onboarding runner never asks it, it lists what is missing instead.
"""

from __future__ import annotations

import getpass
import sys
from typing import TextIO


class NoInputPrompter:
    """Non-interactive: output to stderr, and ``ask`` is never called (the runner checks
    :attr:`interactive`; if a custom step asks anyway it gets ``connector.input_required``)."""

    interactive = False

    def __init__(self, stream: TextIO | None = None, *, quiet: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = not _is_terminal(self.stream) if quiet is None else quiet

    async def ask(self, message: str, *, secret: bool = False) -> str:
        from maxtrio.connector import ErrInputRequired

        raise ErrInputRequired(prompt=message.strip().rstrip(":"))

    async def write(self, text: str) -> None:
        if self.quiet:
            return
        self.stream.write(text)
        self.stream.flush()


class TerminalPrompter(NoInputPrompter):
    """A person at a terminal answers; secrets are read without echo."""

    interactive = True

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream, quiet=False)

    async def ask(self, message: str, *, secret: bool = False) -> str:
        import trio

        from ._invocation import current_invocation

        invocation = current_invocation()
        if invocation is not None and invocation.ask is not None:
            remote = await invocation.ask(message, secret=secret)
            if remote is None:
                from maxtrio.connector import ErrInputRequired

                raise ErrInputRequired(prompt=message.strip().rstrip(":"))
            return remote

        def read() -> str | None:
            if secret:
                try:
                    return getpass.getpass(message, stream=self.stream)
                except EOFError:
                    return None
            self.stream.write(message)
            self.stream.flush()
            line = sys.stdin.readline()
            return line.rstrip("\n") if line else None

        answer = await trio.to_thread.run_sync(read, abandon_on_cancel=True)
        if answer is None:
            from maxtrio.connector import ErrInputRequired

            raise ErrInputRequired(prompt=message.strip().rstrip(":"))
        return answer


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False
