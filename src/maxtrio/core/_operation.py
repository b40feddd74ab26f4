"""Operations (named upstream calls), their ``Limit``s, and the executor loaders call them with.

An :class:`Operation` is a value: a name (``acme:user:get``), an async handler
``handle(input, env)`` and an optional :class:`Limit`. Operations that name the same limit share
one flow controller (a ``trio.CapacityLimiter`` plus an optional token bucket) in the execution
layer. Loaders never call handlers directly: they call ``env.ops.execute(op, input)`` so that
middleware (counting, limits, retries) applies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

import attrs

from ._core_errors import Core
from ._errors import BadInput

C = TypeVar("C")
I = TypeVar("I")  # noqa: E741
O = TypeVar("O")  # noqa: E741

ErrInvalidLimit = Core.define(
    "invalid_limit", facets=[BadInput], message="Invalid limit {name!r}: {reason}"
)


@attrs.frozen
class Limit:
    """A shared bound on upstream calls: concurrency, a rate (calls per second), or both.

    ``burst`` is how many calls a rate admits at once after a quiet period (default: the rate
    rounded up, at least 1 — so a rate below one call per second still admits calls).
    """

    name: str
    max_concurrent: int | None = None
    per_second: float | None = None
    burst: int | None = None

    def __attrs_post_init__(self) -> None:
        if not self.name:
            raise ErrInvalidLimit(name=self.name, reason="a limit needs a name")
        if self.max_concurrent is not None and (
            isinstance(self.max_concurrent, bool) or self.max_concurrent < 1
        ):
            raise ErrInvalidLimit(name=self.name, reason="concurrency must be at least 1")
        if self.per_second is not None and not self.per_second > 0:
            raise ErrInvalidLimit(name=self.name, reason="the rate must be more than 0 per second")
        if self.burst is not None and self.burst < 1:
            raise ErrInvalidLimit(name=self.name, reason="burst must be at least 1")

    @classmethod
    def concurrent(cls, name: str, max_concurrent: int) -> Limit:
        return cls(name, max_concurrent=max_concurrent)

    @classmethod
    def rate(cls, name: str, per_second: float, *, burst: int | None = None) -> Limit:
        return cls(name, per_second=per_second, burst=burst)

    @classmethod
    def throttle(
        cls, name: str, *, concurrent: int, rate: float, burst: int | None = None
    ) -> Limit:
        return cls(name, max_concurrent=concurrent, per_second=rate, burst=burst)

    def describe(self) -> str:
        """``concurrent(50)``, ``rate(10)``, ``concurrent(5)+rate(10)`` or ``none``."""
        parts = []
        if self.max_concurrent is not None:
            parts.append(f"concurrent({self.max_concurrent})")
        if self.per_second is not None:
            rate = self.per_second
            parts.append(f"rate({int(rate) if float(rate).is_integer() else rate})")
        return "+".join(parts) or "none"


@attrs.frozen
class OperationEnv(Generic[C]):
    """What an operation handler receives: the connector's context."""

    ctx: C


@attrs.frozen(eq=False)
class Operation(Generic[C, I, O]):
    """A named, typed upstream call."""

    name: str
    handle: Callable[[I, OperationEnv[C]], Awaitable[O]]
    limit: Limit | None = None

    @classmethod
    def define(
        cls,
        name: str,
        handle: Callable[[I, OperationEnv[C]], Awaitable[O]],
        *,
        limit: Limit | None = None,
    ) -> Operation[C, I, O]:
        return cls(name, handle, limit)

    def __repr__(self) -> str:
        return f"Operation({self.name})"


class OperationExecutor(Protocol):
    """What loaders use to call operations (``env.ops``)."""

    async def execute(self, op: Operation[Any, I, O], input: I) -> O: ...


class BasicOperationExecutor:
    """Calls handlers directly with a fixed context: no middleware, no limits (tests, tools)."""

    def __init__(self, ctx: Any) -> None:
        self.env = OperationEnv(ctx)

    async def execute(self, op: Operation[Any, I, O], input: I) -> O:
        return await op.handle(input, self.env)
