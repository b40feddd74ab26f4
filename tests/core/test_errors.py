"""The error system: facets, boundaries, definitions, discrimination, wrapping, rendering.

Reference max-error.test.ts. The wire form lives in ``test_error_wire.py``.
"""

from __future__ import annotations

import json
import re
import traceback
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
import trio

import maxtrio.core as core
from maxtrio.core import (
    BadInput,
    Boundary,
    EntityDef,
    ErrorDef,
    Facet,
    HasConnector,
    HasEntityField,
    HasEntityRef,
    HasEntityType,
    HasLoaderName,
    InvariantViolated,
    MaxError,
    NotAvailable,
    NotFound,
    NotImplementedFacet,
    NotSupported,
    define_error,
)

Storage = Boundary("storage")
Serialization = Boundary("serialization")
Execution = Boundary("execution")

ErrEntityNotFound = Storage.define(
    "entity_not_found",
    facets=[NotFound, HasEntityRef],
    message="Entity not found: {entityType}:{entityId}",
)
ErrWriteFailed = Storage.define("write_failed", message="Write failed")
ErrReadOnly = Storage.define("read_only", facets=[BadInput], message="Storage is read-only")
ErrInvalidJson = Serialization.define(
    "invalid_json", facets=[BadInput], message="Invalid JSON: {detail}"
)
ErrSyncFailed = Execution.define("sync_failed", message="Sync failed for {target}")
ErrNotReady = Execution.define("not_ready", facets=[NotAvailable], message="Not ready")


def not_found(entity_id: str = "u1", **extra: Any) -> MaxError:
    return ErrEntityNotFound(entityType="User", entityId=entity_id, **extra)


class TestFacets:
    def test_marker_facets(self) -> None:
        markers = [NotFound, BadInput, NotImplementedFacet, NotSupported, NotAvailable]
        names = [f.name for f in [*markers, InvariantViolated]]
        assert names == [
            "NotFound",
            "BadInput",
            "NotImplemented",
            "NotSupported",
            "NotAvailable",
            "InvariantViolated",
        ]
        for facet in [*markers, InvariantViolated]:
            assert facet.is_marker
            assert facet.keys == ()

    def test_data_facets_declare_their_keys(self) -> None:
        assert HasEntityRef.keys == ("entityType", "entityId")
        assert HasEntityField.keys == ("entityType", "field")
        assert HasEntityType.keys == ("entityType",)
        assert HasLoaderName.keys == ("loaderName",)
        assert HasConnector.keys == ("connector",)
        for facet in (HasEntityRef, HasEntityField, HasEntityType, HasLoaderName, HasConnector):
            assert not facet.is_marker

    def test_facets_are_immutable(self) -> None:
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            NotFound.name = "Other"  # type: ignore[misc]
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            HasEntityRef.keys = ()  # type: ignore[misc]

    def test_facets_are_identified_by_name(self) -> None:
        assert Facet("NotFound") == NotFound
        assert not_found().has(Facet("NotFound"))


class TestBoundary:
    def test_domain(self) -> None:
        assert Storage.domain == "storage"
        assert repr(Storage) == "Boundary('storage')"
        assert Boundary("connector", custom_props=["connectorId"]).custom_props == ("connectorId",)

    def test_define_prefixes_the_code(self) -> None:
        assert ErrEntityNotFound.code == "storage.entity_not_found"
        assert ErrEntityNotFound.domain == "storage"
        assert ErrEntityNotFound.facets == (NotFound, HasEntityRef)

    def test_owns_errors_of_its_domain(self) -> None:
        assert Storage.owns(not_found())
        assert Storage.owns(ErrWriteFailed())
        assert not Execution.owns(not_found())
        assert not Storage.owns(ValueError("storage"))
        assert not Storage.owns("storage")

    def test_thin_error(self) -> None:
        err = Storage.error.create({"path": "/tmp/x"})
        assert err.code == "storage.error"
        assert err.domain == "storage"
        assert err.message == "storage error"
        assert err.facet_names == ()
        assert err.data == {"path": "/tmp/x"}


class TestStandaloneDefine:
    def test_code_without_dot_is_its_own_domain(self) -> None:
        simple = define_error("simple")
        assert (simple.code, simple.domain) == ("simple", "simple")
        assert simple().message == "simple"  # no message given: the code stands in

    def test_domain_is_text_before_the_first_dot(self) -> None:
        assert define_error("mydom.something").domain == "mydom"
        assert define_error("a.b.c").domain == "a"


