"""Flow control: limiters, token bucket, provider."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
import trio
import trio.testing
from trio.testing import MockClock

from maxtrio.core import ErrInvalidLimit, Limit, MaxError
from maxtrio.execution import (
    CompositeController,
    ConcurrencyController,
    ErrLimitStrategyConflict,
    FlowController,
    FlowControllerProvider,
    TokenBucket,
    UnlimitedController,
)


class Peak:
    """Counts calls inside a region and remembers the most at once."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0

    def job(self, seconds: float) -> Callable[[], Awaitable[str]]:
        async def run() -> str:
            self.now += 1
            self.most = max(self.most, self.now)
            try:
                await trio.sleep(seconds)
            finally:
                self.now -= 1
            return "done"

        return run


async def run_many(controller: FlowController, jobs: int, seconds: float) -> Peak:
    peak = Peak()
    async with trio.open_nursery() as nursery:
        for _ in range(jobs):
            nursery.start_soon(controller.run, peak.job(seconds))
    return peak


async def boom() -> None:
    raise ValueError("boom")


async def answer() -> int:
    return 42


# -- concurrency --------------------------------------------------------------------------------


async def test_concurrency_controller_returns_results_and_propagates_errors() -> None:
    controller = ConcurrencyController(2)
    assert await controller.run(answer) == 42
    with pytest.raises(ValueError, match="boom"):
        await controller.run(boom)


async def test_concurrency_peak_is_exactly_the_limit(
    autojump_clock: MockClock,
) -> None:
    controller = ConcurrencyController(2)
    peak = await run_many(controller, 5, 0.010)
    assert peak.most == 2
    stats = controller.statistics()
    assert (stats.peak_active, stats.admitted, stats.active, stats.max_concurrent) == (2, 5, 0, 2)


async def test_a_throwing_job_frees_its_slot() -> None:
    controller = ConcurrencyController(1)
    with pytest.raises(ValueError):
        await controller.run(boom)
    with trio.fail_after(1):
        assert await controller.run(answer) == 42
    assert controller.statistics().active == 0


async def test_concurrency_statistics_show_waiters(autojump_clock: MockClock) -> None:
    controller = ConcurrencyController(1)
    release = trio.Event()

    async def hold() -> None:
        await release.wait()

    async with trio.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(controller.run, hold)
        await trio.testing.wait_all_tasks_blocked()
        stats = controller.statistics()
        assert (stats.active, stats.waiting) == (1, 2)
        release.set()
    assert controller.statistics().waiting == 0


async def test_the_same_task_may_hold_two_slots_of_one_limit() -> None:
    controller = ConcurrencyController(2)

    async def outer() -> int:
        return await controller.run(answer)

    assert await controller.run(outer) == 42


async def test_unlimited_controller_runs_at_once(autojump_clock: MockClock) -> None:
    start = trio.current_time()
    peak = await run_many(UnlimitedController(), 10, 1.0)
    assert peak.most == 10
    assert trio.current_time() - start == pytest.approx(1.0)


# -- token bucket -------------------------------------------------------------------------------


async def test_token_bucket_returns_results_and_propagates_errors() -> None:
    bucket = TokenBucket(10)
    assert await bucket.run(answer) == 42
    with pytest.raises(ValueError):
        await bucket.run(boom)


async def test_token_bucket_burst_then_spacing(autojump_clock: MockClock) -> None:
    bucket = TokenBucket(50)
    start = trio.current_time()
    for _ in range(50):
        await bucket.run(answer)
    assert trio.current_time() == start  # the initial burst passes at once
    times = []
    for _ in range(3):
        await bucket.run(answer)
        times.append(trio.current_time() - start)
    assert times == pytest.approx([0.02, 0.04, 0.06])  # then one call every 1/rate s
    assert times[-1] >= 0.040


async def test_token_bucket_below_one_per_second_still_admits(
    autojump_clock: MockClock,
) -> None:
    bucket = TokenBucket(0.5)  # reference bug B4: capacity 0.5 never held a whole token
    assert bucket.capacity == 1.0
    start = trio.current_time()
    await bucket.run(answer)
    await bucket.run(answer)
    await bucket.run(answer)
    assert trio.current_time() - start == pytest.approx(4.0)


async def test_token_bucket_refills_to_capacity_only(
    autojump_clock: MockClock,
) -> None:
    bucket = TokenBucket(10, capacity=3)
    for _ in range(3):
        await bucket.take()
    await trio.sleep(100)  # a long quiet period refills 3 tokens, not 1,000
    start = trio.current_time()
    for _ in range(4):
        await bucket.take()
    assert trio.current_time() - start == pytest.approx(0.1)
    assert bucket.statistics().tokens == pytest.approx(0.0)


async def test_token_bucket_is_strictly_fifo(autojump_clock: MockClock) -> None:
    bucket = TokenBucket(1)
    await bucket.take()  # empty now
    order: list[int] = []

    async def caller(i: int) -> None:
        await bucket.take()
        order.append(i)

    async with trio.open_nursery() as nursery:
        for i in range(5):
            nursery.start_soon(caller, i)
            await trio.sleep(0.01)  # arrive in order 0..4
        await trio.testing.wait_all_tasks_blocked()
        assert bucket.statistics().waiting == 5
    assert order == [0, 1, 2, 3, 4]


