"""The ``max sync`` progress display: one line per entity type, drawn on stderr with rich.

Fed by the executor's events (``maxtrio.execution``): ``TaskCompleted.count`` adds entities
written, ``TaskFailed`` adds a failure, ``SyncCompleted`` ends the display. A frame::

      AcmeUser             █████     283  4391.1/s
      AcmeTask             ███▒·    2156  4811.3/s  3 failed
      ──────────────────────────────────────────────
      3.2s elapsed

* the bar is the reference's animation (totals are unknown): each completed task moves it one
  step, cell *i* shows level ``clamp(phase − 5i, 0, 4)`` of ``·░▒▓█``, 25 steps per cycle;
* the count is entities written (the reference counted events);
* the rate is entities written per second since the sync started (``—`` in the first 0.1 s;
  the reference's 10-event window jumps wildly when one page brings thousands of rows);
* failures in red, then a rule and the elapsed time.

Only when stderr is a terminal (the command decides): nothing at all is drawn when piped.
Redraws are driven by a trio task in :func:`live_progress`'s nursery, 10 times a second (rich
``Live`` with its own refresh thread turned off), so the executor is never slowed by drawing.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import trio

from ._output import Style

BAR_LEVELS = "·░▒▓█"
BAR_CELLS = 5
PHASES = 25
MIN_RATE_SECONDS = 0.1
NAME_WIDTH = 20
RULE = "─" * 46
REFRESH_SECONDS = 0.1


class _TypeProgress:
    def __init__(self) -> None:
        self.count = 0
        self.failed = 0
        self.phase = 0
        self.events = 0


class ProgressState:
    """What the display shows, independent of any terminal (unit-testable with a fake clock)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.started = clock()
        self.types: dict[str, _TypeProgress] = {}
        self.finished = False

    def _type(self, name: str) -> _TypeProgress:
        return self.types.setdefault(name or "?", _TypeProgress())

    def completed(self, entity_type: str, count: int) -> None:
        entry = self._type(entity_type)
        entry.count += count
        entry.phase = (entry.phase + 1) % PHASES
        entry.events += 1

    def failed(self, entity_type: str) -> None:
        entry = self._type(entity_type)
        entry.failed += 1
        entry.events += 1

    def on_event(self, event: Any) -> None:
        """Feed one executor event (``sync-started`` … ``sync-completed``)."""
        kind = getattr(event, "kind", None)
        if kind == "task-completed":
            self.completed(event.entity_type, event.count)
        elif kind == "task-failed":
            self.failed(event.entity_type)
        elif kind == "sync-completed":
            self.finished = True

    def lines(self, style: Style) -> list[str]:
        out = []
        for name, entry in self.types.items():
            bar = "".join(
                _bar_cell(max(0, min(4, entry.phase - 5 * i)), style) for i in range(BAR_CELLS)
            )
            line = f"  {name:<{NAME_WIDTH}} {bar} {entry.count:>7}  {self._rate(entry)}"
            if entry.failed:
                line += "  " + style.red(f"{entry.failed} failed")
            out.append(line)
        out.append("  " + style.dim(RULE))
        out.append(f"  {self._clock() - self.started:.1f}s elapsed")
        return out

    def _rate(self, entry: _TypeProgress) -> str:
        elapsed = self._clock() - self.started
        if not entry.events or elapsed < MIN_RATE_SECONDS:
            return f"{'—':>9}"
        return f"{entry.count / elapsed:>7.1f}/s"


def _bar_cell(level: int, style: Style) -> str:
    char = BAR_LEVELS[level]
    return style.dim(char) if level == 0 else char


@contextlib.asynccontextmanager
async def live_progress(style: Style) -> AsyncIterator[ProgressState]:
    """Draw the display on stderr while the body runs; pass ``state.on_event`` to the sync.

    The last frame stays on screen when the body ends (also on error or Ctrl-C).
    """
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    state = ProgressState(trio.current_time)

    def frame() -> Text:
        return Text.from_ansi("\n".join(state.lines(style)))

    console = Console(stderr=True, force_terminal=True, no_color=not style.enabled)
    # No redirection of sys.stdout/sys.stderr: they are process-wide, and the workspace daemon
    # runs other commands beside this sync (their output would land in this display).
    live = Live(
        frame(),
        console=console,
        auto_refresh=False,
        transient=False,
        redirect_stdout=False,
        redirect_stderr=False,
    )
    live.start()
    try:
        async with trio.open_nursery() as nursery:

            async def redraw() -> None:
                while True:
                    await trio.sleep(REFRESH_SECONDS)
                    live.update(frame(), refresh=True)

            nursery.start_soon(redraw)
            try:
                yield state
            finally:
                nursery.cancel_scope.cancel()
    finally:
        live.update(frame(), refresh=True)
        live.stop()
