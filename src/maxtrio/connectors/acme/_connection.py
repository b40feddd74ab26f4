"""``AcmeConnection`` (the client's lifecycle) and ``AcmeAppContext`` (what handlers receive).

``initialise`` builds the connection inert, holding a credential *handle*; ``start()`` reads the
token and opens one :class:`AcmeApiClient` (one connection pool) that every operation of the
installation shares; ``stop()`` closes it. Reading ``client`` before ``start()`` raises
``connector-acme.client_not_started``. ``health()`` lists workspaces with the live client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from maxtrio.connector import CredentialHandle, HealthStatus
from maxtrio.core import MaxError

from ._client import DEFAULT_PAGE_SIZE, AcmeApiClient
from ._config import AcmeConfig
from ._errors import ErrClientNotStarted

if TYPE_CHECKING:
    import httpx


class AcmeConnection:
    """The API client of one installation, opened by ``start()`` and closed by ``stop()``."""

    def __init__(
        self,
        config: AcmeConfig,
        token: CredentialHandle,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        self.config = config
        self._token = token
        self._transport = transport
        self._page_size = page_size
        self._client: AcmeApiClient | None = None

    def __repr__(self) -> str:
        state = "started" if self._client is not None else "not started"
        return f"<AcmeConnection {self.config.base_url} {state}>"

    @property
    def client(self) -> AcmeApiClient:
        if self._client is None:
            raise ErrClientNotStarted(connector="acme")
        return self._client

    async def start(self) -> None:
        if self._client is not None:
            return
        token = await self._token.get()
        self._client = AcmeApiClient(
            self.config.base_url, token, transport=self._transport, page_size=self._page_size
        )

    async def stop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def health(self) -> HealthStatus:
        try:
            await self.client.list("workspaces")
        except MaxError as err:
            return HealthStatus.unhealthy(err.message)
        return HealthStatus.healthy()


@attrs.frozen
class AcmeAppContext:
    """The acme context: ``api`` (has ``client``) and the configured ``workspace_id``."""

    api: AcmeConnection
    workspace_id: str