class TestCreate:
    def test_code_domain_message_data(self) -> None:
        err = ErrEntityNotFound.create({"entityType": "User", "entityId": "u1"})
        assert err.code == "storage.entity_not_found"
        assert err.domain == "storage"
        assert err.message == str(err) == "Entity not found: User:u1"
        assert err.data == {"entityType": "User", "entityId": "u1"}
        assert err.facet_names == ("NotFound", "HasEntityRef")
        assert err.context is None
        assert err.cause is None

    def test_context_is_appended_with_an_em_dash_and_kept(self) -> None:
        err = not_found(context="while syncing users")
        assert err.message == "Entity not found: User:u1 \u2014 while syncing users"
        assert " — " in err.message
        assert err.context == "while syncing users"
        assert err.data == {"entityType": "User", "entityId": "u1"}

    def test_marker_only_error_has_empty_data(self) -> None:
        err = ErrReadOnly()
        assert err.data == {}
        assert err.message == "Storage is read-only"
        assert err.facet_names == ("BadInput",)

    def test_is_an_exception_whose_traceback_points_here(self) -> None:
        def lookup() -> None:
            raise not_found()

        with pytest.raises(MaxError) as info:
            lookup()
        err = info.value
        assert isinstance(err, Exception)
        frames = traceback.extract_tb(err.__traceback__)
        assert (__file__, "lookup") in [(f.filename, f.name) for f in frames]
        assert __file__ in err.to_json()["stack"]

    def test_name(self) -> None:
        err = not_found()
        assert err.name == "MaxError[storage.entity_not_found]"
        assert repr(err) == "MaxError[storage.entity_not_found]('Entity not found: User:u1')"

    def test_data_is_a_shallow_copy(self) -> None:
        tags = ["a"]
        data: dict[str, Any] = {"entityType": "User", "entityId": "u1", "tags": tags}
        err = ErrEntityNotFound.create(data)
        data["entityId"] = "changed"
        data["extra"] = True
        assert err.data == {"entityType": "User", "entityId": "u1", "tags": ["a"]}
        assert err.data["tags"] is tags  # shallow: nested values are shared

    def test_accepts_a_max_error_cause_as_the_same_object(self) -> None:
        cause = ErrInvalidJson(detail="unexpected }")
        err = ErrWriteFailed(cause=cause)
        assert err.cause is cause
        assert err.__cause__ is cause

    def test_a_plain_cause_is_converted(self) -> None:
        original = OSError("disk full")
        err = ErrWriteFailed.create(cause=original)
        assert err.cause is not None
        assert err.cause.code == "OSError"
        assert err.cause.domain == "uncaught"
        assert err.cause.message == "disk full"
        assert err.cause.__cause__ is original
        assert err.__cause__ is err.cause

    def test_message_function(self) -> None:
        ErrPlural = define_error(
            "report.count", message=lambda d: f"{d['n']} item{'s' if d['n'] != 1 else ''}"
        )
        assert ErrPlural(n=1).message == "1 item"
        assert ErrPlural(n=3).message == "3 items"

    def test_template_keeps_unfilled_placeholders(self) -> None:
        err = ErrEntityNotFound(entityType="User")
        assert err.message == "Entity not found: User:{entityId}"

    def test_call_shorthand_takes_context_and_cause(self) -> None:
        cause = ErrReadOnly()
        err = ErrSyncFailed(target="users", context="page 3", cause=cause)
        assert err.message == "Sync failed for users — page 3"
        assert err.data == {"target": "users"}
        assert err.cause is cause


class TestMatches:
    def test_same_def(self) -> None:
        assert ErrEntityNotFound.matches(not_found())

    def test_same_code_from_elsewhere(self) -> None:
        copy = MaxError(code="storage.entity_not_found", domain="storage", message="m")
        assert ErrEntityNotFound.matches(copy)

    @pytest.mark.parametrize(
        "value",
        [
            ErrWriteFailed(),
            Exception("storage.entity_not_found"),
            None,
            "storage.entity_not_found",
            42,
        ],
    )
    def test_anything_else(self, value: object) -> None:
        assert not ErrEntityNotFound.matches(value)


