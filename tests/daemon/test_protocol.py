"""The wire protocol: strict cattrs messages on the daemon side, the launcher's own JSON on the
other, and the two agreeing byte for byte."""

from __future__ import annotations

import json

import pytest
import trio
import trio.testing

from max_launcher._request import build_request
from max_launcher._wire import decode_message, encode_line
from maxtrio.core import MaxError
from maxtrio.daemon import (
    Cancel,
    Input,
    Outbox,
    Prompt,
    Request,
    Response,
    Stale,
    Tty,
    Write,
    decode_client_line,
    encode_daemon_message,
)


def test_the_launchers_request_is_a_valid_request() -> None:
    sent = build_request(["-t", "ws", "search", "é", "--limit", "5"], "/home/me", {"TERM": "xterm"})
    message = decode_client_line(encode_line(sent))
    assert isinstance(message, Request)
    assert message.kind == "run" and message.argv == ["-t", "ws", "search", "é", "--limit", "5"]
    assert message.cwd == "/home/me" and message.env == {"TERM": "xterm"}
    assert message.version == sent["version"]
    assert isinstance(message.tty, Tty)


def test_input_and_cancel_from_the_launcher() -> None:
    assert decode_client_line(encode_line({"kind": "input", "value": "x"})) == Input("x")
    assert decode_client_line(encode_line({"kind": "input", "value": None})) == Input(None)
    assert decode_client_line(encode_line({"kind": "cancel"})) == Cancel()


@pytest.mark.parametrize(
    "message",
    [
        Write("plain text\n"),
        Write("ünïcödé ✓ and a lone \udcff byte", "stderr"),
        Prompt("api_token: ", secret=True),
        Response(0),
        Response(2, stderr="Error: bad\n"),
        Stale("1:abc"),
    ],
)
def test_daemon_messages_decode_in_the_launcher(message: object) -> None:
    line = encode_daemon_message(message)  # type: ignore[arg-type]
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    line.decode("ascii")  # ASCII-only: lone surrogates travel as escapes
    decoded = decode_message(line)
    assert decoded == json.loads(line)
    if isinstance(message, Write):
        assert decoded["text"] == message.text
        if message.stream == "stderr":  # the undecodable byte comes back as it was
            assert decoded["text"].encode("utf-8", "surrogateescape")[-6:] == b"\xff byte"


def test_optional_fields_are_left_out() -> None:
    assert json.loads(encode_daemon_message(Response(1))) == {"kind": "response", "exitCode": 1}


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        (b'{"kind":"run","argv":["a"],"cwd":"/","color":"yes"}', "expected bool | None @ $.color"),
        (b'{"kind":"run","argv":["a"],"cwd":7}', "expected str @ $.cwd"),
        (b'{"kind":"run","argv":["a"],"cwd":"/","env":{"A":1}}', "@ $.env"),
        (b'{"kind":"run","argv":["a"],"cwd":"/","env":[]}', "@ $.env"),
        (b'{"kind":"run","cwd":"/"}', "required field missing @ $.argv"),
        (b'{"kind":"complete","argv":[],"cwd":"/","shell":3}', "@ $.shell"),
        (b'{"kind":"input","value":true}', "@ $.value"),
        (b'{"kind":7}', "unknown kind 7"),
        (b'"run"', "expected a JSON object"),
        (b"\xff\xfe", "not JSON"),
    ],
)
def test_malformed_messages_name_the_problem(line: bytes, fragment: str) -> None:
    with pytest.raises(MaxError) as caught:
        decode_client_line(line)
    assert fragment in caught.value.message
    assert "\n" not in caught.value.message


def test_unknown_keys_are_ignored() -> None:
    line = b'{"kind":"run","argv":[],"cwd":"/","future":{"x":1}}'
    assert decode_client_line(line) == Request("run", [], "/")


async def test_the_outbox_keeps_order_and_merges_neighbouring_writes() -> None:
    ours, theirs = trio.testing.memory_stream_pair()
    outbox = Outbox()
    for i in range(100):
        outbox.write("stdout", f"line {i}\n")
    outbox.write("stderr", "warning\n")
    outbox.write("stdout", "x" * 200_000)
    outbox.finish(Response(0))
    async with trio.open_nursery() as nursery:
        nursery.start_soon(outbox.run_sender, ours)
        received = b""
        while not received.endswith(b'{"kind":"response","exitCode":0}\n'):
            received += await theirs.receive_some()
    messages = [json.loads(line) for line in received.splitlines()]
    kinds = [(m["kind"], m.get("stream")) for m in messages]
    assert kinds[0] == ("write", "stdout") and kinds[-1] == ("response", None)
    assert ("write", "stderr") in kinds
    text = "".join(m["text"] for m in messages if m.get("stream") == "stdout")
    assert text == "".join(f"line {i}\n" for i in range(100)) + "x" * 200_000
    assert len(messages) < 10  # merged, yet every line under the launcher's limit
    assert max(len(line) for line in received.splitlines()) < 1 << 20
    with pytest.raises(BrokenPipeError):
        outbox.put(Write("late"))


async def test_a_broken_connection_ends_the_sender() -> None:
    ours, theirs = trio.testing.memory_stream_pair()
    await theirs.aclose()
    outbox = Outbox()
    lost: list[bool] = []
    outbox.on_broken = lambda: lost.append(True)
    outbox.write("stdout", "nobody reads this\n")
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(outbox.run_sender, ours)
            await trio.testing.wait_all_tasks_blocked()
            assert outbox.broken and lost == [True]
            with pytest.raises(BrokenPipeError):
                outbox.write("stdout", "more")
            outbox.finish(Response(0))  # the sender must still end
