"""Operation dispatch and middleware (issue 4 retries)."""

from __future__ import annotations

import itertools
import random
from typing import Any

import attrs
import pytest
import trio
import trio.testing

from maxtrio.core import Boundary, Limit, MaxError, Operation, OperationEnv, Retryable
from maxtrio.execution import (
    CallNext,
    CountingMiddleware,
    DispatchingOperationExecutor,
    FlowControllerProvider,
    OperationCounts,
    OperationDispatcher,
    RateLimitingMiddleware,
    RetryMiddleware,
    RetryPolicy,
    default_dispatcher,
)


@attrs.frozen
class Ctx:
    greeting: str


async def add(pair: tuple[int, int], env: OperationEnv[Ctx]) -> int:
    return pair[0] + pair[1]


async def echo(text: str, env: OperationEnv[Ctx]) -> str:
    return f"{env.ctx.greeting}: {text}"


async def explode(_: object, env: OperationEnv[Ctx]) -> None:
    raise RuntimeError("boom")


Add = Operation.define("test:add", add)
Echo = Operation.define("test:echo", echo)
Explode = Operation.define("test:explode", explode)
ENV = OperationEnv(Ctx("hello"))


async def test_dispatch_without_middleware_reaches_the_handler() -> None:
    dispatcher = OperationDispatcher()
    assert await dispatcher.dispatch(Add, (2, 3), ENV) == 5
    assert await dispatcher.dispatch(Echo, "bot", ENV) == "hello: bot"


async def test_first_middleware_is_outermost() -> None:
    effects: list[str] = []

    def tracing(name: str) -> Any:
        async def middleware(op: Operation[Any, Any, Any], input: Any, call_next: CallNext) -> Any:
            effects.append(f"{name}:before")
            result = await call_next()
            effects.append(f"{name}:after")
            return result

        return middleware

    dispatcher = OperationDispatcher([tracing("first"), tracing("second")])
    assert await dispatcher.dispatch(Add, (1, 1), ENV) == 2
    assert effects == ["first:before", "second:before", "second:after", "first:after"]


async def test_middleware_may_change_the_result() -> None:
    async def doubler(op: Operation[Any, Any, Any], input: Any, call_next: CallNext) -> Any:
        return 2 * await call_next()

    assert await OperationDispatcher([doubler]).dispatch(Add, (3, 4), ENV) == 14


async def test_counting_middleware_counts_by_name_and_returns_copies() -> None:
    assert CountingMiddleware().counts() == OperationCounts(0, {})
    counting = CountingMiddleware()
    dispatcher = OperationDispatcher([counting])
    await dispatcher.dispatch(Add, (1, 2), ENV)
    await dispatcher.dispatch(Add, (3, 4), ENV)
    await dispatcher.dispatch(Echo, "x", ENV)
    counts = counting.counts()
    assert counts == OperationCounts(3, {"test:add": 2, "test:echo": 1})
    assert counts.to_json() == {"total": 3, "byOperation": {"test:add": 2, "test:echo": 1}}
    again = counting.counts()
    assert again == counts and again is not counts
    assert again.by_operation is not counts.by_operation
    counts.by_operation["test:add"] = 99  # type: ignore[index]
    assert counting.counts().by_operation["test:add"] == 2


async def test_dispatching_executor_binds_its_env_and_applies_middleware() -> None:
    counting = CountingMiddleware()
    ops = DispatchingOperationExecutor(OperationDispatcher([counting]), OperationEnv(Ctx("test")))
    assert await ops.execute(Echo, "world") == "test: world"
    assert await ops.execute(Add, (1, 1)) == 2
    assert counting.counts().total == 2
    with pytest.raises(RuntimeError, match="boom"):
        await ops.execute(Explode, None)


async def test_counting_counts_waiting_and_failing_calls(
    autojump_clock: trio.testing.MockClock,
) -> None:
    counting = CountingMiddleware()
    provider = FlowControllerProvider()
    dispatcher = OperationDispatcher([counting, RateLimitingMiddleware(provider)])
    limit = Limit.concurrent("test:one", 1)
    release = trio.Event()

    async def hold(_: object, env: OperationEnv[Ctx]) -> None:
        await release.wait()

    Hold = Operation.define("test:hold", hold, limit=limit)
    Fail = Operation.define("test:fail", explode, limit=limit)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(dispatcher.dispatch, Hold, None, ENV)
        nursery.start_soon(dispatcher.dispatch, Hold, None, ENV)
        await trio.testing.wait_all_tasks_blocked()
        assert counting.counts().total == 2  # one running, one waiting for the limit
        assert provider.get(limit).statistics().waiting == 1
        release.set()
    with pytest.raises(RuntimeError):
        await dispatcher.dispatch(Fail, None, ENV)
    assert counting.counts() == OperationCounts(3, {"test:hold": 2, "test:fail": 1})


# -- rate limiting --------------------------------------------------------------------------


