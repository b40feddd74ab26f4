"""The remote deployer: an installation of this workspace that lives on another machine.

``max.json`` records it like any installation, with the deployment ::

    {"strategy": "remote", "url": "max+http://HOST:PORT/<ws>/<inst>",
     "dataDir": ".max/installations/<name>"}

— its node is the installation ``<inst>`` of the ``max serve`` at ``url`` (``max://`` =
HTTPS). The data directory holds only ``remote-token`` (0600, like ``credentials.json``
beside it for local installations): the server's bearer token, never printed.

What runs where:

* **commands** (``max -t <ws>/<name> search …``, ``max sync <name>``, ``schema``, ``status``)
  run on the remote node — the ``max`` launcher forwards them over HTTP as it forwards a
  ``-t max+http://…`` target (``max_launcher._remote``), so the output, the sync progress and
  Ctrl-C are the remote node's;
* **health** (``max status``, ``max -g ls``) is asked here, over the server's ``POST /rpc``
  (:meth:`RemoteNode.health`): what the remote node says of itself, or ``unhealthy`` with
  ``unreachable (…)`` / ``unauthorized`` when it cannot be asked;
* **connecting** (``max connect --remote URL --name x``): :meth:`RemoteNode.verify` checks
  that the server answers (``GET /health``), accepts the token and serves the installation
  (``listInstallations``) before :func:`remote_installation_info` and
  :func:`write_remote_token` write anything.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from maxtrio.connector import HealthStatus
from maxtrio.core import BadInput, MaxError, MaxUrl, NotAvailable, NotFound

from ._errors import App
from ._files import write_text_atomic
from ._records import REMOTE, DeploymentConfig, InstallationInfo, InstallationSpec, now_iso

if TYPE_CHECKING:
    import httpx

    from ._workspace import WorkspaceMax

#: The token file in a remote installation's data directory.
REMOTE_TOKEN_FILE = "remote-token"
#: How long a health check may take (connecting and the answer).
HEALTH_SECONDS = 10.0
#: How long ``max connect --remote`` waits for each of its checks.
VERIFY_SECONDS = 30.0

REMOTE_UNREACHABLE_HINT = "check that max serve runs there and the host and port are right"
REMOTE_TOKEN_HINT = (
    "set MAX_TOKEN or pass --token-file FILE with the server's token (its .max/serve-token, "
    "or what max serve -o json printed)"
)

ErrRemoteNodeUnreachable = App.define(
    "remote_node_unreachable", facets=[NotAvailable], message="Cannot reach {url} — {reason}"
)
ErrRemoteNodeUnauthorized = App.define(
    "remote_node_unauthorized", facets=[BadInput], message="Unauthorized by {url} — {reason}"
)
ErrRemoteNodeRefused = App.define(
    "remote_node_refused", facets=[BadInput], message="{url} refused — {reason}"
)
ErrRemoteInstallationMissing = App.define(
    "remote_installation_missing",
    facets=[NotFound],
    message='{url} serves no installation "{installation}" (it has: {available})',
)
ErrRemoteInstallationElsewhere = App.define(
    "remote_installation_elsewhere",
    facets=[BadInput],
    message='Installation "{name}" lives on another machine ({url}): its commands run there',
)
ErrNotARemoteInstallationUrl = App.define(
    "not_a_remote_installation_url",
    facets=[BadInput],
    message='"{url}" is not the URL of a remote installation — {reason}',
)


def remote_url(text: str) -> MaxUrl:
    """``text`` as the URL of an installation of another machine (or the error saying why)."""
    url = MaxUrl.parse(text)
    if url.is_local:
        reason = "its host is this machine (@); give the host and port of max serve"
        raise ErrNotARemoteInstallationUrl(url=text, reason=reason)
    if url.installation is None:
        reason = "it names no installation (max+http://HOST:PORT/<workspace>/<installation>)"
        raise ErrNotARemoteInstallationUrl(url=text, reason=reason)
    return url


def remote_token_path(data_dir: Path) -> Path:
    return data_dir / REMOTE_TOKEN_FILE


def write_remote_token(data_dir: Path, token: str) -> None:
    """The token beside the installation's other files (0600), atomically."""
    write_text_atomic(remote_token_path(data_dir), token + "\n", private=True)


