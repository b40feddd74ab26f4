"""``max browse`` — the local data in Datasette, in a web browser, read-only (docs/browse.md).

``max browse`` stays in the foreground for as long as it serves:

1. Datasette must be importable (the optional extra ``maxtrio[browse]``), else
   ``Error: max browse needs Datasette`` / ``Hint: pip install 'maxtrio[browse]'``;
2. the installations with a ``data.db`` (one at the installation level) are read once for
   the views and the metadata (``_browse_config``); none → an error naming ``max sync``.
   Installations kept on PostgreSQL are left out (Datasette serves files); naming one is an
   error pointing at ``max sql``;
3. it binds and listens on ``--host``/``--port`` itself (port 0: any free port) — a port in
   use is one error line with a hint — and hands the socket to the Datasette process
   (``_browse_server``), whose stdin pipe carries the configuration and then keeps it alive;
4. once ``/-/versions.json`` answers it prints the URL (``-o json``: ``{"url": …}``), and
   with ``--open`` opens it in a browser;
5. Ctrl-C or SIGTERM stops Datasette (stdin closed, SIGTERM, SIGKILL after 10 s) and exits
   0. Datasette stopping by itself is an error (exit 1). If ``max browse`` dies, the kernel
   closes the pipe and Datasette stops too.

The launcher never forwards ``max browse`` to a workspace daemon: it is a server of its own.
"""

from __future__ import annotations

from typing import Any

import asyncclick as click

from ._session import Session, debug_option, output_option, session

#: How long Datasette may take to answer its first request, and to stop when asked.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def datasette_installed() -> bool:
    """Whether Datasette can be imported (without importing it)."""
    import importlib.util

    try:
        return importlib.util.find_spec("datasette") is not None
    except (ImportError, ValueError):
        return False


def url_for(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def _probe_host(host: str) -> str:
    """Where this machine reaches a server listening on ``host`` (any address → loopback)."""
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)


def listen(host: str, port: int) -> Any:
    """A TCP socket bound to ``host``:``port`` and listening (port 0: any free one)."""
    import errno
    import os
    import socket

    from ._browse_errors import ErrBrowseCannotListen, ErrBrowsePortInUse

    hint = "--host takes an address of this machine (default 127.0.0.1)"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ErrBrowseCannotListen(host=host, port=port, reason=exc.strerror, hint=hint) from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ErrBrowsePortInUse(
                host=host,
                port=port,
                hint="choose another with --port, or --port 0 for any free port",
            ) from None
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise ErrBrowseCannotListen(host=host, port=port, reason=reason, hint=hint) from None
    return sock


async def _sources(run: Session) -> tuple[list[Any], str]:
    from ._browse_errors import ErrBrowseNothingToServe, ErrBrowseServerStore
    from ._cmd_sql import sql_sources
    from ._targeting import open_target

    async with open_target(run.targeting) as resolved:
        node = resolved.installation
        store = getattr(node, "store_label", None) if node is not None else None
        if node is not None and store is not None:
            raise ErrBrowseServerStore(
                installation=node.name,
                store=store,
                hint=f"max -t {resolved.url} sql 'SELECT …' queries it on the server",
            )
        found, _ = await sql_sources(resolved, files_only=True)
        target = str(resolved.url)
    sources = [
        s for s in found if s.path is not None and s.path.is_file()
    ]  # an installation never synced: no file
    if not sources:
        raise ErrBrowseNothingToServe(
            target=target, hint="max sync <installation> fills it (max ls lists them)"
        )
    return sources, target


async def _wait_until_answering(url: str, process: Any) -> None:
    """Return once ``url`` answers 200; raise when the process ends first or time runs out."""
    import httpx
    import trio

    from ._browse_errors import ErrBrowseNotAnswering

    with trio.move_on_after(START_TIMEOUT):
        async with httpx.AsyncClient(timeout=2.0) as client:
            while process.returncode is None:
                try:
                    response = await client.get(url)
                    if response.status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await trio.sleep(0.1)
    if process.returncode is None:
        raise ErrBrowseNotAnswering(
            seconds=f"{START_TIMEOUT:g}", hint="Datasette's messages, if any, are above"
        )


def _failure(code: int | None) -> Exception:
    from ._browse_errors import INSTALL_HINT, ErrBrowseNeedsDatasette, ErrBrowseServerFailed

    if code == 3:  # _browse_server.EXIT_NO_DATASETTE
        return ErrBrowseNeedsDatasette(hint=INSTALL_HINT)
    return ErrBrowseServerFailed(code=code, hint="Datasette's messages, if any, are above")


