"""Schema: entities, roots and relationships (schema.test.ts)."""

from __future__ import annotations

import attrs
import pytest

from maxtrio.core import (
    BadInput,
    EntityDef,
    ErrRootNotInEntities,
    ErrUnresolvedRefTarget,
    Field,
    HasEntityField,
    MaxError,
    Relationship,
    Schema,
)

User: EntityDef  # declared ahead: the thunks below refer to them
Project: EntityDef
Workspace = EntityDef.create(
    "Workspace",
    {
        "name": Field.string(),
        "users": Field.collection(lambda: User),
        "projects": Field.collection(lambda: Project),
    },
)
User = EntityDef.create(
    "User",
    {"displayName": Field.string(), "email": Field.string(), "workspace": Field.ref(Workspace)},
)
Project = EntityDef.create(
    "Project",
    {
        "title": Field.string(),
        "owner": Field.ref(User),
        "archived": Field.boolean(),
        "workspace": Field.ref("Workspace"),
    },
)


def acme_schema() -> Schema:
    return Schema.create("acme", [Workspace, User, Project], roots=[Workspace])


def test_namespace_entities_and_roots() -> None:
    schema = acme_schema()
    assert schema.namespace == "acme"
    assert len(schema.entities) == 3
    for entity in (Workspace, User, Project):
        assert entity in schema.entities
    assert schema.roots == (Workspace,)


def test_entity_types_in_entity_order() -> None:
    assert acme_schema().entity_types == ("Workspace", "User", "Project")


def test_get_definition() -> None:
    schema = acme_schema()
    assert schema.get_definition("User") is User
    assert schema.get_definition("Project") is Project
    assert schema.get_definition("Nope") is None


def test_relationships_exact() -> None:
    rels = [r.to_dict() for r in acme_schema().relationships]
    assert rels == [
        {"from": "Workspace", "field": "users", "to": "User", "cardinality": "many"},
        {"from": "Workspace", "field": "projects", "to": "Project", "cardinality": "many"},
        {"from": "User", "field": "workspace", "to": "Workspace", "cardinality": "one"},
        {"from": "Project", "field": "owner", "to": "User", "cardinality": "one"},
        {"from": "Project", "field": "workspace", "to": "Workspace", "cardinality": "one"},
    ]


def test_relationship_values() -> None:
    first = acme_schema().relationships[0]
    assert first == Relationship("Workspace", "users", "User", "many")


def test_scalars_make_no_relationships() -> None:
    Tag = EntityDef.create("Tag", {"label": Field.string(), "weight": Field.number()})
    assert list(Schema.create("tags", [Tag]).relationships) == []


def test_entities_and_roots_are_frozen() -> None:
    schema = acme_schema()
    assert isinstance(schema.entities, tuple)
    assert isinstance(schema.roots, tuple)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        schema.entities = ()  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        schema.roots = ()  # type: ignore[misc]


def test_entities_from_any_iterable_are_copied() -> None:
    source = [Workspace, User, Project]
    schema = Schema.create("acme", iter(source), roots=(e for e in [Workspace]))
    source.clear()
    assert schema.entity_types == ("Workspace", "User", "Project")
    assert schema.roots == (Workspace,)


def test_root_outside_the_entities_is_rejected() -> None:
    Orphan = EntityDef.create("Orphan", {"name": Field.string()})
    with pytest.raises(MaxError) as info:
        Schema.create("acme", [Workspace, User, Project], roots=[Orphan])
    err = info.value
    assert str(err) == 'Root entity "Orphan" is not in the entities list'
    assert ErrRootNotInEntities.matches(err)
    assert err.code == "core.root_not_in_entities"
    assert err.has(BadInput)
    assert err.data == {"root": "Orphan"}


def test_roots_match_by_identity_not_by_name() -> None:
    look_alike = EntityDef.create("Workspace", {"name": Field.string()})
    with pytest.raises(MaxError) as info:
        Schema.create("acme", [Workspace, User, Project], roots=[look_alike])
    assert ErrRootNotInEntities.matches(info.value)


def test_no_roots() -> None:
    assert Schema.create("acme", [Workspace, User, Project]).roots == ()


class TestRefTargets:
    """A ref target may be the def, a thunk returning it, or its entity-type name."""

    def test_target_as_def_thunk_and_name(self) -> None:
        Team = EntityDef.create("Team", {"name": Field.string()})
        Member = EntityDef.create(
            "Member",
            {
                "by_def": Field.ref(Team),
                "by_thunk": Field.ref(lambda: Team),
                "by_name": Field.ref("Team"),
                "many_by_name": Field.collection("Team"),
            },
        )
        schema = Schema.create("teams", [Team, Member])
        assert [(r.field, r.to, r.cardinality) for r in schema.relationships] == [
            ("by_def", "Team", "one"),
            ("by_thunk", "Team", "one"),
            ("by_name", "Team", "one"),
            ("many_by_name", "Team", "many"),
        ]
        for name in ("by_def", "by_thunk", "by_name"):
            field = Member.fields[name]
            assert field.target(schema.get_definition) is Team
            assert field.target_name == "Team"

    def test_cycles_through_thunks(self) -> None:
        # Workspace.users points forward at User through a thunk; User points back by def.
        schema = acme_schema()
        assert Workspace.fields["users"].target() is User
        assert User.fields["workspace"].target() is Workspace
        assert schema.get_definition("Workspace") is Workspace

    def test_name_target_needs_the_schema(self) -> None:
        field = Project.fields["workspace"]
        with pytest.raises(LookupError):
            field.target()
        assert field.target(acme_schema().get_definition) is Workspace

    def test_unknown_target_name_is_rejected_at_schema_creation(self) -> None:
        Broken = EntityDef.create("Broken", {"owner": Field.ref("Ghost")})
        with pytest.raises(MaxError) as info:
            Schema.create("broken", [Broken])
        err = info.value
        assert ErrUnresolvedRefTarget.matches(err)
        assert err.has(BadInput) and err.has(HasEntityField)
        assert err.data == {"entityType": "Broken", "field": "owner", "target": "Ghost"}
        assert "Ghost" in str(err) and "owner" in str(err)

    def test_target_name_that_exists_only_outside_the_schema_is_rejected(self) -> None:
        Other = EntityDef.create("Other")
        Pointer = EntityDef.create("Pointer", {"other": Field.collection("Other")})
        assert Other.name == "Other"
        with pytest.raises(MaxError) as info:
            Schema.create("p", [Pointer])
        assert info.value.data["target"] == "Other"
