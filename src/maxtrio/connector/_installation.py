"""Installations (a configured, live connector), their health, and the connector module.

A :class:`ConnectorModule` is what a connector package exports: its ``definition`` and
``initialise(config, platform) -> Installation``. ``initialise`` is pure assembly, no I/O: it
checks the config, takes credential *handles* from ``platform.credentials`` and builds the
connector's context; the returned :class:`Installation` is inert until started.
:meth:`ConnectorModule.deferred` builds the definition on its first use instead: a process that
only starts the connector and asks its health (``max ls``, ``max status``) or reads what it
stored (``max search``) needs the name, the schema, the declared credentials and
``initialise`` — not the seeder, loaders, resolvers, operations, onboarding and change feed
whose classes the rest of the definition is made of.

Lifecycle: ``start()`` (runs once: resolve credentials, open clients), ``stop()`` (close them;
safe to call twice or without a start) and ``health()``. The structured way is
``async with installation.running():`` — it starts the installation, runs its background tasks
(e.g. OAuth refresh schedulers) in a nursery it owns, and on exit (also on cancellation)
cancels them and stops the installation, shielded and bounded by ``stop_timeout``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs
import trio

from maxtrio.core import MaxError

from ._credentials import AnyCredential, CredentialProvider, CredentialStore
from ._errors import ErrInvalidConnectorDef
from ._health import HealthStatus

if TYPE_CHECKING:
    from maxtrio.core import Schema

    from ._definition import ConnectorDef

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
    def for_connector(
        cls, connector: ConnectorDef | ConnectorModule, store: CredentialStore
    ) -> Platform:
        """A platform whose provider knows the connector's declared (OAuth) credentials
        (``connector``: its definition, or its module — which knows them without building
        the definition)."""
        return cls(CredentialProvider.for_credentials(store, connector.credentials))


Initialise = Callable[[Mapping[str, Any], Platform], Installation[Any]]


class ConnectorModule:
    """What a connector package exports (as an entry point of group ``maxtrio.connectors``):
    ``ConnectorModule(definition, initialise)``, or :meth:`deferred` for a definition built on
    first use. ``name``, ``schema`` and ``credentials`` are known either way."""

    __slots__ = ("_define", "_definition", "credentials", "initialise", "name", "schema")

    def __init__(self, definition: ConnectorDef, initialise: Initialise) -> None:
        self.name: str = definition.name
        self.schema: Schema = definition.schema
        self.credentials: tuple[AnyCredential, ...] = definition.credentials
        self.initialise = initialise
        self._definition: ConnectorDef | None = definition
        self._define: Callable[[], object] | str | None = None

    @classmethod
    def deferred(
        cls,
        name: str,
        define: Callable[[], object] | str,
        initialise: Initialise,
        *,
        schema: Schema,
        credentials: Iterable[AnyCredential] = (),
    ) -> ConnectorModule:
        """A module whose definition is built on the first use of :attr:`definition` —
        ``define()``, or the object ``define`` names in the entry-point syntax
        (``"pkg._definition:PkgConnectorDef"``, imported then) — and checked: a
        ``ConnectorDef`` of connector ``name`` with this very ``schema`` and exactly
        ``credentials``, else ``connector.invalid_connector_def``. Starting the connector,
        asking its health and reading its store need only ``name``, ``schema``,
        ``credentials`` and ``initialise``, so a package whose ``initialise`` and schema import
        little keeps such a command from importing the rest (the in-tree connectors do this)."""
        module = cls.__new__(cls)
        module.name = name
        module.schema = schema
        module.credentials = tuple(credentials)
        module.initialise = initialise
        module._definition = None
        module._define = define
        return module

    @property
    def definition(self) -> ConnectorDef:
        """The connector's :class:`ConnectorDef` (a deferred module's built now, once)."""
        if self._definition is None:
            define = self._define
            assert define is not None
            if isinstance(define, str):
                from ._entry_points import load_object

                try:
                    built = load_object(define, "it")
                except (ImportError, AttributeError, ValueError) as exc:
                    raise ErrInvalidConnectorDef(
                        connector=self.name,
                        reason=f"its deferred definition {define!r} cannot be loaded ({exc})",
                    ) from exc
            else:
                built = define()
            self._definition = self._checked(built)
        return self._definition

    def _checked(self, definition: object) -> ConnectorDef:
        from ._definition import ConnectorDef

        def bad(reason: str) -> MaxError:
            return ErrInvalidConnectorDef(connector=self.name, reason=reason)

        if not isinstance(definition, ConnectorDef):
            raise bad("its deferred definition is not a ConnectorDef")
        if definition.name != self.name:
            raise bad(f'its deferred definition is the connector "{definition.name}"')
        if definition.schema is not self.schema:
            raise bad("its deferred definition has another schema than its module")
        if definition.credentials != self.credentials:
            raise bad("its deferred definition declares other credentials than its module")
        return definition

    def __repr__(self) -> str:
        if self._definition is None:
            return f"ConnectorModule({self.name}, definition deferred)"
        return f"ConnectorModule({self.name} v{self._definition.version})"
