"""RefKey round trips and parsing (reference ref-key.test.ts)."""

from __future__ import annotations

import pytest

from maxtrio.core import (
    INSTALLATION,
    EntityDef,
    Field,
    MaxError,
    Ref,
    format_ref_key,
    global_,
    is_valid_ref_key,
    parse_ref_key,
    try_parse_ref_key,
    workspace,
)

User = EntityDef.create("User", {"name": Field.string()})


@pytest.mark.parametrize("entity_id", ["u1", "user:123", "a:b:c:d:e:f", "", "team:42", "x:y:z:w"])
@pytest.mark.parametrize("scope", [INSTALLATION, workspace("inst-1"), global_("ws-1", "inst-1")])
def test_round_trip(entity_id: str, scope: object) -> None:
    key = format_ref_key("User", entity_id, scope)  # type: ignore[arg-type]
    parsed = parse_ref_key(key)
    assert (parsed.entity_type, parsed.entity_id, parsed.scope) == ("User", entity_id, scope)


def test_prefixes() -> None:
    assert format_ref_key("AcmeUser", "u1") == "ein:AcmeUser:u1"
    assert format_ref_key("Team", "t1", workspace("inst-1")) == "ews:inst-1:Team:t1"
    assert format_ref_key("User", "u1", global_("ws-1", "inst-1")) == "egl:ws-1:inst-1:User:u1"


def test_ids_keep_every_colon() -> None:
    assert parse_ref_key("ein:User:user:123").entity_id == "user:123"
    assert parse_ref_key("ein:Thing:a:b:c:d:e:f").entity_id == "a:b:c:d:e:f"
    assert parse_ref_key("ews:i:T:x:y").entity_id == "x:y"
    assert parse_ref_key("ein:User:").entity_id == ""


@pytest.mark.parametrize(
    "key",
    ["", "garbage", "installation:", "other:Type:id", "system:inst:type", "ews:a:b", "egl:a:b:c"],
)
def test_invalid(key: str) -> None:
    with pytest.raises(MaxError) as info:
        parse_ref_key(key)
    assert info.value.code == "core.invalid_ref_key"
    assert info.value.has("BadInput")
    assert "Invalid RefKey format" in str(info.value)
    assert info.value.data == {"key": key}
    assert try_parse_ref_key(key) is None


def test_is_valid() -> None:
    assert is_valid_ref_key("ein:User:u1")
    assert is_valid_ref_key("ews:inst:User:u1")
    assert is_valid_ref_key("egl:ws:inst:User:u1")
    assert not is_valid_ref_key("not-a-key")


def test_ref_equality_ignores_scope() -> None:
    a = User.ref("u1")
    b = User.ref("u1", workspace("i1"))
    assert a == b and hash(a) == hash(b)
    assert a != EntityDef.create("Other").ref("u1")
    assert repr(a) == "Ref<User>(u1)"
    assert repr(b) == "Ref<User>(u1, inst:i1)"
    assert repr(User.ref("u1", global_("w", "i"))) == "Ref<User>(u1, ws:w, inst:i)"
    assert a.upgrade_scope(workspace("i2")).to_key() == "ews:i2:User:u1"


def test_from_key_uses_given_def() -> None:
    ref = Ref.from_key(User, "ews:i9:Whatever:abc")
    assert ref.entity_def is User
    assert ref.scope == workspace("i9")
    assert ref.id == "abc"
