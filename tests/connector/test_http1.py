"""``Http1Pool`` against real loopback servers (plain TCP, and TLS with a certificate made for
the test): keep-alive, every way a body is framed, compressed bodies, connections the server
closes, malformed answers, timeouts on trio's clock."""

from __future__ import annotations

import datetime
import gzip
import ipaddress
import ssl
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import trio
import trio.testing

from maxtrio.connector import (
    Http1Pool,
    HttpConnectError,
    HttpDecodingError,
    HttpProtocolError,
    HttpTimeout,
    HttpTimeouts,
)

Handler = Callable[["Peer"], Awaitable[None]]


class Peer:
    """The server's side of one connection: read requests, write raw answers."""

    def __init__(self, stream: trio.abc.Stream, server: Server) -> None:
        self.stream = stream
        self.server = server
        self.buffer = b""

    async def request(self) -> str | None:
        """The next request's head (None when the client closed the connection)."""
        while b"\r\n\r\n" not in self.buffer:
            try:
                data = await self.stream.receive_some(65536)
            except trio.BrokenResourceError:
                return None
            if not data:
                return None
            self.buffer += data
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        text = head.decode("latin-1")
        self.server.requests.append(text)
        return text

    async def send(self, data: bytes) -> None:
        await self.stream.send_all(data)


class Server:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[str] = []
        self.connections = 0
        self.url = ""

    async def _serve_one(self, stream: trio.abc.Stream) -> None:
        self.connections += 1
        try:
            await self.handler(Peer(stream, self))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            await trio.aclose_forcefully(stream)


async def _start(
    nursery: trio.Nursery, handler: Handler, tls: ssl.SSLContext | None = None
) -> Server:
    server = Server(handler)
    listeners: list[trio.abc.Listener[trio.abc.Stream]] = list(
        await trio.open_tcp_listeners(0, host="127.0.0.1")
    )
    port = listeners[0].socket.getsockname()[1]  # type: ignore[attr-defined]
    if tls is not None:
        listeners = [trio.SSLListener(listener, tls) for listener in listeners]
    server.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    await nursery.start(trio.serve_listeners, server._serve_one, listeners)
    return server


def answer(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    lines = [f"HTTP/1.1 {status}", f"content-length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def keep_answering(peer: Peer) -> None:
    """Answer each request on the connection with its own target."""
    while (head := await peer.request()) is not None:
        target = head.split(" ")[1]
        await peer.send(answer(target.encode()))


@pytest.fixture
async def nursery() -> AsyncIterator[trio.Nursery]:
    async with trio.open_nursery() as nursery:
        yield nursery
        nursery.cancel_scope.cancel()


async def test_requests_reuse_one_keep_alive_connection(nursery: trio.Nursery) -> None:
    server = await _start(nursery, keep_answering)
    pool = Http1Pool(server.url + "/base/", size=4, headers={"Authorization": "Bearer t"})
    async with trio.open_nursery():
        for n in range(5):
            found = await pool.request("GET", f"/api/x{n}", params={"q": "a b&c", "n": "1"})
            assert found.status_code == 200
            assert found.content == f"/base/api/x{n}?q=a%20b%26c&n=1".encode()
    assert server.connections == 1 == pool.statistics()["connections"]
    head = server.requests[0].lower().split("\r\n")
    assert "authorization: bearer t" in head
    assert f"host: {server.url.split('//')[1]}" in head
    await pool.aclose()


async def test_concurrent_requests_use_at_most_size_connections(nursery: trio.Nursery) -> None:
    gate = trio.Event()

    async def slow(peer: Peer) -> None:
        while (head := await peer.request()) is not None:
            await gate.wait()
            await peer.send(answer(head.split(" ")[1].encode()))

    server = await _start(nursery, slow)
    pool = Http1Pool(server.url, size=3)
    results: list[bytes] = []

    async def one(n: int) -> None:
        results.append((await pool.request("GET", f"/{n}")).content)

    async with trio.open_nursery() as inner:
        for n in range(9):
            inner.start_soon(one, n)
        await trio.testing.wait_all_tasks_blocked()
        assert pool.statistics() == {"connections": 3, "waiting": 6}
        gate.set()
    assert sorted(results) == sorted(f"/{n}".encode() for n in range(9))
    assert server.connections == 3
    await pool.aclose()


async def test_every_body_framing(nursery: trio.Nursery) -> None:
    payload = b'{"x": "' + b"y" * 300_000 + b'"}'

    async def framings(peer: Peer) -> None:
        while (head := await peer.request()) is not None:
            target = head.split(" ")[1]
            if target == "/chunked":
                chunks = [payload[i : i + 70_000] for i in range(0, len(payload), 70_000)]
                body = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(c), c) for c in chunks)
                out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                for i in range(0, len(body), 1000):  # dribbled out in small pieces
                    await peer.send(out + body[i : i + 1000] if i == 0 else body[i : i + 1000])
                await peer.send(b"0\r\nx-trailer: 1\r\n\r\n")
            elif target == "/gzip":
                await peer.send(answer(gzip.compress(payload), "Content-Encoding: gzip"))
            elif target == "/deflate":
                await peer.send(answer(zlib.compress(payload), "content-encoding: deflate"))
            elif target == "/continue":
                await peer.send(b"HTTP/1.1 100 Continue\r\n\r\n" + answer(b"after"))
            elif target == "/empty":
                await peer.send(b"HTTP/1.1 204 No Content\r\nX-A: 1\r\nX-A: 2\r\n\r\n")
            else:  # HTTP/1.0, no length: the body runs to the end of the connection
                await peer.send(b"HTTP/1.0 200 OK\r\n\r\n" + payload)
                return

    server = await _start(nursery, framings)
    pool = Http1Pool(server.url, size=1)
    for path in ("/chunked", "/gzip", "/deflate"):
        assert (await pool.request("GET", path)).content == payload, path
    assert (await pool.request("GET", "/continue")).content == b"after"
    empty = await pool.request("GET", "/empty")
    assert (empty.status_code, empty.content, empty.headers.get("X-a")) == (204, b"", "1, 2")
    assert server.connections == 1
    assert (await pool.request("GET", "/to-the-end")).content == payload
    assert (await pool.request("GET", "/gzip")).content == payload  # a new connection
    assert server.connections == 2
    await pool.aclose()


