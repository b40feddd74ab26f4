"""Entity definitions, inputs, results and meta fields.

Ports the runtime intent of sample-connector.ts: typed access to loaded fields, ref fields,
and ``core.field_not_loaded`` for anything that was not selected.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from maxtrio.core import (
    DEFAULT_META_FIELDS,
    FILTERABLE_META_FIELDS,
    META_FIELD_NAMES,
    SQL_TYPES,
    BadInput,
    EntityDef,
    EntityInput,
    EntityResult,
    ErrFieldNotLoaded,
    ErrInvalidEntityDef,
    ErrReservedFieldPrefix,
    Field,
    FieldKind,
    HasEntityField,
    MaxError,
    is_known_meta_field,
    is_meta_field,
    resolve_meta_field,
    workspace,
)

Team = EntityDef.create("Team", {"name": Field.string()})
User: EntityDef  # declared ahead: a thunk below refers to it
User = EntityDef.create(
    "User",
    {
        "displayName": Field.string(),
        "age": Field.number(),
        "active": Field.boolean(),
        "joinedAt": Field.date(),
        "team": Field.ref(Team),
        "friends": Field.collection(lambda: User),
    },
)


class TestEntityDef:
    def test_field_order_is_declaration_order(self) -> None:
        assert User.field_names == ("displayName", "age", "active", "joinedAt", "team", "friends")
        assert list(User.fields) == list(User.field_names)

    def test_stored_and_collection_fields(self) -> None:
        assert User.stored_field_names == ("displayName", "age", "active", "joinedAt", "team")
        assert User.collection_field_names == ("friends",)

    def test_field_kinds_and_columns(self) -> None:
        kinds = {name: f.kind for name, f in User.fields.items()}
        assert kinds == {
            "displayName": FieldKind.STRING,
            "age": FieldKind.NUMBER,
            "active": FieldKind.BOOLEAN,
            "joinedAt": FieldKind.DATE,
            "team": FieldKind.REF,
            "friends": FieldKind.COLLECTION,
        }
        assert SQL_TYPES == {
            FieldKind.STRING: "TEXT",
            FieldKind.NUMBER: "REAL",
            FieldKind.BOOLEAN: "INTEGER",
            FieldKind.DATE: "TEXT",
            FieldKind.REF: "TEXT",
        }
        assert FieldKind.COLLECTION not in SQL_TYPES
        assert User.fields["team"].is_relation and User.fields["team"].is_stored
        assert User.fields["friends"].is_relation and not User.fields["friends"].is_stored
        assert not User.fields["age"].is_relation

    def test_field_lookup(self) -> None:
        assert User.field("age") is User.fields["age"]
        assert User.field("missing") is None
        assert repr(User.fields["team"]) == "Field.ref(Team)"
        assert repr(User.fields["age"]) == "Field.number()"

    def test_no_fields(self) -> None:
        Empty = EntityDef.create("Empty")
        assert Empty.field_names == ()
        assert repr(Empty) == "EntityDef(Empty)"

    def test_fields_mapping_is_read_only_and_copied(self) -> None:
        source = {"name": Field.string()}
        Thing = EntityDef.create("Thing", source)
        source["extra"] = Field.string()
        assert Thing.field_names == ("name",)
        with pytest.raises(TypeError):
            Thing.fields["other"] = Field.string()  # type: ignore[index]

    @pytest.mark.parametrize("field_name", ["_id", "_ref", "_secret", "__dunder"])
    def test_reserved_prefix_is_rejected(self, field_name: str) -> None:
        with pytest.raises(MaxError) as info:
            EntityDef.create("Widget", {"name": Field.string(), field_name: Field.string()})
        err = info.value
        assert ErrReservedFieldPrefix.matches(err)
        assert err.code == "core.reserved_field_prefix"
        assert err.has(BadInput) and err.has(HasEntityField)
        assert err.data == {"entityType": "Widget", "field": field_name}
        assert "reserved prefix '_'" in str(err)
        assert "meta fields" in str(err)

    def test_underscore_inside_a_name_is_fine(self) -> None:
        Widget = EntityDef.create("Widget", {"created_at": Field.date(), "x_": Field.string()})
        assert Widget.field_names == ("created_at", "x_")

    @pytest.mark.parametrize("name", ["", "a:b"])
    def test_invalid_names_are_rejected(self, name: str) -> None:
        with pytest.raises(MaxError) as info:
            EntityDef.create(name, {})
        assert ErrInvalidEntityDef.matches(info.value)
        assert info.value.has(BadInput)

    def test_a_field_must_be_a_field(self) -> None:
        with pytest.raises(MaxError) as info:
            EntityDef.create("Widget", {"name": "string"})  # type: ignore[dict-item]
        assert ErrInvalidEntityDef.matches(info.value)
        assert "'name'" in str(info.value)

    def test_identity_is_the_object(self) -> None:
        twin = EntityDef.create("Team", {"name": Field.string()})
        assert twin != Team
        assert Team == Team

    def test_ref(self) -> None:
        ref = User.ref("u1")
        assert ref.entity_def is User
        assert ref.entity_type == "User"
        assert ref.to_key() == str(ref) == "ein:User:u1"
        assert User.ref("u1", workspace("i1")).to_key() == "ews:i1:User:u1"


class TestEntityInput:
    def test_create_from_def_id_and_fields(self) -> None:
        fields = {"displayName": "Alice", "age": 30}
        inp = EntityInput.create(User, "u1", fields)
        fields["age"] = 99
        assert inp.ref == User.ref("u1")
        assert inp.entity_def is User
        assert dict(inp.fields) == {"displayName": "Alice", "age": 30}

    def test_created_from_a_ref(self) -> None:
        ref = User.ref("u2", workspace("i1"))
        inp = EntityInput(ref, {"active": True})
        assert inp.ref is ref
        assert dict(inp.fields) == {"active": True}

    def test_def_input_shorthand_merges_mapping_and_keywords(self) -> None:
        inp = User.input("u3", {"displayName": "Carol"}, age=41)
        assert inp.ref.to_key() == "ein:User:u3"
        assert dict(inp.fields) == {"displayName": "Carol", "age": 41}

    def test_absent_is_not_none(self) -> None:
        inp = User.input("u4", displayName=None)
        assert "displayName" in inp.fields and inp.fields["displayName"] is None
        assert "age" not in inp.fields

    def test_no_fields(self) -> None:
        assert dict(EntityInput.create(User, "u5").fields) == {}
        assert dict(EntityInput(User.ref("u5")).fields) == {}

    def test_ref_values_and_repr(self) -> None:
        inp = User.input("u6", team=Team.ref("t1"))
        assert inp.fields["team"] == Team.ref("t1")
        assert repr(inp) == "EntityInput(Ref<User>(u6), {'team': Ref<Team>(t1)})"


JOINED = datetime(2024, 1, 15, 9, 30, tzinfo=UTC)


def loaded_user(**values: object) -> EntityResult:
    return EntityResult(User.ref("u1"), values)


class TestEntityResult:
    def test_get_loaded_fields(self) -> None:
        user = loaded_user(displayName="Alice", joinedAt=JOINED, team=Team.ref("t1"))
        assert user.get("displayName") == "Alice"
        assert user.get("joinedAt") == JOINED
        team = user.get("team")
        assert team.entity_def is Team and team.id == "t1"

    def test_get_a_null_loaded_field_is_none(self) -> None:
        assert loaded_user(age=None).get("age") is None

    def test_get_meta_fields(self) -> None:
        user = loaded_user()
        assert user.get("_id") == "u1"
        assert user.get("_ref") == "ein:User:u1"
        ws_user = EntityResult(User.ref("u1", workspace("i1")), {})
        assert ws_user.get("_ref") == "ews:i1:User:u1"

    def test_get_a_field_not_loaded_raises(self) -> None:
        user = loaded_user(displayName="Alice")
        with pytest.raises(MaxError) as info:
            user.get("age")
        err = info.value
        assert str(err) == "Field 'age' not loaded on User"
        assert ErrFieldNotLoaded.matches(err)
        assert err.code == "core.field_not_loaded"
        assert err.has(HasEntityField)
        assert err.data == {"entityType": "User", "field": "age"}

    def test_unknown_meta_name_is_not_loaded(self) -> None:
        with pytest.raises(MaxError) as info:
            loaded_user().get("_secret")
        assert ErrFieldNotLoaded.matches(info.value)

    def test_maybe_get_never_raises(self) -> None:
        user = loaded_user(displayName="Alice", age=None)
        assert user.maybe_get("displayName") == "Alice"
        assert user.maybe_get("age") is None
        assert user.maybe_get("active") is None
        assert user.maybe_get("_id") == "u1"
        assert user.maybe_get("_ref") == "ein:User:u1"

    def test_has(self) -> None:
        user = loaded_user(displayName="Alice", age=None)
        assert user.has("_id") and user.has("_ref")
        assert user.has("displayName")
        assert user.has("age")  # loaded as NULL is still loaded
        assert not user.has("active")
        assert not user.has("_other")

    def test_loaded_fields_default_meta_first_then_load_order(self) -> None:
        user = loaded_user(team=None, displayName="Alice", age=3.0)
        assert user.loaded_fields() == ["_id", "team", "displayName", "age"]

    def test_to_dict_id_first_nulls_included(self) -> None:
        user = loaded_user(displayName="Alice", age=None)
        as_dict = user.to_dict()
        assert as_dict == {"_id": "u1", "displayName": "Alice", "age": None}
        assert list(as_dict) == ["_id", "displayName", "age"]

    def test_attribute_access_follows_get(self) -> None:
        user = loaded_user(displayName="Alice", active=True)
        assert user.displayName == "Alice"
        assert user.active is True
        assert user._id == "u1"
        assert user._ref == "ein:User:u1"
        with pytest.raises(MaxError) as info:
            _ = user.age
        assert str(info.value) == "Field 'age' not loaded on User"

    def test_dunder_lookups_stay_attribute_errors(self) -> None:
        user = loaded_user()
        with pytest.raises(AttributeError):
            _ = user.__wrapped__
        assert getattr(user, "__missing_dunder__", "fallback") == "fallback"

    def test_own_properties(self) -> None:
        user = loaded_user(displayName="Alice")
        assert user.id == "u1"
        assert user.entity_def is User
        assert user.ref == User.ref("u1")
        assert repr(user) == "EntityResult(Ref<User>(u1), {'displayName': 'Alice'})"

    def test_subset_selection_restricts_access(self) -> None:
        full = loaded_user(displayName="Alice", age=30.0, active=True, joinedAt=JOINED, team=None)
        subset = EntityResult(full.ref, {k: full.get(k) for k in ("displayName",)})
        assert subset.get("displayName") == "Alice"
        for name in ("age", "active", "joinedAt", "team"):
            assert full.has(name)
            assert not subset.has(name)
            with pytest.raises(MaxError):
                subset.get(name)


class TestMetaFields:
    def test_catalogue(self) -> None:
        assert META_FIELD_NAMES == ("_id", "_ref")
        assert DEFAULT_META_FIELDS == ("_id",)
        assert FILTERABLE_META_FIELDS == ("_id",)

    def test_is_meta_means_underscore_prefix(self) -> None:
        assert is_meta_field("_id")
        assert is_meta_field("_anything")
        assert not is_meta_field("id")

    def test_known_meta_fields(self) -> None:
        assert is_known_meta_field("_id")
        assert is_known_meta_field("_ref")
        assert not is_known_meta_field("_anything")
        assert not is_known_meta_field("id")

    def test_resolve_from_a_ref(self) -> None:
        ref = User.ref("a:b", workspace("inst-2"))
        assert resolve_meta_field(ref, "_id") == "a:b"
        assert resolve_meta_field(ref, "_ref") == "ews:inst-2:User:a:b"
