"""A small HTTP/1.1 client on trio streams, for connectors that call one API many times.

Part of the connector SDK. :class:`Http1Pool` sends requests to one origin (``http://`` or
``https://``) on up to ``size`` keep-alive connections, one request per connection at a time,
lent out most recently used first under a ``trio.Semaphore`` (as :class:`ConnectionSlots` does
with httpx clients). It is what a sync's hot path needs and no more: no proxies, cookies,
redirects or HTTP/2, a fixed set of headers, bodies read whole. In exchange it costs a few
microseconds of Python per request where httpx costs about half a millisecond, and importing it
costs nothing beyond trio (httpx and its TLS set-up take ~0.1 s to start; a TLS context is
only made here for an ``https://`` origin).

What it does:

* **Requests**: ``method target HTTP/1.1`` with ``Host``, the pool's headers,
  ``Accept-Encoding: gzip, deflate`` and, with a body, ``Content-Length``.
* **Answers**: the status line and headers (at most :data:`MAX_HEAD_BYTES`), interim ``1xx``
  answers skipped; a body by ``Content-Length``, ``chunked``, or up to the end of the
  connection; ``gzip``/``deflate`` bodies decoded. Anything else malformed is an
  :class:`HttpProtocolError`.
* **Keep-alive**: a connection goes back to the pool when its answer was read whole and
  neither side said ``Connection: close``. An idle connection the server has closed (readable
  while idle) is replaced before use; a GET that meets a reused connection closed under it
  before any byte of the answer is sent once more on a new connection.
* **Timeouts** as httpx counts them: ``connect`` (TCP and TLS), ``write`` (sending), and
  ``read`` — the longest wait for the next bytes of the answer, not for the whole answer.
  Running out is an :class:`HttpTimeout`; a refused, reset or dropped connection an
  :class:`HttpConnectError`.
"""

from __future__ import annotations

import ssl
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import trio

#: The longest status line and headers accepted.
MAX_HEAD_BYTES = 64 * 1024
#: Bytes asked of the socket per read of a body.
READ_CHUNK = 1024 * 1024


class HttpError(Exception):
    """A request that got no usable answer."""


class HttpTimeout(HttpError):
    """Connecting, sending or waiting for the answer took longer than its timeout."""


class HttpConnectError(HttpError):
    """The connection could not be made, or broke (refused, reset, TLS failure)."""


class HttpProtocolError(HttpError):
    """The answer is not HTTP/1.1 as it must be, or ended early."""


class HttpDecodingError(HttpError):
    """A compressed body that does not decompress."""


class HttpTimeouts:
    """Seconds allowed to ``connect``, ``write`` a request and ``read`` (between bytes)."""

    __slots__ = ("connect", "read", "write")

    def __init__(self, connect: float = 10.0, read: float = 60.0, write: float = 30.0) -> None:
        self.connect = connect
        self.read = read
        self.write = write

    @classmethod
    def of(cls, value: Any) -> HttpTimeouts:
        """From seconds, an :class:`HttpTimeouts`, or anything with ``connect``/``read``/
        ``write`` attributes (``httpx.Timeout``; None there means no limit)."""
        if isinstance(value, int | float):
            return cls(float(value), float(value), float(value))

        def seconds(name: str) -> float:
            given = getattr(value, name)
            return float("inf") if given is None else float(given)

        return cls(seconds("connect"), seconds("read"), seconds("write"))


class Headers(dict[str, str]):
    """An answer's headers, names in lower case (a repeated header's values joined by ``, ``)."""

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)


class HttpResponse:
    """An answer read whole."""

    __slots__ = ("content", "headers", "reason_phrase", "status_code")

    def __init__(self, status_code: int, reason_phrase: str, headers: Headers, content: bytes):
        self.status_code = status_code
        self.reason_phrase = reason_phrase
        self.headers = headers
        self.content = content

    def __repr__(self) -> str:
        return f"<HttpResponse {self.status_code} {len(self.content)} bytes>"