def remote_installation_info(
    name: str, url: MaxUrl, connector: str, data_dir: Path
) -> InstallationInfo:
    """The ``max.json`` entry of a remote installation named ``name`` here."""
    deployment = DeploymentConfig(REMOTE, os.fspath(data_dir), {"url": str(url)})
    locator = '{"strategy":"remote","url":"' + str(url) + '"}'
    return InstallationInfo(
        id=str(uuid.uuid4()),
        connector=connector,
        name=name,
        connected_at=now_iso(),
        deployment=deployment,
        locator=locator,
        spec=InstallationSpec(connector, name, {}),
    )


@attrs.frozen
class RemoteInstallationFacts:
    """What the server says of the installation: its name, id and connector there."""

    name: str
    id: str
    connector: str


@attrs.frozen
class RemoteNode:
    """The installation at ``url`` (a ``max serve``), asked over its RPC with ``token``."""

    url: MaxUrl
    token: str | None

    @classmethod
    def of(cls, info: InstallationInfo) -> RemoteNode:
        """The node of a remote installation of ``max.json`` (token from its file)."""
        url = MaxUrl.parse(str(info.deployment.extra.get("url", "")))
        try:
            token = remote_token_path(info.data_dir).read_text(encoding="utf-8").strip()
        except OSError:
            token = None
        return cls(url, token or None)

    @property
    def base(self) -> str:
        scheme = "https" if self.url.scheme == "max" else "http"
        return f"{scheme}://{self.url.host}"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def _rpc(self, method: str, scope: dict[str, str], seconds: float) -> Any:
        body = {"id": "1", "target": "", "method": method, "args": [], "scope": scope}
        async with _http_client(seconds) as client:
            response = await self._send(client, "POST", "/rpc", body)
        document = response.json()
        if not isinstance(document, dict) or document.get("ok") is not True:
            error = document.get("error") if isinstance(document, dict) else None
            message = error.get("message") if isinstance(error, dict) else None
            raise ErrRemoteNodeRefused(url=str(self.url), reason=str(message or "no answer")[:300])
        return document.get("result")

    async def _send(
        self, client: httpx.AsyncClient, method: str, path: str, body: object = None
    ) -> httpx.Response:
        import httpx  # its error types (the client made by _http_client loaded it)

        url = str(self.url)
        try:
            response = await client.request(
                method, self.base + path, json=body, headers=self._headers()
            )
        except httpx.TimeoutException:
            raise ErrRemoteNodeUnreachable(
                url=url, reason="no answer in time", hint=REMOTE_UNREACHABLE_HINT
            ) from None
        except httpx.HTTPError as exc:
            raise ErrRemoteNodeUnreachable(
                url=url, reason=_reason(exc), hint=REMOTE_UNREACHABLE_HINT
            ) from None
        if response.status_code == 401:
            reason = "the token was refused" if self.token else "no token was sent"
            raise ErrRemoteNodeUnauthorized(url=url, reason=reason, hint=REMOTE_TOKEN_HINT)
        if response.status_code >= 400:
            raise ErrRemoteNodeRefused(url=url, reason=f"HTTP {response.status_code}")
        return response

    async def health(self) -> HealthStatus:
        """The node's own health, or ``unhealthy`` saying why it could not be asked."""
        scope = self._scope()
        try:
            result = await self._rpc("health", scope, HEALTH_SECONDS)
        except MaxError as failure:
            if ErrRemoteNodeUnreachable.matches(failure):
                return HealthStatus.unhealthy(f"unreachable ({failure.data['reason']})")
            if ErrRemoteNodeUnauthorized.matches(failure):
                return HealthStatus.unhealthy(f"unauthorized ({failure.data['reason']})")
            return HealthStatus.unhealthy(failure.message)
        return _health_of(result)

    async def verify(self) -> RemoteInstallationFacts:
        """The server answers, takes the token and serves the installation: its facts."""
        url = str(self.url)
        async with _http_client(VERIFY_SECONDS) as client:
            await self._send(client, "GET", "/health")
        listed = await self._rpc("listInstallations", self._scope(workspace_only=True), 30.0)
        wanted = self.url.installation
        entries = [e for e in listed if isinstance(e, dict)] if isinstance(listed, list) else []
        for entry in entries:
            if wanted in (entry.get("name"), entry.get("id")):
                return RemoteInstallationFacts(
                    str(entry.get("name")), str(entry.get("id")), str(entry.get("connector"))
                )
        available = ", ".join(str(e.get("name")) for e in entries) or "none"
        raise ErrRemoteInstallationMissing(url=url, installation=wanted, available=available)

    def _scope(self, *, workspace_only: bool = False) -> dict[str, str]:
        scope: dict[str, str] = {}
        if self.url.workspace is not None:
            scope["workspaceId"] = self.url.workspace
        if self.url.installation is not None and not workspace_only:
            scope["installationId"] = self.url.installation
        return scope


