"""Sync observer events and the bounded channel that carries them.

Events are frozen attrs values:

====================  =========================================================================
``SyncStarted``       after the plan was enqueued (``step_count`` = templates, groups included),
                      or on resume (``step_count`` 0, ``resumed`` True)
``TaskCompleted``     once per task that loaded data (``load-fields``, ``load-collection``, a
                      ``forRoot``/``forOne`` step), also a collection page that continues in a
                      child; ``count`` = entities of the target type it wrote. Fan-out steps,
                      groups and parents completed by propagation emit nothing.
``TaskFailed``        for **every** failing task, whatever its payload kind (``operation``)
``OperationRetried``  an upstream call failed with a retryable error (429, 5xx, a dropped
                      connection) and waits ``delay`` seconds before attempt ``attempt + 1``
``SyncCompleted``     exactly once, last, for every end: completed, failed, cancelled, interrupted
====================  =========================================================================

:class:`EventStream` is a bounded ``trio`` memory channel that never blocks the executor: when
the buffer is full a ``TaskCompleted`` (progress) is dropped, and any other event makes room by
evicting the oldest buffered one; both count as ``dropped``. ``OperationRetried`` is progress
too, dropped like ``TaskCompleted``: a storm of 429s never pushes a failure out.
``SyncCompleted`` is the last event, so nothing can evict it. The stream closes after it,
ending ``async for`` loops.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

import attrs
import trio

from ._result import SyncResult


@attrs.frozen
class SyncStarted:
    sync_id: str
    step_count: int
    resumed: bool = False
    kind: Literal["sync-started"] = "sync-started"


@attrs.frozen
class TaskCompleted:
    sync_id: str
    task_id: str
    entity_type: str
    operation: Literal["load-fields", "load-collection"]
    count: int
    kind: Literal["task-completed"] = "task-completed"


@attrs.frozen
class TaskFailed:
    sync_id: str
    task_id: str
    entity_type: str
    operation: str  # the payload kind: sync-step, load-fields, load-collection
    error: str
    code: str
    kind: Literal["task-failed"] = "task-failed"


@attrs.frozen
class OperationRetried:
    sync_id: str
    operation: str  # the operation's name, e.g. acme:task:list
    attempt: int  # the attempt that failed (1-based)
    delay: float  # seconds of back-off before the next attempt
    code: str  # the error's code, e.g. connector-acme.rate_limited
    kind: Literal["operation-retried"] = "operation-retried"


@attrs.frozen
class SyncCompleted:
    sync_id: str
    result: SyncResult
    kind: Literal["sync-completed"] = "sync-completed"


SyncEvent: TypeAlias = SyncStarted | TaskCompleted | TaskFailed | OperationRetried | SyncCompleted
#: Progress events: dropped rather than evicting anything when the buffer is full.
_DROPPABLE = (TaskCompleted, OperationRetried)


@attrs.frozen
class EventStreamStatistics:
    buffered: int  # events waiting for the observer
    capacity: int
    dropped: int  # progress events dropped and old events evicted because the buffer was full
    closed: bool


class EventStream:
    """The sending side of a sync's events; :attr:`receive` is what observers read."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("an event stream needs room for at least one event")
        self.capacity = capacity
        send, receive = trio.open_memory_channel[SyncEvent](capacity)
        self._send = send
        self._evict = receive.clone()  # our own reader, used only to drop the oldest event
        self.receive = receive
        self.dropped = 0
        self.closed = False

    def emit(self, event: SyncEvent) -> None:
        """Buffer ``event`` without waiting (see the module docstring for what gets dropped)."""
        if self.closed:
            return
        try:
            self._send.send_nowait(event)
            return
        except trio.WouldBlock:
            pass
        if isinstance(event, _DROPPABLE):
            self.dropped += 1
            return
        try:
            self._evict.receive_nowait()
            self.dropped += 1
        except trio.WouldBlock:
            pass  # an observer took one meanwhile
        self._send.send_nowait(event)

    def close(self) -> None:
        """No more events: observers finish reading what is buffered, then stop."""
        if not self.closed:
            self.closed = True
            self._send.close()
            self._evict.close()

    def statistics(self) -> EventStreamStatistics:
        stats = self._send.statistics()
        return EventStreamStatistics(
            stats.current_buffer_used, self.capacity, self.dropped, self.closed
        )