class _Origin:
    """Where requests go: scheme, host, port, the ``Host`` header and the base path."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http:// or https:// URL, got {base_url!r}")
        self.tls = parts.scheme == "https"
        self.host = parts.hostname
        default = 443 if self.tls else 80
        self.port = parts.port or default
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.host_header = shown if self.port == default else f"{shown}:{self.port}"
        self.path = parts.path.rstrip("/")


class _Connection:
    """One keep-alive connection and what was read past the last answer."""

    __slots__ = ("buffer", "reused", "stream")

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.buffer = bytearray()
        self.reused = False

    def closed_by_peer(self) -> bool:
        """True when the idle connection has something to read: the server closed it (or
        sent bytes no request asked for)."""
        stream: Any = self.stream
        transport = getattr(stream, "transport_stream", stream)
        sock = getattr(transport, "socket", None)
        return bool(self.buffer) or (sock is not None and sock.is_readable())

    async def aclose(self) -> None:
        with trio.CancelScope(shield=True):
            await trio.aclose_forcefully(self.stream)


class Http1Pool:
    """Requests to one origin on at most ``size`` keep-alive connections."""

    def __init__(
        self,
        base_url: str,
        *,
        size: int,
        headers: Mapping[str, str] | None = None,
        timeout: Any = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.origin = _Origin(base_url)
        self.size = size
        self.timeouts = HttpTimeouts() if timeout is None else HttpTimeouts.of(timeout)
        fixed = {
            "accept-encoding": "gzip, deflate",
            **{k.lower(): v for k, v in (headers or {}).items()},
        }
        for name, value in fixed.items():
            if not _is_token(name) or "\r" in value or "\n" in value:
                raise ValueError(f"invalid header {name!r}")
        self._head_tail = "".join(f"{k}: {v}\r\n" for k, v in fixed.items())
        self._ssl_context = ssl_context
        self._slots = trio.Semaphore(size)
        self._idle: list[_Connection] = []
        self._opened = 0
        self.is_closed = False

    def statistics(self) -> dict[str, int]:
        """``connections`` opened so far and requests ``waiting`` for a free slot."""
        return {"connections": self._opened, "waiting": self._slots.statistics().tasks_waiting}

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> HttpResponse:
        """Send ``method path`` (``path`` below the base URL, with any query) and read the
        answer whole. Waits while all ``size`` connections are busy."""
        target = self.origin.path + (path if path.startswith("/") else "/" + path)
        if params:
            target += ("&" if "?" in target else "?") + urlencode(params, quote_via=quote)
        if any(c in target for c in " \r\n"):
            raise ValueError(f"invalid request target {target!r}")
        head = f"{method} {target} HTTP/1.1\r\nhost: {self.origin.host_header}\r\n"
        head += self._head_tail
        if body is not None:
            head += f"content-length: {len(body)}\r\n"
        message = (head + "\r\n").encode("latin-1") + (body or b"")
        async with self._slots:
            if self.is_closed:
                raise HttpConnectError("the client is closed")
            connection = await self._connection()
            retry = method in ("GET", "HEAD") and connection.reused
            try:
                response, keep = await self._exchange(connection, message, method, retry)
            except _StaleConnection:
                await connection.aclose()
                connection = await self._connection(fresh=True)
                response, keep = await self._exchange(connection, message, method, False)
            except BaseException:
                await connection.aclose()
                raise
            if keep and not self.is_closed:
                connection.reused = True
                self._idle.append(connection)
            else:
                await connection.aclose()
            return response

    async def _connection(self, *, fresh: bool = False) -> _Connection:
        while self._idle and not fresh:
            connection = self._idle.pop()
            if not connection.closed_by_peer():
                return connection
            await connection.aclose()
        origin = self.origin
        try:
            with trio.fail_after(self.timeouts.connect):
                if origin.tls:
                    if self._ssl_context is None:
                        self._ssl_context = ssl.create_default_context()
                    stream: trio.abc.Stream = await trio.open_ssl_over_tcp_stream(
                        origin.host,
                        origin.port,
                        ssl_context=self._ssl_context,
                        https_compatible=True,
                    )
                    await stream.do_handshake()  # type: ignore[attr-defined]
                else:
                    stream = await trio.open_tcp_stream(origin.host, origin.port)
        except trio.TooSlowError:
            raise HttpTimeout(f"connecting to {origin.host_header} timed out") from None
        except (OSError, trio.BrokenResourceError) as exc:
            raise HttpConnectError(
                _reason(exc, f"cannot connect to {origin.host_header}")
            ) from None
        self._opened += 1
        return _Connection(stream)

    async def _exchange(
        self, connection: _Connection, message: bytes, method: str, retry: bool
    ) -> tuple[HttpResponse, bool]:
        try:
            with trio.fail_after(self.timeouts.write):
                await connection.stream.send_all(message)
        except trio.TooSlowError:
            raise HttpTimeout("sending the request timed out") from None
        except (OSError, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            if retry:
                raise _StaleConnection from None
            raise HttpConnectError(_reason(exc, "the connection broke")) from None
        reader = _Reader(connection, self.timeouts.read)
        try:
            return await reader.response(method, retry)
        except trio.BrokenResourceError as exc:
            raise HttpConnectError(_reason(exc, "the connection broke")) from None

    async def aclose(self) -> None:
        self.is_closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.aclose()


class _StaleConnection(Exception):
    """A reused connection that the server had closed: send once more on a new one."""


class _Reader:
    """Reads one answer from a connection, each wait for bytes bounded by ``read`` seconds."""

    def __init__(self, connection: _Connection, read: float) -> None:
        self.connection = connection
        self.read = read

    async def _receive(self, size: int) -> bytes:
        with trio.move_on_after(self.read) as scope:
            try:
                data = await self.connection.stream.receive_some(size)
            except OSError as exc:
                raise HttpConnectError(_reason(exc, "the connection broke")) from None
        if scope.cancelled_caught:
            raise HttpTimeout("the server did not answer in time")
        return bytes(data)

    async def _fill(self, needed: int, what: str) -> None:
        buffer = self.connection.buffer
        while len(buffer) < needed:
            data = await self._receive(max(READ_CHUNK, needed - len(buffer)))
            if not data:
                raise HttpProtocolError(f"the server closed the connection in the middle of {what}")
            buffer += data

    async def _line_block(self, end: bytes, limit: int, what: str, retry: bool = False) -> bytes:
        """Bytes up to and without ``end`` (taken from the buffer with it)."""
        buffer = self.connection.buffer
        start = 0
        while True:
            found = buffer.find(end, start)
            if found >= 0:
                block = bytes(buffer[:found])
                del buffer[: found + len(end)]
                return block
            if len(buffer) > limit:
                raise HttpProtocolError(f"{what} is longer than {limit} bytes")
            start = max(0, len(buffer) - len(end) + 1)
            try:
                data = await self._receive(65536)
            except trio.BrokenResourceError:
                if retry and not buffer:  # reset before any byte of the answer
                    raise _StaleConnection from None
                raise
            if not data:
                if retry and not buffer:
                    raise _StaleConnection
                if not buffer:
                    raise HttpProtocolError("the server closed the connection without answering")
                raise HttpProtocolError(f"the server closed the connection in the middle of {what}")
            buffer += data

    async def response(self, method: str, retry: bool) -> tuple[HttpResponse, bool]:
        while True:
            head = await self._line_block(b"\r\n\r\n", MAX_HEAD_BYTES, "the headers", retry)
            retry = False
            version, status, reason, headers = _parse_head(head)
            if not 100 <= status < 200 or status == 101:
                break
        keep = version == "HTTP/1.1"
        connection_header = headers.get("connection", "").lower()
        if "close" in connection_header:
            keep = False
        elif version == "HTTP/1.0" and "keep-alive" in connection_header:
            keep = True
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body = await self._chunked()
        elif "content-length" in headers:
            body = await self._sized(_content_length(headers["content-length"]))
        else:
            body, keep = await self._to_end(), False
        encoding = headers.get("content-encoding", "").strip().lower()
        if encoding in ("gzip", "deflate", "x-gzip") and body:
            body = _decompress(body, encoding)
        return HttpResponse(status, reason, headers, body), keep

    async def _sized(self, length: int) -> bytes:
        await self._fill(length, "the body")
        buffer = self.connection.buffer
        body = bytes(buffer[:length])
        del buffer[:length]
        return body

    async def _chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            line = await self._line_block(b"\r\n", 4096, "a chunk size")
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise HttpProtocolError(f"bad chunk size {size_text[:20]!r}") from None
            if size < 0:
                raise HttpProtocolError("bad chunk size")
            if size == 0:
                while await self._line_block(b"\r\n", MAX_HEAD_BYTES, "the trailers"):
                    pass
                return b"".join(parts)
            await self._fill(size + 2, "a chunk")
            buffer = self.connection.buffer
            if buffer[size : size + 2] != b"\r\n":
                raise HttpProtocolError("a chunk does not end with CRLF")
            parts.append(bytes(buffer[:size]))
            del buffer[: size + 2]

    async def _to_end(self) -> bytes:
        parts = [bytes(self.connection.buffer)]
        self.connection.buffer.clear()
        while data := await self._receive(READ_CHUNK):
            parts.append(data)
        return b"".join(parts)


def _parse_head(head: bytes) -> tuple[str, int, str, Headers]:
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        raise HttpProtocolError("undecodable headers") from None
    status_line, _, rest = text.partition("\r\n")
    version, _, after = status_line.partition(" ")
    code, _, reason = after.partition(" ")
    if version not in ("HTTP/1.1", "HTTP/1.0") or len(code) != 3 or not code.isdigit():
        raise HttpProtocolError(f"not an HTTP/1.1 answer: {status_line[:40]!r}")
    headers = Headers()
    for line in rest.split("\r\n") if rest else ():
        name, colon, value = line.partition(":")
        if not colon or not name or not _is_token(name):
            raise HttpProtocolError(f"a malformed header line {line[:40]!r}")
        key = name.lower()
        value = value.strip(" \t")
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return version, int(code), reason.strip(), headers


def _content_length(value: str) -> int:
    values = {v.strip() for v in value.split(",")}
    if len(values) != 1:
        raise HttpProtocolError("conflicting Content-Length headers")
    (text,) = values
    if not text.isascii() or not text.isdigit():
        raise HttpProtocolError(f"bad Content-Length {text[:20]!r}")
    return int(text)


def _decompress(body: bytes, encoding: str) -> bytes:
    try:
        if encoding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)  # raw deflate
        return zlib.decompress(body, zlib.MAX_WBITS | 16)
    except zlib.error as exc:
        raise HttpDecodingError(f"a {encoding} body that does not decompress ({exc})") from None


_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def _is_token(name: str) -> bool:
    return bool(name) and all(c in _TOKEN_CHARS for c in name)


def _reason(exc: BaseException, what: str) -> str:
    detail = str(exc).strip()
    if not detail and exc.__cause__ is not None:  # trio's BrokenResourceError wraps the cause
        detail = str(exc.__cause__).strip()
    return f"{what}: {detail}" if detail else what
