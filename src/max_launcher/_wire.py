"""JSON lines for the daemon socket, with the interpreter's C accelerators only.

The ``json`` package costs a few milliseconds to import (it compiles regular expressions);
the launcher needs a tiny subset: encode flat messages (strings, booleans, numbers, lists,
string-keyed objects) and decode the daemon's replies. Strings are written ASCII-only, so a
lone surrogate (an undecodable byte of a file name, ``surrogateescape``) survives the trip and
is written back as the original byte.

The message shapes themselves (``run``, ``input``, ``cancel`` → ; ← ``write``, ``prompt``,
``response``, ``stale``) are documented in ``docs/daemon.md`` and validated on the daemon side
by ``maxtrio.daemon``'s cattrs classes.
"""

from __future__ import annotations

import _json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

#: The protocol's revision; part of the launcher version the daemon compares. 2: the daemon
#: greets each connection with ``ready`` and the launcher waits for it before the request.
PROTOCOL = 2
#: Longest line either side accepts (the daemon answers a longer one with exit code 2).
MAX_LINE_BYTES = 1 << 20

_quote: Callable[[str], str] = _json.encode_basestring_ascii


def encode_json(value: object) -> str:
    """Compact JSON for the values a message holds."""
    if isinstance(value, str):
        return _quote(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_quote(k)}:{encode_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(encode_json(v) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode_line(message: dict[str, object]) -> bytes:
    """One message as a ``\\n``-terminated line."""
    return (encode_json(message) + "\n").encode("ascii")


class _ScanContext:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float
    memo: dict[str, str] = {}  # noqa: RUF012 - the C scanner's interning table


_scan = _json.make_scanner(_ScanContext())  # type: ignore[arg-type]


def decode_json(data: bytes | str) -> object:
    """Parse one JSON document; any malformation raises ``ValueError``."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    text = text.strip()
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        raise ValueError("not JSON") from None
    except Exception as exc:  # the bare scanner reports some errors oddly
        raise ValueError(f"not JSON ({exc})") from None
    if end != len(text):
        raise ValueError("extra data after the JSON value")
    return value


def decode_message(line: bytes) -> dict[str, object]:
    """One message (a JSON object with a string ``kind``)."""
    value = decode_json(line)
    if not isinstance(value, dict) or not isinstance(value.get("kind"), str):
        raise ValueError("a message must be a JSON object with a kind")
    return value
