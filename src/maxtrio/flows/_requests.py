"""Request bodies of the HTTP API, and the strict cattrs converter that checks them.

JSON from outside is structured into frozen attrs classes by a converter that, unlike cattrs'
defaults, never coerces: a string is not a boolean, a number is not a string, a string is not a
list. A bad body raises :class:`InvalidBody` carrying one issue per problem —
``{"path": ["steps", 0, "id"], "message": "..."}`` — which the API returns as ``details``.
Wire names are camelCase; attribute names are Python's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, NewType, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import AttributeValidationNote
from cattrs.gen import make_dict_structure_fn, override

from maxtrio.core import json_kind

from ._names import is_valid_name, name_problem

T = TypeVar("T")

NonEmptyStr = NewType("NonEmptyStr", str)
StepId = NewType("StepId", str)
FlowName = NewType("FlowName", str)
ScriptName = NewType("ScriptName", str)
StageName = NewType("StageName", str)  # any non-empty text a process environment can carry
EnvValue = NewType("EnvValue", str)  # a string without NUL (it ends up in execve's envp)
NonNegativeInt = NewType("NonNegativeInt", int)

MAX_RETRIES = 2**31 - 1

RunStatusInput = Literal["pending", "running", "completed", "failed"]
EntityTypeInput = Literal["run", "stage", "step"]
LogLevelInput = Literal["debug", "info", "warn", "error"]

Issue = dict[str, Any]


class InvalidBody(Exception):
    """A request body that does not match its schema; ``issues`` say where and why."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__(issues_text(issues))
        self.issues = issues


@attrs.frozen
class CreateRunBody:
    flow_name: FlowName
    input: Any = None
    metadata: Any = None


@attrs.frozen
class UpdateRunBody:
    status: RunStatusInput | None = None
    output: Any = None
    error: Any = None
    name: str | None = None
    description: str | None = None

    def changes(self) -> dict[str, Any]:
        """The columns to write: every given, non-null key (D12 keeps falsy JSON values)."""
        return {k: v for k, v in attrs.asdict(self, recurse=False).items() if v is not None}


@attrs.frozen
class StepBody:
    id: StepId
    name: ScriptName
    depends_on: list[str] = attrs.field(factory=list)
    max_retries: NonNegativeInt = NonNegativeInt(0)
    env: dict[str, EnvValue] | None = None


@attrs.frozen
class ScheduleStageBody:
    stage: StageName
    final: bool
    steps: list[StepBody]


@attrs.frozen
class PostFieldsBody:
    fields: dict[str, Any]


@attrs.frozen
class RetryStepBody:
    cascade_downstream: bool = True


@attrs.frozen
class AddLogBody:
    entity_type: EntityTypeInput
    level: LogLevelInput
    message: NonEmptyStr
    entity_id: str | None = None
    metadata: Any = None


