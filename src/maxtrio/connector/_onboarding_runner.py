"""Running an onboarding flow: interactively through a ``Prompter``, or from given answers.

:func:`run_onboarding` walks the steps in order (with our changes,
see docs/connectors.md): ``required`` is enforced, a bad answer is asked again (up to ``attempts``
times) when a person is answering, selects accept several numbers when ``multiple``, validation
steps run under their timeout, and in non-interactive mode (answers from flags, files or an
agent) every missing answer of a step is named in one error instead of a prompt.

Answers given up front win over prompting; a given answer that does not fit fails at once. In
non-interactive mode a select step with exactly one option takes it (and says so).
Credentials go straight to the credential store and are never echoed, logged or returned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

import attrs
import trio

from maxtrio.core import MaxError

from ._credentials import CredentialStore
from ._errors import (
    ErrInputRequired,
    ErrInvalidSelection,
    ErrOnboardingInputInvalid,
    ErrOnboardingInputMissing,
    ErrOnboardingStepFailed,
    ErrOnboardingValidationFailed,
)
from ._onboarding import (
    CustomStep,
    InputField,
    InputRejected,
    InputStep,
    OnboardingContext,
    OnboardingFlow,
    SelectOption,
    SelectStep,
    ValidationStep,
)

MAX_LISTED_CHOICES = 10
_NO_CHOICE: Any = object()


class Prompter(Protocol):
    """How a runner talks to whoever answers. ``interactive`` False = never call ``ask``."""

    @property
    def interactive(self) -> bool: ...

    async def ask(self, message: str, *, secret: bool = False) -> str: ...

    async def write(self, text: str) -> None: ...


class NonInteractivePrompter:
    """For agents and tests: output goes to ``sink`` (kept in ``output`` by default); ``ask``
    fails with ``connector.input_required``."""

    interactive = False

    def __init__(self, sink: Callable[[str], None] | None = None) -> None:
        self.output: list[str] = []
        self._sink = sink if sink is not None else self.output.append

    async def ask(self, message: str, *, secret: bool = False) -> str:
        raise ErrInputRequired(prompt=message.strip().rstrip(":"))

    async def write(self, text: str) -> None:
        self._sink(text)


@attrs.frozen(repr=False)
class OnboardingAnswers:
    """Answers given up front: config values by key (fields and selects) and credentials."""

    config: Mapping[str, Any] = attrs.field(factory=dict)
    credentials: Mapping[str, str] = attrs.field(factory=dict)

    def __repr__(self) -> str:
        return f"OnboardingAnswers(config={dict(self.config)!r}, credentials=<redacted>)"


async def run_onboarding(
    flow: OnboardingFlow,
    *,
    credential_store: CredentialStore,
    prompter: Prompter | None = None,
    answers: OnboardingAnswers | None = None,
    attempts: int = 3,
    cwd: Path | None = None,
) -> dict[str, Any]:
    """Run ``flow`` and return the config it accumulated (credentials are in the store).

    ``cwd`` is the answering caller's directory (``OnboardingContext.cwd``)."""
    runner = _Runner(
        prompter or NonInteractivePrompter(),
        answers or OnboardingAnswers(),
        OnboardingContext(credential_store, cwd),
        max(1, attempts),
    )
    return await runner.run(flow)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, MaxError):
        return exc.message
    return str(exc) or type(exc).__name__


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


