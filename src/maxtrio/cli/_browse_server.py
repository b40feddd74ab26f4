"""The Datasette process of ``max browse`` (``python -m maxtrio.cli._browse_server``).

``max browse`` starts it with:

* stdin a pipe: the first line is the configuration (JSON, ``_browse_config``); then the pipe
  stays open for as long as ``max browse`` wants the server. End of file — ``max browse``
  stopping, or dying in any way, since the kernel closes the pipe then — makes the server
  stop as it does on SIGTERM. So the server never outlives ``max browse``;
* a TCP socket ``max browse`` bound and listens on, inherited (its number is ``fd`` in the
  configuration): the server takes connections on it, so the port is known before Datasette
  starts (``--port 0``) and a port in use is found by ``max browse`` itself.

Each installation is one Datasette database named after it, opened read-only (``mode=ro``,
never ``immutable``: a daemon or a sync may write the file while it is served). Datasette
lists tables and views from ``sqlite_master`` only, where TEMP views never appear, so the
database class here both creates the friendly views on every connection it opens (then sets
``PRAGMA query_only``) and lists them as the database's views; it opens no connection that
could write. A ``render_cell`` hook shows each ref as a link to the target row, labelled
with the target's label (``Ada Lovelace · usr_1``).

Exit codes: 0 stopped on request, 3 Datasette is not installed, 1 anything else.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import threading
import types
from typing import Any
from urllib.parse import quote as url_quote

EXIT_NO_DATASETTE = 3
PLUGIN_NAME = "maxtrio-browse"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def friendly_database(ds: Any, served: dict[str, Any]) -> Any:
    """A Datasette ``Database`` over one installation's file with its TEMP views."""
    import sqlite3

    from datasette.database import Database

    views: dict[str, str] = dict(served["views"])
    uri = f"file:{url_quote(served['path'])}?mode=ro"

    class FriendlyDatabase(Database):  # type: ignore[misc]
        def connect(self, write: bool = False) -> Any:
            if write:
                raise sqlite3.OperationalError("max browse serves read-only data")
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._all_file_connections.append(conn)
            for statement in views.values():
                conn.execute(statement)
            conn.execute("PRAGMA query_only = 1")
            return conn

        async def view_names(self) -> list[str]:
            return [*await super().view_names(), *views]

        async def get_table_definition(self, table: str, type_: str = "table") -> Any:
            if type_ == "view" and table in views:
                return views[table] + ";"
            return await super().get_table_definition(table, type_)

    return FriendlyDatabase(ds, path=served["path"], is_mutable=True)


def ref_labels(databases: list[dict[str, Any]]) -> Any:
    """The plugin whose ``render_cell`` shows a ref cell as a link to its target row,
    labelled with the target's label."""
    import markupsafe
    from datasette import hookimpl

    refs = {d["name"]: d["refs"] for d in databases}

    async def link(value: str, ref: dict[str, str], database: str, datasette: Any) -> Any:
        db = datasette.get_database(database)
        sql = f"SELECT {_quote(ref['label'])} FROM {_quote(ref['view'])} WHERE _id = ?"
        rows = (await db.execute(sql, [value])).rows
        label = rows[0][0] if rows and rows[0][0] is not None else None
        text = f"{label} · {value}" if label is not None else value
        path = datasette.urls.table(database, ref["view"])
        query = url_quote(value, safe="")
        return markupsafe.Markup('<a href="{}?_id={}">{}</a>').format(path, query, text)

    @hookimpl  # type: ignore[untyped-decorator]
    def render_cell(value: Any, column: str, table: str, database: str, datasette: Any) -> Any:
        ref = refs.get(database, {}).get(table, {}).get(column)
        if ref is None or not isinstance(value, str):
            return None
        return link(value, ref, database, datasette)

    plugin = types.ModuleType(PLUGIN_NAME)  # Datasette lists plugins by __name__
    plugin.render_cell = render_cell  # type: ignore[attr-defined]
    return plugin


def build(config: dict[str, Any]) -> Any:
    """The Datasette instance for a configuration (see ``_browse_config``)."""
    from datasette.app import Datasette
    from datasette.plugins import pm

    ds = Datasette(
        [],
        metadata=config["metadata"],
        settings={"sql_time_limit_ms": 3000, "allow_download": False},
    )
    if "_memory" in ds.databases:  # Datasette adds it when it is given no files
        ds.remove_database("_memory")
    for served in config["databases"]:
        ds.add_database(friendly_database(ds, served), name=served["name"])
    pm.register(ref_labels(config["databases"]), name=PLUGIN_NAME)
    return ds


def _first_line() -> bytes:
    """The configuration line from stdin (read unbuffered; nothing follows it)."""
    chunks: list[bytes] = []
    while not chunks or not chunks[-1].endswith(b"\n"):
        chunk = os.read(0, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _stop_on_eof() -> None:
    """Stop the server (as SIGTERM does) when stdin reaches its end."""
    try:
        while os.read(0, 65536):  # unbuffered: no lock held at interpreter shutdown
            pass
    finally:
        os.kill(os.getpid(), signal.SIGTERM)


async def _serve(ds: Any, sock: socket.socket) -> None:
    import uvicorn

    await ds.invoke_startup()
    config = uvicorn.Config(ds.app(), log_level="warning", access_log=False, lifespan="on")
    await uvicorn.Server(config).serve(sockets=[sock])


def main() -> int:
    try:
        import datasette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        return EXIT_NO_DATASETTE
    config = json.loads(_first_line())
    sock = socket.socket(fileno=config["fd"])
    ds = build(config)
    threading.Thread(target=_stop_on_eof, daemon=True).start()
    asyncio.run(_serve(ds, sock))
    return 0


if __name__ == "__main__":
    sys.exit(main())
