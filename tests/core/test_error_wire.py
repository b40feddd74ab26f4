"""MaxError on the wire: ``to_wire`` / ``serialize`` / ``from_wire`` and the cattrs converter.

Reference max-error-serialization.test.ts.
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from maxtrio.core import (
    BadInput,
    Boundary,
    ErrInvalidWireValue,
    Facet,
    HasEntityRef,
    MaxError,
    NotFound,
    converter,
    structure,
    unstructure,
)

Storage = Boundary("storage")
Network = Boundary("network")
Retryable = Facet("Retryable")

ErrEntityNotFound = Storage.define(
    "entity_not_found",
    facets=[NotFound, HasEntityRef],
    message="{entityType} not found: {entityId}",
)
ErrWriteFailed = Storage.define("write_failed", message="Write failed")
ErrTimeout = Network.define("timeout", facets=[Retryable], message="Timed out after {ms}ms")


def not_found() -> MaxError:
    return ErrEntityNotFound(entityType="User", entityId="u1")


def chained() -> MaxError:
    """write_failed → timeout (a context on the cause, data on both)."""
    timeout = ErrTimeout(ms=5000, context="POST /graphql")
    return ErrWriteFailed.create({"table": "user"}, cause=timeout)


def codes(err: BaseException | None, *, via: str) -> list[str]:
    out = []
    while isinstance(err, MaxError):
        out.append(err.code)
        err = err.cause if via == "cause" else err.__cause__
    return out


class TestSerialize:
    def test_max_error(self) -> None:
        wire = MaxError.serialize(not_found())
        assert wire == {
            "message": "User not found: u1",
            "code": "storage.entity_not_found",
            "boundary": "storage",
            "facets": ["NotFound", "HasEntityRef"],
            "data": {"entityType": "User", "entityId": "u1"},
        }
        assert "cause" not in wire
        assert wire == not_found().to_wire()

    def test_cause_chain(self) -> None:
        wire = MaxError.serialize(chained())
        assert wire["code"] == "storage.write_failed"
        assert wire["cause"] == {
            "message": "Timed out after 5000ms — POST /graphql",
            "code": "network.timeout",
            "boundary": "network",
            "facets": ["Retryable"],
            "data": {"ms": 5000},
        }

    def test_plain_exception_is_message_only(self) -> None:
        assert MaxError.serialize(ValueError("bad thing")) == {"message": "bad thing"}

    def test_anything_else_is_its_string(self) -> None:
        assert MaxError.serialize("plain text") == {"message": "plain text"}
        assert MaxError.serialize(404) == {"message": "404"}

    def test_is_json(self) -> None:
        wire = MaxError.serialize(chained())
        assert json.loads(json.dumps(wire)) == wire


class TestFromWire:
    def round_trip(self, err: MaxError) -> MaxError:
        return MaxError.from_wire(json.loads(json.dumps(err.to_wire())))

    def test_keeps_code_domain_message_data_and_facet_order(self) -> None:
        back = self.round_trip(not_found())
        assert back.code == "storage.entity_not_found"
        assert back.domain == "storage"
        assert back.message == "User not found: u1"
        assert back.data == {"entityType": "User", "entityId": "u1"}
        assert back.facet_names == ("NotFound", "HasEntityRef")

    def test_facets_work_after_the_trip(self) -> None:
        back = self.round_trip(not_found())
        assert back.has(NotFound)
        assert back.has(HasEntityRef)
        assert not back.has(Retryable)
        assert MaxError.has_facet(back, "NotFound")

    def test_boundaries_and_codes_work_after_the_trip(self) -> None:
        back = self.round_trip(not_found())
        assert Storage.owns(back)
        assert not Network.owns(back)
        assert ErrEntityNotFound.matches(back)
        assert MaxError.is_max_error(back)

    def test_cause_chain_is_rebuilt_and_queryable(self) -> None:
        back = self.round_trip(chained())
        assert codes(back, via="cause") == ["storage.write_failed", "network.timeout"]
        assert codes(back, via="__cause__") == codes(back, via="cause")
        assert back.cause is not None
        assert ErrTimeout.matches(back.cause)
        assert back.cause.has(Retryable)
        assert Network.owns(back.cause)
        assert back.cause.data == {"ms": 5000}
        assert back.cause.cause is None

    def test_context_is_lost_but_the_message_keeps_it(self) -> None:
        back = self.round_trip(chained())
        assert back.cause is not None
        assert back.cause.context is None
        assert back.cause.message == "Timed out after 5000ms — POST /graphql"

    def test_message_alone(self) -> None:
        back = MaxError.from_wire({"message": "something broke"})
        assert back.code == "unknown"
        assert back.domain == "unknown"
        assert back.message == "something broke"
        assert back.data == {}
        assert back.facet_names == ()
        assert back.cause is None
        assert MaxError.is_max_error(back)

    def test_a_plain_exception_round_trips_as_unknown(self) -> None:
        back = MaxError.from_wire(MaxError.serialize(RuntimeError("lost socket")))
        assert (back.code, back.domain, back.message) == ("unknown", "unknown", "lost socket")

    def test_malformed_parts_fall_back_to_defaults(self) -> None:
        back = MaxError.from_wire(
            {"code": "x.y", "facets": ["A", 3, None, "B"], "data": ["not", "a", "map"], "cause": 7}
        )
        assert back.code == "x.y"
        assert back.facet_names == ("A", "B")
        assert back.data == {}
        assert back.cause is None
        assert back.message == ""

    def test_rebuilt_errors_render(self) -> None:
        text = self.round_trip(chained()).pretty()
        assert text.splitlines()[0] == "MaxError[storage.write_failed]: Write failed"
        assert "caused by: [network.timeout]: Timed out after 5000ms — POST /graphql" in text


@attrs.frozen
class RpcReply:
    """The shape of a reply that may carry an error, as a daemon socket would send it."""

    id: int
    result: dict[str, Any] | None = None
    error: MaxError | None = None


class TestConverter:
    """The one cattrs converter carries MaxErrors through every JSON boundary."""

    def test_unstructure_is_the_wire_form(self) -> None:
        err = chained()
        assert converter.unstructure(err) == err.to_wire()
        assert unstructure(err) == err.to_wire()

    def test_round_trip_through_json_text(self) -> None:
        original = chained()
        text = converter.dumps(original)
        back = converter.loads(text, MaxError)
        assert back.code == original.code
        assert back.domain == original.domain
        assert back.message == original.message
        assert back.data == original.data
        assert back.facet_names == original.facet_names
        assert codes(back, via="cause") == codes(original, via="cause")

    def test_cause_chain_and_python_cause_chain_match(self) -> None:
        inner = ErrEntityNotFound(entityType="User", entityId="u9", context="lookup")
        original = ErrWriteFailed(cause=ErrTimeout(ms=1, cause=inner))
        back = structure(json.loads(converter.dumps(original)), MaxError)
        expected = ["storage.write_failed", "network.timeout", "storage.entity_not_found"]
        assert codes(back, via="cause") == expected
        assert codes(back, via="__cause__") == expected
        deepest = back.cause.cause if back.cause else None
        assert deepest is not None
        assert deepest.__cause__ is None
        assert deepest.context is None
        assert deepest.message == "User not found: u9 — lookup"
        assert deepest.has(HasEntityRef) and deepest.data["entityId"] == "u9"

    def test_inside_an_attrs_payload(self) -> None:
        reply = RpcReply(id=3, error=chained())
        text = converter.dumps(reply)
        assert json.loads(text)["error"]["boundary"] == "storage"
        back = converter.loads(text, RpcReply)
        assert back.id == 3
        assert back.result is None
        assert back.error is not None
        assert codes(back.error, via="__cause__") == ["storage.write_failed", "network.timeout"]

    def test_payload_without_an_error(self) -> None:
        back = converter.loads(converter.dumps(RpcReply(id=1, result={"ok": True})), RpcReply)
        assert back == RpcReply(id=1, result={"ok": True}, error=None)

    @pytest.mark.parametrize("bad", ["boom", 42, ["message"], None])
    def test_a_non_object_error_is_a_clear_bad_input(self, bad: object) -> None:
        with pytest.raises(MaxError) as info:
            structure(bad, MaxError)
        err = info.value
        assert ErrInvalidWireValue.matches(err)
        assert err.has(BadInput)
        assert str(err).startswith("Invalid MaxError: ")
        assert "\n" not in str(err)

    def test_a_bad_nested_error_names_its_field(self) -> None:
        with pytest.raises(MaxError) as info:
            structure({"id": 1, "error": "boom"}, RpcReply, what="reply")
        err = info.value
        assert ErrInvalidWireValue.matches(err)
        assert str(err).startswith("Invalid reply: ")
        assert "$.error" in str(err)
