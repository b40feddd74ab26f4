"""Onboarding flows: the ordered steps that turn a user's answers into a connector's config.

====================  =======================================================================
step                  effect
====================  =======================================================================
``InputStep``         asks for ``fields`` (typed, optionally required, with defaults and a
                      check) into the config, and for ``credentials`` into the credential store
``ValidationStep``    runs ``validate(config, ctx)`` (e.g. "list workspaces with this token")
``SelectStep``        fetches ``options(config, ctx)`` and stores the chosen value(s) at ``field``
``CustomStep``        runs ``execute(config, ctx, prompter)`` and merges what it returns
====================  =======================================================================

Every step has a ``label`` and an optional ``when(config) -> bool``; a step whose ``when`` is
false is skipped. Secrets never enter the config: credentials go to ``ctx.credential_store``.
A flow is pure data; :func:`maxtrio.connector.run_onboarding` runs it.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import attrs

from ._credentials import CredentialStore, StringCredential
from ._errors import ErrInvalidOnboardingStep

if TYPE_CHECKING:
    from ._onboarding_runner import Prompter

Config: TypeAlias = Mapping[str, Any]
"""The values accumulated so far (the config being built)."""
Description: TypeAlias = str | Callable[[Config], str]
When: TypeAlias = Callable[[Config], bool]
FieldType: TypeAlias = Literal["string", "number", "boolean"]
FieldCheck: TypeAlias = Callable[[Any], str | None]
"""Returns why a coerced value is not acceptable, or None when it is."""

_TRUE = frozenset({"true", "1", "yes", "y", "on"})
_FALSE = frozenset({"false", "0", "no", "n", "off"})


class InputRejected(ValueError):
    """An answer that does not fit its field; the message says why (no value echoed)."""


@attrs.frozen
class OnboardingContext:
    """What validation, select and custom steps receive besides the config.

    ``cwd`` is the directory of whoever answers (the caller of ``max connect``, which may not
    be this process's): a step turning a relative path into an absolute one resolves it there.
    """

    credential_store: CredentialStore
    cwd: Path | None = None


@attrs.frozen(eq=False)
class InputField:
    """One typed answer. ``check`` runs after coercion (e.g. "must be an http(s) URL")."""

    label: str
    type: FieldType = "string"
    required: bool = False
    default: str | float | bool | None = None
    check: FieldCheck | None = None

    def coerce(self, answer: object) -> Any:
        """Turn an answer (typed text, or a JSON value) into this field's type, or reject it."""
        value = _coerce(self.type, answer)
        if self.check is not None:
            problem = self.check(value)
            if problem:
                raise InputRejected(problem)
        return value


def _coerce(kind: FieldType, answer: object) -> Any:
    if kind == "string":
        if not isinstance(answer, str):
            raise InputRejected("must be text")
        return answer.strip()
    if kind == "number":
        if isinstance(answer, bool):
            raise InputRejected("must be a number")
        if isinstance(answer, int | float):
            number: float = answer
        elif isinstance(answer, str):
            text = answer.strip()
            try:
                number = int(text) if text.lstrip("+-").isdigit() else float(text)
            except ValueError:
                raise InputRejected("must be a number") from None
        else:
            raise InputRejected("must be a number")
        if isinstance(number, float) and not math.isfinite(number):
            raise InputRejected("must be a finite number")
        return number
    if isinstance(answer, bool):
        return answer
    if isinstance(answer, str):
        text = answer.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise InputRejected("must be yes or no (true/false)")


def _freeze(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@attrs.frozen(eq=False)
class InputStep:
    label: str
    description: Description | None = None
    fields: Mapping[str, InputField] = attrs.field(factory=dict, converter=_freeze)
    credentials: Mapping[str, StringCredential] = attrs.field(factory=dict, converter=_freeze)
    when: When | None = None
    kind: Literal["input"] = "input"

    def describe(self, config: Config) -> str | None:
        if self.description is None:
            return None
        return self.description if isinstance(self.description, str) else self.description(config)


@attrs.frozen(eq=False)
class ValidationStep:
    """Raises (any error) when the accumulated config does not work; runs under ``timeout``."""

    label: str
    validate: Callable[[Config, OnboardingContext], Awaitable[None]]
    when: When | None = None
    timeout: float = 30.0
    kind: Literal["validation"] = "validation"


@attrs.frozen
class SelectOption:
    label: str
    value: Any


@attrs.frozen(eq=False)
class SelectStep:
    """One choice (a list of them when ``multiple``) among fetched options, stored at ``field``."""

    label: str
    field: str
    options: Callable[[Config, OnboardingContext], Awaitable[Sequence[SelectOption]]]
    multiple: bool = False
    when: When | None = None
    kind: Literal["select"] = "select"


@attrs.frozen(eq=False)
class CustomStep:
    """Arbitrary async work; the mapping it returns is merged into the config."""

    label: str
    execute: Callable[[Config, OnboardingContext, Prompter], Awaitable[Mapping[str, Any]]]
    when: When | None = None
    kind: Literal["custom"] = "custom"


OnboardingStep: TypeAlias = InputStep | ValidationStep | SelectStep | CustomStep


@attrs.frozen
class OnboardingFlow:
    """An immutable, ordered list of steps. ``OnboardingFlow.create(step1, step2, ...)``."""

    steps: tuple[OnboardingStep, ...] = ()

    @classmethod
    def create(cls, *steps: OnboardingStep) -> OnboardingFlow:
        for step in steps:
            _check_step(step)
        return cls(tuple(steps))

    @classmethod
    def empty(cls) -> OnboardingFlow:
        return cls(())

    def __len__(self) -> int:
        return len(self.steps)


def _check_step(step: object) -> None:
    if not isinstance(step, InputStep | ValidationStep | SelectStep | CustomStep):
        raise ErrInvalidOnboardingStep(step=repr(step), reason="not an onboarding step")
    if not step.label:
        raise ErrInvalidOnboardingStep(step=step.kind, reason="a step needs a label")
    if isinstance(step, InputStep):
        if not step.fields and not step.credentials:
            raise ErrInvalidOnboardingStep(
                step=step.label, reason="an input step needs fields or credentials"
            )
        for key, field in step.fields.items():
            if not isinstance(field, InputField):
                raise ErrInvalidOnboardingStep(step=step.label, reason=f"{key!r} is not a field")
            if field.type not in ("string", "number", "boolean"):
                raise ErrInvalidOnboardingStep(
                    step=step.label, reason=f"field {key!r} has unknown type {field.type!r}"
                )
        for key, credential in step.credentials.items():
            if not isinstance(credential, StringCredential):
                raise ErrInvalidOnboardingStep(
                    step=step.label, reason=f"credential {key!r} must be a string credential"
                )
    elif isinstance(step, SelectStep) and not step.field:
        raise ErrInvalidOnboardingStep(step=step.label, reason="a select step needs a field")
    elif isinstance(step, ValidationStep) and not step.timeout > 0:
        raise ErrInvalidOnboardingStep(step=step.label, reason="the timeout must be positive")
