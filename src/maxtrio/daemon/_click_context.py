"""asyncclick's "current context" per command, not per thread.

asyncclick keeps the stack behind ``click.get_current_context()`` in a ``threading.local``.
Direct mode runs one command per process, so that is enough; the daemon runs several commands
at once on one thread, and a command that awaits would find another command's context on top
of the shared stack. :func:`use_task_local_contexts` swaps the thread-local for one kept in a
context variable, and :func:`own_context_stack` gives the enclosed command (and the tasks it
starts) a stack of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import asyncclick.globals

_STATE: ContextVar[dict[str, Any]] = ContextVar("maxtrio_click_state")
_SHARED: dict[str, Any] = {}


class _TaskLocal:
    """Quacks like the ``threading.local`` asyncclick uses (``.stack``, ``.__dict__``)."""

    __slots__ = ()

    @property
    def __dict__(self) -> dict[str, Any]:  # type: ignore[override]
        return _STATE.get(_SHARED)

    @property
    def stack(self) -> list[Any]:
        try:
            stack: list[Any] = _STATE.get(_SHARED)["stack"]
        except KeyError:
            raise AttributeError("stack") from None
        return stack


def use_task_local_contexts() -> None:
    """Make asyncclick's context stack task-local (idempotent)."""
    if not isinstance(asyncclick.globals._local, _TaskLocal):
        asyncclick.globals._local = _TaskLocal()  # type: ignore[assignment]


@contextmanager
def own_context_stack() -> Iterator[None]:
    token = _STATE.set({})
    try:
        yield
    finally:
        _STATE.reset(token)
