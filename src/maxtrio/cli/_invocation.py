"""Who a command runs for: the caller's directory, environment, prompts, Ctrl-C and warm nodes.

In direct mode that is this process — ``os.getcwd()``, ``os.environ``, the terminal, SIGINT
and SIGTERM — and nothing here needs setting. The workspace daemon (``maxtrio.daemon``) runs
commands for other processes, several at once, so it sets an :class:`Invocation` around each
command with :func:`invocation_scope`: a context variable, so every task the command starts
sees the same one.

The CLI reads the caller's world only through these functions (:func:`current_cwd`,
:func:`current_environ`, :func:`interrupt_requests`, the invocation's ``ask`` and
``global_max``); its output already goes through ``sys.stdout``/``sys.stderr``, which the
daemon routes per command.

Standard library only at import time (``_output`` imports this).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from maxtrio.federation import GlobalMax

#: ``ask(message, secret=…)`` → the answer, or None when the caller has no more input.
Asker = Callable[..., Awaitable[str | None]]
#: A context manager giving an async iterable that yields once per "please stop" (Ctrl-C).
InterruptSource = Callable[[], AbstractContextManager[Any]]


class Invocation:
    """The caller of one command, as the daemon knows it from the request."""

    def __init__(
        self,
        *,
        cwd: Path,
        environ: Mapping[str, str],
        ask: Asker | None = None,
        interrupts: InterruptSource | None = None,
        global_max: GlobalMax | None = None,
    ) -> None:
        self.cwd = cwd
        self.environ = environ
        self.ask = ask
        self.interrupts = interrupts
        self.global_max = global_max

    def __repr__(self) -> str:
        return f"<Invocation cwd={str(self.cwd)!r}>"


_CURRENT: ContextVar[Invocation | None] = ContextVar("maxtrio_cli_invocation", default=None)


def current_invocation() -> Invocation | None:
    """The invocation set by the daemon, or None in direct mode."""
    return _CURRENT.get()


@contextmanager
def invocation_scope(invocation: Invocation) -> Iterator[Invocation]:
    """Run the enclosed command (and every task it starts) for ``invocation``."""
    token = _CURRENT.set(invocation)
    try:
        yield invocation
    finally:
        _CURRENT.reset(token)


def current_cwd() -> Path:
    """The caller's working directory."""
    invocation = _CURRENT.get()
    return invocation.cwd if invocation is not None else Path(os.getcwd())


def current_environ() -> Mapping[str, str]:
    """The caller's environment (in the daemon: the request's allow-listed variables)."""
    invocation = _CURRENT.get()
    return invocation.environ if invocation is not None else os.environ


def resolve_path(path: str) -> Path:
    """``path`` (``~`` expanded) made absolute against the caller's directory."""
    expanded = Path(path).expanduser()
    return expanded if expanded.is_absolute() else current_cwd() / expanded


def interrupt_requests() -> AbstractContextManager[Any]:
    """An async iterable that yields when the caller asks the command to stop: SIGINT or
    SIGTERM in direct mode, the launcher's ``cancel`` message in the daemon. Commands that
    stop cleanly on request (``max sync``) listen here; others are simply cancelled."""
    invocation = _CURRENT.get()
    if invocation is not None and invocation.interrupts is not None:
        return invocation.interrupts()
    import signal

    import trio

    return trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM)
