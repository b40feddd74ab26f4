"""The ``max sync`` progress display: one line per entity type, drawn on stderr with rich.

Fed by the executor's events (``maxtrio.execution``): ``TaskCompleted.count`` adds entities
synced, ``TaskFailed`` a failure, ``OperationRetried`` a retry and its back-off,
``SyncCompleted`` ends the display. A frame::

      AcmeUser             █████     283  4391.1/s
      AcmeTask             ███▒·    2156  4811.3/s  3 failed
      ──────────────────────────────────────────────
      3.2s elapsed  ·  12 retries, 4.5s back-off  ·  2 waiting to retry

* the bar is the reference's animation (totals are unknown): each completed task moves it one
  step, cell *i* shows level ``clamp(phase − 5i, 0, 4)`` of ``·░▒▓█``, 25 steps per cycle;
* the count is entities synced, each row once: rows listed by collection pages and rows whose
  fields were loaded are counted apart, and the larger of the two is shown — a plan that lists
  users and then loads their fields writes each user twice but syncs it once. When the sync
  ends, :meth:`ProgressState.settle` puts the exact counts read from ``data.db`` in the last
  frame (the numbers of the summary);
* the rate is entities per second since the sync started (``—`` in the first 0.1 s; the
  reference's 10-event window jumps wildly when one page brings thousands of rows);
* failures in red; then a rule, the elapsed time and — once the upstream pushed back (429,
  5xx) — the retries so far, the back-off they waited and how many calls are waiting now.

Only when stderr is a terminal (the command decides): nothing at all is drawn when piped.
:func:`live_progress` draws it; its :meth:`LiveProgress.redraw` loop runs 10 times a second in
the command's own nursery (rich ``Live`` with its own refresh thread turned off), so the
executor is never slowed by drawing and an error or Ctrl-C in the command reaches the command
as it is (no nursery of the display wraps it in an exception group).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import trio

from ._output import Style

if TYPE_CHECKING:
    from rich.live import Live
    from rich.text import Text

BAR_LEVELS = "·░▒▓█"
BAR_CELLS = 5
PHASES = 25
MIN_RATE_SECONDS = 0.1
NAME_WIDTH = 20
RULE = "─" * 46
REFRESH_SECONDS = 0.1


class _TypeProgress:
    def __init__(self) -> None:
        self.listed = 0  # rows of collection pages
        self.loaded = 0  # rows whose fields were loaded (often the listed rows again)
        self.exact: int | None = None  # read from data.db once the sync ended
        self.failed = 0
        self.phase = 0
        self.events = 0

    @property
    def count(self) -> int:
        return self.exact if self.exact is not None else max(self.listed, self.loaded)


class ProgressState:
    """What the display shows, independent of any terminal (unit-testable with a fake clock)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.started = clock()
        self.types: dict[str, _TypeProgress] = {}
        self.finished = False
        self.retries = 0
        self.backoff = 0.0  # seconds of back-off, summed
        self._retry_until: list[float] = []  # when each announced back-off ends

    def _type(self, name: str) -> _TypeProgress:
        return self.types.setdefault(name or "?", _TypeProgress())

    def completed(self, entity_type: str, count: int, operation: str = "load-collection") -> None:
        entry = self._type(entity_type)
        if operation == "load-fields":
            entry.loaded += count
        else:
            entry.listed += count
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
            self.completed(event.entity_type, event.count, event.operation)
        elif kind == "task-failed":
            self.failed(event.entity_type)
        elif kind == "operation-retried":
            self.retrying(event.delay)
        elif kind == "sync-completed":
            self.finished = True

    def retrying(self, delay: float) -> None:
        self.retries += 1
        self.backoff += delay
        now = self._clock()
        self._retry_until = [t for t in self._retry_until if t > now] + [now + delay]

    def waiting(self) -> int:
        """Calls sleeping before their next attempt now."""
        now = self._clock()
        return sum(1 for t in self._retry_until if t > now)

    def settle(self, entities: Mapping[str, int]) -> None:
        """The sync ended: show the entities synced as ``data.db`` counts them."""
        for name, entry in self.types.items():
            entry.exact = entities.get(name, 0)
        for name, count in entities.items():
            self._type(name).exact = count

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
        out.append(f"  {self._clock() - self.started:.1f}s elapsed{self._retry_text(style)}")
        return out

    def _retry_text(self, style: Style) -> str:
        if not self.retries:
            return ""
        plural = "retry" if self.retries == 1 else "retries"
        text = f"  ·  {self.retries} {plural}, {self.backoff:.1f}s back-off"
        waiting = self.waiting()
        if waiting and not self.finished:
            text += f"  ·  {waiting} waiting to retry"
        return style.yellow(text)

    def _rate(self, entry: _TypeProgress) -> str:
        elapsed = self._clock() - self.started
        if not entry.events or elapsed < MIN_RATE_SECONDS:
            return f"{'—':>9}"
        return f"{entry.count / elapsed:>7.1f}/s"


def _bar_cell(level: int, style: Style) -> str:
    char = BAR_LEVELS[level]
    return style.dim(char) if level == 0 else char


class LiveProgress:
    """The display on the terminal: :attr:`state` to feed, :meth:`redraw` to run."""

    def __init__(self, state: ProgressState, live: Live, style: Style) -> None:
        self.state = state
        self._live = live
        self._style = style

    def frame(self) -> Text:
        from rich.text import Text

        return Text.from_ansi("\n".join(self.state.lines(self._style)))

    def draw(self) -> None:
        self._live.update(self.frame(), refresh=True)

    async def redraw(self) -> None:
        """Draw a frame every :data:`REFRESH_SECONDS` until cancelled."""
        while True:
            await trio.sleep(REFRESH_SECONDS)
            self.draw()


@contextlib.contextmanager
def live_progress(style: Style) -> Iterator[LiveProgress]:
    """Show the display on stderr while the block runs; start ``redraw`` in the block's
    nursery and feed ``state.on_event``. The last frame stays on screen when the block ends
    (also on error or Ctrl-C)."""
    from rich.console import Console
    from rich.live import Live

    console = Console(stderr=True, force_terminal=True, no_color=not style.enabled)
    # No redirection of sys.stdout/sys.stderr: they are process-wide, and the workspace daemon
    # runs other commands beside this sync (their output would land in this display).
    state = ProgressState(trio.current_time)
    live = Live(
        console=console,
        auto_refresh=False,
        transient=False,
        redirect_stdout=False,
        redirect_stderr=False,
    )
    display = LiveProgress(state, live, style)
    live.update(display.frame())
    live.start(refresh=True)
    try:
        yield display
    finally:
        display.draw()
        live.stop()
