"""Flow control: per-``Limit`` gates around upstream calls.

A flow controller runs a call when its gate admits it: ``await controller.run(fn)`` waits as
needed, runs ``fn``, returns its result or propagates its exception, and always gives back what
it took (also when the caller is cancelled).

* :class:`ConcurrencyController` — at most *n* calls at once, a ``trio.CapacityLimiter`` (FIFO).
* :class:`TokenBucket` — at most *rate* calls per second on average, with bursts of up to
  ``capacity`` (``Limit.burst``, else ``max(1, rate)``: a rate below one per second still
  admits calls — reference bug B4). Time is ``trio.current_time()``, so tests run on
  ``MockClock``. Strictly FIFO: waiters queue on a fair ``trio.Lock`` and only the head of the
  queue sleeps (``trio.sleep_until``) until its token is due.
* :class:`CompositeController` — gates in order, the first outermost. For a ``Limit`` with both
  a rate and a concurrency the rate gate comes first, so nobody holds a concurrency slot while
  waiting for a token.
* :class:`UnlimitedController` — admits everything at once.

:class:`FlowControllerProvider` hands out one controller per limit *name*, shared by every
operation and every sync that uses it; asking for a known name with another configuration
raises ``execution.limit_strategy_conflict``.

Every controller has ``statistics()`` (a :class:`FlowStatistics`): calls inside the gate,
calls waiting, the most ever inside at once, tokens left…
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol, TypeVar

import attrs
import trio

from maxtrio.core import Limit

from ._errors import ErrLimitStrategyConflict

T = TypeVar("T")


@attrs.frozen
class FlowStatistics:
    """A snapshot of one flow controller.

    ``active``: calls admitted and still running; ``waiting``: calls queued at a gate;
    ``peak_active``: the most calls ever running at once; ``admitted``: calls admitted so far.
    ``max_concurrent`` is the concurrency bound (None: unbounded); ``rate``, ``capacity`` and
    ``tokens`` describe the token bucket, if any.
    """

    active: int
    waiting: int
    peak_active: int
    admitted: int
    max_concurrent: int | None = None
    rate: float | None = None
    capacity: float | None = None
    tokens: float | None = None


class FlowController(Protocol):
    async def run(self, fn: Callable[[], Awaitable[T]]) -> T: ...

    def statistics(self) -> FlowStatistics: ...


class _Activity:
    """Counts calls inside a controller (active now, peak, admitted)."""

    def __init__(self) -> None:
        self.active = 0
        self.peak_active = 0
        self.admitted = 0

    async def run(self, fn: Callable[[], Awaitable[T]]) -> T:
        self.active += 1
        self.admitted += 1
        self.peak_active = max(self.peak_active, self.active)
        try:
            return await fn()
        finally:
            self.active -= 1


class UnlimitedController:
    """Admits every call at once."""

    def __init__(self) -> None:
        self._activity = _Activity()

    async def run(self, fn: Callable[[], Awaitable[T]]) -> T:
        return await self._activity.run(fn)

    def statistics(self) -> FlowStatistics:
        a = self._activity
        return FlowStatistics(a.active, 0, a.peak_active, a.admitted)


class ConcurrencyController:
    """At most ``max_concurrent`` calls at once; waiters are admitted first come, first served.

    Each call borrows the limiter on behalf of its own token, so one trio task may hold several
    slots (an operation handler calling another operation under the same limit).
    """

    def __init__(self, max_concurrent: int) -> None:
        self._limiter = trio.CapacityLimiter(max_concurrent)
        self._activity = _Activity()

    @property
    def limiter(self) -> trio.CapacityLimiter:
        return self._limiter

    async def run(self, fn: Callable[[], Awaitable[T]]) -> T:
        borrower = object()
        await self._limiter.acquire_on_behalf_of(borrower)
        try:
            return await self._activity.run(fn)
        finally:
            self._limiter.release_on_behalf_of(borrower)

    def statistics(self) -> FlowStatistics:
        stats = self._limiter.statistics()
        a = self._activity
        return FlowStatistics(
            active=a.active,
            waiting=stats.tasks_waiting,
            peak_active=a.peak_active,
            admitted=a.admitted,
            max_concurrent=int(stats.total_tokens),
        )


class TokenBucket:
    """At most ``rate`` calls per second on average; bursts up to ``capacity``; strict FIFO.

    The bucket starts full. Tokens refill continuously at ``rate`` per second up to
    ``capacity``; a call takes one token. Tokens are never given back. A caller cancelled while
    queued takes nothing.
    """

    def __init__(self, rate: float, capacity: float | None = None) -> None:
        if not rate > 0:
            raise ValueError("the rate must be more than 0 per second")
        self.rate = float(rate)
        self.capacity = float(capacity) if capacity is not None else max(1.0, self.rate)
        self._tokens = self.capacity
        self._stamp: float | None = None  # set on first use, inside trio
        self._queue = trio.Lock()  # trio.Lock is fair: waiters acquire in arrival order
        self._sleeping = 0
        self._activity = _Activity()

    def _available(self, now: float) -> float:
        if self._stamp is None:
            self._stamp = now
        return min(self.capacity, self._tokens + (now - self._stamp) * self.rate)

    async def take(self) -> None:
        """Wait for a token and take it."""
        async with self._queue:
            now = trio.current_time()
            tokens = self._available(now)
            if tokens < 1.0:
                # Sleep exactly until the missing fraction of a token has refilled.
                due = now + (1.0 - tokens) / self.rate
                self._sleeping += 1
                try:
                    await trio.sleep_until(due)
                finally:
                    self._sleeping -= 1
                now = max(trio.current_time(), due)
                tokens = max(1.0, self._available(now))
            self._tokens = tokens - 1.0
            self._stamp = now

    async def run(self, fn: Callable[[], Awaitable[T]]) -> T:
        await self.take()
        return await self._activity.run(fn)

    def statistics(self) -> FlowStatistics:
        lock = self._queue.statistics()
        a = self._activity
        return FlowStatistics(
            active=a.active,
            waiting=lock.tasks_waiting + self._sleeping,
            peak_active=a.peak_active,
            admitted=a.admitted,
            rate=self.rate,
            capacity=self.capacity,
            tokens=self._available(trio.current_time()),
        )


class CompositeController:
    """Gates in order: the first is the outermost. Errors propagate; every gate gives back."""

    def __init__(self, *controllers: FlowController) -> None:
        if not controllers:
            raise ValueError("a composite controller needs at least one controller")
        self.controllers = controllers
        self._activity = _Activity()

    async def run(self, fn: Callable[[], Awaitable[T]]) -> T:
        async def innermost() -> T:
            return await self._activity.run(fn)

        call: Callable[[], Awaitable[T]] = innermost
        for controller in reversed(self.controllers):
            call = _gate(controller, call)
        return await call()

    def statistics(self) -> FlowStatistics:
        parts = [c.statistics() for c in self.controllers]
        a = self._activity
        bounds = [p.max_concurrent for p in parts if p.max_concurrent is not None]
        bucket = next((p for p in parts if p.rate is not None), None)
        return FlowStatistics(
            active=a.active,
            waiting=sum(p.waiting for p in parts),
            peak_active=a.peak_active,
            admitted=a.admitted,
            max_concurrent=min(bounds) if bounds else None,
            rate=bucket.rate if bucket else None,
            capacity=bucket.capacity if bucket else None,
            tokens=bucket.tokens if bucket else None,
        )


def _gate(
    controller: FlowController, inner: Callable[[], Awaitable[T]]
) -> Callable[[], Awaitable[T]]:
    async def call() -> T:
        return await controller.run(inner)

    return call


def describe_limit(limit: Limit) -> str:
    """``concurrent(50)``, ``rate(10)``, ``concurrent(5)+rate(10)``, ``…+burst(20)`` or ``none``."""
    text = limit.describe()
    if limit.burst is not None:
        text = f"{text}+burst({limit.burst})" if text != "none" else f"burst({limit.burst})"
    return text


def controller_for(limit: Limit) -> FlowController:
    """A fresh controller for one limit: rate gate outside, concurrency gate inside."""
    gates: list[FlowController] = []
    if limit.per_second is not None:
        capacity = float(limit.burst) if limit.burst is not None else None
        gates.append(TokenBucket(limit.per_second, capacity))
    if limit.max_concurrent is not None:
        gates.append(ConcurrencyController(limit.max_concurrent))
    if not gates:
        return UnlimitedController()
    if len(gates) == 1:
        return gates[0]
    return CompositeController(*gates)


class FlowControllerProvider:
    """One controller per limit name, shared by every operation and sync that names it.

    Owned by an installation: all syncs of the installation share its limits.
    """

    def __init__(self) -> None:
        self._controllers: dict[str, tuple[str, FlowController]] = {}
        self._by_limit: dict[Limit, FlowController] = {}  # the hot path: one dict lookup

    def get(self, limit: Limit) -> FlowController:
        controller = self._by_limit.get(limit)
        if controller is None:
            controller = self._by_limit[limit] = self._lookup(limit)
        return controller

    def _lookup(self, limit: Limit) -> FlowController:
        description = describe_limit(limit)
        known = self._controllers.get(limit.name)
        if known is not None:
            existing, controller = known
            if existing != description:
                raise ErrLimitStrategyConflict(
                    limitName=limit.name, existing=existing, requested=description
                )
            return controller
        controller = controller_for(limit)
        self._controllers[limit.name] = (description, controller)
        return controller

    def statistics(self) -> Mapping[str, FlowStatistics]:
        """Statistics of every controller handed out so far, by limit name."""
        return {name: c.statistics() for name, (_, c) in self._controllers.items()}
