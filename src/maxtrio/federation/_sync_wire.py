"""``SyncRecord`` on the shared converter (``startedAt``/``completedAt``), registered on import.

Imported where sync records cross the wire (:mod:`._rpc_dispatch` sends ``syncHistory``,
:mod:`._rpc_clients` receives it), not by :mod:`._status`, so that reading health does not
import the execution stack.
"""

from __future__ import annotations

from maxtrio.execution import SyncRecord

from ._rpc_messages import camel_hooks

camel_hooks(SyncRecord, started_at="startedAt", completed_at="completedAt")
