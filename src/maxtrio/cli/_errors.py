"""The CLI's errors (domain ``cli``) and how every error is shown.

One renderer for every failure, on stderr:

* a usage error (bad flag, unknown command, command at the wrong level): ``Error: <message>``
  then the reference's indented lines (``  Try: max -g install``, ``  Available commands: …``);
  exit **2**;
* a ``MaxError`` (bad filter, unknown installation, failed validation …): ``Error: <message>``
  and, when the error carries ``data["hint"]``, ``  Hint: <hint>``; exit **1**. Both lines
  are kept on one line (control characters escaped) and cut at ``MESSAGE_LIMIT`` characters;
* anything else (a bug): ``Error: <ExceptionType>: <message>`` and a hint to rerun with
  ``--debug``; exit 1.

``--debug`` adds the error's data and cause chain (``MaxError.pretty``) and the traceback.
``Error`` is red when stderr is a terminal and colour is allowed. Messages never contain
credential values (the connector layer keeps them out of every error).

Importing this module imports ``maxtrio.core`` — commands import it inside their bodies.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import Any

from maxtrio.core import BadInput, Boundary, MaxError, quote_input

from ._output import Style

CliBoundary = Boundary("cli")

#: The longest error or hint line (user input in it is quoted shorter, see ``quote_input``).
MESSAGE_LIMIT = 1000

ErrTargetResolutionFailed = CliBoundary.define(
    "target_resolution_failed",
    facets=[BadInput],
    message=lambda data: (
        f'Cannot resolve target "{quote_input(data["target"])}" — {data["reason"]}'
    ),
)


def _unknown_entity_type(data: Mapping[str, Any]) -> str:
    available = ", ".join(data.get("available", ()))
    return f'Unknown entity type "{quote_input(data["entityType"])}". Available: {available}'


ErrUnknownEntityType = CliBoundary.define(
    "unknown_entity_type", facets=[BadInput], message=_unknown_entity_type
)
ErrIncompatibleFlags = CliBoundary.define(
    "incompatible_flags", facets=[BadInput], message="{flags} — {reason}"
)
ErrInvalidOption = CliBoundary.define(
    "invalid_option", facets=[BadInput], message="{option} — {reason}"
)
ErrCollectionCommandFailed = CliBoundary.define(
    "collection_command_failed",
    facets=[BadInput],
    message="Collection command failed ({command}): {detail}",
)
ErrMissingInput = CliBoundary.define(
    "missing_input",
    facets=[BadInput],
    message="Cannot connect {connector} without prompting — missing: {missing}",
)
ErrNotConfirmed = CliBoundary.define(
    "not_confirmed", facets=[BadInput], message="Not confirmed — {action} was cancelled"
)
ErrNotInstallable = CliBoundary.define(
    "not_installable", facets=[BadInput], message='Cannot install "{source}" — {reason}'
)


def error_lines(exc: BaseException, style: Style, *, debug: bool) -> list[str]:
    """The stderr lines for a failed command (see the module docstring)."""
    error = style.red("Error")
    if isinstance(exc, MaxError):
        # Messages quote user input through quote_input; this keeps any that do not on one
        # line of bounded length.
        lines = [f"{error}: {quote_input(exc.message, MESSAGE_LIMIT)}"]
        hint = exc.data.get("hint")
        if isinstance(hint, str) and hint:
            lines.append(f"  Hint: {quote_input(hint, MESSAGE_LIMIT)}")
        if debug:
            lines.append(exc.pretty(color=style.enabled))
    else:
        text = str(exc).strip().splitlines()
        detail = f": {text[0]}" if text else ""
        lines = [f"{error}: {type(exc).__name__}{detail}"]
        if not debug:
            lines.append("  Hint: this is a bug in max; run again with --debug for the traceback")
    if debug:
        lines.append("".join(traceback.format_exception(exc)).rstrip())
    return lines
