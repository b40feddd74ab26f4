"""HTTP webhook delivery: after every committed mutation, POST the payload to each hook.

:class:`WebhookDispatcher` subscribes to its tenant and runs inside the server's nursery.
Mutations never wait for it: the tenant's callback only queues the payload (thread-safe, through
the trio token, so seeding in a worker thread works too) and returns. Deliveries run in
parallel, at most ``max_parallel`` at a time, each with a short timeout; every attempt is
recorded (status, or null when the request failed; ``deliveredAt`` = when it started). No
retries, no signing, no ordering guarantee — as in the reference. When the server stops, the
dispatcher's nursery is cancelled and in-flight deliveries end with it.
"""

from __future__ import annotations

import contextlib

import attrs
import httpx
import trio

from . import _model as m
from ._tenant import Tenant


@attrs.frozen
class WebhookStatistics:
    queued: int
    delivered: int
    failed: int
    dropped: int


class WebhookDispatcher:
    """Delivers a tenant's webhook payloads over HTTP while :meth:`run` runs."""

    def __init__(
        self,
        tenant: Tenant,
        *,
        timeout: float = 5.0,
        max_parallel: int = 16,
        queue_size: int = 10_000,
    ) -> None:
        self.tenant = tenant
        self.timeout = timeout
        self.queue_size = queue_size
        self._limiter = trio.CapacityLimiter(max_parallel)
        self._delivered = 0
        self._failed = 0
        self._dropped = 0
        self._send: trio.MemorySendChannel[m.WebhookPayload] | None = None

    def statistics(self) -> WebhookStatistics:
        queued = self._send.statistics().current_buffer_used if self._send else 0
        return WebhookStatistics(queued, self._delivered, self._failed, self._dropped)

    def reset_statistics(self) -> None:
        self._delivered = self._failed = self._dropped = 0

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Deliver until cancelled. Subscribes to the tenant while running."""
        send, receive = trio.open_memory_channel[m.WebhookPayload](self.queue_size)
        self._send = send
        token = trio.lowlevel.current_trio_token()

        def on_payload(payload: m.WebhookPayload) -> None:
            if self.tenant.has_active_webhooks:
                with contextlib.suppress(trio.RunFinishedError):
                    token.run_sync_soon(self._enqueue, payload)

        unsubscribe = self.tenant.on_webhook(on_payload)
        try:
            async with (
                httpx.AsyncClient(timeout=self.timeout) as client,
                trio.open_nursery() as nursery,
            ):
                task_status.started()
                async for payload in receive:
                    async with self.tenant.guard:
                        hooks = self.tenant.active_webhooks()
                    for hook_id, url in hooks:
                        borrower = object()
                        await self._limiter.acquire_on_behalf_of(borrower)
                        nursery.start_soon(self._deliver, client, hook_id, url, payload, borrower)
        finally:
            unsubscribe()
            send.close()

    def _enqueue(self, payload: m.WebhookPayload) -> None:
        if self._send is None:
            return
        try:
            self._send.send_nowait(payload)
        except trio.WouldBlock:
            self._dropped += 1
        except trio.ClosedResourceError:
            pass

    async def _deliver(
        self,
        client: httpx.AsyncClient,
        hook_id: str,
        url: str,
        payload: m.WebhookPayload,
        borrower: object,
    ) -> None:
        try:
            started = self.tenant.now()
            status: int | None
            try:
                response = await client.post(url, json=payload)
                status = response.status_code
            except httpx.HTTPError:
                status = None
            if status is not None and 200 <= status < 300:
                self._delivered += 1
            else:
                self._failed += 1
            async with self.tenant.guard:
                self.tenant.record_delivery(hook_id, payload, status, started)
        finally:
            self._limiter.release_on_behalf_of(borrower)