def _health_of(result: Any) -> HealthStatus:
    from maxtrio.connector import HealthState

    if not isinstance(result, dict):
        return HealthStatus.unhealthy("the node's answer is not a health status")
    try:
        state = HealthState(str(result.get("status")))
    except ValueError:
        return HealthStatus.unhealthy("the node's answer is not a health status")
    reason = result.get("reason")
    return HealthStatus(state, reason if isinstance(reason, str) else None)


def _http_client(seconds: float) -> httpx.AsyncClient:
    """A client for one exchange with the node. httpx is imported here, on first use, so that
    commands that never reach a remote node do not pay for it at start-up."""
    import httpx

    return httpx.AsyncClient(timeout=seconds)


def _reason(exc: httpx.HTTPError) -> str:
    """``connection refused``, ``certificate verify failed …``: the root cause, briefly."""
    pending: list[BaseException] = [exc]
    while pending:
        cause = pending.pop(0)
        verify = getattr(cause, "verify_message", None)
        if verify:
            return f"certificate not trusted ({verify})"
        if isinstance(cause, OSError) and cause.errno and cause.errno > 0:
            return os.strerror(cause.errno).lower()
        if isinstance(cause, BaseExceptionGroup):
            pending.extend(cause.exceptions)
        pending.extend(e for e in (cause.__cause__, cause.__context__) if e is not None)
    text = str(exc).strip()
    return text[:200] if text else type(exc).__name__


async def connect_remote(
    workspace: WorkspaceMax, name: str, url: MaxUrl, token: str | None
) -> InstallationInfo:
    """Verify the remote installation, then record it as ``name`` with its token file.

    Nothing is written unless the server answered, took the token and serves the
    installation, and ``name`` is free here (``app.installation_already_exists``)."""
    import functools

    import trio

    from ._errors import ErrInstallationAlreadyExists, ErrRegistryEntryAlreadyExists
    from ._names import check_installation_name
    from ._provision import provision_installation
    from ._resolve import INSTALLATIONS_DIR_NAME

    check_installation_name(name)
    existing = await workspace.find_installation(name)
    if existing is not None:
        raise ErrInstallationAlreadyExists(connector=existing.connector, name=name)
    facts = await RemoteNode(url, token).verify()
    data_dir = workspace.data_dir / INSTALLATIONS_DIR_NAME / name
    info = remote_installation_info(name, url, facts.connector, data_dir)

    def write_files() -> None:  # under the max.json lock, after the name check
        provision_installation(data_dir)
        if token is not None:
            write_remote_token(data_dir, token)

    try:
        await trio.to_thread.run_sync(
            functools.partial(workspace.registry.add, info, prepare=write_files)
        )
    except MaxError as exc:
        if ErrRegistryEntryAlreadyExists.matches(exc):
            raise ErrInstallationAlreadyExists(connector=facts.connector, name=name) from None
        raise
    return info