async def test_rate_limiting_middleware_caps_shared_limits(
    autojump_clock: trio.testing.MockClock,
) -> None:
    provider = FlowControllerProvider()
    dispatcher = OperationDispatcher([RateLimitingMiddleware(provider)])
    now = most = 0

    def slow(name: str, limit: Limit | None) -> Operation[Ctx, None, None]:
        async def handle(_: None, env: OperationEnv[Ctx]) -> None:
            nonlocal now, most
            now += 1
            most = max(most, now)
            await trio.sleep(0.01)
            now -= 1

        return Operation.define(name, handle, limit=limit)

    free = slow("test:free", None)
    async with trio.open_nursery() as nursery:
        for _ in range(4):
            nursery.start_soon(dispatcher.dispatch, free, None, ENV)
    assert most == 4  # no limit: straight through

    shared = Limit.concurrent("test:api", 2)
    first, second = slow("test:a", shared), slow("test:b", shared)
    most = 0
    async with trio.open_nursery() as nursery:
        for _ in range(4):
            nursery.start_soon(dispatcher.dispatch, first, None, ENV)
            nursery.start_soon(dispatcher.dispatch, second, None, ENV)
    assert most == 2  # two operations naming one limit share its cap
    assert provider.get(shared).statistics().peak_active == 2


# -- retries --------------------------------------------------------------------------------

Flaky = Boundary("flaky")
ErrBusy = Flaky.define("busy", facets=[Retryable], message="busy")
ErrBroken = Flaky.define("broken", message="broken")


def flaky(
    failures: int, error: Any = ErrBusy, **data: Any
) -> tuple[Operation[Ctx, None, str], list[float]]:
    attempts: list[float] = []

    async def handle(_: None, env: OperationEnv[Ctx]) -> str:
        attempts.append(trio.current_time())
        if len(attempts) <= failures:
            raise error(**data)
        return "ok"

    return Operation.define("test:flaky", handle), attempts


async def test_retryable_errors_are_retried_with_growing_jittered_delays(
    autojump_clock: trio.testing.MockClock,
) -> None:
    op, attempts = flaky(3)
    dispatcher = OperationDispatcher([RetryMiddleware(RetryPolicy(), random.Random(7))])
    assert await dispatcher.dispatch(op, None, ENV) == "ok"
    assert len(attempts) == 4
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    for n, gap in enumerate(gaps, start=1):
        ceiling = min(5.0, 0.2 * 2 ** (n - 1))
        assert ceiling / 2 <= gap <= ceiling


async def test_retries_are_bounded(autojump_clock: trio.testing.MockClock) -> None:
    op, attempts = flaky(100)
    retry = RetryMiddleware(RetryPolicy(attempts=5))
    with pytest.raises(MaxError) as caught:
        await OperationDispatcher([retry]).dispatch(op, None, ENV)
    assert ErrBusy.matches(caught.value)
    assert len(attempts) == 5
    assert retry.statistics().retries == 4 and retry.statistics().gave_up == 1


async def test_the_back_off_is_capped(autojump_clock: trio.testing.MockClock) -> None:
    op, attempts = flaky(100)
    policy = RetryPolicy(attempts=10, base=1.0, cap=3.0)
    with pytest.raises(MaxError):
        await OperationDispatcher([RetryMiddleware(policy)]).dispatch(op, None, ENV)
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert max(gaps) <= 3.0
    assert all(gap >= 1.5 for gap in gaps[3:])  # the ceiling reached the cap


async def test_non_retryable_errors_are_not_retried() -> None:
    op, attempts = flaky(1, ErrBroken)
    with pytest.raises(MaxError):
        await OperationDispatcher([RetryMiddleware()]).dispatch(op, None, ENV)
    assert len(attempts) == 1
    plain = Operation.define("test:explode", explode)
    with pytest.raises(RuntimeError):
        await OperationDispatcher([RetryMiddleware()]).dispatch(plain, None, ENV)


async def test_retry_after_is_honoured_and_capped(autojump_clock: trio.testing.MockClock) -> None:
    op, attempts = flaky(1, retryAfter=7)
    await OperationDispatcher([RetryMiddleware()]).dispatch(op, None, ENV)
    assert attempts[1] - attempts[0] == pytest.approx(7.0)
    op, attempts = flaky(1, retryAfter=3600)
    await OperationDispatcher([RetryMiddleware(RetryPolicy(retry_after_cap=30))]).dispatch(
        op, None, ENV
    )
    assert attempts[1] - attempts[0] == pytest.approx(30.0)


async def test_a_waiting_retry_holds_no_concurrency_slot(
    autojump_clock: trio.testing.MockClock,
) -> None:
    provider = FlowControllerProvider()
    dispatcher = default_dispatcher(provider, RetryPolicy(base=1.0, cap=1.0))
    limit = Limit.concurrent("test:api", 1)
    busy_once, attempts = flaky(1)
    busy_once = attrs.evolve(busy_once, limit=limit)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(dispatcher.dispatch, busy_once, None, ENV)
        await trio.sleep(0.1)  # the first attempt failed; the retry is sleeping
        assert len(attempts) == 1
        assert provider.get(limit).statistics().active == 0
        fast = Operation.define("test:add", add, limit=limit)
        assert await dispatcher.dispatch(fast, (1, 2), ENV) == 3  # the slot is free
    assert len(attempts) == 2


async def test_cancellation_is_not_retried(autojump_clock: trio.testing.MockClock) -> None:
    calls = 0

    async def forever(_: None, env: OperationEnv[Ctx]) -> None:
        nonlocal calls
        calls += 1
        await trio.sleep_forever()

    op = Operation.define("test:forever", forever)
    with trio.move_on_after(1) as scope:
        await OperationDispatcher([RetryMiddleware()]).dispatch(op, None, ENV)
    assert scope.cancelled_caught and calls == 1
