"""Onboarding against the live fake (good and bad tokens), and installation health."""

from __future__ import annotations

import stat
from collections.abc import Sequence
from pathlib import Path

import pytest
import trio

from maxtrio.acme import AcmeServer, Tenant
from maxtrio.connector import (
    ErrOnboardingInputInvalid,
    ErrOnboardingValidationFailed,
    FileCredentialStore,
    HealthState,
    HealthStatus,
    InMemoryCredentialStore,
    Installation,
    NonInteractivePrompter,
    OnboardingAnswers,
    Platform,
    run_onboarding,
)
from maxtrio.connectors.acme import AcmeAppContext, connector
from maxtrio.core import MaxError

from .conftest import platform_with_token


class ScriptedPrompter:
    interactive = True

    def __init__(self, replies: Sequence[str]) -> None:
        self.replies = list(replies)
        self.transcript: list[str] = []

    async def ask(self, message: str, *, secret: bool = False) -> str:
        reply = self.replies.pop(0)
        self.transcript.append(message + ("" if secret else reply) + "\n")
        return reply

    async def write(self, text: str) -> None:
        self.transcript.append(text)


def workspace_of(tenant: Tenant) -> tuple[str, str]:
    import json

    (workspace,) = json.loads(tenant.list_wire("workspaces").json)
    return workspace["id"], workspace["name"]


async def test_interactive_onboarding_reads_like_the_reference(
    tenant: Tenant, acme_server: AcmeServer
) -> None:
    ws_id, ws_name = workspace_of(tenant)
    store = InMemoryCredentialStore()
    prompter = ScriptedPrompter([acme_server.url, acme_server.api_key, "1"])
    config = await run_onboarding(
        connector.definition.onboarding, credential_store=store, prompter=prompter
    )
    assert config == {"baseUrl": acme_server.url, "workspaceId": ws_id}
    assert store.to_dict() == {"api_token": acme_server.api_key}
    assert "".join(prompter.transcript) == (
        "\nEnter the URL of your Acme instance (e.g. https://mycompany.acme.com)\n"
        f"Tenant URL: {acme_server.url}\n"
        f"\nCreate an API token at {acme_server.url}/settings/api-keys and paste it below.\n"
        "api_token: \n"
        "Verify credentials... done\n"
        f"\nChoose workspace:\n  1. {ws_name}\n"
        "> 1\n"
    )


async def test_non_interactive_onboarding_then_a_working_installation(
    tenant: Tenant, acme_server: AcmeServer, tmp_path: Path
) -> None:
    ws_id, _ = workspace_of(tenant)
    collected = InMemoryCredentialStore()
    config = await run_onboarding(
        connector.definition.onboarding,
        credential_store=collected,
        answers=OnboardingAnswers(
            {"baseUrl": acme_server.url + "/", "workspaceId": ws_id},
            {"api_token": acme_server.api_key},
        ),
    )
    assert config == {"baseUrl": acme_server.url + "/", "workspaceId": ws_id}
    assert acme_server.api_key not in repr(config)

    # What `max connect` does next: persist the secrets, then initialise from the config.
    store = FileCredentialStore(tmp_path / ".max" / "installations" / "acme-1" / "credentials.json")
    await store.update(collected.to_dict())
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    installed = connector.initialise(config, Platform.for_connector(connector.definition, store))
    async with installed.running():
        assert await installed.health() == HealthStatus.healthy()
        response = await installed.context.api.client.list("workspaces")
        assert [w["id"] for w in response.data] == [ws_id]


async def test_a_rejected_token_fails_validation_with_the_403(
    tenant: Tenant, acme_server: AcmeServer
) -> None:
    prompter = NonInteractivePrompter()
    with pytest.raises(MaxError) as caught:
        await run_onboarding(
            connector.definition.onboarding,
            credential_store=InMemoryCredentialStore(),
            prompter=prompter,
            answers=OnboardingAnswers({"baseUrl": acme_server.url}, {"api_token": "acme_bogus"}),
        )
    assert ErrOnboardingValidationFailed.matches(caught.value)
    assert caught.value.message == (
        "Verify credentials — Acme rejected the API token for GET /api/workspaces: "
        "403 Invalid API key"
    )
    assert "acme_bogus" not in caught.value.message
    assert "".join(prompter.output).endswith("Verify credentials... failed\n")


async def test_a_bad_url_is_refused_before_any_request(acme_server: AcmeServer) -> None:
    with pytest.raises(MaxError) as caught:
        await run_onboarding(
            connector.definition.onboarding,
            credential_store=InMemoryCredentialStore(),
            answers=OnboardingAnswers({"baseUrl": "acme.test"}, {"api_token": "x"}),
        )
    assert ErrOnboardingInputInvalid.matches(caught.value)
    assert caught.value.message == (
        "Tenant URL (baseUrl): must be an http:// or https:// URL with a host"
    )
    assert acme_server.statistics().requests == 0


async def test_an_unreachable_server_fails_validation_clearly() -> None:
    with trio.socket.socket() as sock:  # a port that was free a moment ago: nothing listens
        await sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(MaxError) as caught:
        await run_onboarding(
            connector.definition.onboarding,
            credential_store=InMemoryCredentialStore(),
            answers=OnboardingAnswers({"baseUrl": f"http://127.0.0.1:{port}"}, {"api_token": "t"}),
        )
    assert ErrOnboardingValidationFailed.matches(caught.value)
    assert caught.value.message.startswith(
        "Verify credentials — Could not reach Acme for GET /api/workspaces: "
    )


# -- health ------------------------------------------------------------------------------------


async def test_healthy_then_unhealthy_with_403_after_key_rotation(
    tenant: Tenant, installation: Installation[AcmeAppContext]
) -> None:
    assert await installation.health() == HealthStatus.healthy()
    tenant.rotate_api_key()
    status = await installation.health()
    assert status.state is HealthState.UNHEALTHY
    assert status.reason is not None and "403" in status.reason


async def test_not_started_is_unhealthy(acme_server: AcmeServer) -> None:
    installed = connector.initialise(
        {"baseUrl": acme_server.url, "workspaceId": "w"}, platform_with_token(acme_server.api_key)
    )
    status = await installed.health()
    assert status == HealthStatus.unhealthy("AcmeConnection not started - call start() first")


async def test_health_after_the_server_went_away(tenant: Tenant) -> None:
    from maxtrio.acme import serve_acme

    async with trio.open_nursery() as nursery:
        server: AcmeServer = await nursery.start(serve_acme, tenant)
        installed = connector.initialise(
            {"baseUrl": server.url, "workspaceId": "w"}, platform_with_token(server.api_key)
        )
        await installed.start()
        assert (await installed.health()).is_healthy
        nursery.cancel_scope.cancel()
    status = await installed.health()
    await installed.stop()
    assert status.state is HealthState.UNHEALTHY
    assert status.reason is not None
    assert status.reason.startswith("Could not reach Acme for GET /api/workspaces")


async def test_stop_closes_the_client(installation: Installation[AcmeAppContext]) -> None:
    connection = installation.context.api
    client = connection.client
    await installation.stop()
    with pytest.raises(MaxError):
        connection.client  # noqa: B018
    assert client._http.is_closed
