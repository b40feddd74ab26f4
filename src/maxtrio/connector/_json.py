"""JSON bodies of upstream answers, decoded fast and exactly as the standard library would.

A sync spends a good part of its CPU decoding pages (a 1,000-task Acme page: 2.9 ms with
``json.loads``, 1.1 ms with msgspec). :func:`decode_json` decodes with msgspec and gives the
same values ``json.loads`` gives: integers of any size stay integers, floats round the same,
key order and "last duplicate key wins" are kept. What msgspec refuses and the standard library
accepts (``NaN``, ``Infinity``, numbers beyond a double, lone surrogates in ``\\u`` escapes)
goes to ``json.loads``, which also raises the ``ValueError`` of a body that is not JSON.
Small bodies (under :data:`FAST_FROM` bytes: a health check's answer, one record) go
straight to ``json.loads`` — what msgspec would save on them is less than the 3 ms its import
costs, which a command that reads no page of rows (``max ls``) then never pays.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

#: The size from which a body is decoded with msgspec.
FAST_FROM = 16 * 1024

_decode: Callable[[bytes | str], Any] | None = None


def decode_json(content: bytes | str) -> Any:
    """The value of the JSON text ``content`` (``ValueError`` when it is not JSON)."""
    global _decode
    if len(content) < FAST_FROM:
        return json.loads(content)
    if _decode is None:
        import msgspec

        _decode = msgspec.json.Decoder().decode
    try:
        return _decode(content)
    except ValueError:  # msgspec.DecodeError: what msgspec refuses, the json module decides
        return json.loads(content)
