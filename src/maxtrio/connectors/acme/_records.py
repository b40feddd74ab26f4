"""Reading Acme JSON records into complete entity inputs, checking every value on the way.

This is the boundary where upstream data is validated: a record that is not an object, lacks a
key, or has a value of the wrong JSON type fails with ``connector-acme.bad_response`` naming the
request, the item and the field — before anything is written, so a bad answer fails its task and
never reaches ``data.db``.

One table per record type (:class:`RecordSpec`) says which wire key fills which entity field:
every key the Acme API returns, so an input carries **every** stored field of its type. JSON
``null`` becomes ``None`` (the merge upsert clears the column), ``""`` stays ``""``. ``…Id`` keys
become refs (``assigneeId`` → ``assignee``), timestamps and ``dueDate`` pass through as the
strings Acme sends (the storage layer turns date text into its canonical form), ``tags`` becomes
the JSON array's text (:func:`tags_text`). :meth:`RecordSpec.create` refuses a table that misses
a stored field of its entity or names one it does not have.

Speed: a list page of 1,000 tasks is the sync's hot path. Each table is compiled once, at import,
into a page reader with the columns unrolled — one pass, a ``dict.get`` and a ``type() is``
check per value, refs shared within a page (a page names few users and one project), a plain
dict per row. The generated code is kept in ``RecordSpec.source``. The detailed reason is worked
out by :func:`problem_of`, a plain loop over the same table, only once a row is known to be bad.
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from maxtrio.core import EntityColumns, EntityDef, EntityInput, Ref, json_kind

from ._client import AcmeResponse
from ._entities import AcmeFile, AcmeProject, AcmeTask, AcmeUser, AcmeWorkspace
from ._errors import bad_response


class Kind(enum.Enum):
    """How a wire value is checked and what field value it becomes."""

    STRING = "string"  # a JSON string, as is
    BOOLEAN = "boolean"  # true/false, as is
    NUMBER = "number"  # a JSON number (int or float), as is
    DATE = "date"  # ISO-8601 text, passed through as is
    REF = "ref"  # a non-empty id → a Ref to the column's target
    TAGS = "tags"  # an array of strings → its compact JSON text


_EXPECTED = {
    Kind.STRING: "a string",
    Kind.BOOLEAN: "a boolean",
    Kind.NUMBER: "a number",
    Kind.DATE: "a string",
    Kind.REF: "a string",
    Kind.TAGS: "an array",
}


@attrs.frozen
class Column:
    """One wire key read into one entity field."""

    key: str
    field: str
    kind: Kind
    nullable: bool = False
    target: EntityDef | None = None
    """The entity a ref points at."""


def string(key: str, *, nullable: bool = False) -> Column:
    return Column(key, key, Kind.STRING, nullable)


def boolean(key: str) -> Column:
    return Column(key, key, Kind.BOOLEAN)


def number(key: str) -> Column:
    return Column(key, key, Kind.NUMBER)


def date(key: str, *, nullable: bool = False) -> Column:
    return Column(key, key, Kind.DATE, nullable)


def ref(key: str, target: EntityDef, *, nullable: bool = False) -> Column:
    """``fooId`` read into the ref field ``foo``."""
    assert key.endswith("Id"), key
    return Column(key, key[:-2], Kind.REF, nullable, target)


def tags(key: str) -> Column:
    return Column(key, key, Kind.TAGS)


PageReader = Callable[[Sequence[Any]], list[EntityInput]]
ColumnReader = Callable[[Sequence[Any]], tuple[list[str], dict[str, list[Any]]]]


class BadRow(Exception):
    """Raised by a compiled reader at the first bad row; the caller explains it."""

    def __init__(self, row: object) -> None:
        super().__init__()
        self.row = row


@attrs.frozen(eq=False, slots=False)
class RecordSpec:
    """The columns of one Acme record type and its page readers, compiled on first use (a
    command that never reads a page — ``max ls`` asking for health — never compiles them)."""

    noun: str
    entity: EntityDef
    columns: tuple[Column, ...]

    @classmethod
    def create(cls, noun: str, entity: EntityDef, columns: Sequence[Column]) -> RecordSpec:
        stored = [name for name, field in entity.fields.items() if field.is_stored]
        read = [c.field for c in columns]
        if sorted(read) != sorted(stored) or len(set(read)) != len(read):
            raise ValueError(
                f"the {noun} columns {read} must fill exactly {entity.name}'s {stored}"
            )
        return cls(noun, entity, tuple(columns))

    @functools.cached_property
    def _compiled(self) -> tuple[str, PageReader]:
        return _compile(self.noun, self.entity, self.columns)

    @property
    def source(self) -> str:
        """The generated page reader's Python source."""
        return self._compiled[0]

    @property
    def _read(self) -> PageReader:
        return self._compiled[1]

    @functools.cached_property
    def _read_columns(self) -> ColumnReader:
        return _compile_columns(self.noun, self.columns)

    @property
    def fields(self) -> tuple[str, ...]:
        """The entity fields the record fills (every stored field of the entity)."""
        return tuple(c.field for c in self.columns)

    def read_page(self, response: AcmeResponse) -> list[EntityInput]:
        """Complete inputs of every record of a list answer (``data`` is a JSON array)."""
        items: Sequence[Any] = response.data
        try:
            return self._read(items)
        except BadRow as bad:
            raise bad_response(response.request, _item_problem(items, bad.row, self)) from None

    def read_columns(self, response: AcmeResponse) -> EntityColumns:
        """Every record of a list answer as one column batch (refs as ids): the same checks
        as :meth:`read_page`, without an object per row (the sync's hot path)."""
        items: Sequence[Any] = response.data
        try:
            ids, columns = self._read_columns(items)
        except BadRow as bad:
            raise bad_response(response.request, _item_problem(items, bad.row, self)) from None
        return EntityColumns(self.entity, ids, columns)

    def read_one(self, response: AcmeResponse, expected_id: str) -> EntityInput:
        """The complete input of a get answer for ``expected_id`` (``data`` is an object)."""
        record = response.data
        try:
            (read,) = self._read((record,))
        except BadRow:
            problem = problem_of(record, self) or "unreadable record"
            raise bad_response(response.request, problem) from None
        if read.ref.id != expected_id:
            raise bad_response(
                response.request, f"asked for {self.noun} {expected_id!r}, got {read.ref.id!r}"
            )
        return read


