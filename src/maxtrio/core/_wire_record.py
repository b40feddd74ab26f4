"""Classes that read and write their own JSON, known to the shared converter without it.

``wire_record(cls, read, write)`` marks ``cls``: ``read(value) -> cls`` structures it (raising
``ValueError``/``TypeError`` for a malformed value), ``write(obj) -> dict`` unstructures it.
The converter (:mod:`._wire`) dispatches to them for ``cls`` — in RPC messages, files and
``-o json`` alike — while the code that reads records on every command (the registries, the
health listing) calls them directly and never imports cattrs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: The class attribute holding ``(read, write)``.
WIRE_RECORD_ATTRIBUTE = "__wire_record__"


def wire_record(cls: type, read: Callable[[Any], Any], write: Callable[[Any], Any]) -> None:
    """Mark ``cls`` as reading (``read``) and writing (``write``) its own JSON form."""
    setattr(cls, WIRE_RECORD_ATTRIBUTE, (read, write))


def is_wire_record(cls: Any) -> bool:
    """Whether ``cls`` itself (not a base class) was marked by :func:`wire_record`."""
    return isinstance(cls, type) and WIRE_RECORD_ATTRIBUTE in cls.__dict__
