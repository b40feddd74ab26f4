"""``python -m maxtrio.flows``: the environment-driven server (spec §2.1)."""

from ._main import server_main

server_main()
