"""Page cursors.

* Queries ordered by ``_id`` only use the reference's cursor: the RefKey of the last row
  (``ein:<Type>:<id>``), so existing cursors stay valid. A RefKey of another entity type is
  rejected with ``storage.invalid_cursor`` (MAXTRIO: the reference used its id and silently
  returned the wrong page), and so is text that is no RefKey at all.
* Full-text searches in rank order use ``txt1.<base64url json>``: the entity type, a digest of
  the text query and the offset of the next page (ranks are not stable values to resume
  after, and such searches are read a few pages deep). A token of another entity type or text
  query is rejected with ``storage.invalid_cursor``.
* Queries with a user ordering use an opaque keyset token, ``ord1.<base64url json>``, holding
  the ordering (field, direction), the last row's order value and id, and the entity type
  (tokens without the type, from before it was added, are still read). A token made for
  another entity type or a different ordering is rejected with ``storage.invalid_cursor``
  (BadInput), and so is one whose
  value the order column cannot hold (text for a number column, a number for a text column,
  NaN, an integer beyond 64 bits): no engine made it, and SQLite would compare it by rules the
  in-memory engine does not model, or fail to bind it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from typing import Any

import attrs

from maxtrio.core import Ordering, format_ref_key, quote_input, try_parse_ref_key

from ._errors import ErrInvalidCursor

_PREFIX = "ord1."
_TEXT_PREFIX = "txt1."
_FOREIGN = "it is not a cursor this engine made"
_INT64 = range(-(2**63), 2**63)


@attrs.frozen
class KeysetPosition:
    """The last row of a page under a user ordering."""

    field: str
    direction: str
    value: Any
    id: str


def encode_id_cursor(entity_type: str, last_id: str) -> str:
    return format_ref_key(entity_type, last_id)


def decode_id_cursor(cursor: str, entity_type: str) -> str:
    """The entity id of a RefKey cursor for ``entity_type``."""
    _check_text(cursor)
    parsed = try_parse_ref_key(cursor)
    if parsed is None:
        raise ErrInvalidCursor(
            cursor=cursor,
            reason=f"expected a RefKey such as ein:{entity_type}:<id>, or a cursor that "
            "max printed",
        )
    if parsed.entity_type != entity_type:
        raise ErrInvalidCursor(cursor=cursor, reason=_other_type(parsed.entity_type, entity_type))
    return parsed.entity_id


def _other_type(found: str, wanted: str) -> str:
    return (
        f"it is a cursor of {quote_input(found, 60)}, not of {wanted} "
        f"(use the cursor a search of {wanted} printed)"
    )


def _check_text(cursor: str) -> None:
    """Reject text SQLite cannot bind (lone surrogates): no engine made such a cursor."""
    try:
        cursor.encode("utf-8")
    except UnicodeEncodeError:
        raise ErrInvalidCursor(cursor=cursor, reason=_FOREIGN) from None


def encode_keyset(ordering: Ordering, value: Any, last_id: str, entity_type: str) -> str:
    payload = json.dumps(
        [ordering.field, ordering.direction, value, last_id, entity_type], separators=(",", ":")
    )
    return _PREFIX + base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def is_keyset_cursor(cursor: str) -> bool:
    return cursor.startswith(_PREFIX)


def _fits(value: Any, sql_type: str) -> bool:
    """True for an order value a column of ``sql_type`` holds (NULL fits every column)."""
    if value is None:
        return True
    if sql_type == "TEXT":
        return isinstance(value, str)
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return not math.isnan(value)
    return isinstance(value, int) and value in _INT64


def decode_keyset(
    cursor: str, ordering: Ordering, entity_type: str, sql_type: str | None = None
) -> KeysetPosition:
    """Decode a keyset token and check it was made for ``entity_type`` and ``ordering`` — and,
    given the order column's ``sql_type`` (None when the field is unknown), that its value fits
    the column."""
    _check_text(cursor)
    if not cursor.startswith(_PREFIX):
        raise ErrInvalidCursor(
            cursor=cursor,
            reason=f"this query is ordered by {ordering.field}; use the cursor it returned",
        )
    body = cursor[len(_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        field, direction, value, last_id, *made_for = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise ErrInvalidCursor(
            cursor=cursor, reason="it is not a cursor this engine made"
        ) from None
    if (
        not isinstance(field, str)
        or not isinstance(last_id, str)
        or direction not in ("asc", "desc")
    ):
        raise ErrInvalidCursor(cursor=cursor, reason="it is not a cursor this engine made")
    if value is not None and not isinstance(value, str | int | float):
        raise ErrInvalidCursor(cursor=cursor, reason="it is not a cursor this engine made")
    if len(made_for) > 1 or (made_for and not isinstance(made_for[0], str)):
        raise ErrInvalidCursor(cursor=cursor, reason=_FOREIGN)
    for text in (last_id, value):
        if isinstance(text, str):
            _check_text(text)
    if made_for and made_for[0] != entity_type:
        raise ErrInvalidCursor(cursor=cursor, reason=_other_type(made_for[0], entity_type))
    if field != ordering.field or direction != ordering.direction:
        raise ErrInvalidCursor(
            cursor=cursor,
            reason=(
                f"it was made for --order-by {field}:{direction}, "
                f"not {ordering.field}:{ordering.direction}"
            ),
        )
    if sql_type is not None and not _fits(value, sql_type):
        raise ErrInvalidCursor(cursor=cursor, reason=_FOREIGN)
    return KeysetPosition(field, direction, value, last_id)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def encode_text_cursor(entity_type: str, text: str, offset: int) -> str:
    payload = json.dumps([entity_type, _digest(text), offset], separators=(",", ":"))
    return _TEXT_PREFIX + base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_text_cursor(cursor: str, entity_type: str, text: str) -> int:
    """The offset of a rank-order text search's cursor made for ``entity_type`` and ``text``."""
    _check_text(cursor)
    if not cursor.startswith(_TEXT_PREFIX):
        raise ErrInvalidCursor(
            cursor=cursor, reason="this is a text search in rank order; use the cursor it returned"
        )
    body = cursor[len(_TEXT_PREFIX) :]
    try:
        made_for, digest, offset = json.loads(
            base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        )
    except (binascii.Error, ValueError, TypeError):
        raise ErrInvalidCursor(cursor=cursor, reason=_FOREIGN) from None
    if not isinstance(made_for, str) or not isinstance(offset, int) or isinstance(offset, bool):
        raise ErrInvalidCursor(cursor=cursor, reason=_FOREIGN)
    if offset < 0 or offset not in _INT64:
        raise ErrInvalidCursor(cursor=cursor, reason=_FOREIGN)
    if made_for != entity_type:
        raise ErrInvalidCursor(cursor=cursor, reason=_other_type(made_for, entity_type))
    if digest != _digest(text):
        raise ErrInvalidCursor(cursor=cursor, reason="it was made for another --text query")
    return offset
