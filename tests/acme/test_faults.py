"""Fault injection and traffic statistics (extensions): 429 with Retry-After, 500, latency.

Time-dependent tests run the server in the test's nursery under trio's MockClock
(``autojump_clock``): injected latency advances virtual time, not the wall clock.
"""

from __future__ import annotations

import random
import time

import httpx
import pytest
import trio

from maxtrio.acme import AcmeHttpClient, AcmeServer, FaultInjection, Tenant, serve_acme
from maxtrio.core import MaxError


async def test_rate_limit_mode_answers_429_with_retry_after(
    acme_server: AcmeServer, http_client: AcmeHttpClient
) -> None:
    acme_server.faults = FaultInjection(rate_limit_ratio=1.0, retry_after_seconds=3)
    with pytest.raises(MaxError, match="429") as caught:
        await http_client.list_workspaces()
    assert caught.value.data["retryAfter"] == "3"
    assert caught.value.data["body"] == '{"error":"Rate limit exceeded"}'
    assert acme_server.statistics().rate_limited == 1


async def test_fractions_follow_the_seeded_draws(
    acme_server: AcmeServer, http_client: AcmeHttpClient
) -> None:
    await http_client.set_faults(FaultInjection(rate_limit_ratio=0.2, error_ratio=0.1, seed=7))
    await http_client.reset_traffic()
    outcomes = []
    for _ in range(200):
        try:
            await http_client.list_workspaces()
            outcomes.append(200)
        except MaxError as err:
            outcomes.append(err.data["status"])
    rng = random.Random(7)  # the documented rule: one draw per request from Random(seed)
    expected = []
    for _ in range(200):
        draw = rng.random()
        expected.append(429 if draw < 0.2 else 500 if draw < 0.3 else 200)
    assert outcomes == expected
    traffic = await http_client.traffic()
    assert traffic["requests"] == 200
    assert traffic["rateLimited"] == expected.count(429) > 0
    assert traffic["injectedErrors"] == expected.count(500) > 0


async def test_control_routes_are_exempt_from_faults(
    acme_server: AcmeServer, http_client: AcmeHttpClient
) -> None:
    acme_server.faults = FaultInjection(error_ratio=1.0, latency_ms=60_000)
    with trio.fail_after(5):
        await http_client.set_faults(FaultInjection())
    assert acme_server.faults == FaultInjection()
    assert await http_client.list_workspaces()


async def test_injected_latency_uses_trio_time(
    autojump_clock: trio.testing.MockClock, tenant: Tenant, nursery: trio.Nursery
) -> None:
    tenant.seed()
    server: AcmeServer = await nursery.start(_serve_with_latency, tenant)
    async with AcmeHttpClient(server.url, server.api_key) as client:
        wall = time.perf_counter()
        start = trio.current_time()
        assert len(await client.list_workspaces()) == 1
        assert trio.current_time() - start >= 0.25
        start = trio.current_time()
        await client.request("GET", "/api/workspaces", params={"delay_ms": 1000})
        assert trio.current_time() - start >= 1.25
        start = trio.current_time()
        await client.request("GET", "/api/workspaces", headers={"x-acme-delay-ms": "500"})
        assert trio.current_time() - start >= 0.75
        assert time.perf_counter() - wall < 5


async def _serve_with_latency(
    tenant: Tenant, *, task_status: trio.TaskStatus[AcmeServer] = trio.TASK_STATUS_IGNORED
) -> None:
    await serve_acme(tenant, faults=FaultInjection(latency_ms=250), task_status=task_status)


async def test_concurrent_requests_are_counted_in_flight(
    autojump_clock: trio.testing.MockClock, tenant: Tenant, nursery: trio.Nursery
) -> None:
    tenant.seed()
    server: AcmeServer = await nursery.start(_serve_with_latency, tenant)
    async with AcmeHttpClient(server.url, server.api_key) as client:

        async def one() -> None:
            await client.list_users()

        async with trio.open_nursery() as requests:
            for _ in range(20):
                requests.start_soon(one)
    stats = server.statistics()
    assert (stats.requests, stats.peak_in_flight, stats.in_flight) == (20, 20, 0)
    server.reset_statistics()
    assert server.statistics().requests == 0


async def test_fault_settings_are_validated(http_client: AcmeHttpClient) -> None:
    for body, message in [
        ({"errorRatio": 1.5}, "errorRatio must be between 0 and 1"),
        ({"rateLimitRatio": 0.6, "errorRatio": 0.6}, "rateLimitRatio + errorRatio must not"),
        ({"latencyMs": "slow"}, "latencyMs must be a number"),
    ]:
        with pytest.raises(MaxError) as caught:
            await http_client.request("PUT", "/api/faults", body=body)
        assert caught.value.data["status"] == 400
        assert message in caught.value.data["body"]
    current = await http_client.request_json("GET", "/api/faults")
    assert current == {
        "latencyMs": 0.0,
        "rateLimitRatio": 0.0,
        "errorRatio": 0.0,
        "retryAfterSeconds": 1,
        "seed": 0,
    }


async def test_faults_apply_after_auth(acme_server: AcmeServer) -> None:
    acme_server.faults = FaultInjection(rate_limit_ratio=1.0)
    async with httpx.AsyncClient() as raw:
        response = await raw.get(acme_server.url + "/api/workspaces")
    assert response.status_code == 401
    assert acme_server.statistics().requests == 0