class _Runner:
    def __init__(
        self,
        prompter: Prompter,
        answers: OnboardingAnswers,
        ctx: OnboardingContext,
        attempts: int,
    ) -> None:
        self.prompter = prompter
        self.answers = answers
        self.ctx = ctx
        self.attempts = attempts
        self.config: dict[str, Any] = {}
        self.view = MappingProxyType(self.config)

    async def run(self, flow: OnboardingFlow) -> dict[str, Any]:
        for step in flow.steps:
            if step.when is not None and not step.when(self.view):
                continue
            if isinstance(step, InputStep):
                await self._input(step)
            elif isinstance(step, ValidationStep):
                await self._validation(step)
            elif isinstance(step, SelectStep):
                await self._select(step)
            else:
                await self._custom(step)
        return dict(self.config)

    # -- input -----------------------------------------------------------------------------------

    async def _input(self, step: InputStep) -> None:
        text = step.describe(self.view)
        if text:
            await self.prompter.write(f"\n{text}\n")
        values: dict[str, Any] = {}
        missing: list[str] = []
        for key, field in step.fields.items():
            if key in self.answers.config:
                values[key] = self._given(key, field, self.answers.config[key])
            elif self.prompter.interactive:
                values[key] = await self._ask_field(key, field)
            elif field.default is not None:
                values[key] = self._given(key, field, field.default)
            elif field.required:
                missing.append(f"{key} ({field.label})")
            else:
                values[key] = None
        secrets: dict[str, str] = {}
        for credential in step.credentials.values():
            name = credential.name
            given = self.answers.credentials.get(name)
            if given is not None:
                if not isinstance(given, str) or not given.strip():
                    raise ErrOnboardingInputInvalid(
                        label="credential", key=name, reason="must not be empty"
                    )
                secrets[name] = given.strip()
            elif self.prompter.interactive:
                secrets[name] = await self._ask_secret(name)
            else:
                missing.append(f"credential {name}")
        if missing:
            raise ErrOnboardingInputMissing(step=step.label, missing=", ".join(missing))
        self.config.update(values)
        for name, secret in secrets.items():
            await self.ctx.credential_store.set(name, secret)

    def _given(self, key: str, field: InputField, answer: object) -> Any:
        if isinstance(answer, str) and not answer.strip() and field.type != "string":
            answer = field.default if field.default is not None else answer
        try:
            value = field.coerce(answer)
        except InputRejected as rejected:
            raise ErrOnboardingInputInvalid(
                label=field.label, key=key, reason=str(rejected)
            ) from None
        if field.required and value == "":
            raise ErrOnboardingInputInvalid(
                label=field.label, key=key, reason="a value is required"
            )
        return value

    async def _ask_field(self, key: str, field: InputField) -> Any:
        if field.default is not None:
            prompt = f"{field.label} ({_show(field.default)}): "
        else:
            prompt = f"{field.label}: "
        problem = ""
        for _ in range(self.attempts):
            answer = (await self.prompter.ask(prompt)).strip()
            if not answer:
                if field.default is not None:
                    return self._given(key, field, field.default)
                if not field.required:
                    return None
                problem = "a value is required"
            else:
                try:
                    return field.coerce(answer)
                except InputRejected as rejected:
                    problem = str(rejected)
            await self.prompter.write(f"{field.label}: {problem}\n")
        raise ErrOnboardingInputInvalid(label=field.label, key=key, reason=problem)

    async def _ask_secret(self, name: str) -> str:
        for _ in range(self.attempts):
            answer = (await self.prompter.ask(f"{name}: ", secret=True)).strip()
            if answer:
                return answer
            await self.prompter.write(f"{name}: a value is required\n")
        raise ErrOnboardingInputInvalid(label="credential", key=name, reason="must not be empty")

    # -- validation ------------------------------------------------------------------------------

    async def _validation(self, step: ValidationStep) -> None:
        await self.prompter.write(f"{step.label}...")
        try:
            with trio.fail_after(step.timeout):
                await step.validate(self.view, self.ctx)
        except trio.TooSlowError:
            await self.prompter.write(" failed\n")
            raise ErrOnboardingValidationFailed(
                step=step.label, reason=f"timed out after {step.timeout:g} s"
            ) from None
        except Exception as exc:
            await self.prompter.write(" failed\n")
            raise ErrOnboardingValidationFailed(
                step=step.label, reason=_reason(exc), cause=exc
            ) from exc
        await self.prompter.write(" done\n")

    # -- select ----------------------------------------------------------------------------------

    async def _select(self, step: SelectStep) -> None:
        try:
            options = list(await step.options(self.view, self.ctx))
        except Exception as exc:
            raise ErrOnboardingStepFailed(step=step.label, reason=_reason(exc), cause=exc) from exc
        if not options:
            raise ErrOnboardingStepFailed(step=step.label, reason="there is nothing to choose from")
        if step.field in self.answers.config:
            value = _pick_by_value(step, options, self.answers.config[step.field])
        elif len(options) == 1 and not self.prompter.interactive:
            only = options[0]
            await self.prompter.write(f"\n{step.label}: {only.label}\n")
            value = [only.value] if step.multiple else only.value
        elif self.prompter.interactive:
            value = await self._ask_choice(step, options)
        else:
            raise ErrOnboardingInputMissing(
                step=step.label, missing=f"{step.field} (one of: {_choices(options)})"
            )
        self.config[step.field] = value

    async def _ask_choice(self, step: SelectStep, options: Sequence[SelectOption]) -> Any:
        lines = "".join(f"  {i}. {o.label}\n" for i, o in enumerate(options, start=1))
        await self.prompter.write(f"\n{step.label}:\n{lines}")
        answer = ""
        for _ in range(self.attempts):
            answer = (await self.prompter.ask("> ")).strip()
            picked = _pick_by_number(step, options, answer)
            if picked is not _NO_CHOICE:
                return picked
            await self.prompter.write(f"Invalid selection: {answer}\n")
        raise ErrInvalidSelection(step=step.label, answer=repr(answer), choices=_choices(options))

    # -- custom ----------------------------------------------------------------------------------

    async def _custom(self, step: CustomStep) -> None:
        try:
            additions = await step.execute(self.view, self.ctx, self.prompter)
        except MaxError:
            raise
        except Exception as exc:
            raise ErrOnboardingStepFailed(step=step.label, reason=_reason(exc), cause=exc) from exc
        if not isinstance(additions, Mapping):
            raise ErrOnboardingStepFailed(step=step.label, reason="it returned no mapping")
        self.config.update(additions)


