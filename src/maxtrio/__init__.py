"""maxtrio — Max on trio.

A federated data layer (typed connectors sync SaaS and local data into portable SQLite and a
CLI queries it locally) and a MaxQ-compatible workflow engine. Each subpackage is one layer of
``docs/architecture.md``; the public API of each lives in its ``__init__``.
"""

import sys

__version__ = "0.1.0"

# httpx imports its command-line client (rich, pygments, click: ≈ 50 ms) on `import httpx`
# whenever those happen to be installed, and falls back to a stub when that import fails. No
# maxtrio process runs the `httpx` command, so the import is made to fail (a None entry in
# sys.modules is Python's way to block one module); every command that talks HTTP starts
# faster. `setdefault`: a process that already imported it keeps it.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

# httpcore imports its HTTP/2 connection classes, and with them the h2 and hpack packages
# (≈ 15 ms, hpack's Huffman tables), whenever h2 is installed — it is, for hypercorn's
# server side. No maxtrio client speaks HTTP/2 (none passes http2=True), so httpcore gets its
# own "h2 is not installed" stand-ins instead. h2 itself stays importable for hypercorn.
sys.modules.setdefault("httpcore._sync.http2", None)  # type: ignore[arg-type]
sys.modules.setdefault("httpcore._async.http2", None)  # type: ignore[arg-type]