class TestHasFacet:
    def test_marker_and_data_facets(self) -> None:
        err = not_found()
        assert err.has(NotFound)
        assert err.has(HasEntityRef)
        assert err.has("NotFound")
        assert MaxError.has_facet(err, HasEntityRef)

    def test_absent_facets(self) -> None:
        err = not_found()
        assert not err.has(BadInput)
        assert not err.has(HasEntityField)
        assert not MaxError.has_facet(err, "Retryable")

    @pytest.mark.parametrize("value", [ValueError("NotFound"), "NotFound", None, 404])
    def test_non_max_errors_have_no_facets(self, value: object) -> None:
        assert not MaxError.has_facet(value, NotFound)

    def test_facet_then_data(self) -> None:
        # Catch-site logic reads the keys a data facet promises.
        err: object = not_found("u7")
        if MaxError.has_facet(err, HasEntityRef):
            assert isinstance(err, MaxError)
            assert {k: err.data[k] for k in HasEntityRef.keys} == {
                "entityType": "User",
                "entityId": "u7",
            }
        else:
            pytest.fail("HasEntityRef expected")


class TestDomainAndIdentity:
    def test_in_domain(self) -> None:
        assert MaxError.in_domain(not_found(), "storage")
        assert not MaxError.in_domain(not_found(), "execution")
        assert not MaxError.in_domain(ValueError(), "storage")

    def test_is_max_error(self) -> None:
        assert MaxError.is_max_error(not_found())
        assert not MaxError.is_max_error(ValueError("x"))
        assert not MaxError.is_max_error(None)


class TestEnrich:
    def test_adds_a_data_facet_and_its_data(self) -> None:
        err = ErrReadOnly()
        same = err.enrich(HasConnector, connector="linear")
        assert same is err
        assert err.has(HasConnector)
        assert err.data == {"connector": "linear"}
        assert err.facet_names == ("BadInput", "HasConnector")

    def test_keeps_existing_keys_unless_overwritten(self) -> None:
        err = not_found("u1", attempt=1)
        err.enrich(HasLoaderName, loaderName="acme:user:basic", attempt=2)
        assert err.data == {
            "entityType": "User",
            "entityId": "u1",
            "attempt": 2,
            "loaderName": "acme:user:basic",
        }

    def test_facet_added_once(self) -> None:
        err = not_found()
        err.enrich(HasEntityRef, entityId="u2")
        assert err.facet_names == ("NotFound", "HasEntityRef")
        assert err.data["entityId"] == "u2"
        assert err.message == "Entity not found: User:u1"  # the message is not re-rendered


class TestMaxErrorWrap:
    def test_max_error_is_returned_unchanged(self) -> None:
        err = not_found()
        assert MaxError.wrap(err) is err

    def test_plain_exception(self) -> None:
        def explode() -> None:
            raise ValueError("bad value")

        with pytest.raises(ValueError) as info:
            explode()
        original = info.value
        err = MaxError.wrap(original)
        assert err.code == "ValueError"
        assert err.domain == "uncaught"
        assert err.message == "bad value"
        assert err.__cause__ is original
        assert err.__traceback__ is original.__traceback__
        assert "explode" in err.pretty(include_stack=True)

    def test_plain_exception_base_class(self) -> None:
        assert MaxError.wrap(Exception("plain")).code == "Exception"
        assert MaxError.wrap(TypeError("t")).code == "TypeError"

    def test_string(self) -> None:
        err = MaxError.wrap("something odd")
        assert (err.code, err.domain, err.message) == ("uncaught", "uncaught", "something odd")

    def test_anything_else(self) -> None:
        err = MaxError.wrap({"status": 500})
        assert (err.code, err.domain) == ("uncaught", "uncaught")
        assert err.message == "{'status': 500}"
        assert MaxError.wrap(None).message == "None"


