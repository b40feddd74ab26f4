"""Targeting for the CLI: global options, the target URL and its level.

Before asyncclick parses anything, :func:`preparse` takes the global options out of the
argument list wherever they appear (before a ``--``, and not inside ``max acme …`` or
``max flows …``):

==========================  =====================================================================
``-t X``, ``--target X``,   the target: ``max://…`` URL, ``@`` (global) or a path relative to
``--target=X``              the current directory's context (``my-project``, ``ws/inst``,
                            ``inst`` inside a workspace). The first one counts.
``-g``, ``--global``        ``-t @`` — dropped when ``-t`` is also given
``--debug``                 tracebacks and error data on stderr
``--color``/``--no-color``  force colour on/off (``NO_COLOR`` still wins)
==========================  =====================================================================

``MAX_TARGET`` is used when neither ``-t`` nor ``-g`` is given (precedence ``-t`` > ``-g`` >
``MAX_TARGET`` > the current directory).

:class:`Targeting` turns that into a Max URL lazily (the federation layer is imported only when
a command needs the level), and :func:`open_target` opens the machine's Max and resolves the
URL to live nodes for a command body.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._invocation import current_cwd, current_environ, current_invocation

if TYPE_CHECKING:
    from maxtrio.core import MaxUrl
    from maxtrio.federation import GlobalMax, InstallationMax, InstallationReader, WorkspaceMax

TARGET_ENV = "MAX_TARGET"
#: Command groups whose arguments are their own (no global options are taken from them).
FOREIGN_GROUPS = frozenset({"acme", "flows"})
LEVELS: tuple[str, ...] = ("global", "workspace", "installation")


class GlobalOptions:
    """The global options found by :func:`preparse`."""

    def __init__(
        self,
        target: str | None = None,
        global_: bool = False,
        debug: bool = False,
        color: bool | None = None,
        help_: bool = False,
    ) -> None:
        self.target = target
        self.global_ = global_
        self.debug = debug
        self.color = color
        self.help = help_

    def effective_target(self, environ: Mapping[str, str] | None = None) -> str | None:
        """``-t`` > ``-g`` (``@``) > ``$MAX_TARGET`` > None (the current directory)."""
        if self.target is not None:
            return self.target
        if self.global_:
            return "@"
        env = current_environ() if environ is None else environ
        return env.get(TARGET_ENV) or None


class MissingTargetValue(Exception):
    """``-t``/``--target`` was the last argument."""

    def __init__(self, option: str) -> None:
        super().__init__(f"Option '{option}' requires an argument.")


def preparse(args: Sequence[str]) -> tuple[GlobalOptions, list[str]]:
    """Split ``args`` into the global options and what asyncclick should parse."""
    options = GlobalOptions()
    rest: list[str] = []
    i = 0
    seen_word = False
    while i < len(args):
        token = args[i]
        if token == "--":
            rest.extend(args[i:])
            break
        if not seen_word and not token.startswith("-"):
            seen_word = True
            if token in FOREIGN_GROUPS:
                rest.extend(args[i:])
                break
        if token in ("-t", "--target"):
            if i + 1 >= len(args):
                raise MissingTargetValue(token)
            if options.target is None:
                options.target = args[i + 1]
            i += 2
            continue
        if token.startswith("--target="):
            if options.target is None:
                options.target = token.split("=", 1)[1]
        elif token in ("-g", "--global"):
            options.global_ = True
        elif token == "--debug":
            options.debug = True
        elif token == "--color":
            options.color = True
        elif token == "--no-color":
            options.color = False
        else:
            if token in ("-h", "--help"):
                options.help = True
            rest.append(token)
        i += 1
    return options, rest


def wants_debug(args: Sequence[str]) -> bool:
    """``--debug`` anywhere before ``--`` (for errors raised before parsing finished)."""
    for token in args:
        if token == "--":
            return False
        if token == "--debug":
            return True
    return False


class Targeting:
    """The current directory and the target of one invocation; the URL is computed on demand."""

    def __init__(self, options: GlobalOptions, cwd: Path | None = None) -> None:
        self.options = options
        self.cwd = cwd if cwd is not None else _working_directory()
        self._cwd_url: MaxUrl | None = None
        self._url: MaxUrl | None = None
        self._error: BaseException | None = None

    @property
    def cwd_url(self) -> MaxUrl:
        if self._cwd_url is None:
            from maxtrio.federation import cwd_context

            self._cwd_url = cwd_context(self.cwd)
        return self._cwd_url

    @property
    def url(self) -> MaxUrl:
        """The target URL; a target that does not convert raises its error here."""
        if self._url is None:
            value = self.options.effective_target()
            if value is None:
                self._url = self.cwd_url
            else:
                from maxtrio.federation import target_url

                self._url = target_url(value, self.cwd_url)
        return self._url

    @property
    def level(self) -> str:
        """The target's level; a target that cannot be converted falls back to the cwd's level
        (its error is reported when the command resolves it)."""
        try:
            return str(self.url.level)
        except Exception:
            return str(self.cwd_url.level)

    def relative_url(self, value: str) -> MaxUrl:
        """A positional target (``max -g search ws/inst …``) converted from the target's URL."""
        from maxtrio.federation import target_url

        return target_url(value, self.url)


