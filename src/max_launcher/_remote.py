"""Remote targets in the launcher: ``max -t max+http://HOST:PORT/<ws>[/<inst>] <command> …``.

A target (``-t``/``--target``, else ``$MAX_TARGET``) that is a Max URL with a host other than
``@`` runs on the ``max serve`` there. The launcher forwards it itself — standard library only,
no interpreter full of maxtrio to start — over ``POST /cli/stream`` (see ``_exchange``): the
same JSON lines it speaks to a local daemon, so the output is written byte for byte as it
arrives, ``sync`` progress is drawn live, Ctrl-C sends ``cancel`` (a remote sync stops
interrupted and resumable) and a second Ctrl-C hangs up.

What is sent mirrors the full CLI's forwarding (``maxtrio.cli._remote``): the arguments
without the target options and ``--token-file``; the workspace and installation of the URL;
which of our streams are terminals, and ``TERM``, ``COLUMNS``, ``LINES``, ``NO_COLOR``,
``FORCE_COLOR``. The token: ``--token-file F`` (read here), else ``$MAX_TOKEN`` — sent only
as ``Authorization: Bearer`` to the URL's host, never shown.

The full CLI stays the fallback for what the launcher leaves to it (:func:`remote_call`
returns None): ``--direct``, shell completion, ``--plan @FILE`` (the CLI reads the file and
sends its text), a token file that cannot be read and a malformed URL (the CLI's precise
errors), and a server too old to have ``/cli/stream``.
"""

from __future__ import annotations

import os

from ._route import DIRECT_FLAG, TARGET_ENV, scan

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

TOKEN_ENV = "MAX_TOKEN"
TIMEOUT_ENV = "MAX_REMOTE_TIMEOUT"
DEFAULT_TIMEOUT_SECONDS = 30.0
TOKEN_FILE_OPTION = "--token-file"
#: Options whose ``@FILE`` value is a file on this machine: the full CLI sends its text.
FILE_OPTIONS = ("--plan",)
#: Command groups whose own options follow them (the CLI stops reading global options there).
FOREIGN_GROUPS = frozenset({"acme", "flows"})
#: The caller's variables a remote command sees (how to draw, nothing else).
SENT_ENV = ("TERM", "COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")
_SCHEMES = (("max+http://", "max+http"), ("max://", "max"))


class RemoteCall:
    """One command for a remote node: the URL's parts, the arguments to send, the token."""

    __slots__ = ("argv", "host", "installation", "scheme", "token_file", "workspace")

    def __init__(
        self, scheme: str, host: str, segments: list[str], argv: list[str], token_file: str | None
    ) -> None:
        self.scheme = scheme
        self.host = host
        self.workspace = segments[0] if segments else None
        self.installation = segments[1] if len(segments) > 1 else None
        self.argv = argv
        self.token_file = token_file

    @property
    def url(self) -> str:
        """The URL as the CLI shows it (``maxtrio.core.MaxUrl``'s form)."""
        segments = [s for s in (self.workspace, self.installation) if s is not None]
        return "/".join((f"{self.scheme}://{self.host}", *segments))

    def child_url(self, installation: str) -> str:
        return self.url if self.installation is not None else f"{self.url}/{installation}"

    @property
    def command(self) -> str:
        return next((a for a in self.argv if not a.startswith("-")), "status")


def might_be_remote(args: Sequence[str], environ: Mapping[str, str]) -> bool:
    """A cheap test before this module's work: does any argument or MAX_TARGET hold a URL?"""
    return "://" in environ.get(TARGET_ENV, "") or any("://" in a for a in args)


def aimed_at(
    args: Sequence[str], environ: Mapping[str, str]
) -> tuple[str | None, str | None] | None:
    """The target (``-t``, ``-g`` as ``@``, else ``$MAX_TARGET``) and the command word; None
    with ``--direct`` (the full CLI then does it all)."""
    cut = args.index("--") if "--" in args else len(args)
    if DIRECT_FLAG in args[:cut]:
        return None
    target, word = scan(args)
    if target is None:
        target = environ.get(TARGET_ENV) or None
    return target, word


def remote_call(args: Sequence[str], environ: Mapping[str, str]) -> RemoteCall | None:
    """The remote call ``args`` asks for — None for a local target or what the full CLI does."""
    aimed = aimed_at(args, environ)
    if aimed is None:
        return None
    target = aimed[0]
    parsed = parse_url(target) if target is not None else None
    if parsed is None:
        return None
    scheme, host, segments = parsed
    forwarded = forwarded_arguments(args)
    if forwarded is None:
        return None
    argv, token_file = forwarded
    return RemoteCall(scheme, host, segments, argv, token_file)


def parse_url(text: str) -> tuple[str, str, list[str]] | None:
    """``(scheme, host, segments)`` of a remote Max URL; None when local or malformed."""
    text = text.strip()
    for prefix, scheme in _SCHEMES:
        if text.startswith(prefix):
            parts = [p for p in text[len(prefix) :].split("/") if p]
            if not parts or parts[0] == "@" or len(parts) > 3:
                return None
            return scheme, parts[0], parts[1:]
    return None


