"""Text a user typed, as error messages show it: on one line, at most ~200 characters, and the
valid name they probably meant.

* :func:`printable` spells line breaks, other control characters and lone surrogates as
  escapes (``\\n``, ``\\x00``, ``\\udcff``) and leaves other text as it is;
* :func:`quote_input` is :func:`printable` cut to :data:`QUOTE_LIMIT` characters with ``…``
  — every error that echoes user input (a filter, a cursor, a field or type name) goes
  through it, so a 40 KB filter or a value holding a newline still gives one short line;
* :func:`closest` / :func:`did_you_mean` pick the likely intended name with :mod:`difflib`
  (``titel`` → ``title``, ``acmetask`` → ``AcmeTask``), imported when a name is not found.
"""

from __future__ import annotations

from collections.abc import Iterable

#: The most characters of user input an error line quotes.
QUOTE_LIMIT = 200
#: How similar (difflib ratio, case-insensitive) a name must be to be suggested.
_CUTOFF = 0.6


def printable(text: str) -> str:
    """``text`` safe in a one-line message: line breaks, other control characters and lone
    surrogates are spelled as escapes (``\\n``, ``\\udcff``); other text is unchanged."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def quote_input(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` for an error line: :func:`printable`, and at most ``limit`` characters — a
    longer text keeps its start and ends with ``…``. An escape is never cut in half."""
    shown = printable(text)
    if len(shown) <= limit:
        return shown
    pieces: list[str] = []
    used = 0
    for char in text:
        piece = printable(char)
        if used + len(piece) > limit - 1:
            break
        pieces.append(piece)
        used += len(piece)
    return "".join(pieces) + "…"


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice ``word`` most likely meant (case is ignored first), or None."""
    options = list(dict.fromkeys(choices))
    if word in options:
        return None
    folded = {option.lower(): option for option in options}
    if word.lower() in folded:
        return folded[word.lower()]
    import difflib

    found = difflib.get_close_matches(word.lower(), list(folded), n=1, cutoff=_CUTOFF)
    return folded[found[0]] if found else None


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """``did you mean "title"?`` for the closest choice, or None when nothing is close."""
    match = closest(word, choices)
    return None if match is None else f'did you mean "{match}"?'