class TestErrorDefWrap:
    def test_returns_the_value_on_success(self) -> None:
        @ErrWriteFailed.wrap
        def write(n: int) -> int:
            return n * 2

        assert write(21) == 42
        assert write.__name__ == "write"

    def test_cross_domain_error_becomes_the_cause(self) -> None:
        inner = ErrInvalidJson(detail="}")

        @ErrWriteFailed.wrap
        def write() -> None:
            raise inner

        with pytest.raises(MaxError) as info:
            write()
        err = info.value
        assert ErrWriteFailed.matches(err)
        assert err.cause is inner
        assert err.__cause__ is inner

    def test_wraps_even_its_own_error(self) -> None:
        inner = ErrWriteFailed(context="first attempt")
        with pytest.raises(MaxError) as info, ErrWriteFailed.wrapping():
            raise inner
        assert ErrWriteFailed.matches(info.value)
        assert info.value.cause is inner

    def test_plain_error_becomes_a_converted_cause(self) -> None:
        original = KeyError("missing")

        @ErrWriteFailed.wrap
        def write() -> None:
            raise original

        with pytest.raises(MaxError) as info:
            write()
        cause = info.value.cause
        assert cause is not None
        assert cause.code == "KeyError"
        assert cause.domain == "uncaught"
        assert info.value.__cause__ is cause
        assert cause.__cause__ is original

    async def test_async_success_and_failure(self) -> None:
        @ErrWriteFailed.wrap
        async def write(n: int) -> int:
            await trio.sleep(0)
            if n < 0:
                raise ValueError("negative")
            return n

        assert await write(5) == 5
        with pytest.raises(MaxError) as info:
            await write(-1)
        assert ErrWriteFailed.matches(info.value)
        assert info.value.cause is not None
        assert info.value.cause.code == "ValueError"
        assert info.value.__cause__ is info.value.cause

    def test_context_manager_with_data(self) -> None:
        with pytest.raises(MaxError) as info, ErrSyncFailed.wrapping({"target": "users"}):
            raise ErrReadOnly()
        err = info.value
        assert err.message == "Sync failed for users"
        assert err.data == {"target": "users"}
        assert err.cause is not None and ErrReadOnly.matches(err.cause)

    async def test_context_manager_around_awaits(self) -> None:
        with pytest.raises(MaxError) as info, ErrSyncFailed.wrapping({"target": "tasks"}):
            await trio.sleep(0)
            raise ErrInvalidJson(detail="x")
        assert ErrSyncFailed.matches(info.value)
        assert info.value.message == "Sync failed for tasks"

    def test_nothing_raised_nothing_wrapped(self) -> None:
        with ErrWriteFailed.wrapping():
            value = 1 + 1
        assert value == 2

    def test_base_exceptions_pass_through(self) -> None:
        with pytest.raises(KeyboardInterrupt), ErrWriteFailed.wrapping():
            raise KeyboardInterrupt

    async def test_cancellation_is_not_wrapped(self) -> None:
        with trio.CancelScope() as scope:
            scope.cancel()
            with ErrWriteFailed.wrapping():
                await trio.sleep(10)
        assert scope.cancelled_caught


Connector = Boundary("connector", custom_props=["connectorId"])


class TestBoundaryWrap:
    def test_returns_the_value_on_success(self) -> None:
        @Storage.wrap
        def read() -> str:
            return "row"

        assert read() == "row"

    def test_same_domain_passes_through_as_the_same_object(self) -> None:
        inner = not_found()

        @Storage.wrap
        def read() -> None:
            raise inner

        with pytest.raises(MaxError) as info:
            read()
        assert info.value is inner
        assert info.value.cause is None

    def test_cross_domain_becomes_the_thin_error(self) -> None:
        inner = ErrInvalidJson(detail="}")
        with pytest.raises(MaxError) as info, Storage.wrapping():
            raise inner
        err = info.value
        assert err.code == "storage.error"
        assert err.message == "storage error"
        assert err.facet_names == ()
        assert err.cause is inner
        assert err.__cause__ is inner

    def test_plain_error_becomes_the_thin_error(self) -> None:
        with pytest.raises(MaxError) as info, Storage.wrapping():
            raise RuntimeError("socket closed")
        err = info.value
        assert Storage.error.matches(err)
        assert err.cause is not None and err.cause.code == "RuntimeError"
        assert err.__cause__ is err.cause

    def test_boundary_data_lands_on_the_thin_error(self) -> None:
        with pytest.raises(MaxError) as info, Connector.wrapping({"connectorId": "linear-1"}):
            raise ErrWriteFailed()
        err = info.value
        assert err.code == "connector.error"
        assert err.data == {"connectorId": "linear-1"}
        assert err.cause is not None and ErrWriteFailed.matches(err.cause)

    async def test_async_same_domain(self) -> None:
        inner = not_found()

        @Storage.wrap
        async def read() -> None:
            await trio.sleep(0)
            raise inner

        with pytest.raises(MaxError) as info:
            await read()
        assert info.value is inner

    async def test_async_cross_domain(self) -> None:
        @Storage.wrap
        async def read() -> int:
            await trio.sleep(0)
            raise ErrNotReady()

        with pytest.raises(MaxError) as info:
            await read()
        assert info.value.code == "storage.error"
        assert info.value.cause is not None and ErrNotReady.matches(info.value.cause)

    async def test_async_success(self) -> None:
        @Storage.wrap
        async def read() -> int:
            await trio.sleep(0)
            return 7

        assert await read() == 7


