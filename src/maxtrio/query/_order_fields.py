"""``--order-by`` and ``--fields``: the search command's ordering and field selection (§15).

``--order-by FIELD[:DIRECTION]`` (§15.1, §15.5): split on ``:``; the first part is the field,
the second, lower-cased, is ``desc`` for descending and anything else (or nothing) for
ascending; further parts are ignored (``name:desc:x`` sorts descending). Both parts are
trimmed of whitespace. The field is not checked here — the engine rejects unknown and
collection fields and ``_ref``. An empty field is a BadInput error.

``--fields LIST`` (§15.3): a comma-separated list; items are trimmed and empty ones dropped;
group selectors expand in place — ``.props`` to the entity's stored fields in declaration
order, ``.meta`` to ``_id, _ref``, ``.all`` to ``.meta`` then ``.props``; duplicates are
removed keeping the first. Plain names are not checked (an unknown one just shows no values).
A list with no items at all (``--fields ","``) means the default selection, like no
``--fields`` (MAXTRIO, §15.5).

Decision: ``.props`` leaves out collection fields. The reference includes them, and they
always print empty because search never loads collections; ``.props`` here equals the
default columns without ``_id``.
"""

from __future__ import annotations

from maxtrio.core import META_FIELD_NAMES, EntityDef, Ordering

from ._errors import ErrInvalidOrderBy, ErrUnknownFieldGroup
from ._whitespace import js_trim

#: The group selectors of ``--fields``, in the order error messages list them.
FIELD_GROUPS: tuple[str, ...] = (".props", ".meta", ".all")


def parse_order_by(text: str) -> Ordering:
    """The ordering an ``--order-by`` value asks for, e.g. ``"name:desc"``."""
    parts = text.split(":")
    field = js_trim(parts[0])
    if not field:
        raise ErrInvalidOrderBy(
            orderBy=text, reason="the field name is empty (expected FIELD or FIELD:asc|desc)"
        )
    descending = len(parts) > 1 and js_trim(parts[1]).lower() == "desc"
    return Ordering(field, "desc" if descending else "asc")


def select_fields(spec: str | None, entity_def: EntityDef) -> tuple[str, ...] | None:
    """The field names a ``--fields`` value selects, or ``None`` for the default selection."""
    if spec is None:
        return None
    items = [item for item in (js_trim(part) for part in spec.split(",")) if item]
    if not items:
        return None
    selected: dict[str, None] = {}
    for item in items:
        for name in _expand(item, entity_def):
            selected.setdefault(name)
    return tuple(selected)


def _expand(item: str, entity_def: EntityDef) -> tuple[str, ...]:
    if not item.startswith("."):
        return (item,)
    if item == ".props":
        return entity_def.stored_field_names
    if item == ".meta":
        return META_FIELD_NAMES
    if item == ".all":
        return (*META_FIELD_NAMES, *entity_def.stored_field_names)
    raise ErrUnknownFieldGroup(group=item, available=list(FIELD_GROUPS))