def _choices(options: Sequence[SelectOption]) -> str:
    shown = [f"{o.value} ({o.label})" for o in options[:MAX_LISTED_CHOICES]]
    if len(options) > MAX_LISTED_CHOICES:
        shown.append(f"… {len(options) - MAX_LISTED_CHOICES} more")
    return ", ".join(shown)


def _matching(options: Sequence[SelectOption], answer: object) -> SelectOption | None:
    for option in options:
        if option.value == answer or str(option.value) == str(answer).strip():
            return option
    return None


def _pick_by_value(step: SelectStep, options: Sequence[SelectOption], answer: object) -> Any:
    if step.multiple:
        wanted = answer.split(",") if isinstance(answer, str) else answer
        if not isinstance(wanted, list | tuple) or not wanted:
            raise ErrInvalidSelection(
                step=step.label, answer=repr(answer), choices=_choices(options)
            )
        picked = [_matching(options, w) for w in wanted]
        if any(p is None for p in picked):
            raise ErrInvalidSelection(
                step=step.label, answer=repr(answer), choices=_choices(options)
            )
        return [p.value for p in picked if p is not None]
    option = _matching(options, answer)
    if option is None:
        raise ErrInvalidSelection(step=step.label, answer=repr(answer), choices=_choices(options))
    return option.value


def _pick_by_number(step: SelectStep, options: Sequence[SelectOption], answer: str) -> Any:
    parts = [p.strip() for p in answer.split(",")] if step.multiple else [answer]
    chosen: list[Any] = []
    for part in parts:
        if not (part.isascii() and part.isdigit()) or not 1 <= int(part) <= len(options):
            return _NO_CHOICE
        chosen.append(options[int(part) - 1].value)
    if not chosen:
        return _NO_CHOICE
    return chosen if step.multiple else chosen[0]
