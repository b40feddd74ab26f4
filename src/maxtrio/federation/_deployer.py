"""The in-process deployer: each live node is a task of one nursery (structured hosting).

A node is opened by an async context manager (an installation's store, connector and executor;
a workspace's nothing-much). :meth:`InProcessDeployer.deploy` starts a task in the deployer's
nursery that enters the context manager, hands the node back, and holds it open until the node
is stopped (:meth:`DeployedNode.stop`) or the deployer closes — so every resource a node owns
lives and dies in one task, and cancellation (Ctrl-C) unwinds them all. Locator of this
strategy: ``{"strategy":"in-process"}``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Generic, TypeVar

import trio

T = TypeVar("T")

IN_PROCESS_LOCATOR = '{"strategy":"in-process"}'


class DeployedNode(Generic[T]):
    """A node hosted by an :class:`InProcessDeployer`; ``stop()`` closes it and waits."""

    node: T

    async def stop(self) -> None:
        raise NotImplementedError


class InProcessDeployer:
    """Hosts nodes in ``nursery``; :meth:`aclose` stops them newest first."""

    kind = "in-process"

    def __init__(self, nursery: trio.Nursery) -> None:
        self._nursery = nursery

    async def deploy(self, open_node: Callable[[], AbstractAsyncContextManager[T]]) -> T:
        """Open a node in its own hosting task; returns once it is open (errors propagate)."""
        raise NotImplementedError

    async def stop(self, node: object) -> None:
        """Close one hosted node (no-op when it is not hosted here)."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Close every hosted node, newest first."""
        raise NotImplementedError