async def test_connections_the_server_closes_are_replaced(nursery: trio.Nursery) -> None:
    async def one_answer_then_close(peer: Peer) -> None:
        head = await peer.request()
        assert head is not None
        await peer.send(answer(b"ok"))  # keep-alive promised, then closed while idle

    server = await _start(nursery, one_answer_then_close)
    pool = Http1Pool(server.url, size=1)
    for _ in range(3):
        assert (await pool.request("GET", "/")).content == b"ok"
        await trio.sleep(0.05)  # the close reaches the idle connection
    assert server.connections == 3
    await pool.aclose()


async def test_a_get_on_a_connection_closed_under_it_is_sent_once_more(
    nursery: trio.Nursery,
) -> None:
    async def drop_the_second_request(peer: Peer) -> None:
        first = await peer.request()
        assert first is not None
        await peer.send(answer(b"first"))
        await peer.request()  # read, then the connection is closed without an answer

    server = await _start(nursery, drop_the_second_request)
    pool = Http1Pool(server.url, size=1)
    assert (await pool.request("GET", "/")).content == b"first"
    assert (await pool.request("GET", "/")).content == b"first"  # on a new connection
    assert server.connections == 2
    await pool.aclose()


@pytest.mark.parametrize(
    ("sent", "error", "words"),
    [
        (b"", HttpProtocolError, "closed the connection without answering"),
        (b"SPDY/3 200 OK\r\n\r\n", HttpProtocolError, "not an HTTP/1.1 answer"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", HttpProtocolError, "not an HTTP/1.1 answer"),
        (b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", HttpProtocolError, "malformed header"),
        (b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc", HttpProtocolError, "the body"),
        (b"HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n", HttpProtocolError, "Content-Length"),
        (
            b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
            HttpProtocolError,
            "conflicting",
        ),
        (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
            HttpProtocolError,
            "bad chunk size",
        ),
        (
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabcXX",
            HttpProtocolError,
            "CRLF",
        ),
        (b"HTTP/1.1 200 OK\r\nx: " + b"a" * 70_000, HttpProtocolError, "longer than"),
        (answer(b"not gzip", "content-encoding: gzip"), HttpDecodingError, "decompress"),
    ],
)
async def test_malformed_answers_are_errors(
    nursery: trio.Nursery, sent: bytes, error: type[Exception], words: str
) -> None:
    async def misbehave(peer: Peer) -> None:
        await peer.request()
        await peer.send(sent)

    server = await _start(nursery, misbehave)
    pool = Http1Pool(server.url, size=1)
    with pytest.raises(error, match=words):
        await pool.request("GET", "/")
    await pool.aclose()


async def test_timeouts_count_the_wait_for_the_next_bytes(
    nursery: trio.Nursery, autojump_clock: trio.abc.Clock
) -> None:
    async def dribble_then_hang(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
        for byte in b"abcd":
            await trio.sleep(4)  # each wait under the read timeout: fine
            await peer.send(bytes([byte]))
        await trio.sleep_forever()

    server = await _start(nursery, dribble_then_hang)
    pool = Http1Pool(server.url, size=1, timeout=HttpTimeouts(connect=1, read=5, write=1))
    started = trio.current_time()
    with pytest.raises(HttpTimeout, match="did not answer in time"):
        await pool.request("GET", "/")
    assert trio.current_time() - started == pytest.approx(16 + 5, abs=0.1)
    await pool.aclose()


async def test_a_refused_connection_is_a_connect_error() -> None:
    listener = (await trio.open_tcp_listeners(0, host="127.0.0.1"))[0]
    port = listener.socket.getsockname()[1]
    await listener.aclose()
    pool = Http1Pool(f"http://127.0.0.1:{port}", size=1)
    with pytest.raises(HttpConnectError, match=r"cannot connect to 127\.0\.0\.1"):
        await pool.request("GET", "/")


def test_bad_urls_and_headers_are_refused() -> None:
    for url in ("ftp://x/", "http://", "localhost:80"):
        with pytest.raises(ValueError, match="expected an http"):
            Http1Pool(url, size=1)
    with pytest.raises(ValueError, match="invalid header"):
        Http1Pool("http://x", size=1, headers={"x-evil": "a\r\nb: c"})
    with pytest.raises(ValueError, match="size"):
        Http1Pool("http://x", size=0)


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its key beside it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "maxtrio test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_https_verifies_the_server(nursery: trio.Nursery, tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    server = await _start(nursery, keep_answering, tls=server_context)
    trusting = ssl.create_default_context(cafile=str(cert))
    pool = Http1Pool(server.url, size=2, ssl_context=trusting)
    assert (await pool.request("GET", "/secure")).content == b"/secure"
    assert (await pool.request("GET", "/again")).content == b"/again"
    assert server.connections == 1
    await pool.aclose()
    default = Http1Pool(server.url, size=1)  # the system's CAs do not know this certificate
    with pytest.raises(HttpConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        await default.request("GET", "/secure")
