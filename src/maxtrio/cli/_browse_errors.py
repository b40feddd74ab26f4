"""The ``browse`` boundary: what can stop ``max browse`` (one line and a hint each)."""

from __future__ import annotations

from maxtrio.core import BadInput, Boundary, NotFound, quote_input

Browse = Boundary("browse")

INSTALL_HINT = "pip install 'maxtrio[browse]'"

ErrBrowseNeedsDatasette = Browse.define(
    "needs_datasette", facets=[BadInput], message="max browse needs Datasette"
)
ErrBrowseNothingToServe = Browse.define(
    "nothing_to_serve",
    facets=[NotFound],
    message="No data to browse yet in {target} — no installation has a data.db",
)
ErrBrowseServerStore = Browse.define(
    "server_store",
    facets=[BadInput],
    message="max browse serves data.db files; {installation} keeps its data on {store}",
)
ErrBrowsePortInUse = Browse.define(
    "port_in_use",
    facets=[BadInput],
    message=lambda d: f"Port {d['port']} on {quote_input(d['host'])} is already in use",
)
ErrBrowseCannotListen = Browse.define(
    "cannot_listen",
    facets=[BadInput],
    message=lambda d: f"Cannot listen on {quote_input(d['host'])}:{d['port']} — {d['reason']}",
)
ErrBrowseServerFailed = Browse.define(
    "server_failed", facets=[], message="Datasette stopped unexpectedly (exit code {code})"
)
ErrBrowseNotAnswering = Browse.define(
    "not_answering", facets=[], message="Datasette did not answer within {seconds} s"
)
