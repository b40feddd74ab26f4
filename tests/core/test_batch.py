"""Batch: the keyed result container of batched loaders (batch.test.ts)."""

from __future__ import annotations

import attrs
import pytest

from maxtrio.core import Batch, EntityDef, ErrBatchKeyMissing, Field, MaxError, NotFound


@attrs.frozen
class User:
    id: str
    name: str
    email: str


ALICE = User("u1", "Alice", "alice@example.com")
BOB = User("u2", "Bob", "bob@example.com")
CAROL = User("u3", "Carol", "carol@example.com")
USERS = [ALICE, BOB, CAROL]


@attrs.frozen
class UserKey:
    """A keyable: anything with ``to_key()`` can be a batch key."""

    id: str

    def to_key(self) -> str:
        return f"user:{self.id}"


def users_by_id() -> Batch[User]:
    return Batch.build(USERS, lambda u: u.id)


class TestBuild:
    def test_inputs_default_to_the_keys_of_the_values(self) -> None:
        batch = users_by_id()
        assert batch.input_size == 3
        assert batch.values == USERS
        assert batch.is_fully_resolved

    def test_get_each_value_by_its_key(self) -> None:
        batch = users_by_id()
        assert batch.get("u1") is ALICE
        assert batch.get("u2") is BOB
        assert batch.get("u3") is CAROL
        assert batch.get("u99") is None

    def test_get_or_raise_names_the_missing_key(self) -> None:
        batch = users_by_id()
        assert batch.get_or_raise("u2") is BOB
        with pytest.raises(MaxError) as info:
            batch.get_or_raise("u99")
        err = info.value
        assert str(err) == "Batch value missing for key: u99"
        assert ErrBatchKeyMissing.matches(err)
        assert err.code == "core.batch_key_missing"
        assert err.has(NotFound)
        assert err.data == {"key": "u99"}

    def test_has(self) -> None:
        batch = users_by_id()
        assert batch.has("u1")
        assert not batch.has("u99")

    def test_explicit_inputs_keep_only_wanted_values(self) -> None:
        batch = Batch.build(USERS, lambda u: u.id, inputs=["u1", "u3", "u7"])
        assert batch.input_size == 3
        assert batch.values == USERS  # values are all kept as given
        assert batch.keys() == ["u1", "u3"]
        assert batch.get("u2") is None
        assert batch.unresolvable_keys == {"u7"}

    def test_duplicate_keys_last_value_wins(self) -> None:
        older = User("u1", "Old Alice", "old@example.com")
        batch = Batch.build([older, ALICE], lambda u: u.id, inputs=["u1"])
        assert batch.get("u1") is ALICE
        assert batch.entries() == [("u1", ALICE)]


class TestOtherConstructors:
    def test_by_id(self) -> None:
        batch = Batch.by_id(USERS)
        assert batch.keys() == ["u1", "u2", "u3"]
        assert batch.get("u2") is BOB

    def test_by_id_reads_mapping_values_too(self) -> None:
        rows = [{"id": "a", "n": 1}, {"id": "b", "n": 2}]
        batch = Batch.by_id(rows)
        assert batch.get("b") == {"id": "b", "n": 2}

    def test_from_record(self) -> None:
        batch = Batch.from_record({"a": 1, "b": 2, "c": 3})
        assert batch.input_size == 3
        assert (batch.get("a"), batch.get("b"), batch.get("c")) == (1, 2, 3)
        assert batch.is_fully_resolved

    def test_from_entries(self) -> None:
        batch = Batch.from_entries([("x", 10), ("y", 20)])
        assert batch.get("x") == 10
        assert batch.get("y") == 20
        assert batch.input_size == 2

    def test_from_list_by_any_property(self) -> None:
        by_id = Batch.from_list(USERS, "id")
        by_email = Batch.from_list(USERS, "email")
        assert by_id.get("u3") is CAROL
        assert by_email.get("bob@example.com") is BOB
        assert by_email.get("u2") is None

    def test_empty(self) -> None:
        batch: Batch[int] = Batch.empty()
        assert batch.input_size == 0
        assert batch.values == []
        assert batch.keys() == []
        assert batch.is_fully_resolved
        assert batch.unresolvable_keys == set()


