"""The claude-code context: the config, and the listing of logs read in a worker thread."""

from __future__ import annotations

from pathlib import Path

import attrs
import trio

from ._config import ClaudeCodeConfig
from ._errors import ErrRootUnavailable
from ._logs import Listing, list_sessions


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


def _listing(root: Path) -> Listing:
    ensure_root(root)
    try:
        return list_sessions(root)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ErrRootUnavailable(path=str(root), reason=reason, connector="claude-code") from None


async def read_listing(ctx: ClaudeCodeContext) -> Listing:
    """Every project and session log under the root (``root_unavailable`` when it cannot)."""
    return await trio.to_thread.run_sync(_listing, ctx.config.root)
