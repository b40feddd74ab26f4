"""The one name rule for everything from outside that names a file or a row: flows, step
scripts, step ids, and the run and step ids in URL paths.

A name is one or more ASCII letters, digits, ``_`` or ``-`` — the whole string (``fullmatch``:
a ``$``-anchored pattern would let ``"ok\\n"`` through). So a name can never be ``.``, ``..``,
empty, contain a slash, a space, or a control character, and it is safe to join to a
directory, to pass to a script's environment, and to quote in a log line.
"""

from __future__ import annotations

import re

NAME_PATTERN = re.compile(r"[a-zA-Z0-9_-]+")
QUOTE_LIMIT = 200  # characters of a rejected name quoted back in a message


def is_valid_name(name: object) -> bool:
    """True iff ``name`` is a string that satisfies the name rule."""
    return isinstance(name, str) and NAME_PATTERN.fullmatch(name) is not None


def name_problem(name: object, kind: str) -> str | None:
    """The contract's message for a ``kind`` name (``flow``, ``step``) that breaks the rule."""
    if not isinstance(name, str) or not name:
        return f"{kind} name must be a non-empty string"
    if NAME_PATTERN.fullmatch(name) is None:
        return (
            f'Invalid {kind} name: "{quoted(name)}". '
            "Only alphanumeric, underscore, and hyphen allowed."
        )
    return None


def quoted(text: str) -> str:
    """``text`` as it may appear in a message: control characters escaped, at most 200 chars."""
    shown = text if len(text) <= QUOTE_LIMIT else text[:QUOTE_LIMIT] + "…"
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in shown
    )