def forwarded_arguments(
    argv: Sequence[str], read_file: Callable[[str, str], str] | None = None
) -> tuple[list[str], str | None] | None:
    """``argv`` without target options and ``--token-file`` (and the token file named).

    An option that names a local ``@FILE`` (``--plan @FILE``) becomes the file's text,
    ``read_file(path, option)`` — the full CLI passes its reader; without one (the launcher)
    the answer is None: the full CLI forwards such a command (this module's docstring)."""
    out: list[str] = []
    token_file: str | None = None
    i = 0
    seen_word = False
    while i < len(argv):
        token = argv[i]
        if token == "--" or (not seen_word and token in FOREIGN_GROUPS):
            out.extend(argv[i:])
            break
        seen_word = seen_word or not token.startswith("-")
        name, has_value, inline = token.partition("=")
        if token in ("-t", "--target", TOKEN_FILE_OPTION):
            if token == TOKEN_FILE_OPTION and i + 1 < len(argv):
                token_file = argv[i + 1]
            i += 2
            continue
        if name in FILE_OPTIONS and has_value and inline.startswith("@"):
            if read_file is None:
                return None
            out.append(f"{name}={read_file(inline[1:], name)}")
        elif token in FILE_OPTIONS and i + 1 < len(argv) and argv[i + 1].startswith("@"):
            if read_file is None:
                return None
            out += [token, read_file(argv[i + 1][1:], token)]
            i += 1
        elif name == TOKEN_FILE_OPTION and has_value:
            token_file = inline
        elif not (name == "--target" and has_value) and token not in ("-g", "--global"):
            out.append(token)
        i += 1
    return out, token_file


def read_token(call: RemoteCall, cwd: str, environ: Mapping[str, str]) -> str | None:
    """The token to send; raises OSError/ValueError for a token file the CLI should report."""
    if call.token_file is None:
        return environ.get(TOKEN_ENV) or None
    with open(os.path.join(cwd, call.token_file), encoding="utf-8") as file:
        value = file.read().strip()
    if not value:
        raise ValueError("the file is empty")
    return value


def remote_timeout(environ: Mapping[str, str]) -> float:
    """``$MAX_REMOTE_TIMEOUT`` seconds (30 when unset or not a positive number): how long to
    wait for a server to connect and answer."""
    text = environ.get(TIMEOUT_ENV, "").strip()
    try:
        value = float(text) if text else DEFAULT_TIMEOUT_SECONDS
    except ValueError:
        return DEFAULT_TIMEOUT_SECONDS
    return value if value > 0 else DEFAULT_TIMEOUT_SECONDS


def request_for(call: RemoteCall, environ: Mapping[str, str]) -> dict[str, object]:
    """The ``run`` request: the daemon's, with only the drawing variables and no local path."""
    from ._request import build_request

    request = build_request(call.argv, "/", environ)
    env = request["env"]
    assert isinstance(env, dict)
    request["env"] = {k: v for k, v in env.items() if k in SENT_ENV}
    return request


# -- installations of this workspace that live on another machine (the remote deployer) ------

#: Workspace-level commands whose first argument names an installation (``max sync x``).
INSTALLATION_COMMANDS = frozenset({"sync", "search", "schema"})
REMOTE_STRATEGY = "remote"
REMOTE_TOKEN_FILE = "remote-token"


def federated_call(
    args: Sequence[str],
    cwd: str,
    environ: Mapping[str, str],
    home: str,
    read_file: Callable[[str, str], str] | None = None,
) -> RemoteCall | None:
    """The remote call for a command aimed at a *remote installation* of a local workspace
    (``max.json``: ``{"strategy": "remote", "url": …}``) — ``-t <ws>/x …``, ``-t x`` inside
    the workspace, or ``max sync|search|schema x …`` — else None."""
    from ._route import find_project_root, workspace_root

    aimed = aimed_at(args, environ)
    if aimed is None:
        return None
    target, word = aimed
    cut = args.index("--") if "--" in args else len(args)
    if target is not None and (target.strip() == "@" or ("://" in target and "://@" not in target)):
        return None
    root = workspace_root(target, cwd, home)
    if root is None:
        return None
    inside = target is not None and find_project_root(cwd) == root and "://" not in target
    named = _installation_segment(target, inside) if target is not None else None
    argv = list(args)
    if named is None and word in INSTALLATION_COMMANDS:
        at = argv.index(word)
        if at + 1 < cut and not argv[at + 1].startswith("-"):
            named = argv.pop(at + 1)
    if named is None:
        return None
    deployment = _remote_deployment(root, named)
    if deployment is None:
        return None
    parsed = parse_url(str(deployment.get("url", "")))
    forwarded = forwarded_arguments(argv, read_file)
    if parsed is None or forwarded is None:
        return None
    data_dir = deployment.get("dataDir")
    token = os.path.join(root, data_dir, REMOTE_TOKEN_FILE) if isinstance(data_dir, str) else None
    if token is not None and not os.path.exists(token):
        token = None
    return RemoteCall(*parsed, forwarded[0], token)


def _installation_segment(target: str, inside: bool) -> str | None:
    """The installation a target names (None: it names a workspace or the machine)."""
    text = target.strip()
    for prefix, _ in _SCHEMES:
        if text.startswith(prefix):  # max://@/<ws>/<inst>
            parts = [p for p in text[len(prefix) :].split("/") if p]
            return parts[2] if len(parts) == 3 else None
    parts = [p for p in text.split("/") if p]
    if inside:
        return parts[-1] if len(parts) in (1, 2) else None
    return parts[1] if len(parts) == 2 else None


def _remote_deployment(root: str, name: str) -> dict[str, object] | None:
    """The deployment of installation ``name`` (or id) in ``root/max.json`` when remote."""
    from ._wire import decode_json

    try:
        with open(os.path.join(root, "max.json"), "rb") as file:
            document = decode_json(file.read())
    except (OSError, ValueError):
        return None
    entries = document.get("installations") if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        return None
    entry = entries.get(name)
    if not isinstance(entry, dict):
        entry = next(
            (e for e in entries.values() if isinstance(e, dict) and e.get("id") == name), None
        )
    deployment = entry.get("deployment") if isinstance(entry, dict) else None
    if isinstance(deployment, dict) and deployment.get("strategy") == REMOTE_STRATEGY:
        return deployment
    return None
