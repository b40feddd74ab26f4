"""How big a WebSocket message the server takes, and where that is enforced.

Our limit is :data:`MAX_MESSAGE_BYTES` (1 MiB) for every message a client sends (a request,
a cancel, an answer to a prompt). The endpoints enforce it themselves (:func:`oversized`, then a
close with :data:`CLOSE_TOO_BIG`, 1009) rather than leaving it to hypercorn: hypercorn's own
limit sends its 1009 close but then drops the client's closing reply when it arrives together
with the rest of the oversized frame, so the TCP connection stays open and the client waits for
it forever. Hypercorn is given the larger :data:`TRANSPORT_MAX_MESSAGE_BYTES` as a memory guard
only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Largest WebSocket message accepted (a request or an answer to a prompt).
MAX_MESSAGE_BYTES = 1 << 20
#: Hypercorn's limit: what it buffers at most before the endpoints see a message.
TRANSPORT_MAX_MESSAGE_BYTES = 16 * MAX_MESSAGE_BYTES
CLOSE_TOO_BIG = 1009


def oversized(message: Mapping[str, Any]) -> bool:
    """Whether an ASGI ``websocket.receive`` message is over :data:`MAX_MESSAGE_BYTES`."""
    text = message.get("text")
    if text is not None:
        # a character is at most 4 bytes in UTF-8: encode only the messages that might be over
        return len(text) > MAX_MESSAGE_BYTES or (
            4 * len(text) > MAX_MESSAGE_BYTES and len(text.encode("utf-8")) > MAX_MESSAGE_BYTES
        )
    data = message.get("bytes")
    return data is not None and len(data) > MAX_MESSAGE_BYTES
