"""maxtrio.cli — the ``max`` command line (asyncclick), printers and progress rendering.

``main`` runs it as a process (direct mode); ``run_args`` runs one invocation inside a trio
loop, for the caller an :class:`Invocation` describes (``invocation_scope``) — that is how the
workspace daemon (``maxtrio.daemon``) serves commands.
"""

from ._invocation import Invocation, invocation_scope
from ._main import main, root_group, run_args
from ._targeting import open_global

__all__ = ["Invocation", "invocation_scope", "main", "open_global", "root_group", "run_args"]
