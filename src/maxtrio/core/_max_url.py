"""Max URLs: the address of a node — the machine, a workspace, or one installation.

``max://<host>[/<workspace>[/<installation>]]`` (HTTPS for a remote host) or
``max+http://<host>[/…]`` (plain HTTP). The host ``@`` is this machine. Segments are names or
ids; empty segments are dropped, so trailing and doubled slashes are harmless::

    >>> url = MaxUrl.parse("max://@/my-team/hubspot")
    >>> url.level, url.workspace, url.installation
    (<MaxLevel.INSTALLATION: 'installation'>, 'my-team', 'hubspot')
    >>> str(url.parent()), str(MaxUrl.global_().child("my-team"))
    ('max://@/my-team', 'max://@/my-team')

A bad URL raises ``core.invalid_max_url`` (``Invalid Max URL "<url>" — <reason>``).
"""

from __future__ import annotations

import enum
from typing import Literal

import attrs

from ._core_errors import ErrInvalidMaxUrl
from ._scope import Scope

LOCAL_HOST = "@"
Scheme = Literal["max", "max+http"]
_SCHEMES: tuple[tuple[str, Scheme], ...] = (("max+http://", "max+http"), ("max://", "max"))


class MaxLevel(enum.StrEnum):
    """The three levels of nodes, from the top."""

    GLOBAL = "global"
    WORKSPACE = "workspace"
    INSTALLATION = "installation"


@attrs.frozen
class MaxUrl:
    """A parsed Max URL. Build with :meth:`parse` or the factories, never by hand."""

    host: str
    segments: tuple[str, ...] = ()
    scheme: Scheme = "max"
    scope: Scope | None = attrs.field(default=None, eq=False)

    # -- building ----------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> MaxUrl:
        """Parse ``max://…`` or ``max+http://…``; anything else is ``core.invalid_max_url``."""
        matched = [(p, s) for p, s in _SCHEMES if text.startswith(p)]
        if not matched:
            raise ErrInvalidMaxUrl(url=text, reason="Must start with max:// or max+http://")
        prefix, scheme = matched[0]
        rest = text[len(prefix) :]
        parts = [p for p in rest.split("/") if p]
        if not parts:
            raise ErrInvalidMaxUrl(url=text, reason="Host segment required")
        if len(parts) > 3:
            raise ErrInvalidMaxUrl(url=text, reason="Max 3 segments: host/workspace/installation")
        return cls(parts[0], tuple(parts[1:]), scheme)

    @classmethod
    def global_(cls, host: str = LOCAL_HOST) -> MaxUrl:
        return cls(host)

    @classmethod
    def for_workspace(cls, workspace: str, host: str = LOCAL_HOST) -> MaxUrl:
        return cls(host, (workspace,))

    @classmethod
    def for_installation(cls, workspace: str, installation: str, host: str = LOCAL_HOST) -> MaxUrl:
        return cls(host, (workspace, installation))

    # -- reading -----------------------------------------------------------------------------

    @property
    def level(self) -> MaxLevel:
        if len(self.segments) >= 2:
            return MaxLevel.INSTALLATION
        if self.segments:
            return MaxLevel.WORKSPACE
        return MaxLevel.GLOBAL

    @property
    def is_local(self) -> bool:
        return self.host == LOCAL_HOST

    @property
    def workspace(self) -> str | None:
        return self.segments[0] if self.segments else None

    @property
    def installation(self) -> str | None:
        return self.segments[1] if len(self.segments) > 1 else None

    def __str__(self) -> str:
        return "/".join((f"{self.scheme}://{self.host}", *self.segments))

    # -- navigation --------------------------------------------------------------------------

    def parent(self) -> MaxUrl | None:
        """Installation → workspace → global → None."""
        if not self.segments:
            return None
        return attrs.evolve(self, segments=self.segments[:-1])

    def child(self, segment: str) -> MaxUrl:
        """Global → workspace, workspace → installation; below an installation is an error."""
        if self.level is MaxLevel.INSTALLATION:
            raise ErrInvalidMaxUrl(
                url=f"{self}/{segment}", reason="Cannot add child below installation"
            )
        if not segment or "/" in segment:
            raise ErrInvalidMaxUrl(
                url=f"{self}/{segment}", reason="A segment must be non-empty and contain no /"
            )
        return attrs.evolve(self, segments=(*self.segments, segment))

    def to_relative(self, context: MaxUrl) -> str:
        """The shortest text naming this URL from ``context`` (the full URL when none is)."""
        if context.host != self.host or context.scheme != self.scheme:
            return str(self)
        if (
            self.level is MaxLevel.INSTALLATION
            and context.level is MaxLevel.WORKSPACE
            and context.workspace == self.workspace
        ):
            return self.segments[1]
        if context.level is MaxLevel.GLOBAL and self.segments:
            return "/".join(self.segments)
        return str(self)

    def upgrade_scope(self, scope: Scope) -> MaxUrl:
        """The same address carrying ``scope``."""
        return attrs.evolve(self, scope=scope)
