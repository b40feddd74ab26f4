"""Meta fields: virtual fields on every entity, resolved from its ref and never stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._ref import Ref

#: name → (resolver, default visible, filterable)
META_FIELDS: dict[str, tuple[Callable[[Ref], Any], bool, bool]] = {
    "_id": (lambda ref: ref.id, True, True),
    "_ref": (lambda ref: ref.to_key(), False, False),
}

#: Meta fields shown by default, in order.
DEFAULT_META_FIELDS: tuple[str, ...] = tuple(n for n, v in META_FIELDS.items() if v[1])
#: Meta fields usable in filters and ordering.
FILTERABLE_META_FIELDS: tuple[str, ...] = tuple(n for n, v in META_FIELDS.items() if v[2])
#: All meta field names, in order (the ``.meta`` group).
META_FIELD_NAMES: tuple[str, ...] = tuple(META_FIELDS)


def is_meta_field(name: str) -> bool:
    """True for any name with the reserved ``_`` prefix."""
    return name.startswith("_")


def is_known_meta_field(name: str) -> bool:
    return name in META_FIELDS


def resolve_meta_field(ref: Ref, name: str) -> Any:
    return META_FIELDS[name][0](ref)
