"""The claude-code context: the config, the root check (onboarding, health) and the listing of
logs read in a worker thread.

``initialise`` (``_connector``) and its health check need only the context and the root check,
so the log parser (``_logs``) is imported by the first listing, not here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import trio

from ._config import ClaudeCodeConfig
from ._errors import ErrRootUnavailable

if TYPE_CHECKING:
    from ._logs import Listing


@attrs.frozen
class ClaudeCodeContext:
    config: ClaudeCodeConfig


def ensure_root(path: Path) -> None:
    """A one-line error unless ``path`` is a directory this process can list."""
    if not path.exists():
        raise ErrRootUnavailable(
            path=str(path), reason="no such directory", connector="claude-code"
        )
    if not path.is_dir():
        raise ErrRootUnavailable(path=str(path), reason="not a directory", connector="claude-code")


async def check_root(path: Path) -> None:
    """A one-line error unless ``path`` is a directory."""
    ensure_root(path)


def _listing(root: Path) -> Listing:
    from ._logs import list_sessions

    ensure_root(root)
    try:
        return list_sessions(root)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ErrRootUnavailable(path=str(root), reason=reason, connector="claude-code") from None


async def read_listing(ctx: ClaudeCodeContext) -> Listing:
    """Every project and session log under the root (``root_unavailable`` when it cannot)."""
    return await trio.to_thread.run_sync(_listing, ctx.config.root)
