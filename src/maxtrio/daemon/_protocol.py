"""The launcher ↔ daemon wire protocol (docs/daemon.md, with maxtrio's additions).

One Unix-socket connection per command; JSON lines (one object per ``\\n``-terminated line, at
most :data:`MAX_LINE_BYTES`) in both directions; every object has a ``kind``.

==============  ===================================================================================
launcher →      ``run`` / ``complete`` (the request, first line): ``version``, ``argv``, ``cwd``,
                ``color``, ``env`` (allow-listed variables), ``tty`` ``{stdin, stdout, stderr}``,
                ``shell`` (``complete`` only); then ``input`` ``{value}`` answering a prompt
                (``null``: end of input) and ``cancel`` (Ctrl-C)
← daemon        ``ready`` ``{pid}`` as the connection is accepted (the launcher sends its
                request only after it); ``write`` ``{text, stream}`` (``stdout``/``stderr``),
                ``prompt`` ``{message, secret}``, ``sync-started`` ``{installation, url,
                sync}`` as a sync begins (so a launcher whose daemon dies can print the resume
                command), and one final ``response`` ``{exitCode, stderr?}`` — or ``stale``
                ``{daemonVersion}`` when the request's version is not the daemon's
==============  ===================================================================================

Every message is an attrs class and goes through the shared cattrs converter
(``maxtrio.core.converter``). Structuring is strict for these classes — a string must be a
string, a flag a boolean (the converter's default would coerce ``1`` to ``"1"``) — so a
malformed line becomes a ``core.invalid_wire_value`` error naming the field; unknown keys are
ignored, so a newer launcher can add some.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

import attrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from max_launcher import MAX_LINE_BYTES
from maxtrio.core import converter, objects_only, structure

from ._errors import ErrMalformedMessage

__all__ = [
    "MAX_LINE_BYTES",
    "Cancel",
    "ClientMessage",
    "DaemonMessage",
    "Input",
    "Prompt",
    "Ready",
    "Request",
    "Response",
    "Stale",
    "SyncStartedNote",
    "Tty",
    "Write",
    "decode_client_line",
    "encode_daemon_messages",
]

T = TypeVar("T")

STDOUT: Literal["stdout"] = "stdout"
STDERR: Literal["stderr"] = "stderr"


@attrs.frozen
class Tty:
    """Which of the caller's standard streams are terminals."""

    stdin: bool = False
    stdout: bool = False
    stderr: bool = False


@attrs.frozen
class Request:
    """The first line: run a command (``run``) or complete a command line (``complete``)."""

    kind: Literal["run", "complete"]
    argv: list[str]
    cwd: str
    version: str | None = None
    color: bool | None = None
    env: dict[str, str] = attrs.field(factory=dict)
    tty: Tty | None = None
    shell: str | None = None

    def terminals(self) -> Tty:
        """``tty``, or — for a reference-shaped request without it — ``color`` as the hint."""
        if self.tty is not None:
            return self.tty
        color = bool(self.color)
        return Tty(stdin=False, stdout=color, stderr=color)


@attrs.frozen
class Input:
    """The answer to the pending prompt (``None``: the caller's input ended)."""

    value: str | None = None


@attrs.frozen
class Cancel:
    """Ctrl-C: stop the running command cleanly."""


@attrs.frozen
class Write:
    """Output of the command, in order, for the caller's stdout or stderr."""

    text: str
    stream: Literal["stdout", "stderr"] = STDOUT


@attrs.frozen
class Prompt:
    """Ask the person at the caller's terminal (``secret``: without echo)."""

    message: str
    secret: bool = False


@attrs.frozen
class Response:
    """The end: the command's exit code (and, rarely, text for stderr)."""

    exit_code: int
    stderr: str | None = None


@attrs.frozen
class Ready:
    """The greeting, sent as the connection is accepted: the daemon is alive and listening."""

    pid: int


@attrs.frozen
class SyncStartedNote:
    """A sync the command started (its id), for the resume hint should the daemon die."""

    installation: str
    url: str
    sync: str


@attrs.frozen
class Stale:
    """The request came from another version: restart the daemon and ask again."""

    daemon_version: str


ClientMessage = Union[Request, Input, Cancel]  # noqa: UP007 - a runtime value as well
DaemonMessage = Union[Ready, Write, Prompt, SyncStartedNote, Response, Stale]  # noqa: UP007

