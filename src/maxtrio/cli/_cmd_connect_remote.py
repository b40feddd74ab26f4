"""``max connect --remote max+http://HOST:PORT/<ws>/<inst> --name x [--token-file F]``.

Records an installation of another machine's ``max serve`` in this workspace (the remote
deployer, ``maxtrio.federation``): the server must answer, accept the token (``--token-file
F``, else ``$MAX_TOKEN``) and serve the installation before anything is written; then
``max.json`` gets the entry ``{"strategy": "remote", "url": …}`` and
``.max/installations/x/remote-token`` the token (0600). The token is never printed. From then
on ``max -t <ws>/x …`` and ``max sync x`` run there, and ``max status`` shows its health.
"""

from __future__ import annotations

from typing import Any

from ._invocation import current_environ, resolve_path
from ._printers import dumps_pretty

TOKEN_ENV = "MAX_TOKEN"


def read_token(token_file: str | None) -> str | None:
    """The token: the file's first line (read here), else ``$MAX_TOKEN``, else None."""
    from ._errors import ErrInvalidOption

    if token_file is None:
        return current_environ().get(TOKEN_ENV) or None
    path = resolve_path(token_file)
    option = f"--token-file {path}"
    try:
        value = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ErrInvalidOption(option=option, reason=reason) from None
    if not value:
        raise ErrInvalidOption(option=option, reason="the file is empty")
    return value


async def connect_remote(
    run: Any, remote: str, name: str | None, token_file: str | None, output: str
) -> None:
    """Verify and record the remote installation ``remote`` as ``name``."""
    from maxtrio.federation import connect_remote as record
    from maxtrio.federation import remote_url

    from ._errors import ErrInvalidOption
    from ._targeting import open_target

    url = remote_url(remote)
    token = read_token(token_file)
    installation_name = name or url.installation
    if installation_name is None:  # remote_url made sure it names one
        raise ErrInvalidOption(option="--remote", reason="the URL names no installation")
    async with open_target(run.targeting) as target:
        workspace = target.require_workspace()
        info = await record(workspace, installation_name, url, token)
    local = workspace.url.child(info.name)
    if output == "json":
        document = {
            "url": str(local),
            "id": info.id,
            "name": info.name,
            "connector": info.connector,
            "remote": str(url),
        }
        run.lines([dumps_pretty(document)])
        return
    run.lines(
        [
            f"Connected {url} as installation {info.name} ({info.connector}, {info.id})",
            f"Next: max -t {workspace.name}/{info.name} status",
        ]
    )
