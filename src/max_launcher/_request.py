"""The ``run`` request the launcher sends: arguments, directory, and what the daemon may know
about this terminal and environment.

::

    {"kind": "run", "version": "1:…", "argv": [...], "cwd": "/home/me/proj", "color": false,
     "env": {"TERM": "xterm-256color", "COLUMNS": "120"},
     "tty": {"stdin": true, "stdout": true, "stderr": true}}

``env`` is an allow-list (``ENV_ALLOW``; plus, for ``connect --credentials-from-env PREFIX``,
the variables starting with ``PREFIX``): the daemon decides colour, width and whether it may
prompt exactly as the CLI does in direct mode, from these values instead of its own.
``color`` is the reference's pre-computed decision, kept so the message has its known shape.
"""

from __future__ import annotations

import os

from ._version import launcher_version

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

ENV_ALLOW = (
    "TERM",
    "COLUMNS",
    "LINES",
    "NO_COLOR",
    "FORCE_COLOR",
    "MAX_TARGET",
    "MAXTRIO_CONNECTORS_DIR",
    "MAX_STORE_URL",  # max connect's default --store (a credential: only over the socket)
)
CREDENTIALS_FROM_ENV = "--credentials-from-env"
#: Set by the completion scripts ``max completion <shell>`` prints: ``<shell>_complete``.
COMPLETE_VAR = "_MAX_COMPLETE"
COMPLETION_ENV = ("COMP_WORDS", "COMP_CWORD")


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def reference_color(argv: Sequence[str], environ: Mapping[str, str], stdout_tty: bool) -> bool:
    """Colour, first to say: ``--no-color`` > ``--color`` > ``NO_COLOR`` > ``FORCE_COLOR`` > tty."""
    if "--no-color" in argv:
        return False
    if "--color" in argv:
        return True
    if "NO_COLOR" in environ:
        return False
    force = environ.get("FORCE_COLOR")
    if force is not None and force != "0":
        return True
    return stdout_tty


def credentials_prefix(argv: Sequence[str]) -> str | None:
    for i, token in enumerate(argv):
        if token == "--":
            return None
        if token == CREDENTIALS_FROM_ENV and i + 1 < len(argv):
            return argv[i + 1] or None
        if token.startswith(CREDENTIALS_FROM_ENV + "="):
            return token.split("=", 1)[1] or None
    return None


def build_request(
    argv: list[str], cwd: str, environ: Mapping[str, str], *, shell: str | None = None
) -> dict[str, object]:
    """A ``run`` request — or, with ``shell``, a ``complete`` request whose words are the
    ``COMP_WORDS``/``COMP_CWORD`` the shell's completion script set (sent in ``env``)."""
    tty = {"stdin": _isatty(0), "stdout": _isatty(1), "stderr": _isatty(2)}
    env = {name: environ[name] for name in ENV_ALLOW if name in environ}
    if "COLUMNS" not in env:
        for fd in (1, 2):
            if tty["stdout" if fd == 1 else "stderr"]:
                try:
                    size = os.get_terminal_size(fd)
                except OSError:
                    continue
                env["COLUMNS"], env["LINES"] = str(size.columns), str(size.lines)
                break
    prefix = credentials_prefix(argv)
    if prefix is not None:
        env.update({k: v for k, v in environ.items() if k.startswith(prefix)})
    request: dict[str, object] = {
        "kind": "run" if shell is None else "complete",
        "version": launcher_version(),
        "argv": argv,
        "cwd": cwd,
        "color": reference_color(argv, environ, tty["stdout"]),
        "env": env,
        "tty": tty,
    }
    if shell is not None:
        request["shell"] = shell
        env.update({k: environ[k] for k in COMPLETION_ENV if k in environ})
    return request