def _working_directory() -> Path:
    try:
        return current_cwd()
    except FileNotFoundError:
        raise FileNotFoundError(
            errno.ENOENT, "The current directory no longer exists (cd to an existing one)"
        ) from None


class Target:
    """A resolved target for one command: the machine's Max and the nodes down to the URL."""

    def __init__(
        self,
        global_max: GlobalMax,
        url: MaxUrl,
        level: str,
        workspace: WorkspaceMax | None,
        installation: InstallationMax | None,
        *,
        kept_open: bool = False,
    ) -> None:
        self.global_max = global_max
        self.url = url
        self.level = level
        self.workspace = workspace
        self.installation = installation
        #: The nodes are the daemon's, kept open between commands (else this command's own).
        self.kept_open = kept_open

    def require_workspace(self) -> WorkspaceMax:
        assert self.workspace is not None, "a workspace-level command without a workspace"
        return self.workspace

    def require_installation(self) -> InstallationMax:
        assert self.installation is not None, "an installation command without an installation"
        return self.installation

    @asynccontextmanager
    async def reading(self, installation: str) -> AsyncIterator[InstallationReader]:
        """An installation of the target workspace, to read what it stored during the block:
        in the daemon its live node, opened once and kept open (``WorkspaceMax.installation``);
        in a process that runs this one command, opened for reading only, without the sync
        machinery (``WorkspaceMax.reading``)."""
        workspace = self.require_workspace()
        if self.kept_open:
            yield await workspace.installation(installation)
            return
        async with workspace.reading(installation) as node:
            yield node


def add_site_packages(home: Path) -> None:
    """Put ``<home>/site-packages`` (where ``max install PACKAGE`` puts connector packages) on
    the import path, so their entry points are discovered."""
    site = str(home / "site-packages")
    if os.path.isdir(site) and site not in sys.path:
        sys.path.append(site)


@asynccontextmanager
async def open_global() -> AsyncIterator[GlobalMax]:
    """The machine's Max (``$MAX_HOME`` or ``~/.max``) for the duration of a command."""
    from maxtrio.federation import GlobalMax, MaxHome

    invocation = current_invocation()
    if invocation is not None and invocation.global_max is not None:
        yield invocation.global_max  # the daemon's, kept warm between commands
        return
    home = MaxHome.from_env()
    add_site_packages(home.root)
    async with GlobalMax.open(home) as global_max:
        yield global_max


@asynccontextmanager
async def open_target(targeting: Targeting, url: MaxUrl | None = None) -> AsyncIterator[Target]:
    """Open the machine's Max and resolve ``url`` (default: the invocation's target)."""
    async with open_global() as global_max:
        target_url = url if url is not None else targeting.url
        resolved: Any = await global_max.resolve(target_url, cwd=targeting.cwd)
        invocation = current_invocation()
        yield Target(
            global_max,
            resolved.url,
            str(resolved.level),
            resolved.workspace,
            resolved.installation,
            kept_open=invocation is not None and invocation.global_max is global_max,
        )