def chain_codes(err: MaxError | None) -> list[str]:
    codes = []
    while err is not None:
        codes.append(err.code)
        err = err.cause
    return codes


def python_cause_codes(err: BaseException | None) -> list[str]:
    codes = []
    while isinstance(err, MaxError):
        codes.append(err.code)
        err = err.__cause__
    return codes


class TestCauseChains:
    def test_nested_wraps_build_a_three_level_chain(self) -> None:
        @ErrSyncFailed.wrap
        def sync() -> None:
            write()

        @ErrWriteFailed.wrap
        def write() -> None:
            raise ErrInvalidJson(detail="unexpected }")

        with pytest.raises(MaxError) as info:
            sync()
        err = info.value
        assert chain_codes(err) == [
            "execution.sync_failed",
            "storage.write_failed",
            "serialization.invalid_json",
        ]
        assert err.cause is not None and err.cause.cause is not None
        assert err.cause.cause.cause is None
        assert python_cause_codes(err) == chain_codes(err)


class TestToJson:
    def error_with_everything(self) -> MaxError:
        err = not_found(context="loading profile")
        try:
            raise err
        except MaxError as raised:
            return raised

    def test_fields(self) -> None:
        out = self.error_with_everything().to_json()
        assert out["code"] == "storage.entity_not_found"
        assert out["domain"] == "storage"
        assert out["message"] == "Entity not found: User:u1 — loading profile"
        assert out["context"] == "loading profile"
        assert out["data"] == {"entityType": "User", "entityId": "u1"}
        assert "NotFound" in out["facets"] and "HasEntityRef" in out["facets"]
        assert "error_with_everything" in out["stack"]
        assert "cause" not in out

    def test_survives_json(self) -> None:
        out = self.error_with_everything().to_json()
        assert json.loads(json.dumps(out)) == out

    def test_no_context_key_without_context(self) -> None:
        assert "context" not in ErrReadOnly().to_json()

    def test_cause_is_serialised(self) -> None:
        err = ErrWriteFailed(cause=ErrInvalidJson(detail="x", context="line 3"))
        out = err.to_json()
        cause = out["cause"]
        assert cause["code"] == "serialization.invalid_json"
        assert cause["message"] == "Invalid JSON: x — line 3"
        assert cause["context"] == "line 3"
        assert "cause" not in cause

    def test_data_is_made_json_safe(self) -> None:
        User = EntityDef.create("User")
        when = datetime(2024, 1, 15, tzinfo=UTC)
        err = define_error("demo.safe")(ref=User.ref("u1"), at=when, ids=("a", "b"), n={1: 2})
        out = err.to_json()
        assert out["data"] == {
            "ref": "ein:User:u1",
            "at": "2024-01-15 00:00:00+00:00",
            "ids": ["a", "b"],
            "n": {"1": 2},
        }
        json.dumps(out)
        assert err.data["ids"] == ("a", "b")  # the error itself keeps the originals


ErrRefNotFound = Storage.define(
    "entity_not_found", facets=[NotFound], message="Entity not found: {ref}"
)


