"""Installations (a configured, live connector), their health, and the connector module.

A :class:`ConnectorModule` is what a connector package exports: its ``definition`` and
``initialise(config, platform) -> Installation``. ``initialise`` is pure assembly, no I/O: it
checks the config, takes credential *handles* from ``platform.credentials`` and builds the
connector's context; the returned :class:`Installation` is inert until started.

Lifecycle: ``start()`` (runs once: resolve credentials, open clients), ``stop()`` (close them;
safe to call twice or without a start) and ``health()``. The structured way is
``async with installation.running():`` — it starts the installation, runs its background tasks
(e.g. OAuth refresh schedulers) in a nursery it owns, and on exit (also on cancellation)
cancels them and stops the installation, shielded and bounded by ``stop_timeout``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

import attrs
import trio

from maxtrio.core import MaxError

from ._credentials import CredentialProvider, CredentialStore
from ._definition import ConnectorDef
from ._health import HealthStatus

C = TypeVar("C")

DEFAULT_HEALTH_TIMEOUT = 10.0
DEFAULT_STOP_TIMEOUT = 5.0


Hook = Callable[[], Awaitable[None]]
BackgroundTask = Callable[..., Awaitable[None]]
"""An async function taking ``task_status`` (started with ``nursery.start``)."""


class Installation(Generic[C]):
    """A connector configured for one data source: its context plus lifecycle hooks."""

    def __init__(
        self,
        context: C,
        *,
        start: Hook | None = None,
        stop: Hook | None = None,
        health: Callable[[], Awaitable[HealthStatus]] | None = None,
        background: Iterable[BackgroundTask] = (),
        health_timeout: float = DEFAULT_HEALTH_TIMEOUT,
        stop_timeout: float = DEFAULT_STOP_TIMEOUT,
    ) -> None:
        self.context = context
        self._start = start
        self._stop = stop
        self._health = health
        self._background = tuple(background)
        self.health_timeout = health_timeout
        self._stop_timeout = stop_timeout
        self._lock = trio.Lock()
        self._started = False

    @classmethod
    def create(
        cls,
        context: C,
        *,
        start: Hook | None = None,
        stop: Hook | None = None,
        health: Callable[[], Awaitable[HealthStatus]] | None = None,
        background: Iterable[BackgroundTask] = (),
    ) -> Installation[C]:
        return cls(context, start=start, stop=stop, health=health, background=background)

    def __repr__(self) -> str:
        return f"<Installation {type(self.context).__name__} started={self._started}>"

    @property
    def started(self) -> bool:
        return self._started

    async def start(self) -> None:
        """Run the start hook once; later calls return at once (a failed start may be retried)."""
        async with self._lock:
            if self._started:
                return
            if self._start is not None:
                await self._start()
            self._started = True

    async def stop(self) -> None:
        """Run the stop hook if started; idempotent."""
        async with self._lock:
            if not self._started:
                return
            self._started = False
            if self._stop is not None:
                await self._stop()

    async def health(self) -> HealthStatus:
        """The connector's health, never raising: errors and a timeout (``health_timeout``
        seconds) read as unhealthy."""
        if self._health is None:
            return HealthStatus.healthy()
        timeout = self.health_timeout
        try:
            with trio.fail_after(timeout):
                status = await self._health()
        except trio.TooSlowError:
            return HealthStatus.unhealthy(f"health check timed out after {timeout:g} s")
        except MaxError as err:
            return HealthStatus.unhealthy(err.message)
        except Exception as exc:
            return HealthStatus.unhealthy(str(exc) or type(exc).__name__)
        return status

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Installation[C]]:
        """Started, with background tasks running, for the duration of the block."""
        await self.start()
        try:
            async with trio.open_nursery() as nursery:
                for task in self._background:
                    await nursery.start(task)
                yield self
                nursery.cancel_scope.cancel()
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(self._stop_timeout):
                await self.stop()


@attrs.frozen
class Platform:
    """What the platform hands to ``initialise``: the installation's credential provider."""

    credentials: CredentialProvider

    @classmethod
    def for_connector(cls, definition: ConnectorDef, store: CredentialStore) -> Platform:
        """A platform whose provider knows the connector's declared (OAuth) credentials."""
        return cls(CredentialProvider.for_credentials(store, definition.credentials))


Initialise = Callable[[Mapping[str, Any], Platform], Installation[Any]]


@attrs.frozen(eq=False, repr=False)
class ConnectorModule:
    """What a connector package exports (as an entry point of group ``maxtrio.connectors``)."""

    definition: ConnectorDef
    initialise: Initialise

    def __repr__(self) -> str:
        return f"ConnectorModule({self.definition.name} v{self.definition.version})"

    @property
    def name(self) -> str:
        return self.definition.name
