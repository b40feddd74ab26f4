"""Onboarding flows and their runner: given answers, prompting, validation, selects, custom."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
import trio

from maxtrio.connector import (
    Config,
    Credential,
    CustomStep,
    ErrInputRequired,
    ErrInvalidOnboardingStep,
    ErrInvalidSelection,
    ErrOnboardingInputInvalid,
    ErrOnboardingInputMissing,
    ErrOnboardingStepFailed,
    ErrOnboardingValidationFailed,
    InMemoryCredentialStore,
    InputField,
    InputStep,
    NonInteractivePrompter,
    OnboardingAnswers,
    OnboardingContext,
    OnboardingFlow,
    Prompter,
    SelectOption,
    SelectStep,
    ValidationStep,
    run_onboarding,
)
from maxtrio.core import MaxError


class ScriptedPrompter:
    """A person at a terminal, reduced to a list of replies; records what was shown."""

    interactive = True

    def __init__(self, replies: Sequence[str]) -> None:
        self.replies = list(replies)
        self.transcript: list[str] = []
        self.secret_prompts: list[str] = []

    async def ask(self, message: str, *, secret: bool = False) -> str:
        reply = self.replies.pop(0)
        if secret:
            self.secret_prompts.append(message)
            self.transcript.append(message + "\n")
        else:
            self.transcript.append(message + reply + "\n")
        return reply

    async def write(self, text: str) -> None:
        self.transcript.append(text)

    @property
    def text(self) -> str:
        return "".join(self.transcript)


def url_problem(value: Any) -> str | None:
    return None if str(value).startswith("http") else "must be an http(s) URL"


async def regions(config: Config, ctx: OnboardingContext) -> list[SelectOption]:
    return [SelectOption("Europe", "eu"), SelectOption("United States", "us")]


async def token_is_secret(config: Config, ctx: OnboardingContext) -> None:
    if await ctx.credential_store.get("api_token") != "good":
        raise RuntimeError("the token was rejected (403)")


FLOW = OnboardingFlow.create(
    InputStep(
        label="Service",
        description="Where is your service?",
        fields={
            "baseUrl": InputField("Service URL", required=True, check=url_problem),
            "pageSize": InputField("Page size", "number", default=100),
            "verbose": InputField("Verbose", "boolean", default=False),
        },
    ),
    InputStep(
        label="Credentials",
        description=lambda c: f"Create a token at {c['baseUrl']}/tokens",
        credentials={"token": Credential.string("api_token")},
    ),
    ValidationStep(label="Verify credentials", validate=token_is_secret),
    SelectStep(label="Choose region", field="region", options=regions),
)


async def test_non_interactive_run_builds_the_config_and_stores_secrets_apart() -> None:
    store = InMemoryCredentialStore()
    prompter = NonInteractivePrompter()
    config = await run_onboarding(
        FLOW,
        credential_store=store,
        prompter=prompter,
        answers=OnboardingAnswers(
            {"baseUrl": "http://svc", "region": "us", "pageSize": "250"}, {"api_token": " good "}
        ),
    )
    assert config == {"baseUrl": "http://svc", "pageSize": 250, "verbose": False, "region": "us"}
    assert await store.get("api_token") == "good"
    assert "good" not in "".join(prompter.output)
    assert "".join(prompter.output) == (
        "\nWhere is your service?\n\nCreate a token at http://svc/tokens\n"
        "Verify credentials... done\n"
    )


async def test_every_missing_answer_of_a_step_is_named_at_once() -> None:
    flow = OnboardingFlow.create(
        InputStep(
            label="Service",
            fields={"baseUrl": InputField("Service URL", required=True)},
            credentials={"token": Credential.string("api_token")},
        )
    )
    with pytest.raises(MaxError) as caught:
        await run_onboarding(flow, credential_store=InMemoryCredentialStore())
    assert ErrOnboardingInputMissing.matches(caught.value)
    assert caught.value.message == (
        "Service needs input that was not given: baseUrl (Service URL), credential api_token"
    )


async def test_missing_select_answer_lists_the_choices() -> None:
    with pytest.raises(MaxError) as caught:
        await run_onboarding(
            FLOW,
            credential_store=InMemoryCredentialStore(),
            answers=OnboardingAnswers({"baseUrl": "http://svc"}, {"api_token": "good"}),
        )
    assert ErrOnboardingInputMissing.matches(caught.value)
    assert "region (one of: eu (Europe), us (United States))" in caught.value.message


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"baseUrl": "ftp://svc"}, "Service URL (baseUrl): must be an http(s) URL"),
        ({"baseUrl": "http://svc", "pageSize": "lots"}, "Page size (pageSize): must be a number"),
        ({"baseUrl": "http://svc", "pageSize": "inf"}, "Page size (pageSize): must be a finite"),
        ({"baseUrl": "http://svc", "pageSize": True}, "Page size (pageSize): must be a number"),
        ({"baseUrl": "http://svc", "verbose": "maybe"}, "Verbose (verbose): must be yes or no"),
        ({"baseUrl": "  "}, "Service URL (baseUrl): must be an http(s) URL"),
        ({"baseUrl": 7}, "Service URL (baseUrl): must be text"),
    ],
)
async def test_a_given_answer_that_does_not_fit_fails_with_the_field(
    answers: dict[str, Any], message: str
) -> None:
    with pytest.raises(MaxError) as caught:
        await run_onboarding(
            FLOW, credential_store=InMemoryCredentialStore(), answers=OnboardingAnswers(answers)
        )
    assert ErrOnboardingInputInvalid.matches(caught.value)
    assert caught.value.message.startswith(message)


async def test_required_text_cannot_be_blank() -> None:
    flow = OnboardingFlow.create(
        InputStep(label="Name", fields={"name": InputField("Name", required=True)})
    )
    with pytest.raises(MaxError) as caught:
        await run_onboarding(
            flow,
            credential_store=InMemoryCredentialStore(),
            answers=OnboardingAnswers({"name": " "}),
        )
    assert caught.value.message == "Name (name): a value is required"


async def test_booleans_and_numbers_accept_json_values_and_words() -> None:
    flow = OnboardingFlow.create(
        InputStep(
            label="Options",
            fields={
                "a": InputField("A", "boolean"),
                "b": InputField("B", "boolean"),
                "n": InputField("N", "number"),
                "x": InputField("X", "number"),
                "unset": InputField("Unset"),
            },
        )
    )
    config = await run_onboarding(
        flow,
        credential_store=InMemoryCredentialStore(),
        answers=OnboardingAnswers({"a": "yes", "b": False, "n": 2.5, "x": "-3"}),
    )
    assert config == {"a": True, "b": False, "n": 2.5, "x": -3, "unset": None}


async def test_failed_validation_aborts_with_step_and_reason() -> None:
    store = InMemoryCredentialStore()
    prompter = NonInteractivePrompter()
    with pytest.raises(MaxError) as caught:
        await run_onboarding(
            FLOW,
            credential_store=store,
            prompter=prompter,
            answers=OnboardingAnswers(
                {"baseUrl": "http://svc", "region": "eu"}, {"api_token": "bad"}
            ),
        )
    assert ErrOnboardingValidationFailed.matches(caught.value)
    assert caught.value.message == "Verify credentials — the token was rejected (403)"
    assert caught.value.cause is not None
    assert "".join(prompter.output).endswith("Verify credentials... failed\n")


async def test_validation_runs_under_its_timeout(autojump_clock: trio.abc.Clock) -> None:
    async def hangs(config: Config, ctx: OnboardingContext) -> None:
        await trio.sleep_forever()

    flow = OnboardingFlow.create(ValidationStep(label="Ping", validate=hangs, timeout=5))
    start = trio.current_time()
    with pytest.raises(MaxError) as caught:
        await run_onboarding(flow, credential_store=InMemoryCredentialStore())
    assert caught.value.message == "Ping — timed out after 5 s"
    assert trio.current_time() - start == pytest.approx(5)


async def test_steps_whose_when_is_false_are_skipped() -> None:
    flow = OnboardingFlow.create(
        InputStep(label="Mode", fields={"mode": InputField("Mode", default="simple")}),
        InputStep(
            label="Advanced",
            fields={"depth": InputField("Depth", "number", required=True)},
            when=lambda c: c["mode"] == "advanced",
        ),
    )
    config = await run_onboarding(flow, credential_store=InMemoryCredentialStore())
    assert config == {"mode": "simple"}


async def test_select_by_value_multiple_and_invalid() -> None:
    multi = OnboardingFlow.create(
        SelectStep(label="Regions", field="regions", options=regions, multiple=True)
    )
    store = InMemoryCredentialStore()
    config = await run_onboarding(
        multi, credential_store=store, answers=OnboardingAnswers({"regions": "eu,us"})
    )
    assert config == {"regions": ["eu", "us"]}
    with pytest.raises(MaxError) as caught:
        await run_onboarding(
            multi, credential_store=store, answers=OnboardingAnswers({"regions": ["eu", "mars"]})
        )
    assert ErrInvalidSelection.matches(caught.value)
    assert "choose one of: eu (Europe), us (United States)" in caught.value.message


async def test_select_without_options_and_failing_options() -> None:
    async def nothing(config: Config, ctx: OnboardingContext) -> list[SelectOption]:
        return []

    async def broken(config: Config, ctx: OnboardingContext) -> list[SelectOption]:
        raise ConnectionError("connection refused")

    for options, reason in ((nothing, "nothing to choose from"), (broken, "connection refused")):
        flow = OnboardingFlow.create(SelectStep(label="Pick", field="x", options=options))
        with pytest.raises(MaxError) as caught:
            await run_onboarding(flow, credential_store=InMemoryCredentialStore())
        assert ErrOnboardingStepFailed.matches(caught.value)
        assert caught.value.message.startswith("Pick — ")
        assert reason in caught.value.message


# -- interactive -------------------------------------------------------------------------------


async def test_interactive_run_prompts_like_the_reference() -> None:
    prompter = ScriptedPrompter(["http://svc", "", "", "good", "2"])
    store = InMemoryCredentialStore()
    config = await run_onboarding(FLOW, credential_store=store, prompter=prompter)
    assert config == {"baseUrl": "http://svc", "pageSize": 100, "verbose": False, "region": "us"}
    assert prompter.secret_prompts == ["api_token: "]
    assert prompter.text == (
        "\nWhere is your service?\n"
        "Service URL: http://svc\n"
        "Page size (100): \n"
        "Verbose (no): \n"
        "\nCreate a token at http://svc/tokens\n"
        "api_token: \n"
        "Verify credentials... done\n"
        "\nChoose region:\n  1. Europe\n  2. United States\n"
        "> 2\n"
    )
    assert "good" not in prompter.text


async def test_interactive_bad_answers_are_asked_again() -> None:
    prompter = ScriptedPrompter(
        ["", "ftp://x", "http://svc", "many", "7", "no", "", "good", "9", "1"]
    )
    config = await run_onboarding(
        FLOW, credential_store=InMemoryCredentialStore(), prompter=prompter
    )
    assert config == {"baseUrl": "http://svc", "pageSize": 7, "verbose": False, "region": "eu"}
    assert "Service URL: a value is required\n" in prompter.text
    assert "Service URL: must be an http(s) URL\n" in prompter.text
    assert "Page size: must be a number\n" in prompter.text
    assert "api_token: a value is required\n" in prompter.text
    assert "Invalid selection: 9\n" in prompter.text


async def test_interactive_gives_up_after_the_attempts() -> None:
    prompter = ScriptedPrompter(["x", "y", "z"])
    flow = OnboardingFlow.create(SelectStep(label="Choose region", field="r", options=regions))
    with pytest.raises(MaxError) as caught:
        await run_onboarding(flow, credential_store=InMemoryCredentialStore(), prompter=prompter)
    assert ErrInvalidSelection.matches(caught.value)
    assert prompter.replies == []


async def test_interactive_multiple_select_takes_comma_separated_numbers() -> None:
    flow = OnboardingFlow.create(
        SelectStep(label="Regions", field="regions", options=regions, multiple=True)
    )
    prompter = ScriptedPrompter(["2, 1"])
    config = await run_onboarding(
        flow, credential_store=InMemoryCredentialStore(), prompter=prompter
    )
    assert config == {"regions": ["us", "eu"]}


async def test_given_answers_win_over_prompting() -> None:
    prompter = ScriptedPrompter(["100", "no", "1"])
    config = await run_onboarding(
        FLOW,
        credential_store=InMemoryCredentialStore(),
        prompter=prompter,
        answers=OnboardingAnswers({"baseUrl": "http://svc"}, {"api_token": "good"}),
    )
    assert config["baseUrl"] == "http://svc"
    assert "Service URL" not in prompter.text


# -- custom steps ------------------------------------------------------------------------------


async def test_custom_step_merges_its_result_and_may_use_the_prompter_and_store() -> None:
    async def execute(
        config: Config, ctx: OnboardingContext, prompter: Prompter
    ) -> Mapping[str, Any]:
        token = await prompter.ask("paste the token: ", secret=True)
        await ctx.credential_store.set("api_token", token)
        await prompter.write("stored\n")
        return {"owner": "octocat"}

    flow = OnboardingFlow.create(CustomStep(label="Sign in", execute=execute))
    store = InMemoryCredentialStore()
    config = await run_onboarding(
        flow, credential_store=store, prompter=ScriptedPrompter(["t0ken"])
    )
    assert config == {"owner": "octocat"}
    assert await store.get("api_token") == "t0ken"

    with pytest.raises(MaxError) as caught:
        await run_onboarding(flow, credential_store=store)
    assert ErrInputRequired.matches(caught.value)
    assert caught.value.message == (
        "Input required but not available (non-interactive): paste the token"
    )


async def test_custom_step_errors_are_wrapped_and_must_return_a_mapping() -> None:
    async def explodes(
        config: Config, ctx: OnboardingContext, prompter: Prompter
    ) -> Mapping[str, Any]:
        raise ValueError("gh is not installed")

    async def returns_a_list(
        config: Config, ctx: OnboardingContext, prompter: Prompter
    ) -> Mapping[str, Any]:
        return ["nope"]  # type: ignore[return-value]

    for execute, text in (
        (explodes, "Sign in — gh is not installed"),
        (returns_a_list, "Sign in — it returned no mapping"),
    ):
        flow = OnboardingFlow.create(CustomStep(label="Sign in", execute=execute))
        with pytest.raises(MaxError) as caught:
            await run_onboarding(flow, credential_store=InMemoryCredentialStore())
        assert ErrOnboardingStepFailed.matches(caught.value)
        assert caught.value.message == text


# -- flow construction ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "reason"),
    [
        (InputStep(label="Empty"), "needs fields or credentials"),
        (InputStep(label="", fields={"a": InputField("A")}), "needs a label"),
        (InputStep(label="T", fields={"a": InputField("A", "date")}), "unknown type 'date'"),  # type: ignore[arg-type]
        (InputStep(label="C", credentials={"t": "api_token"}), "must be a string credential"),
        (SelectStep(label="S", field="", options=regions), "needs a field"),
        (
            ValidationStep(label="V", validate=token_is_secret, timeout=0),
            "timeout must be positive",
        ),
        ("not a step", "not an onboarding step"),
    ],
)
def test_malformed_steps_are_refused_when_the_flow_is_built(step: Any, reason: str) -> None:
    with pytest.raises(MaxError) as caught:
        OnboardingFlow.create(step)
    assert ErrInvalidOnboardingStep.matches(caught.value)
    assert reason in caught.value.message


def test_flows_are_immutable_sequences() -> None:
    assert len(OnboardingFlow.empty()) == 0
    assert len(FLOW) == 4
    first = FLOW.steps[0]
    assert isinstance(first, InputStep)
    with pytest.raises(TypeError):
        first.fields["x"] = InputField("X")  # type: ignore[index]
