"""The acme config (``{baseUrl, workspaceId}``, from onboarding) and its one credential.

The config is plain data persisted in ``max.json``; it is checked here, at the boundary, so a
hand-edited file fails with one clear line. ``workspaceId`` is kept but, as in the reference, no
loader uses it: a sync covers every workspace the key can see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs

from maxtrio.connector import Credential

from ._errors import ErrInvalidConfig

AcmeApiToken = Credential.string("api_token")


def base_url_problem(value: object) -> str | None:
    """Why ``value`` is not a usable Acme base URL, or None."""
    if not isinstance(value, str) or not value.strip():
        return "must be a URL such as http://127.0.0.1:4567"
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 — raises ValueError for a bad port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL with a host"
    if parts.query or parts.fragment:
        return "must not have a query or fragment"
    return None


@attrs.frozen
class AcmeConfig:
    base_url: str
    workspace_id: str

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> AcmeConfig:
        """Check and read ``{"baseUrl": ..., "workspaceId": ...}`` (other keys are ignored)."""
        if not isinstance(config, Mapping):
            raise ErrInvalidConfig(reason="expected a mapping with baseUrl and workspaceId")
        base_url = config.get("baseUrl")
        problem = base_url_problem(base_url)
        if problem is not None:
            raise ErrInvalidConfig(reason=f"baseUrl {problem}")
        workspace_id = config.get("workspaceId")
        if not isinstance(workspace_id, str) or not workspace_id:
            raise ErrInvalidConfig(reason="workspaceId must be a non-empty string")
        assert isinstance(base_url, str)
        return cls(base_url.strip(), workspace_id)

    def to_json(self) -> dict[str, str]:
        return {"baseUrl": self.base_url, "workspaceId": self.workspace_id}
