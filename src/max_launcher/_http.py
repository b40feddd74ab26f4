"""Just enough HTTP/1.1 for ``POST /cli/stream``, on the bare socket module.

``http.client`` costs tens of milliseconds to import (it loads the ``email`` package), more
than the whole remote command otherwise takes; the launcher needs one request shape: headers,
a chunked request body it writes a line at a time, and a response that is either a small
JSON error or a chunked stream. :class:`HttpStream` is that and nothing more. TLS
(``max://``) wraps the socket with the standard ``ssl`` module (the system's trust store,
``SSL_CERT_FILE`` honoured), imported only then.

Failures surface as ``OSError`` (connecting, TLS, the socket; ``TimeoutError`` for the
timeout) or :class:`ProtocolError` (an answer that is not HTTP as expected).
"""

from __future__ import annotations

import _socket

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

#: Longest status or header line, and most header lines, accepted.
MAX_HEADER_LINE = 1 << 14
MAX_HEADERS = 100
_RECEIVE_BYTES = 1 << 16
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class ProtocolError(Exception):
    """The peer does not speak HTTP as ``max serve`` does."""


def split_host(host: str, default_port: int) -> tuple[str, int]:
    """``"127.0.0.1:7433"`` / ``"[::1]:7433"`` / ``"example.org"`` → ``(name, port)``."""
    name, port = host, default_port
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
    elif host.count(":") == 1:
        name, _, text = host.partition(":")
        if not text.isdigit():
            raise ProtocolError(f"bad port {text[:20]!r}")
        port = int(text)
    return name, port


def query_string(pairs: Sequence[tuple[str, str]]) -> str:
    """``?k=v&…`` with the values percent-encoded ('' when there are none)."""

    def quote(value: str) -> str:
        return "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in value.encode())

    return ("?" + "&".join(f"{k}={quote(v)}" for k, v in pairs)) if pairs else ""


def open_socket(host: str, tls: bool, timeout: float) -> _socket.socket:
    """A connected socket (TLS-wrapped and verified for ``tls``), ``timeout`` set."""
    name, port = split_host(host, 443 if tls else 80)
    if tls:
        import socket
        import ssl

        plain = socket.create_connection((name, port), timeout=timeout)
        context = ssl.create_default_context()
        try:
            return context.wrap_socket(plain, server_hostname=name)
        except BaseException:
            plain.close()
            raise
    problem: OSError | None = None
    for family, kind, proto, _, address in _socket.getaddrinfo(name, port, 0, _socket.SOCK_STREAM):
        sock = _socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError as exc:
            sock.close()
            problem = exc
            continue
        return sock
    raise problem if problem is not None else OSError("no address to connect to")


class HttpStream:
    """One request with a chunked body, and its response read as it comes — once the head
    is read, it reads and writes like the daemon socket :mod:`._conversation` expects
    (``recv``, ``sendall``, ``settimeout``, ``close``)."""

    def __init__(self, sock: _socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.status = 0
        self.headers: dict[str, str] = {}
        self._chunk_left = 0  # of the current response chunk; -1 once the body ended
        self._chunked = False

    def send_head(self, path: str, host: str, headers: Sequence[tuple[str, str]]) -> None:
        lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Transfer-Encoding: chunked"]
        lines += [f"{name}: {value}" for name, value in headers]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def sendall(self, data: bytes, flags: int = 0) -> None:
        """One chunk of the request body (the daemon conversation's ``sendall``)."""
        self.sock.sendall(b"%X\r\n%s\r\n" % (len(data), data))

    # -- the response ------------------------------------------------------------------------

    def _fill(self) -> bool:
        data = self.sock.recv(_RECEIVE_BYTES)
        if not data:
            return False
        self.buffer += data
        return True

    def _line(self) -> bytes:
        while True:
            end = self.buffer.find(b"\r\n")
            if end >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[: end + 2]
                return line
            if len(self.buffer) > MAX_HEADER_LINE:
                raise ProtocolError("a header line is too long")
            if not self._fill():
                raise ProtocolError("the connection closed in the middle of the answer")

    def read_head(self) -> None:
        """The status line and headers (names lower-cased)."""
        parts = self._line().split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError("not an HTTP answer")
        self.status = int(parts[1])
        for _ in range(MAX_HEADERS):
            line = self._line()
            if not line:
                break
            name, _, value = line.decode("latin-1").partition(":")
            self.headers[name.strip().lower()] = value.strip()
        else:
            raise ProtocolError("too many header lines")
        self._chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()

    def read_all(self, limit: int) -> bytes:
        """A small, complete body (an error): by its length, its chunks, or until closed."""
        if self._chunked:
            out = bytearray()
            while len(out) <= limit:
                data = self.recv(_RECEIVE_BYTES)
                if not data:
                    break
                out += data
            return bytes(out[:limit])
        length = self.headers.get("content-length", "")
        wanted = min(int(length), limit) if length.isdigit() else limit
        while len(self.buffer) < wanted and self._fill():
            pass
        return bytes(self.buffer[:wanted])

    def recv(self, size: int) -> bytes:
        """Up to ``size`` bytes of the (chunked) body as they arrive; b'' at its end — or when
        the connection broke off (the caller tells the two apart by what it was told)."""
        try:
            if self._chunk_left == 0 and not self._next_chunk():
                return b""
            if self._chunk_left < 0:
                return b""
            if not self.buffer and not self._fill():
                return b""
        except ProtocolError:
            return b""
        take = min(size, self._chunk_left, len(self.buffer))
        data = bytes(self.buffer[:take])
        del self.buffer[:take]
        self._chunk_left -= take
        return data

    def _next_chunk(self) -> bool:
        if self._chunked is False:
            raise ProtocolError("the answer is not a stream")
        line = self._line()
        if line == b"":  # the CRLF that ends the previous chunk's data
            line = self._line()
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ProtocolError("a malformed chunk") from None
        if size == 0:
            self._chunk_left = -1
            return False
        self._chunk_left = size
        return True

    def settimeout(self, seconds: float | None) -> None:
        self.sock.settimeout(seconds)

    def close(self) -> None:
        self.sock.close()
