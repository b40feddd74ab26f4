"""Classes that read and write their own JSON, known to the shared converter without it.

``wire_record(cls, read, write)`` marks ``cls``: ``read(value) -> cls`` structures it (raising
``ValueError``/``TypeError`` for a malformed value), ``write(obj) -> dict`` unstructures it.
The converter (:mod:`._wire`) dispatches to them for ``cls`` — in RPC messages, files and
``-o json`` alike — while the code that reads records on every command (the registries, the
health listing) calls :func:`read_wire_record` / :func:`write_wire_record` and never imports
cattrs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: The class attribute holding ``(read, write)``.
WIRE_RECORD_ATTRIBUTE = "__wire_record__"


def wire_record(cls: type[T], read: Callable[[Any], T], write: Callable[[T], Any]) -> None:
    """Mark ``cls`` as reading (``read``) and writing (``write``) its own JSON form."""
    setattr(cls, WIRE_RECORD_ATTRIBUTE, (read, write))


def _pair(cls: Any) -> tuple[Callable[[Any], Any], Callable[[Any], Any]] | None:
    """``cls``'s own ``(read, write)`` (a base class's marking does not count)."""
    return cls.__dict__.get(WIRE_RECORD_ATTRIBUTE) if isinstance(cls, type) else None


def is_wire_record(cls: Any) -> bool:
    """Whether ``cls`` itself (not a base class) was marked by :func:`wire_record`."""
    return _pair(cls) is not None


def wire_reader(cls: type[T]) -> Callable[[Any], T]:
    """The ``read`` of a marked class (``KeyError`` when it is not marked)."""
    pair = _pair(cls)
    if pair is None:
        raise KeyError(cls)
    return pair[0]


def wire_writer(cls: type[T]) -> Callable[[T], Any]:
    """The ``write`` of a marked class (``KeyError`` when it is not marked)."""
    pair = _pair(cls)
    if pair is None:
        raise KeyError(cls)
    return pair[1]


def read_wire_record(value: Any, cls: type[T]) -> T:
    """``value`` read as the marked class ``cls``."""
    return wire_reader(cls)(value)


def write_wire_record(record: Any) -> Any:
    """The JSON form of ``record``, an instance of a marked class."""
    return wire_writer(type(record))(record)
