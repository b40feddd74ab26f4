"""How decoded JSON values are named in validation messages (boundary code shares this)."""

from __future__ import annotations


def json_kind(value: object) -> str:
    """``object``, ``array``, ``string``, ``number``, ``boolean`` or ``null`` for a decoded
    JSON value (anything else: its Python type name)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
