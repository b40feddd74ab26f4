"""The in-process deployer: each live node is a task of one nursery (structured hosting).

A node is opened by an async context manager (an installation's store, connector and
executor). :meth:`InProcessDeployer.deploy` starts a task in the deployer's nursery that enters
the context manager, hands the node back and holds it open until the node is stopped
(:meth:`InProcessDeployer.stop`) or the deployer closes — so every resource a node owns lives
and dies in one task, and cancellation (Ctrl-C) unwinds them all. An error while opening
reaches the caller of ``deploy``; an error while closing is logged (the other nodes still
close). Locator of this strategy: ``{"strategy":"in-process"}``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import attrs
import trio

from ._records import IN_PROCESS, IN_PROCESS_LOCATOR

T = TypeVar("T")

log = logging.getLogger("maxtrio.federation")


@attrs.define(eq=False)
class _Hosted:
    label: str
    node: Any = None
    stop_requested: trio.Event = attrs.field(factory=trio.Event)
    closed: trio.Event = attrs.field(factory=trio.Event)


class InProcessDeployer:
    """Hosts nodes in ``nursery``; :meth:`aclose` stops them newest first."""

    kind = IN_PROCESS
    locator = IN_PROCESS_LOCATOR

    def __init__(self, nursery: trio.Nursery) -> None:
        self._nursery = nursery
        self._hosted: list[_Hosted] = []

    def __repr__(self) -> str:
        return f"<InProcessDeployer hosting {[h.label for h in self._hosted]}>"

    @property
    def hosted(self) -> int:
        """How many nodes are open now."""
        return len(self._hosted)

    async def deploy(
        self, open_node: Callable[[], AbstractAsyncContextManager[T]], *, label: str = "node"
    ) -> T:
        """Open a node in its own hosting task; returns once it is open (errors propagate)."""
        hosted = _Hosted(label)
        node: T = await self._nursery.start(self._host, open_node, hosted)
        self._hosted.append(hosted)
        return node

    async def stop(self, node: object) -> None:
        """Close one hosted node and wait until it is closed (no-op when not hosted here)."""
        for hosted in self._hosted:
            if hosted.node is node:
                await self._stop(hosted)
                return

    async def aclose(self) -> None:
        """Close every hosted node, newest first."""
        while self._hosted:
            await self._stop(self._hosted[-1])

    async def _stop(self, hosted: _Hosted) -> None:
        hosted.stop_requested.set()
        await hosted.closed.wait()
        if hosted in self._hosted:
            self._hosted.remove(hosted)

    async def _host(
        self,
        open_node: Callable[[], AbstractAsyncContextManager[Any]],
        hosted: _Hosted,
        *,
        task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        started = False
        try:
            async with open_node() as node:
                hosted.node = node
                task_status.started(node)
                started = True
                await hosted.stop_requested.wait()
        except Exception:
            if not started:
                raise
            log.exception("closing %s failed", hosted.label)
        finally:
            hosted.closed.set()
            if hosted in self._hosted:
                self._hosted.remove(hosted)


CLOSE_TIMEOUT = 15.0


async def close_deployer(
    deployer: InProcessDeployer, nursery: trio.Nursery, *, grace: float = CLOSE_TIMEOUT
) -> None:
    """Close every node of ``deployer`` (shielded: also when the owner is being cancelled),
    then cancel what is left of ``nursery`` if closing took longer than ``grace`` seconds."""
    with trio.CancelScope(shield=True), trio.move_on_after(grace):
        await deployer.aclose()
    nursery.cancel_scope.cancel()