_CLIENT_KINDS: dict[str, type[Any]] = {
    "run": Request,
    "complete": Request,
    "input": Input,
    "cancel": Cancel,
}
_DAEMON_KINDS: dict[type[Any], str] = {
    Ready: "ready",
    SyncStartedNote: "sync-started",
    Write: "write",
    Prompt: "prompt",
    Response: "response",
    Stale: "stale",
}
_WIRE_NAMES = {"exit_code": "exitCode", "daemon_version": "daemonVersion"}


# -- strict structuring ------------------------------------------------------------------------


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return " or ".join(repr(a) for a in get_args(tp))
    return getattr(origin or tp, "__name__", str(tp))


def _strict(tp: Any) -> Callable[[Any, Any], Any]:
    """A structure hook that accepts exactly ``tp`` (no coercion)."""
    origin, args = get_origin(tp), get_args(tp)
    if origin is Union or origin is types.UnionType:
        options = [a for a in args if a is not type(None)]
        inner = _strict(options[0])

        def optional(value: Any, _: Any) -> Any:
            return None if value is None else inner(value, None)

        return optional
    if origin is Literal:

        def literal(value: Any, _: Any) -> Any:
            if not isinstance(value, str) or value not in args:
                raise ValueError(f"expected {_type_name(tp)}")
            return value

        return literal
    if origin is list:
        item = _strict(args[0])

        def items(value: Any, _: Any) -> Any:
            if not isinstance(value, list):
                raise TypeError("expected a list")
            return [item(v, None) for v in value]

        return items
    if origin is dict:
        key, val = _strict(args[0]), _strict(args[1])

        def mapping(value: Any, _: Any) -> Any:
            if not isinstance(value, dict):
                raise TypeError("expected an object")
            return {key(k, None): val(v, None) for k, v in value.items()}

        return mapping
    if attrs.has(tp):
        return lambda value, _: converter.structure(value, tp)
    if tp is bool:
        expected: tuple[type, ...] = (bool,)
    elif tp is int:
        expected = (int,)
    else:
        expected = (tp,)

    def exact(value: Any, _: Any) -> Any:
        if not isinstance(value, expected) or (tp is int and isinstance(value, bool)):
            raise TypeError(f"expected {_type_name(tp)}")
        return value

    return exact


def _register(cls: type[Any]) -> None:
    hints = get_type_hints(cls)
    fields = attrs.fields(cls)
    structure_overrides = {
        f.name: override(struct_hook=_strict(hints[f.name]), rename=_WIRE_NAMES.get(f.name))
        for f in fields
    }
    converter.register_structure_hook(
        cls,
        objects_only(make_dict_structure_fn(cls, converter, **structure_overrides)),  # type: ignore[arg-type]
    )
    unstructure_overrides = {
        f.name: override(rename=_WIRE_NAMES.get(f.name), omit_if_default=f.default is None)
        for f in fields
    }
    converter.register_unstructure_hook(
        cls,
        make_dict_unstructure_fn(cls, converter, **unstructure_overrides),  # type: ignore[arg-type]
    )


for _cls in (Tty, Request, Input, Cancel, Ready, SyncStartedNote, Write, Prompt, Response, Stale):
    _register(_cls)


# -- lines ---------------------------------------------------------------------------------------


def decode_client_line(line: bytes) -> ClientMessage:
    """One line from the launcher as a message; a bad one raises a ``MaxError``
    (``daemon.malformed_message`` or ``core.invalid_wire_value``)."""
    try:
        value = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ErrMalformedMessage(reason=f"not JSON ({exc})") from None
    except RecursionError:  # hostile input: arrays or objects nested thousands deep
        raise ErrMalformedMessage(reason="JSON nested too deeply") from None
    if not isinstance(value, dict):
        raise ErrMalformedMessage(reason="expected a JSON object")
    kind = value.get("kind")
    cls = _CLIENT_KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ErrMalformedMessage(reason=f"unknown kind {kind!r}")
    message: ClientMessage = structure(value, cls, what=f"{kind} message")
    return message


def encode_daemon_message(message: DaemonMessage) -> bytes:
    document = {"kind": _DAEMON_KINDS[type(message)], **converter.unstructure(message)}
    return json.dumps(document, separators=(",", ":")).encode("ascii") + b"\n"


def encode_daemon_messages(messages: list[DaemonMessage]) -> bytes:
    return b"".join(encode_daemon_message(m) for m in messages)


def encode_client_message(message: ClientMessage) -> bytes:
    """The launcher's side, for tests and Python clients (the launcher builds its own)."""
    document = converter.unstructure(message)
    if isinstance(message, Input):
        document = {"kind": "input", "value": message.value}
    elif isinstance(message, Cancel):
        document = {"kind": "cancel"}
    return json.dumps(document, separators=(",", ":")).encode("ascii") + b"\n"
