"""Operation dispatch: the middleware pipeline between loaders and operation handlers.

Loaders call ``env.ops.execute(op, input)``; a :class:`DispatchingOperationExecutor` forwards
that to an :class:`OperationDispatcher`, which runs the middleware chain — the **first
middleware is the outermost** — and finally ``op.handle(input, env)``. A middleware is an async
callable ``(op, input, call_next) → result``; it may act before and after ``call_next()``,
change the result, catch errors, call ``call_next`` again (retries) or not at all.

The standard pipeline of a sync is ``[counting, retry, rate limiting]``:

* :class:`CountingMiddleware` (one per sync, so the ``SyncResult`` carries the sync's own
  ``operations``) counts every dispatch before it goes on, so calls that wait at a limit and
  calls that fail are counted; :meth:`~CountingMiddleware.counts` returns a copy.
* :class:`RetryMiddleware` retries operations that fail with a ``MaxError`` carrying the
  ``Retryable`` facet (HTTP 429, 5xx, dropped connections), with bounded exponential back-off
  and jitter; ``error.data["retryAfter"]`` (seconds), when present, is honoured up to a cap.
  It sleeps with ``trio.sleep`` (``MockClock`` in tests) outside the limit gates, so a
  waiting retry holds no concurrency slot and takes a fresh rate token each attempt. Each
  retry is told to the :class:`RetryObserver` of the calling task, if any
  (:func:`observing_retries`: the executor observes the tasks of a sync, so its result and
  its events count the sync's own retries and back-off).
* :class:`RateLimitingMiddleware` runs the call through the flow controller of the operation's
  ``Limit`` (none: straight through).

Cancellation passes through every layer untouched: nothing here catches ``trio.Cancelled``.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

import attrs
import trio

from maxtrio.core import MaxError, Operation, OperationEnv, Retryable

from ._flow import FlowControllerProvider

I = TypeVar("I")  # noqa: E741
O = TypeVar("O")  # noqa: E741

CallNext = Callable[[], Awaitable[Any]]


class Middleware(Protocol):
    async def __call__(
        self, op: Operation[Any, Any, Any], input: Any, call_next: CallNext
    ) -> Any: ...


class OperationDispatcher:
    """Runs operations through a middleware chain; the first middleware is the outermost."""

    def __init__(self, middleware: Sequence[Middleware] = ()) -> None:
        self.middleware: tuple[Middleware, ...] = tuple(middleware)
        self._run = _compose(self.middleware)  # the chain is built once, not per call

    def with_outer(self, *middleware: Middleware) -> OperationDispatcher:
        """A dispatcher with ``middleware`` wrapped around this one's (e.g. per-sync counting)."""
        return OperationDispatcher((*middleware, *self.middleware))

    async def dispatch(self, op: Operation[Any, I, O], input: I, env: OperationEnv[Any]) -> O:
        result: O = await self._run(op, input, env)
        return result


_Run = Callable[[Operation[Any, Any, Any], Any, OperationEnv[Any]], Awaitable[Any]]


async def _call_handler(op: Operation[Any, Any, Any], input: Any, env: OperationEnv[Any]) -> Any:
    return await op.handle(input, env)


def _compose(chain: Sequence[Middleware]) -> _Run:
    """The chain as one callable: the first middleware outermost, the handler innermost."""
    run: _Run = _call_handler
    for middleware in reversed(chain):
        run = _layer(middleware, run)
    return run


def _layer(middleware: Middleware, inner: _Run) -> _Run:
    async def run(op: Operation[Any, Any, Any], input: Any, env: OperationEnv[Any]) -> Any:
        return await middleware(op, input, lambda: inner(op, input, env))

    return run


class DispatchingOperationExecutor:
    """``env.ops`` for loaders: every call goes through a dispatcher with a fixed env."""

    def __init__(self, dispatcher: OperationDispatcher, env: OperationEnv[Any]) -> None:
        self.dispatcher = dispatcher
        self.env = env

    async def execute(self, op: Operation[Any, I, O], input: I) -> O:
        return await self.dispatcher.dispatch(op, input, self.env)


# -- counting ---------------------------------------------------------------------------------


@attrs.frozen
class OperationCounts:
    """How many operation calls were dispatched: in total and by operation name."""

    total: int = 0
    by_operation: Mapping[str, int] = attrs.field(factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"total": self.total, "byOperation": dict(self.by_operation)}