# -- values -----------------------------------------------------------------------------------


def tags_text(tags: list[Any]) -> str | None:
    """A list of strings as compact JSON text (``["bug","ux"]``, ``[]``); None when an element
    is not a string. Plain tags are joined directly; anything needing an escape goes through
    ``json.dumps`` (same text, non-ASCII kept as is)."""
    if not tags:
        return "[]"
    try:
        text = '","'.join(tags)
    except TypeError:
        return None
    if "\\" in text or text.count('"') != 2 * len(tags) - 2 or not text.isprintable():
        return json.dumps(tags, ensure_ascii=False, separators=(",", ":"))
    return '["' + text + '"]'


def _shared_ref(refs: dict[str, Ref], target: EntityDef, entity_id: str) -> Ref:
    """A new Ref, remembered in ``refs`` (a page's refs to one type; Refs are immutable)."""
    made = Ref(target, entity_id)
    refs[entity_id] = made
    return made


# -- the compiled reader ----------------------------------------------------------------------


def _check(kind: Kind, var: str, nullable: bool) -> str:
    """A Python condition that is true when ``var`` is NOT an acceptable value."""
    if kind is Kind.NUMBER:
        bad = f"(type({var}) is not int and type({var}) is not float)"
    elif kind is Kind.BOOLEAN:
        bad = f"type({var}) is not bool"
    elif kind is Kind.TAGS:
        bad = f"type({var}) is not list"
    elif kind is Kind.REF:
        bad = f"type({var}) is not str or not {var}"
    else:
        bad = f"type({var}) is not str"
    return f"({var} is not None and ({bad}))" if nullable else bad


