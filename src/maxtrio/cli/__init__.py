"""maxtrio.cli — the ``max`` command line (asyncclick), printers and progress rendering.

``main`` runs it as a process (direct mode); ``run_args`` runs one invocation inside a trio
loop, for the caller an :class:`Invocation` describes (``invocation_scope``) — that is how the
workspace daemon (``maxtrio.daemon``) serves commands.

Names are loaded on first use (PEP 562): importing the package is instant, so
``python -m maxtrio.cli`` reaches ``__main__`` — which turns a Ctrl-C during the imports of
the command table into ``Interrupted.`` and exit 130 — before the heavy imports begin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._dispatch import leaf_exception
    from ._invocation import Invocation, invocation_scope
    from ._main import main, root_group, run_args
    from ._targeting import open_global

__all__ = [
    "Invocation",
    "invocation_scope",
    "leaf_exception",
    "main",
    "open_global",
    "root_group",
    "run_args",
]


def __getattr__(name: str) -> Any:
    """The public names, all bound at the first use of any of them."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import _dispatch, _invocation, _main, _targeting

    for module in (_dispatch, _invocation, _main, _targeting):
        globals().update({n: getattr(module, n) for n in __all__ if hasattr(module, n)})
    return globals()[name]
