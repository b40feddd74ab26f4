"""Which daemon answers this command — or none.

Decided from the arguments, the environment and the file system alone, without importing
maxtrio:

1. ``MAX_NO_DAEMON`` set (not ``0``/``false``/``no``/empty), ``--direct`` anywhere before
   ``--``, or a first command word that is not served by a workspace daemon (``daemon``,
   ``setup``, ``init``, ``install``, ``acme``, ``flows``, ``mcp``, ``serve``, ``browse``) →
   direct mode;
2. the target: ``-t``/``--target`` (``--target=X`` too; the first one counts), else ``-g`` /
   ``--global`` (= ``@``), else ``$MAX_TARGET``, else the current directory;
3. global (``@``, ``max://@``) or remote (``max://<host>…`` with a host other than ``@``)
   targets → direct mode;
4. ``max://@/<ws>[/…]`` → the workspace named (or with the id) ``<ws>`` in
   ``$MAX_HOME/workspaces.json``;
5. a relative target: from inside a workspace it names one of its installations (that
   workspace); from outside, its first segment names a workspace of the registry;
6. no target: the nearest directory at or above the current one holding both ``max.json`` and
   ``.max`` — none → direct mode.

A target that cannot be mapped to a workspace runs direct, where the full CLI reports the
precise error.

Two more facts ride along for the launcher: whether the command may **start** a daemon
(``--version``, ``-h``/``--help`` and ``max help``/``max completion`` use a running one but never
start one — a shell sourcing ``max completion bash`` must not leave a daemon behind), and
whether it is **read-only** (``ls``, ``status``, ``search``, ``schema``, ``sql``, ``help``,
``completion``, ``llm-bootstrap``, bare ``max``): a read-only command whose daemon dies
before answering is run again directly; any other command is not, since it may have been
partly done. Standard library only.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

NO_DAEMON_ENV = "MAX_NO_DAEMON"
TARGET_ENV = "MAX_TARGET"
DIRECT_FLAG = "--direct"
#: Commands that never go through a workspace daemon: they manage it (``daemon``), change the
#: machine's setup (``setup``, ``init``, ``install``), write files where they are run
#: (``connector new``) or are servers of their own (``acme``, ``flows``, ``mcp``, ``serve``,
#: ``browse``).
DIRECT_COMMANDS = frozenset(
    {"daemon", "setup", "init", "install", "connector", "acme", "flows", "mcp", "serve", "browse"}
)
#: Commands with no side effects: safe to run again directly when the daemon dies silently.
READ_ONLY_COMMANDS = frozenset(
    {"ls", "status", "search", "schema", "sql", "help", "completion", "llm-bootstrap"}
)
#: Commands (and flags, before ``--``) that use a running daemon but never start one.
NO_START_COMMANDS = frozenset({"help", "completion"})
NO_START_FLAGS = frozenset({"--version", "-h", "--help"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


class Route:
    """Where one invocation goes: ``root`` is the workspace whose daemon answers, or None for
    direct mode (``reason`` says why); ``argv`` is what the CLI receives (``--direct`` gone).
    ``start``: may a daemon be started for it; ``read_only``: may it run again directly."""

    __slots__ = ("argv", "read_only", "reason", "root", "start")

    def __init__(
        self,
        argv: list[str],
        root: str | None,
        reason: str = "",
        *,
        start: bool = True,
        read_only: bool = False,
    ) -> None:
        self.argv = argv
        self.root = root
        self.reason = reason
        self.start = start
        self.read_only = read_only

    def __repr__(self) -> str:
        return (
            f"Route(root={self.root!r}, reason={self.reason!r}, argv={self.argv!r}, "
            f"start={self.start!r}, read_only={self.read_only!r})"
        )


def env_flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() not in _FALSE


def route(argv: Sequence[str], cwd: str, environ: Mapping[str, str], home: str) -> Route:
    """Decide where ``argv`` (the arguments after the program name) runs."""
    args = list(argv)
    direct = False
    if DIRECT_FLAG in args:
        cut = args.index("--") if "--" in args else len(args)
        kept = [a for a in args[:cut] if a != DIRECT_FLAG]
        direct = len(kept) != cut
        args = kept + args[cut:]
    if direct:
        return Route(args, None, "--direct")
    if env_flag(environ, NO_DAEMON_ENV):
        return Route(args, None, NO_DAEMON_ENV)
    target, word = scan(args)
    if word in DIRECT_COMMANDS:
        return Route(args, None, f"max {word}")
    if target is None and TARGET_ENV in environ:
        target = environ[TARGET_ENV] or None
    root = workspace_root(target, cwd, home)
    cut = args.index("--") if "--" in args else len(args)
    start = word not in NO_START_COMMANDS and not NO_START_FLAGS.intersection(args[:cut])
    read_only = not start or word is None or word in READ_ONLY_COMMANDS
    reason = "" if root is not None else "no workspace"
    return Route(args, root, reason, start=start, read_only=read_only)


def scan(args: Sequence[str]) -> tuple[str | None, str | None]:
    """The target (``-t``/``--target``, or ``@`` for ``-g``) and the first command word,
    mirroring the CLI's pre-parse (global options may appear anywhere before ``--``)."""
    target: str | None = None
    global_ = False
    word: str | None = None
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            break
        if token in ("-t", "--target"):
            if target is None and i + 1 < len(args):
                target = args[i + 1]
            i += 2
            continue
        if token.startswith("--target="):
            if target is None:
                target = token.split("=", 1)[1]
        elif token in ("-g", "--global"):
            global_ = True
        elif word is None and not token.startswith("-"):
            word = token
        i += 1
    if target is None and global_:
        target = "@"
    return target, word


