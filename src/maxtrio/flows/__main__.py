"""``python -m maxtrio.flows``: the environment-driven server."""

from ._main import server_main

server_main()
