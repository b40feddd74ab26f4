"""Opening an installation's parts: its credentials checked, its connector initialised and
started, its store opened.

:func:`started` is the sequence both ways of opening an installation share —
:class:`~maxtrio.federation.InstallationMax` (its whole store, then the sync setup and the
executor) and :class:`~maxtrio.federation.InstallationReader` (its entity engine alone) — so
both fail alike, in the same order: ``credentials.json`` unreadable or readable by others (its
own error), the connector's config refused (``app.installation_unavailable``), the store not
opened (its own error), the connector not started (``app.installation_unavailable``). Only the
connector module's ``schema``, ``credentials`` and ``initialise`` are used: a deferred
definition stays unbuilt.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import trio

from maxtrio.connector import ConnectorModule, Installation, Platform
from maxtrio.core import MaxError

from ._errors import ErrInstallationUnavailable
from ._provision import provision_installation
from ._records import InstallationInfo

if TYPE_CHECKING:
    from maxtrio.connector import FileCredentialStore
    from maxtrio.core import Schema

CREDENTIALS_FILE_NAME = "credentials.json"


class Closable(Protocol):
    def close(self) -> None: ...


S = TypeVar("S", bound=Closable)


@asynccontextmanager
async def started(
    info: InstallationInfo,
    connector: ConnectorModule,
    open_store: Callable[[InstallationInfo, Schema], S],
) -> AsyncIterator[tuple[S, Installation[Any]]]:
    """The installation's store, opened by ``open_store`` (``_store_choice.open_store`` or
    ``open_engine``; in a worker thread), and its connector, running
    (``Installation.running``) for the block; both closed on exit (also on cancellation). A
    connector that rejects its config or cannot start raises ``app.installation_unavailable``
    with its error as cause."""
    provision_installation(info.data_dir)
    credentials = await checked_credentials(info)
    with unavailable(info):
        installation = connector.initialise(
            info.config, Platform.for_connector(connector, credentials)
        )
    store = await trio.to_thread.run_sync(open_store, info, connector.schema)
    try:
        with unavailable(info):
            await installation.start()
        async with installation.running():
            yield store, installation
    finally:
        store.close()


async def checked_credentials(info: InstallationInfo) -> FileCredentialStore:
    """The installation's credential store, read once: a ``credentials.json`` others may read
    (``connector.credentials_file_exposed``) or a corrupt one stops the command here with its
    own error (path and hint), not as a connector that failed to start or a failed sync."""
    from maxtrio.connector import FileCredentialStore

    credentials = FileCredentialStore(info.data_dir / CREDENTIALS_FILE_NAME)
    await credentials.keys()
    return credentials


@contextmanager
def unavailable(info: InstallationInfo) -> Iterator[None]:
    """Turn a connector's failure to initialise or start into ``app.installation_unavailable``."""
    try:
        yield
    except Exception as exc:
        reason = exc.message if isinstance(exc, MaxError) else str(exc) or type(exc).__name__
        hint = exc.data.get("hint") if isinstance(exc, MaxError) else None
        raise ErrInstallationUnavailable(
            installation=info.name, reason=reason, cause=exc, **({"hint": hint} if hint else {})
        ) from exc