def workspace_root(target: str | None, cwd: str, home: str) -> str | None:
    """The root of the workspace ``target`` (relative to ``cwd``) lies in, or None."""
    if target is None:
        return find_project_root(cwd)
    text = target.strip()
    for scheme in ("max://", "max+http://"):
        if text.startswith(scheme):
            parts = [p for p in text[len(scheme) :].split("/") if p]
            if len(parts) < 2 or parts[0] != "@":
                return None  # global, remote or malformed: the full CLI handles it
            return registered_root(parts[1], home)
    if text == "@":
        return None
    parts = [p for p in text.split("/") if p]
    if not parts:
        return None
    here = find_project_root(cwd)
    if here is not None:
        return here  # an installation of this workspace (or an error the daemon reports)
    return registered_root(parts[0], home)


def find_project_root(directory: str) -> str | None:
    """The nearest directory at or above ``directory`` holding ``max.json`` and ``.max``."""
    try:
        current = os.path.realpath(directory)
    except OSError:
        return None
    while True:
        if os.path.exists(os.path.join(current, "max.json")) and os.path.exists(
            os.path.join(current, ".max")
        ):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def registered_root(name_or_id: str, home: str) -> str | None:
    """The root of the workspace registered as ``name_or_id`` in ``workspaces.json`` (names
    first, then ids), when its directory still holds a workspace."""
    from ._wire import decode_json

    try:
        with open(os.path.join(home, "workspaces.json"), "rb") as file:
            document = decode_json(file.read())
    except (OSError, ValueError):
        return None
    entries = document.get("workspaces") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        return None
    entries = [e for e in entries if isinstance(e, dict)]
    match = next((e for e in entries if e.get("name") == name_or_id), None)
    if match is None:
        match = next((e for e in entries if e.get("id") == name_or_id), None)
    config = match.get("config") if match is not None else None
    data_dir = config.get("dataDir") if isinstance(config, dict) else None
    if not isinstance(data_dir, str) or not data_dir:
        return None
    root = os.path.dirname(os.path.abspath(data_dir))
    return root if os.path.exists(os.path.join(root, "max.json")) else None
