"""``max serve`` — serve this workspace over HTTP and WebSocket to other machines.

Workspace level. The options and the target are checked here (a target that does not
resolve, a missing ``--keyfile`` … are the CLI's usual one-line errors); then this process
**becomes** the server (``python -m maxtrio.remote``, see ``maxtrio.remote``): the same PID,
terminal and signals, so Ctrl-C and SIGTERM stop it. The launcher never sends ``max serve`` to
a workspace daemon, and a daemon asked to run it refuses.

On start it prints one line; with ``-o json`` exactly
``{"url": "max+http://127.0.0.1:PORT/<workspace>", "token": "<token>"}``. Clients run
``max -t <url>[/<installation>] <command>`` with the token in ``MAX_TOKEN`` or
``--token-file`` (``docs/remote.md``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import asyncclick as click

from ._session import debug_option, output_option, session

DEFAULT_HOST = "127.0.0.1"


@click.command(name="serve")
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    help="Address to listen on (another than loopback exposes the workspace to the network).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port to listen on (0: any free port; the start line says which).",
)
@click.option(
    "--read-only",
    is_flag=True,
    help="Allow only search, schema, status and ls (and the read RPC methods).",
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Bearer token file (created 0600 when missing). Default: .max/serve-token.",
)
@click.option(
    "--certfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="TLS certificate (PEM): serve HTTPS; clients use max://HOST:PORT/<workspace>.",
)
@click.option(
    "--keyfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The TLS certificate's private key (PEM); needed with --certfile.",
)
@output_option(("text", "json"))
@debug_option
async def serve_command(
    host: str,
    port: int,
    read_only: bool,
    token_file: Path | None,
    certfile: Path | None,
    keyfile: Path | None,
    output: str,
) -> None:
    """Serve this workspace to other machines (HTTP and WebSocket, token required).

    Every request needs the token (Authorization: Bearer); it is made on the first start
    and kept in .max/serve-token (0600). Listens on 127.0.0.1 unless --host says otherwise;
    without --certfile traffic is plain HTTP: put a TLS reverse proxy in front, or give
    --certfile and --keyfile.

    \b
    Examples:
      max serve                              # Serving max+http://127.0.0.1:PORT/<ws> …
      max serve --port 7433 --read-only -o json
      MAX_TOKEN=… max -t max+http://127.0.0.1:7433/<ws>/acme-1 search AcmeTask --limit 5
    """
    from ._errors import ErrIncompatibleFlags
    from ._invocation import current_invocation, resolve_path
    from ._targeting import open_target

    run = session()
    if (certfile is None) != (keyfile is None):
        raise ErrIncompatibleFlags(
            flags="--certfile/--keyfile", reason="TLS needs both the certificate and its key"
        )
    if current_invocation() is not None:
        raise ErrIncompatibleFlags(
            flags="max serve",
            reason="a server runs in its own process, not in the workspace daemon",
            hint="run it directly: max --direct serve",
        )
    async with open_target(run.targeting) as target:
        root = Path(target.require_workspace().root)
    args = ["--root", str(root), "--host", host, "--port", str(port), "--output", output]
    if read_only:
        args.append("--read-only")
    for flag, path in (
        ("--token-file", token_file),
        ("--certfile", certfile),
        ("--keyfile", keyfile),
    ):
        if path is not None:
            args += [flag, str(resolve_path(str(path)))]
    _become_server(args)


def _become_server(args: list[str]) -> None:
    import max_launcher

    argv = max_launcher.serve_command(args)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os.execv(argv[0], argv)