async def test_a_cancelled_waiter_takes_no_token(autojump_clock: MockClock) -> None:
    bucket = TokenBucket(1)
    await bucket.take()
    with trio.move_on_after(0.5):
        await bucket.take()  # gives up half way
    start = trio.current_time()
    await bucket.take()  # the token due at t=1 is still there
    assert trio.current_time() - start == pytest.approx(0.5)


# -- composite ----------------------------------------------------------------------------------


async def test_composite_caps_concurrency_and_does_not_leak_on_errors(
    autojump_clock: MockClock,
) -> None:
    controller = CompositeController(TokenBucket(1000), ConcurrencyController(2))
    peak = await run_many(controller, 6, 0.010)
    assert peak.most == 2
    with pytest.raises(ValueError):
        await controller.run(boom)
    assert await controller.run(answer) == 42
    stats = controller.statistics()
    assert (stats.active, stats.max_concurrent, stats.rate) == (0, 2, 1000.0)


async def test_rate_gate_is_outside_the_concurrency_gate(
    autojump_clock: MockClock,
) -> None:
    """A caller waiting for a token holds no concurrency slot."""
    controller = FlowControllerProvider().get(Limit.throttle("api", concurrent=1, rate=1))
    assert isinstance(controller, CompositeController)
    bucket, slots = controller.controllers
    assert isinstance(bucket, TokenBucket) and isinstance(slots, ConcurrencyController)
    await controller.run(answer)  # takes the only token
    async with trio.open_nursery() as nursery:
        nursery.start_soon(controller.run, answer)  # must wait ~1 s for a token
        await trio.sleep(0.5)
        assert bucket.statistics().waiting == 1
        assert slots.limiter.statistics().borrowed_tokens == 0


# -- provider -----------------------------------------------------------------------------------


def test_limits_below_one_are_rejected() -> None:
    with pytest.raises(MaxError) as caught:
        Limit.concurrent("test:api", 0)
    assert ErrInvalidLimit.matches(caught.value)
    assert caught.value.has("BadInput")
    with pytest.raises(MaxError):
        Limit.rate("test:api", 0)
    with pytest.raises(MaxError):
        Limit.rate("test:api", 5, burst=0)


async def test_provider_shares_one_controller_per_name() -> None:
    provider = FlowControllerProvider()
    first = provider.get(Limit.concurrent("test:api", 2))
    assert provider.get(Limit.concurrent("test:api", 2)) is first
    assert provider.get(Limit.concurrent("other:api", 2)) is not first
    assert set(provider.statistics()) == {"test:api", "other:api"}


async def test_provider_controller_caps_concurrency(autojump_clock: MockClock) -> None:
    controller = FlowControllerProvider().get(Limit.concurrent("test:api", 2))
    peak = await run_many(controller, 5, 0.010)
    assert peak.most == 2


async def test_provider_builds_rate_and_throttle_controllers(
    autojump_clock: MockClock,
) -> None:
    provider = FlowControllerProvider()
    assert isinstance(provider.get(Limit.rate("r", 100)), TokenBucket)
    assert isinstance(provider.get(Limit("none")), UnlimitedController)
    throttle = provider.get(Limit.throttle("t", concurrent=2, rate=1000))
    assert provider.get(Limit.throttle("t", concurrent=2, rate=1000)) is throttle
    peak = await run_many(throttle, 6, 0.010)
    assert peak.most == 2


@pytest.mark.parametrize(
    ("first", "second", "existing", "requested"),
    [
        (
            Limit.concurrent("test:api", 10),
            Limit.concurrent("test:api", 25),
            "concurrent(10)",
            "concurrent(25)",
        ),
        (Limit.rate("test:api", 100), Limit.rate("test:api", 200), "rate(100)", "rate(200)"),
        (
            Limit.concurrent("test:api", 10),
            Limit.throttle("test:api", concurrent=10, rate=100),
            "concurrent(10)",
            "concurrent(10)+rate(100)",
        ),
        (
            Limit.throttle("test:api", concurrent=10, rate=100),
            Limit.rate("test:api", 100),
            "concurrent(10)+rate(100)",
            "rate(100)",
        ),
        (
            Limit.rate("test:api", 10),
            Limit.rate("test:api", 10, burst=20),
            "rate(10)",
            "rate(10)+burst(20)",
        ),
        (Limit("test:api"), Limit.rate("test:api", 1), "none", "rate(1)"),
    ],
)
def test_provider_conflicts(first: Limit, second: Limit, existing: str, requested: str) -> None:
    provider = FlowControllerProvider()
    provider.get(first)
    with pytest.raises(MaxError) as caught:
        provider.get(second)
    error = caught.value
    assert ErrLimitStrategyConflict.matches(error)
    assert error.code == "execution.limit_strategy_conflict"
    assert error.has("BadInput")
    assert error.data == {"limitName": "test:api", "existing": existing, "requested": requested}
    assert error.message == (
        f'Limit "test:api" registered with {existing} but requested with {requested}'
    )