class TestPretty:
    def test_header_line(self) -> None:
        err = ErrRefNotFound(ref="User:u1")
        lines = err.pretty().splitlines()
        assert lines[0] == "MaxError[storage.entity_not_found]: Entity not found: User:u1"

    def test_data_line(self) -> None:
        text = ErrRefNotFound(ref="User:u1").pretty()
        assert "data: { ref: 'User:u1' }" in text
        assert text.splitlines()[1] == "  └ data: { ref: 'User:u1' }"

    def test_long_data_is_rendered_in_full(self) -> None:
        data = {f"key{i}": "v" * 30 for i in range(8)}
        text = define_error("demo.long").create(data).pretty()
        for key in data:
            assert f"{key}: '{'v' * 30}'" in text

    def test_marker_only_goes_straight_to_the_stack(self) -> None:
        try:
            raise ErrReadOnly()
        except MaxError as err:
            lines = err.pretty(include_stack=True).splitlines()
        assert lines[0] == "MaxError[storage.read_only]: Storage is read-only"
        assert lines[1] == "➝ Stack trace:"
        assert any("test_marker_only_goes_straight_to_the_stack" in ln for ln in lines[2:])

    def test_no_stack_unless_asked(self) -> None:
        assert "Stack trace" not in ErrReadOnly().pretty()
        assert ErrReadOnly().pretty() == "MaxError[storage.read_only]: Storage is read-only"

    def test_context_in_the_header(self) -> None:
        header = ErrReadOnly(context="during migration").pretty().splitlines()[0]
        assert header == "MaxError[storage.read_only]: Storage is read-only — during migration"

    def test_causes(self) -> None:
        inner = ErrInvalidJson(detail="x", pos=3)
        err = ErrWriteFailed.create({"path": "/db"}, cause=inner)
        lines = err.pretty().splitlines()
        assert lines == [
            "MaxError[storage.write_failed]: Write failed",
            "  ├ data: { path: '/db' }",
            "  └ caused by: [serialization.invalid_json]: Invalid JSON: x",
            "    └ data: { detail: 'x', pos: 3 }",
        ]

    def test_deep_chain_indents_per_level(self) -> None:
        err = ErrSyncFailed(target="t", cause=ErrWriteFailed(cause=ErrReadOnly()))
        lines = err.pretty().splitlines()
        assert "caused by: [storage.write_failed]: Write failed" in lines[2]
        assert lines[3].startswith("    └ caused by: [storage.read_only]")

    def test_colour(self) -> None:
        plain = not_found(cause=ErrReadOnly()).pretty(color=False)
        coloured = not_found(cause=ErrReadOnly()).pretty(color=True)
        assert "\x1b[" not in plain
        assert "\x1b[31mstorage.entity_not_found\x1b[0m" in coloured
        assert "\x1b[31mstorage.read_only\x1b[0m" in coloured
        assert re.sub(r"\x1b\[\d+m", "", coloured) == plain


class TestDeveloperFlows:
    """How callers are meant to catch: by code, by facet, by boundary."""

    def load_user(self, user_id: str) -> dict[str, str]:
        if user_id == "ghost":
            raise not_found(user_id)
        if user_id == "":
            raise ErrInvalidJson(detail="empty id")
        return {"id": user_id}

    def test_catch_by_code(self) -> None:
        try:
            self.load_user("ghost")
        except MaxError as err:
            outcome = "missing" if ErrEntityNotFound.matches(err) else "other"
        assert outcome == "missing"

    def test_catch_by_facet(self) -> None:
        def lookup_or_none(user_id: str) -> dict[str, str] | None:
            try:
                return self.load_user(user_id)
            except MaxError as err:
                if err.has(NotFound):
                    return None
                raise

        assert lookup_or_none("u1") == {"id": "u1"}
        assert lookup_or_none("ghost") is None
        with pytest.raises(MaxError, match="empty id"):
            lookup_or_none("")

    def test_catch_by_boundary(self) -> None:
        caught = []
        for user_id in ("ghost", ""):
            try:
                self.load_user(user_id)
            except MaxError as err:
                caught.append("storage" if Storage.owns(err) else err.domain)
        assert caught == ["storage", "serialization"]

    def test_enrich_then_catch(self) -> None:
        def sync_with(loader: str) -> None:
            try:
                self.load_user("ghost")
            except MaxError as err:
                raise err.enrich(HasLoaderName, loaderName=loader) from err.cause

        with pytest.raises(MaxError) as info:
            sync_with("acme:user:basic")
        err = info.value
        assert err.has(HasLoaderName) and err.has(NotFound)
        assert err.data["loaderName"] == "acme:user:basic"
        assert err.data["entityId"] == "ghost"

    def test_wrap_then_catch(self) -> None:
        @ErrSyncFailed.wrap
        def sync() -> None:
            self.load_user("ghost")

        with pytest.raises(MaxError) as info:
            sync()
        err = info.value
        assert ErrSyncFailed.matches(err)
        assert not err.has(NotFound)  # facets belong to each layer
        assert err.cause is not None and err.cause.has(NotFound)