class CountingMiddleware:
    """Counts each dispatch before passing it on (waiting and failing calls count too)."""

    def __init__(self) -> None:
        self._total = 0
        self._by_operation: dict[str, int] = {}

    async def __call__(self, op: Operation[Any, Any, Any], input: Any, call_next: CallNext) -> Any:
        self._total += 1
        self._by_operation[op.name] = self._by_operation.get(op.name, 0) + 1
        return await call_next()

    def counts(self) -> OperationCounts:
        """A copy of the counts so far; changing it does not change the middleware."""
        return OperationCounts(self._total, dict(self._by_operation))


# -- limits -----------------------------------------------------------------------------------


class RateLimitingMiddleware:
    """Runs each call through its ``Limit``'s shared flow controller."""

    def __init__(self, provider: FlowControllerProvider) -> None:
        self.provider = provider

    async def __call__(self, op: Operation[Any, Any, Any], input: Any, call_next: CallNext) -> Any:
        if op.limit is None:
            return await call_next()
        return await self.provider.get(op.limit).run(call_next)


# -- retries ----------------------------------------------------------------------------------


@attrs.frozen
class RetryPolicy:
    """Bounded exponential back-off with jitter.

    Attempt *n* (1-based) that failed waits a random time between half and all of
    ``min(cap, base * 2**(n-1))`` seconds before attempt *n+1*; an error's ``retryAfter``
    (seconds) replaces that, up to ``retry_after_cap``. After ``attempts`` tries the last error
    propagates.
    """

    attempts: int = 5
    base: float = 0.2
    cap: float = 5.0
    retry_after_cap: float = 30.0

    def __attrs_post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a retry policy needs at least one attempt")
        if self.base < 0 or self.cap < 0 or self.retry_after_cap < 0:
            raise ValueError("retry delays cannot be negative")

    def delay(self, attempt: int, error: MaxError, rng: random.Random) -> float:
        retry_after = error.data.get("retryAfter")
        if isinstance(retry_after, int | float) and not isinstance(retry_after, bool):
            return min(max(float(retry_after), 0.0), self.retry_after_cap)
        ceiling = min(self.cap, self.base * 2 ** (attempt - 1))
        return rng.uniform(ceiling / 2, ceiling)


class RetryObserver(Protocol):
    def retrying(self, op: str, attempt: int, delay: float, error: MaxError) -> None:
        """Attempt ``attempt`` of ``op`` failed with ``error``; the next one in ``delay`` s."""
        ...


_OBSERVER: ContextVar[RetryObserver | None] = ContextVar("maxtrio_retry_observer", default=None)


@contextlib.contextmanager
def observing_retries(observer: RetryObserver) -> Iterator[None]:
    """Tell ``observer`` of every retry made by this task and the tasks it starts meanwhile
    (trio tasks inherit the context of the task that starts them)."""
    token = _OBSERVER.set(observer)
    try:
        yield
    finally:
        _OBSERVER.reset(token)


class RetryTally:
    """A :class:`RetryObserver` that counts: retries, and the seconds of back-off before them."""

    def __init__(self) -> None:
        self.retries = 0
        self.backoff = 0.0

    def retrying(self, op: str, attempt: int, delay: float, error: MaxError) -> None:
        self.retries += 1
        self.backoff += delay


@attrs.frozen
class RetryStatistics:
    retries: int  # attempts repeated after a retryable error
    gave_up: int  # calls that still failed after the last attempt
    waiting: int  # calls sleeping before their next attempt now


class RetryMiddleware:
    """Retries calls that fail with a ``Retryable`` MaxError (see :class:`RetryPolicy`)."""

    def __init__(self, policy: RetryPolicy | None = None, rng: random.Random | None = None) -> None:
        self.policy = policy or RetryPolicy()
        self._rng = rng or random.Random()
        self._retries = 0
        self._gave_up = 0
        self._waiting = 0

    async def __call__(self, op: Operation[Any, Any, Any], input: Any, call_next: CallNext) -> Any:
        attempt = 1
        while True:
            try:
                return await call_next()
            except MaxError as error:
                if not error.has(Retryable):
                    raise
                if attempt >= self.policy.attempts:
                    self._gave_up += 1
                    raise
                delay = self.policy.delay(attempt, error, self._rng)
                observer = _OBSERVER.get()
                if observer is not None:
                    observer.retrying(op.name, attempt, delay, error)
            self._retries += 1
            self._waiting += 1
            try:
                await trio.sleep(delay)
            finally:
                self._waiting -= 1
            attempt += 1

    def statistics(self) -> RetryStatistics:
        return RetryStatistics(self._retries, self._gave_up, self._waiting)


def default_dispatcher(
    provider: FlowControllerProvider, retry: RetryPolicy | None = None
) -> OperationDispatcher:
    """An installation's dispatcher: ``[retry, rate limiting]`` (executors add counting)."""
    return OperationDispatcher([RetryMiddleware(retry), RateLimitingMiddleware(provider)])