def _row_loop(columns: tuple[Column, ...]) -> list[str]:
    """The head of a reader's loop over a page: every row an object, every value read into
    ``v<i>`` and checked (the first bad row raises :class:`BadRow`)."""
    lines = [
        "    for row in items:",
        "        if type(row) is not dict:",
        "            raise BadRow(row)",
        "        get = row.get",
        '        id_ = get("id")',
    ]
    lines += [f"        v{i} = get({c.key!r})" for i, c in enumerate(columns)]
    checks = ["type(id_) is not str or not id_"]
    checks += [_check(c.kind, f"v{i}", c.nullable) for i, c in enumerate(columns)]
    lines.append("        if (")
    lines += [f"            {check} or" for check in checks[:-1]]
    lines += [f"            {checks[-1]}", "        ):", "            raise BadRow(row)"]
    return lines


def _compile(noun: str, entity: EntityDef, columns: tuple[Column, ...]) -> tuple[str, PageReader]:
    """The page reader of a table, as Python source and as a function (see the docstring)."""
    namespace: dict[str, Any] = {
        "EntityInput": EntityInput,
        "Ref": Ref,
        "BadRow": BadRow,
        "tags_text": tags_text,
        "shared_ref": _shared_ref,
        "entity": entity,
    }
    targets = {c.target.name: c.target for c in columns if c.target is not None}
    namespace.update({f"target_{name}": target for name, target in targets.items()})
    lines = ["def read(items):", "    out = []", "    append = out.append"]
    lines += [f"    refs_{name} = {{}}" for name in targets]
    lines += _row_loop(columns)
    values: list[str] = []
    for i, c in enumerate(columns):
        var = f"v{i}"
        if c.kind is Kind.REF:
            assert c.target is not None
            refs, target = f"refs_{c.target.name}", f"target_{c.target.name}"
            made = f"({refs}.get({var}) or shared_ref({refs}, {target}, {var}))"
            value = f"None if {var} is None else {made}" if c.nullable else made
            lines.append(f"        {var} = {value}")
        elif c.kind is Kind.TAGS:
            lines += [
                f"        {var} = tags_text({var})",
                f"        if {var} is None:",
                "            raise BadRow(row)",
            ]
        values.append(f"{c.field!r}: {var}")
    lines.append(f"        append(EntityInput(Ref(entity, id_), {{{', '.join(values)}}}))")
    lines.append("    return out")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<acme {noun} reader>", "exec"), namespace)
    reader: PageReader = namespace["read"]
    return source, reader


def _compile_columns(noun: str, columns: tuple[Column, ...]) -> ColumnReader:
    """The column reader of a table: the checks of :func:`_compile`, values into lists."""
    namespace: dict[str, Any] = {"BadRow": BadRow, "tags_text": tags_text}
    lines = ["def read(items):", "    ids = []", "    add_id = ids.append"]
    lines += [f"    c{i} = []" for i in range(len(columns))]
    lines += [f"    add{i} = c{i}.append" for i in range(len(columns))]
    lines += _row_loop(columns)
    lines.append("        add_id(id_)")
    for i, c in enumerate(columns):
        if c.kind is Kind.TAGS:
            lines += [
                f"        v{i} = tags_text(v{i})",
                f"        if v{i} is None:",
                "            raise BadRow(row)",
            ]
        lines.append(f"        add{i}(v{i})")
    fields = ", ".join(f"{c.field!r}: c{i}" for i, c in enumerate(columns))
    lines.append(f"    return ids, {{{fields}}}")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<acme {noun} column reader>", "exec"), namespace)
    reader: ColumnReader = namespace["read"]
    return reader


# -- explaining a bad row ---------------------------------------------------------------------