async def _stop(process: Any) -> None:
    """Stop Datasette: stdin closed and SIGTERM, SIGKILL after ``STOP_TIMEOUT`` seconds."""
    import signal

    import trio

    with trio.CancelScope(shield=True):
        if process.stdin is not None:
            await process.stdin.aclose()
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        with trio.move_on_after(STOP_TIMEOUT):
            await process.wait()
        if process.returncode is None:
            process.kill()
            await process.wait()


def _announce(run: Session, url: str, host: str, target: str, count: int, output: str) -> None:
    import json

    if output == "json":
        run.out.line(json.dumps({"url": url}))
    else:
        many = "installation" if count == 1 else "installations"
        run.out.line(f"Datasette serves {target} ({count} {many}) at {url}")
        run.note("Read-only. Ctrl-C stops it.")
    if host not in LOOPBACK:
        run.warn(
            f"Datasette has no login: anyone who can reach {url} reads this data "
            "(--host 127.0.0.1 keeps it on this machine)"
        )


async def run_browse(
    run: Session, *, host: str, port: int, open_browser: bool, output: str
) -> None:
    import json
    import os
    import subprocess
    import sys

    import trio

    from ._browse_config import browse_config
    from ._browse_errors import INSTALL_HINT, ErrBrowseNeedsDatasette
    from ._invocation import interrupt_requests

    if not datasette_installed():
        raise ErrBrowseNeedsDatasette(hint=INSTALL_HINT)
    sources, target = await _sources(run)
    config = await trio.to_thread.run_sync(browse_config, sources, f"max · {target}")
    with listen(host, port) as sock, interrupt_requests() as requests:
        url = url_for(host, sock.getsockname()[1])
        probe = url_for(_probe_host(host), sock.getsockname()[1]) + "-/versions.json"
        config["fd"] = sock.fileno()
        # the child imports what this process imports (max.pyz sets its path up at run time)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        process = await trio.lowlevel.open_process(
            [sys.executable, "-m", "maxtrio.cli._browse_server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            pass_fds=[sock.fileno()],
            start_new_session=True,  # Ctrl-C reaches max browse, which stops Datasette
            env=env,
        )
        stopped = False
        try:
            async with trio.open_nursery() as nursery:

                async def serve() -> None:
                    assert process.stdin is not None
                    try:
                        await process.stdin.send_all(json.dumps(config).encode() + b"\n")
                    except trio.BrokenResourceError:
                        return  # it ended before reading: until_exited reports it
                    await _wait_until_answering(probe, process)
                    _announce(run, url, host, target, len(sources), output)
                    if open_browser:
                        import webbrowser

                        await trio.to_thread.run_sync(webbrowser.open, url)

                async def until_requested() -> None:
                    nonlocal stopped
                    async for _signal in requests:
                        stopped = True
                        nursery.cancel_scope.cancel()

                async def until_exited() -> None:
                    await process.wait()
                    nursery.cancel_scope.cancel()

                nursery.start_soon(serve)
                nursery.start_soon(until_requested)
                nursery.start_soon(until_exited)
        finally:
            await _stop(process)
        if not stopped:
            raise _failure(process.returncode)


@click.command(name="browse")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Datasette has no login: any other than loopback exposes "
    "the data to whoever reaches it.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8001,
    show_default=True,
    help="Port to listen on (0: any free port; the one taken is printed).",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a web browser.")
@output_option(("text", "json"))
@debug_option
async def browse_command(host: str, port: int, open_browser: bool, output: str) -> None:
    """Explore the local data in Datasette, in a web browser (read-only).

    Each installation is a database named after it; each entity type a view named after it
    (AcmeTask) with _id and the fields, refs linked to their target, facets on enum-like
    fields and full-text search. Bookkeeping tables are hidden. Runs until Ctrl-C. Needs
    Datasette: pip install 'maxtrio[browse]'.

    \b
    Examples:
      max browse                      # http://127.0.0.1:8001/
      max browse --port 0 -o json     # any free port; prints {"url": …} once it answers
      max browse --open               # and open it in the browser
      max -t my-project/acme-1 browse # one installation
    """
    await run_browse(session(), host=host, port=port, open_browser=open_browser, output=output)
