"""What a command body works with: its target, its output streams and the shared options.

:func:`session` gives the running command a :class:`Session` — the invocation's
:class:`~._targeting.Targeting`, stdout and stderr sinks with their colour decisions, and
:meth:`Session.emit` to print a report in the ``-o`` format the user chose. The option
decorators here (``output_option``, ``debug_option``) are the same on every command, so flags
mean the same everywhere.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import asyncclick as click

from ._dispatch import targeting_of
from ._output import Sink, Style, decide_color
from ._printers import FORMATS, Report, render
from ._targeting import Targeting

F = TypeVar("F", bound=Callable[..., Any])


def output_option(formats: Sequence[str] = FORMATS) -> Callable[[F], F]:
    """``-o/--output`` with the formats this command supports (default ``text``)."""
    return click.option(
        "-o",
        "--output",
        type=click.Choice(list(formats)),
        default="text",
        show_default=True,
        help=f"Output format ({', '.join(formats)}).",
    )


def debug_option(command: F) -> F:
    """``--debug`` (read before parsing, see ``_targeting``; listed here for ``--help``)."""
    return click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        help="Show the traceback and error details when something fails.",
    )(command)


class Session:
    """The running command's view of the invocation."""

    def __init__(self, targeting: Targeting) -> None:
        self.targeting = targeting
        color = targeting.options.color
        self.out = Sink(sys.stdout)
        self.err = Sink(sys.stderr)
        self.style = Style(decide_color(sys.stdout, color))
        self.err_style = Style(decide_color(sys.stderr, color))

    @property
    def debug(self) -> bool:
        return self.targeting.options.debug

    def emit(self, report: Report, output: str) -> None:
        """Print ``report`` in format ``output`` (colour only for ``text``/``table``)."""
        style = self.style if output in ("text", "table") else Style(False)
        self.lines(render(report, output, style))

    def lines(self, chunks: Iterable[str]) -> None:
        for chunk in chunks:
            self.out.line(chunk)

    def note(self, text: str) -> None:
        """A line for people on stderr (progress notes, warnings, paging hints)."""
        self.err.line(text)

    def warn(self, text: str) -> None:
        self.err.line(f"{self.err_style.yellow('Warning')}: {text}")


def session() -> Session:
    ctx = click.get_current_context()
    return Session(targeting_of(ctx))
