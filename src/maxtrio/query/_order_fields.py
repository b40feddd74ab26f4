"""``--order-by`` and ``--fields``: the search command's ordering and field selection.

``--order-by FIELD[:DIRECTION]``: split on ``:``; the first part is the field,
the second, lower-cased, is ``desc`` for descending and anything else (or nothing) for
ascending; further parts are ignored (``name:desc:x`` sorts descending). Both parts are
trimmed of whitespace. An empty field is a BadInput error. Given the entity, the field must
be ``_id`` or a stored field (MAXTRIO: the reference leaves that to the engine's
``storage.field_not_found``); otherwise ``cli.invalid_order_by`` with a did-you-mean hint.

``--fields LIST``: a comma-separated list; items are trimmed and empty ones dropped;
group selectors expand in place — ``.props`` to the entity's stored fields in declaration
order, ``.meta`` to ``_id, _ref``, ``.all`` to ``.meta`` then ``.props``; duplicates are
removed keeping the first. A plain name must be ``_id``, ``_ref`` or a stored field of the
entity (MAXTRIO: the reference prints an empty column for an unknown one — and for a
collection field, which search never loads), else ``cli.unknown_field`` naming it, with a
did-you-mean hint. A list with no items at all
(``--fields ","``) means the default selection, like no ``--fields``.

Decision: ``.props`` leaves out collection fields. The reference includes them, and they
always print empty because search never loads collections; ``.props`` here equals the
default columns without ``_id``.
"""

from __future__ import annotations

from maxtrio.core import (
    FILTERABLE_META_FIELDS,
    META_FIELD_NAMES,
    EntityDef,
    Ordering,
    quote_input,
)

from ._errors import ErrInvalidOrderBy, ErrUnknownField, ErrUnknownFieldGroup, suggestion
from ._whitespace import js_trim

#: The most characters of an unknown name an error quotes.
_NAME_LENGTH = 60

#: The group selectors of ``--fields``, in the order error messages list them.
FIELD_GROUPS: tuple[str, ...] = (".props", ".meta", ".all")


def parse_order_by(text: str, entity_def: EntityDef | None = None) -> Ordering:
    """The ordering an ``--order-by`` value asks for, e.g. ``"name:desc"`` (its field checked
    against ``entity_def`` when given)."""
    parts = text.split(":")
    field = js_trim(parts[0])
    if not field:
        raise ErrInvalidOrderBy(
            orderBy=text, reason="the field name is empty (expected FIELD or FIELD:asc|desc)"
        )
    if entity_def is not None:
        valid = (*FILTERABLE_META_FIELDS, *entity_def.stored_field_names)
        if field not in valid:
            raise ErrInvalidOrderBy(
                orderBy=text,
                reason=f'{entity_def.name} has no field "{quote_input(field, _NAME_LENGTH)}" to '
                f"sort by (sortable: {', '.join(valid)})",
                field=field,
                **suggestion(field, valid),
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
    valid = (*META_FIELD_NAMES, *entity_def.stored_field_names)
    for item in items:
        for name in _expand(item, entity_def):
            if name not in valid:
                raise ErrUnknownField(
                    field=name,
                    option="--fields",
                    entityType=entity_def.name,
                    available=list(valid),
                    collection=entity_def.field(name) is not None,
                    **suggestion(name, valid),
                )
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