class TestKeyables:
    def test_lookup_with_a_new_equal_keyable(self) -> None:
        batch = Batch.build(USERS, lambda u: UserKey(u.id))
        assert batch.keys() == ["user:u1", "user:u2", "user:u3"]
        assert batch.get(UserKey("u2")) is BOB
        assert batch.has(UserKey("u1"))
        assert batch.get(UserKey("u99")) is None

    def test_refs_key_by_their_ref_key(self) -> None:
        user_def = EntityDef.create("User", {"name": Field.string()})
        batch = Batch.build(USERS, lambda u: user_def.ref(u.id))
        assert batch.keys() == ["ein:User:u1", "ein:User:u2", "ein:User:u3"]
        assert batch.get(user_def.ref("u3")) is CAROL
        assert batch.get("ein:User:u3") is CAROL


class TestWithInputs:
    def test_unknown_input_is_unresolvable(self) -> None:
        batch = users_by_id().with_inputs(["u1", "u99"])
        assert not batch.is_fully_resolved
        assert "u99" in batch.unresolvable_keys
        assert batch.unresolvable_inputs == ["u99"]

    def test_subset_of_known_inputs_is_fully_resolved(self) -> None:
        batch = users_by_id().with_inputs(["u1", "u2"])
        assert batch.is_fully_resolved
        assert batch.unresolvable_keys == set()
        assert batch.get("u3") is None  # no longer reachable

    def test_single_input(self) -> None:
        batch = users_by_id().with_inputs(["u2"])
        assert batch.input_size == 1
        assert batch.get("u2") is BOB

    def test_widening_reaches_values_that_were_not_wanted_before(self) -> None:
        narrow = Batch.build(USERS, lambda u: u.id, inputs=["u1"])
        assert narrow.get("u2") is None
        wide = narrow.with_inputs(["u1", "u2"])
        assert wide.get("u2") is BOB
        assert wide.is_fully_resolved

    def test_unresolvable_inputs_keep_the_original_keyable_objects(self) -> None:
        batch = Batch.build(USERS, lambda u: UserKey(u.id))
        missing = UserKey("u42")
        scoped = batch.with_inputs([UserKey("u1"), missing])
        assert scoped.unresolvable_inputs == [missing]
        assert scoped.unresolvable_inputs[0] is missing
        assert scoped.unresolvable_keys == {"user:u42"}


class TestDerivations:
    def test_map_values_keeps_keys(self) -> None:
        names = users_by_id().map_values(lambda u: u.name.upper())
        assert names.get("u1") == "ALICE"
        assert names.get("u3") == "CAROL"
        assert names.keys() == ["u1", "u2", "u3"]
        assert names.values == ["ALICE", "BOB", "CAROL"]

    def test_map_values_keeps_unresolved_tracking(self) -> None:
        names = users_by_id().with_inputs(["u1", "u99"]).map_values(lambda u: u.name)
        assert not names.is_fully_resolved
        assert names.unresolvable_keys == {"u99"}
        assert names.get("u1") == "Alice"
        # Unreachable values stay keyed, so widening after mapping still finds them mapped.
        assert names.with_inputs(["u2"]).get("u2") == "Bob"

    def test_to_record(self) -> None:
        record = users_by_id().to_record()
        assert record == {"u1": ALICE, "u2": BOB, "u3": CAROL}

    def test_to_record_with_defaults_fills_missing_inputs(self) -> None:
        unknown = User("?", "Unknown", "")
        batch = users_by_id().with_inputs(["u1", "u99"])
        record = batch.to_record_with_defaults(lambda key: attrs.evolve(unknown, id=str(key)))
        assert record["u1"] is ALICE
        assert record["u99"] == User("u99", "Unknown", "")
        assert set(record) == {"u1", "u99"}

    def test_keys_and_entries_and_iteration(self) -> None:
        batch = Batch.from_record({"a": 1, "b": 2})
        assert batch.keys() == ["a", "b"]
        assert batch.entries() == [("a", 1), ("b", 2)]
        assert list(batch) == [("a", 1), ("b", 2)]

    def test_keys_list_only_resolved_keys(self) -> None:
        batch = users_by_id().with_inputs(["u2", "u99"])
        assert batch.keys() == ["u2"]
        assert batch.entries() == [("u2", BOB)]
