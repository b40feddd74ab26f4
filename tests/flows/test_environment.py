"""The environment given to flow and step scripts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from maxtrio.core import MaxError
from maxtrio.flows import ErrLaunchCheck, flow_environment, step_environment

BASE = {
    "PATH": "/usr/bin",
    "MAXQ_COMPLETED_STAGE": "stale",
    "MAXQ_FAILED_STAGE": "stale",
    "MAXQ_STAGE": "stale",
    "MAXQ_STEP_ID": "stale",
    "MAXQ_STEP_NAME": "stale",
    "MAXQ_API_KEY": "secret",
}


def test_initial_flow_call_gets_run_flow_and_api_but_no_stage_variables() -> None:
    env = flow_environment(BASE, run_id="r1", flow_name="demo", api_url="http://x/api/v1")
    assert env["MAXQ_RUN_ID"] == "r1"
    assert env["MAXQ_FLOW_NAME"] == "demo"
    assert env["MAXQ_API"] == "http://x/api/v1"
    assert env["PATH"] == "/usr/bin"
    assert "MAXQ_API_KEY" not in env  # the server's secret never reaches a script
    assert "MAXQ_API_TOKEN" not in env  # no key given: no token either
    for name in ("MAXQ_COMPLETED_STAGE", "MAXQ_FAILED_STAGE", "MAXQ_STAGE", "MAXQ_STEP_ID"):
        assert name not in env


def test_completion_and_failure_callbacks_set_exactly_their_variable() -> None:
    done = flow_environment(BASE, run_id="r", flow_name="f", api_url="u", completed_stage="one")
    assert done["MAXQ_COMPLETED_STAGE"] == "one"
    assert "MAXQ_FAILED_STAGE" not in done
    failed = flow_environment(BASE, run_id="r", flow_name="f", api_url="u", failed_stage="two")
    assert failed["MAXQ_FAILED_STAGE"] == "two"
    assert "MAXQ_COMPLETED_STAGE" not in failed


def test_step_environment_has_the_six_variables_and_user_env_last() -> None:
    env = step_environment(
        BASE,
        run_id="r1",
        flow_name="demo",
        stage_name="build",
        step_id="compile-1",
        step_name="compile",
        api_url="http://x/api/v1",
        user_env={"TARGET": "arm64", "MAXQ_STAGE": "overridden"},
    )
    assert env["MAXQ_RUN_ID"] == "r1"
    assert env["MAXQ_FLOW_NAME"] == "demo"
    assert env["MAXQ_STEP_ID"] == "compile-1"
    assert env["MAXQ_STEP_NAME"] == "compile"
    assert env["MAXQ_API"] == "http://x/api/v1"
    assert env["TARGET"] == "arm64"
    assert env["MAXQ_STAGE"] == "overridden"  # reference quirk kept: user keys win
    assert "MAXQ_COMPLETED_STAGE" not in env
    for stale in ("MAXQ_STEP_SEQUENCE", "MAXQ_SEQUENCE", "MAXQ_STAGE_NAME"):
        assert stale not in env


def a_step(base: Mapping[str, str] | None = None, **extra: Any) -> dict[str, str]:
    """``step_environment`` of step ``i`` (script ``n``) of run ``r``, flow ``f``, stage ``s``."""
    return step_environment(
        base or {},
        run_id="r",
        flow_name="f",
        stage_name="s",
        step_id="i",
        step_name="n",
        api_url="u",
        **extra,
    )


def test_user_env_values_become_strings() -> None:
    env = a_step(user_env={"N": 3, "B": True, "Z": None})
    assert (env["N"], env["B"], env["Z"]) == ("3", "true", "")


@pytest.mark.parametrize("name", ["1ABC", "A-B", "A B", "", "A=B", "ä", "OK\n"])
def test_invalid_user_variable_names_fail_the_launch_check(name: str) -> None:
    with pytest.raises(MaxError) as caught:
        a_step(user_env={name: "x"})
    assert ErrLaunchCheck.matches(caught.value)
    shown = name.replace("\n", "\\n")  # a trailing newline does not slip through; escaped
    assert caught.value.message == (
        f'Invalid environment variable name: "{shown}". Only alphanumeric and underscore '
        "allowed, must start with letter or underscore."
    )


def test_the_api_key_is_never_passed_on_but_the_run_token_is() -> None:
    base = {**BASE, "MAXQ_API_TOKEN": "inherited"}
    flow = flow_environment(base, run_id="r", flow_name="f", api_url="u", api_token="tok-r")
    for env in (flow, a_step(base, api_token="tok-r")):
        assert "MAXQ_API_KEY" not in env
        assert env["MAXQ_API_TOKEN"] == "tok-r"
    plain = flow_environment(base, run_id="r", flow_name="f", api_url="u")
    assert "MAXQ_API_TOKEN" not in plain  # never inherited from the server's environment


def test_base_environment_is_not_modified() -> None:
    base = dict(BASE)
    flow_environment(base, run_id="r", flow_name="f", api_url="u", completed_stage="x")
    assert base == BASE