def problem_of(record: object, spec: RecordSpec) -> str | None:
    """The first problem of ``record`` against ``spec``, or None when it is fine."""
    if type(record) is not dict:
        return f"the {spec.noun} is {json_kind(record)}, not an object"
    id_problem = _value_problem(record, "id", Kind.REF, nullable=False)
    if id_problem is not None:
        return id_problem
    for column in spec.columns:
        problem = _value_problem(record, column.key, column.kind, column.nullable)
        if problem is not None:
            return problem
    return None


def _value_problem(record: dict[str, Any], key: str, kind: Kind, nullable: bool) -> str | None:
    value = record.get(key)
    if value is None:
        if nullable:
            return None
        return f"'{key}' is missing" if key not in record else f"'{key}' is null"
    ok = {
        Kind.STRING: type(value) is str,
        Kind.DATE: type(value) is str,
        Kind.REF: type(value) is str,
        Kind.BOOLEAN: type(value) is bool,
        Kind.NUMBER: type(value) in (int, float),
        Kind.TAGS: type(value) is list,
    }[kind]
    if not ok:
        return f"'{key}' must be {_EXPECTED[kind]}, got {json_kind(value)}"
    if kind is Kind.REF and not value:
        return f"'{key}' is empty"
    if kind is Kind.TAGS:
        for index, element in enumerate(value):
            if type(element) is not str:
                return f"'{key}' item {index} must be a string, got {json_kind(element)}"
    return None


def _item_problem(items: Sequence[Any], row: object, spec: RecordSpec) -> str:
    index = next(i for i, item in enumerate(items) if item is row)
    problem = problem_of(row, spec) or "unreadable record"
    entity_id = row.get("id") if type(row) is dict else None
    where = f"item {index}" + (f" ({entity_id})" if type(entity_id) is str and entity_id else "")
    return f"{where}: {problem}"


# -- the five record types --------------------------------------------------------------------

_TIMES = (date("createdAt"), date("updatedAt"))

WORKSPACE = RecordSpec.create("workspace", AcmeWorkspace, (string("name"), *_TIMES))
USER = RecordSpec.create(
    "user",
    AcmeUser,
    (
        string("displayName"),
        string("email"),
        string("role"),
        boolean("active"),
        ref("workspaceId", AcmeWorkspace),
        *_TIMES,
    ),
)
PROJECT = RecordSpec.create(
    "project",
    AcmeProject,
    (
        string("name"),
        string("description", nullable=True),
        string("status"),
        ref("ownerId", AcmeUser, nullable=True),
        ref("workspaceId", AcmeWorkspace),
        *_TIMES,
    ),
)
TASK = RecordSpec.create(
    "task",
    AcmeTask,
    (
        string("title"),
        string("description", nullable=True),
        string("status"),
        string("priority"),
        ref("assigneeId", AcmeUser, nullable=True),
        ref("projectId", AcmeProject),
        ref("createdById", AcmeUser),
        ref("lastModifiedById", AcmeUser),
        date("dueDate", nullable=True),
        date("completedAt", nullable=True),
        *_TIMES,
        tags("tags"),
    ),
)
FILE = RecordSpec.create(
    "file",
    AcmeFile,
    (
        string("name"),
        string("mimeType"),
        number("sizeBytes"),
        ref("projectId", AcmeProject),
        ref("createdById", AcmeUser),
        ref("lastModifiedById", AcmeUser),
        *_TIMES,
    ),
)

RECORD_SPECS = (WORKSPACE, USER, PROJECT, TASK, FILE)


def task_inputs(response: AcmeResponse) -> list[EntityInput]:
    """Complete task inputs of one list page (the sync's hot path)."""
    return TASK.read_page(response)


def workspace_choices(response: AcmeResponse) -> list[tuple[str, str]]:
    """``(name, id)`` of each listed workspace (onboarding's select step)."""
    return [(i.fields["name"], i.ref.id) for i in WORKSPACE.read_page(response)]
