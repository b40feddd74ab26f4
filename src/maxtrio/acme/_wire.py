"""JSON ↔ the Acme input classes: camelCase keys, strict types, errors that name the field.

A copy of the core cattrs converter with three additions: strict ``str``/``int``/``bool``/
``float`` hooks (JSON ``1`` is not a string, ``"false"`` is not a boolean), camelCase keys for
every ``attrs`` class of :mod:`._model`, and patch attributes typed ``X | Unset`` structured as
``X`` (a key that is present was supplied). Failures become one
:data:`~._errors.ErrInvalidInput` whose message names each bad field by its wire name:
``"projectId is required; status must be one of todo, in_progress, …"``.
"""

from __future__ import annotations

import json
import re
import types
import typing
from typing import Any, Final, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from maxtrio.core import converter as core_converter

from . import _model as m
from ._errors import ErrInvalidInput

T = TypeVar("T")

_CAMEL_BOUNDARY = re.compile(r"_([a-z0-9])")
_SNAKE_BOUNDARY = re.compile(r"(?<=[a-z0-9])([A-Z])")


def camel(name: str) -> str:
    """``created_by_id`` → ``createdById``."""
    return _CAMEL_BOUNDARY.sub(lambda mt: mt.group(1).upper(), name)


def snake(name: str) -> str:
    """``createdById`` → ``created_by_id``."""
    return _SNAKE_BOUNDARY.sub(lambda mt: "_" + mt.group(1).lower(), name)


def _strict(kind: type) -> Any:
    def hook(value: Any, _type: Any) -> Any:
        if type(value) is kind or (kind is float and type(value) is int):
            return value
        raise TypeError(f"expected {kind.__name__}")

    return hook


def _strict_sequence(value: Any, tp: Any) -> Any:
    if not isinstance(value, list):
        raise TypeError("expected an array")
    return tuple(acme_converter.structure(v, get_args(tp)[0]) for v in value)


def _is_str_tuple(tp: Any) -> bool:
    return get_origin(tp) is tuple and get_args(tp)[1:] == (...,)


def _is_unset_union(tp: Any) -> bool:
    return get_origin(tp) in (typing.Union, types.UnionType) and m.Unset in get_args(tp)


def _without_unset(tp: Any) -> Any:
    rest = tuple(a for a in get_args(tp) if a is not m.Unset)
    return rest[0] if len(rest) == 1 else typing.Union[rest]  # noqa: UP007 (runtime form)


_INPUT_CLASSES: Final[tuple[type, ...]] = (
    m.WorkspaceInput,
    m.UserInput,
    m.ProjectInput,
    m.TaskInput,
    m.FileInput,
    m.WorkspacePatch,
    m.UserPatch,
    m.ProjectPatch,
    m.TaskPatch,
    m.FilePatch,
    m.SeedOptions,
    m.SeedResult,
    m.GenerationOptions,
    m.WebhookInput,
    m.FaultInjection,
    m.ServerStatistics,
    m.ChangelogCompaction,
)


def _build_converter() -> cattrs.Converter:
    conv = core_converter.copy()
    for kind in (str, int, bool, float):
        conv.register_structure_hook(kind, _strict(kind))
    conv.register_structure_hook_func(_is_str_tuple, _strict_sequence)
    conv.register_structure_hook_func(
        _is_unset_union, lambda value, tp: conv.structure(value, _without_unset(tp))
    )
    for cls in _INPUT_CLASSES:
        renames: dict[str, Any] = {
            a.name: override(rename=camel(a.name)) for a in attrs.fields(cls)
        }
        conv.register_structure_hook(cls, make_dict_structure_fn(cls, conv, **renames))
        conv.register_unstructure_hook(cls, make_dict_unstructure_fn(cls, conv, **renames))
    for cls in (m.WorkspacePatch, m.UserPatch, m.ProjectPatch, m.TaskPatch, m.FilePatch):
        conv.register_unstructure_hook(cls, _unstructure_patch)
    return conv


def _unstructure_patch(patch: m.EntityPatch) -> dict[str, Any]:
    return {camel(k): to_json_value(v) for k, v in m.supplied(patch).items()}


def to_json_value(value: Any) -> Any:
    """A Python value as it appears on the wire (tuples become lists)."""
    return list(value) if isinstance(value, tuple) else value


acme_converter: Final = _build_converter()


def from_json(body: Any, cls: type[T], *, what: str = "body") -> T:
    """Structure a decoded JSON value into ``cls``; raise ErrInvalidInput naming bad fields."""
    if not isinstance(body, dict):
        raise ErrInvalidInput(reason=f"{what} must be a JSON object")
    try:
        return acme_converter.structure(body, cls)
    except cattrs.BaseValidationError as exc:
        reasons = cattrs.transform_error(exc, path="", format_exception=_describe)
        raise ErrInvalidInput(reason="; ".join(_wire_path(r) for r in reasons)) from None
    except (TypeError, ValueError) as exc:
        raise ErrInvalidInput(reason=str(exc)) from None


def parse_json_body(raw: bytes, cls: type[T], *, empty_ok: bool = False) -> T:
    """Decode and structure a request body; an empty body means ``{}`` when ``empty_ok``."""
    if not raw.strip():
        if empty_ok:
            return from_json({}, cls)
        raise ErrInvalidInput(reason="body must be a JSON object")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ErrInvalidInput(reason="body is not valid JSON") from None
    return from_json(body, cls)


def to_json(value: Any) -> Any:
    """An input-side ``attrs`` value as JSON-ready data with camelCase keys."""
    return acme_converter.unstructure(value)


def _describe(exc: BaseException, tp: Any) -> str:
    if _is_unset_union(tp):
        tp = _without_unset(tp)
    if isinstance(exc, KeyError):
        return "is required"
    if get_origin(tp) is typing.Literal:
        return "must be one of " + ", ".join(str(a) for a in get_args(tp))
    if isinstance(exc, ValueError) and not isinstance(exc, cattrs.BaseValidationError):
        return "!" + str(exc)  # an attrs validator's message already names the field
    union = get_origin(tp) in (typing.Union, types.UnionType)
    return "must be " + " or ".join(_type_name(a) for a in (get_args(tp) if union else (tp,)))


def _type_name(tp: Any) -> str:
    names = {str: "a string", int: "an integer", bool: "a boolean", float: "a number"}
    if tp is type(None):
        return "null"
    if tp in names:
        return names[tp]
    if get_origin(tp) in (list, tuple):
        return "an array of strings" if get_args(tp)[:1] == (str,) else "an array"
    if get_origin(tp) is dict:
        return "an object"
    return str(getattr(tp, "__name__", tp))


def _wire_path(reason: str) -> str:
    """``"is required @ .project_id"`` → ``"projectId is required"``."""
    text, _, path = reason.rpartition(" @ ")
    if text.startswith("!"):
        message = text[1:]
        head, _, tail = message.partition(" ")
        return f"{camel(head)} {tail}" if tail else message
    wire = re.sub(r"[A-Za-z_][A-Za-z0-9_]*", lambda mt: camel(mt.group(0)), path).lstrip(".")
    return f"{wire or 'body'} {text}"
