"""JavaScript's whitespace: the ``\\s`` regex class, which is also what ``String.trim`` removes.

The filter language and the CLI's list options follow JavaScript here, not Python:
``str.isspace`` / ``str.strip`` also treat ``\\x1c``–``\\x1f`` and ``\\x85`` as whitespace and do
not treat ``\\ufeff`` (the byte-order mark) as whitespace.
"""

from __future__ import annotations

import re

#: Every character JavaScript's ``\s`` matches: ASCII tab, LF, VT, FF, CR and space, NBSP,
#: the Unicode space separators, the line and paragraph separators, and the BOM.
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)

#: ``JS_WHITESPACE`` as the body of a regex character class.
WS_CLASS = "[" + "".join(re.escape(c) for c in JS_WHITESPACE) + "]"

_WS_SET = frozenset(JS_WHITESPACE)


def is_js_whitespace(char: str) -> bool:
    """True when ``char`` (one character) is whitespace for JavaScript."""
    return char in _WS_SET


def js_trim(text: str) -> str:
    """``text`` without leading and trailing JavaScript whitespace (``String.prototype.trim``)."""
    return text.strip(JS_WHITESPACE)