def parse_body(value: Any, cls: type[T]) -> T:
    """Structure a decoded JSON body into ``cls``; raise :class:`InvalidBody`."""
    if not isinstance(value, dict):
        raise InvalidBody(
            [{"path": [], "message": f"Expected object, received {json_kind(value)}"}]
        )
    try:
        return _converter.structure(value, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        raise InvalidBody(_issues(exc, [])) from None


# -- the strict converter ------------------------------------------------------------------------


def _expect(kind: str, check: Callable[[Any], bool]) -> Callable[[Any, Any], Any]:
    def structure(value: Any, _: Any) -> Any:
        if not check(value):
            raise ValueError(f"Expected {kind}, received {json_kind(value)}")
        return value

    return structure


def _non_empty_str(value: Any, _: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"Expected string, received {json_kind(value)}")
    if not value:
        raise ValueError("String must contain at least 1 character(s)")
    return value


def _step_id(value: Any, _: Any) -> str:
    text = _non_empty_str(value, _)
    if not is_valid_name(text):
        raise ValueError(
            "Step ID must contain only alphanumeric characters, hyphens, and underscores"
        )
    return text


def _name_of(kind: str) -> Callable[[Any, Any], str]:
    """A flow or step-script name: a non-empty string that follows the name rule."""

    def structure(value: Any, _: Any) -> str:
        text = _non_empty_str(value, _)
        problem = name_problem(text, kind)
        if problem is not None:
            raise ValueError(problem)
        return text

    return structure


def _without_nul(structure: Callable[[Any, Any], str]) -> Callable[[Any, Any], str]:
    """``structure``, refusing text with a NUL: no process environment can carry one."""

    def checked(value: Any, cls: Any) -> str:
        text = structure(value, cls)
        if "\0" in text:
            raise ValueError("String must not contain a NUL character")
        return text

    return checked


def _non_negative_int(value: Any, _: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"Expected integer, received {json_kind(value)}")
    if value < 0:
        raise ValueError("Number must be greater than or equal to 0")
    if value > MAX_RETRIES:
        raise ValueError(f"Number must be less than or equal to {MAX_RETRIES}")
    return value


def _is_literal(cls: Any) -> bool:
    return get_origin(cls) is Literal


def _literal(value: Any, cls: Any) -> Any:
    options = get_args(cls)
    if value not in options or not isinstance(value, str):
        expected = " | ".join(f"'{option}'" for option in options)
        raise ValueError(f"Invalid enum value. Expected {expected}, received {value!r}")
    return value


def _origin_is(origin: type) -> Callable[[Any], bool]:
    def check(cls: Any) -> bool:
        found: Any = get_origin(cls)
        return found is origin

    return check


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=False, detailed_validation=True)
    converter.register_structure_hook(str, _expect("string", lambda v: isinstance(v, str)))
    converter.register_structure_hook(bool, _expect("boolean", lambda v: isinstance(v, bool)))
    converter.register_structure_hook(NonEmptyStr, _non_empty_str)
    converter.register_structure_hook(StepId, _step_id)
    converter.register_structure_hook(FlowName, _name_of("flow"))
    converter.register_structure_hook(ScriptName, _name_of("step"))
    converter.register_structure_hook(StageName, _without_nul(_non_empty_str))
    converter.register_structure_hook(
        EnvValue, _without_nul(_expect("string", lambda v: isinstance(v, str)))
    )
    converter.register_structure_hook(NonNegativeInt, _non_negative_int)
    converter.register_structure_hook_func(_is_literal, _literal)

    def strict_list(cls: Any) -> Callable[[Any, Any], Any]:
        items = cattrs.cols.list_structure_factory(cls, converter)

        def structure(value: Any, _: Any) -> Any:
            if not isinstance(value, list):
                raise ValueError(f"Expected array, received {json_kind(value)}")
            return items(value, cls)

        return structure

    def strict_dict(cls: Any) -> Callable[[Any, Any], Any]:
        entries = cattrs.cols.mapping_structure_factory(cls, converter)

        def structure(value: Any, _: Any) -> Any:
            if not isinstance(value, dict):
                raise ValueError(f"Expected object, received {json_kind(value)}")
            return entries(value, cls)

        return structure

    converter.register_structure_hook_factory(_origin_is(list), strict_list)
    converter.register_structure_hook_factory(_origin_is(dict), strict_dict)

    def camel_case(cls: Any) -> Callable[[Any, Any], Any]:
        overrides = {f.name: override(rename=_camel(f.name)) for f in attrs.fields(cls)}
        structure: Callable[[Any, Any], Any] = make_dict_structure_fn(
            cls,
            converter,
            **overrides,  # type: ignore[arg-type]
        )
        return structure

    converter.register_structure_hook_factory(attrs.has, camel_case)
    return converter


_converter = _make_converter()


def _issues(exc: BaseException, path: list[Any]) -> list[Issue]:
    if isinstance(exc, cattrs.ClassValidationError | cattrs.IterableValidationError):
        found: list[Issue] = []
        with_notes, without_notes = exc.group_exceptions()
        for inner, note in with_notes:
            step: Any = (
                _camel(note.name) if isinstance(note, AttributeValidationNote) else note.index
            )
            found.extend(_issues(inner, [*path, step]))
        for inner in without_notes:
            found.extend(_issues(inner, path))
        return found
    if isinstance(exc, KeyError):
        return [{"path": path, "message": "Required"}]
    return [{"path": path, "message": str(exc) or type(exc).__name__}]


def _dotted(path: list[Any]) -> str:
    return ".".join(str(part) for part in path) or "(body)"


def issues_text(issues: list[Issue]) -> str:
    """A one-line rendering of issues, for logs and CLI messages."""
    return "; ".join(f"{_dotted(i['path'])}: {i['message']}" for i in issues)
