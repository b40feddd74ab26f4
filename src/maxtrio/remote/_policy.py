"""What a remote caller may run: the command allow-lists, the argument rules, the RPC methods.

A server serves **one workspace** and chooses the target itself: the caller names at most an
installation of it, and the command runs in the workspace root or in that installation's
directory. So arguments that pick a target (``-t``, ``--target``, ``-g``, ``--global``) are
refused, and so are file references the CLI would read on the *server*
(``sync --plan @FILE``: the client reads its own file and sends the text).

==============  ===========================================================================
read-only       ``search``, ``schema``, ``status``, ``ls`` (``max serve --read-only``, and
                the reference's mini server); RPC: ``health``, ``describe``, ``schema``, the
                listings and the engine's reads
full            also ``sync`` and ``sql``; every RPC method of the workspace dispatcher
==============  ===========================================================================

Commands that manage the server machine (``init``, ``install``, ``connect``, ``daemon``,
``serve``, ``flows``, ``acme``, ``mcp`` …) are never run for a remote caller.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from ._errors import ErrArgvRefused, ErrCommandNotAllowed, ErrMethodNotAllowed

READ_COMMANDS: tuple[str, ...] = ("search", "schema", "status", "ls")
FULL_COMMANDS: tuple[str, ...] = (*READ_COMMANDS, "sync", "sql")
#: Options that choose the target: the server does that.
TARGET_OPTIONS = frozenset({"-t", "--target", "-g", "--global"})
#: Options whose ``@FILE`` value the CLI would read from the server's disk.
FILE_OPTIONS = frozenset({"--plan"})
#: ``target:method`` pairs a read-only server answers ("" is the node itself).
READ_METHODS = frozenset(
    {
        ":health",
        ":describe",
        ":schema",
        ":listInstallations",
        ":listConnectors",
        ":connectorSchema",
        ":connectorOnboarding",
        ":installationHealth",
        ":syncHistory",
        ":lastSync",
        ":syncStatus",
        "engine:query",
        "engine:loadPage",
        "engine:load",
        "engine:loadField",
        "engine:count",
    }
)
#: Longest installation segment a caller may send.
MAX_SEGMENT_CHARS = 200


@attrs.frozen
class Policy:
    """The server's rules; ``read_only`` is ``max serve --read-only``."""

    read_only: bool = False

    @property
    def commands(self) -> tuple[str, ...]:
        return READ_COMMANDS if self.read_only else FULL_COMMANDS

    def check_argv(self, argv: Sequence[str]) -> str:
        """The command word of ``argv`` (``status`` for none); a command that is not allowed
        raises ``remote.command_not_allowed``, a target option or a server-side file
        reference ``remote.argv_refused``."""
        word: str | None = None
        previous = ""
        for token in argv:
            if token == "--":
                break
            name = token.split("=", 1)[0]
            if name in TARGET_OPTIONS:
                raise ErrArgvRefused(
                    reason=f"Target options are not allowed ({name}): the server serves one "
                    "workspace; name the installation in the URL instead"
                )
            if (name in FILE_OPTIONS and "=" in token and token.split("=", 1)[1][:1] == "@") or (
                previous in FILE_OPTIONS and token.startswith("@")
            ):
                raise ErrArgvRefused(
                    reason=f"File references are read by the client ({previous or name} @FILE): "
                    "send the text"
                )
            if word is None and not token.startswith("-"):
                word = token
            previous = token
        command = word or "status"
        if command not in self.commands:
            raise ErrCommandNotAllowed(command=command[:40], allowed=", ".join(self.commands))
        return command

    def check_method(self, target: str, method: str) -> None:
        """``remote.method_not_allowed`` for a write method on a read-only server."""
        if self.read_only and f"{target}:{method}" not in READ_METHODS:
            raise ErrMethodNotAllowed(target=target[:40] or "root", method=method[:80])


def check_segment(value: object) -> str | None:
    """The caller's installation segment (None: the workspace itself)."""
    if value is None or value == "":
        return None
    if (
        not isinstance(value, str)
        or "/" in value
        or len(value) > MAX_SEGMENT_CHARS
        or not value.isprintable()
        or value in (".", "..")
    ):
        raise ErrArgvRefused(
            reason="installation must be one name (no '/', at most 200 characters)"
        )
    return value