Sync = Boundary("sync")
Linear = Boundary("linear")
ErrSyncStepFailed = Sync.define("failed", message="Sync step {step} failed")
ErrLinearTimeout = Linear.define(
    "api_timeout", facets=[NotAvailable], message="Linear API timed out after {seconds}s"
)


class LinearClient:
    async def fetch_issues(self) -> list[str]:
        await trio.sleep(0)
        raise ErrLinearTimeout(seconds=30, endpoint="/graphql")


async def test_realistic_three_level_chain() -> None:
    client = LinearClient()

    async def run_step() -> list[str]:
        with ErrSyncStepFailed.wrapping({"step": "issues"}):
            return await client.fetch_issues()

    with pytest.raises(MaxError) as info, Connector.wrapping({"connectorId": "linear-prod"}):
        await run_step()

    err = info.value
    assert chain_codes(err) == ["connector.error", "sync.failed", "linear.api_timeout"]
    assert python_cause_codes(err) == chain_codes(err)
    assert err.data == {"connectorId": "linear-prod"}
    assert Connector.owns(err)
    step = err.cause
    assert step is not None and step.message == "Sync step issues failed"
    timeout = step.cause
    assert timeout is not None and timeout.has(NotAvailable)
    assert timeout.data == {"seconds": 30, "endpoint": "/graphql"}
    assert timeout.cause is None

    assert err.pretty().splitlines() == [
        "MaxError[connector.error]: connector error",
        "  ├ data: { connectorId: 'linear-prod' }",
        "  └ caused by: [sync.failed]: Sync step issues failed",
        "    ├ data: { step: 'issues' }",
        "    └ caused by: [linear.api_timeout]: Linear API timed out after 30s",
        "      └ data: { seconds: 30, endpoint: '/graphql' }",
    ]
    logged = err.to_json()
    assert logged["cause"]["cause"]["code"] == "linear.api_timeout"
    assert "fetch_issues" in logged["stack"]


def test_error_def_is_a_value() -> None:
    assert isinstance(ErrEntityNotFound, ErrorDef)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        ErrEntityNotFound.code = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("error_def", "code", "facets"),
    [
        (core.ErrInvalidRefKey, "core.invalid_ref_key", ["BadInput"]),
        (core.ErrInvalidMaxUrl, "core.invalid_max_url", ["BadInput"]),
        (core.ErrNotImplemented, "core.not_implemented", ["NotImplemented"]),
        (core.ErrNotSupported, "core.not_supported", ["NotSupported"]),
        (core.ErrFieldNotLoaded, "core.field_not_loaded", ["HasEntityField"]),
        (core.ErrContextBuildFailed, "core.context_build_failed", ["BadInput"]),
        (core.ErrBatchKeyMissing, "core.batch_key_missing", ["NotFound"]),
        (core.ErrBatchEmptyDeriveKey, "core.batch_empty_derive_key", ["InvariantViolated"]),
        (core.ErrUnknownEntityType, "core.unknown_entity_type", ["HasEntityType"]),
        (core.ErrRootNotInEntities, "core.root_not_in_entities", ["BadInput"]),
        (core.ErrReservedFieldPrefix, "core.reserved_field_prefix", ["BadInput", "HasEntityField"]),
    ],
)
def test_core_error_catalogue(error_def: ErrorDef, code: str, facets: list[str]) -> None:
    """Codes and facet names cross the wire, so they must match the reference's table."""
    assert error_def.code == code
    assert error_def.domain == "core"
    assert core.Core.owns(error_def.create())
    assert [f.name for f in error_def.facets] == facets


def test_core_messages() -> None:
    assert str(core.ErrUnknownEntityType(entityType="Ghost")) == "Unknown entity type: Ghost"
    assert str(core.ErrInvalidRefKey(key="x")) == "Invalid RefKey format: x"
    assert str(core.ErrBatchKeyMissing(key="k")) == "Batch value missing for key: k"
