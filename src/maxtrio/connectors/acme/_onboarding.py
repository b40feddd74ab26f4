"""The acme onboarding flow: four steps.

1. input "Acme tenant": ``baseUrl`` (required, an http(s) URL);
2. input "API credentials": the ``api_token`` credential (to the credential store only);
3. validation "Verify credentials": list workspaces with that token;
4. select "Choose workspace": ``workspaceId`` among the listed workspaces (label = name).

Result: config ``{baseUrl, workspaceId}``, credentials ``{api_token}``. The flow is built by
:func:`acme_onboarding` so tests can hand it a transport; ``AcmeOnboarding`` is the default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from maxtrio.connector import (
    Config,
    InputField,
    InputStep,
    OnboardingContext,
    OnboardingFlow,
    SelectOption,
    SelectStep,
    ValidationStep,
)

from ._client import AcmeApiClient
from ._config import AcmeApiToken, base_url_problem
from ._records import workspace_choices

if TYPE_CHECKING:
    import httpx


def _api_token_description(config: Config) -> str:
    base = str(config.get("baseUrl") or "").rstrip("/")
    return f"Create an API token at {base}/settings/api-keys and paste it below."


def acme_onboarding(transport: httpx.AsyncBaseTransport | None = None) -> OnboardingFlow:
    """The four-step flow; ``transport`` replaces the network in tests."""

    async def list_workspaces(config: Config, ctx: OnboardingContext) -> list[tuple[str, str]]:
        token = await ctx.credential_store.get(AcmeApiToken.name)
        async with AcmeApiClient(str(config["baseUrl"]), token, transport=transport) as client:
            response = await client.list("workspaces")
        return workspace_choices(response)

    async def verify(config: Config, ctx: OnboardingContext) -> None:
        await list_workspaces(config, ctx)

    async def workspaces(config: Config, ctx: OnboardingContext) -> Sequence[SelectOption]:
        return [SelectOption(name, ws_id) for name, ws_id in await list_workspaces(config, ctx)]

    return OnboardingFlow.create(
        InputStep(
            label="Acme tenant",
            description="Enter the URL of your Acme instance (e.g. https://mycompany.acme.com)",
            fields={
                "baseUrl": InputField("Tenant URL", "string", required=True, check=base_url_problem)
            },
        ),
        InputStep(
            label="API credentials",
            description=_api_token_description,
            credentials={"api_token": AcmeApiToken},
        ),
        ValidationStep(label="Verify credentials", validate=verify),
        SelectStep(label="Choose workspace", field="workspaceId", options=workspaces),
    )


AcmeOnboarding = acme_onboarding()
