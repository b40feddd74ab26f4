"""The rules of ``max serve`` without a server: which commands and RPC methods a remote caller
may use, which arguments are refused, and the token file (made 0600, kept, checked in constant
time, never shown)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from maxtrio.core import MaxError
from maxtrio.remote import (
    ErrArgvRefused,
    ErrCommandNotAllowed,
    ErrMethodNotAllowed,
    ErrTokenFileUnusable,
    Policy,
    load_or_create_token,
)
from maxtrio.remote._policy import check_segment

FULL, READ_ONLY = Policy(), Policy(read_only=True)


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        ([], "status"),
        (["--debug"], "status"),
        (["search", "AcmeTask", "--limit", "3"], "search"),
        (["-o", "json", "ls"], "json"),  # the first word that is no option
        (["--color", "schema"], "schema"),
        (["search", "--", "-t"], "search"),  # after --, nothing is an option
    ],
)
def test_the_command_word(argv: list[str], word: str) -> None:
    if word == "json":
        with pytest.raises(MaxError) as raised:
            FULL.check_argv(argv)
        assert ErrCommandNotAllowed.matches(raised.value)
        return
    assert FULL.check_argv(argv) == word


@pytest.mark.parametrize("command", ["sync", "sql"])
def test_read_only_allows_only_the_four_read_commands(command: str) -> None:
    assert FULL.check_argv([command]) == command
    with pytest.raises(MaxError) as raised:
        READ_ONLY.check_argv([command])
    assert raised.value.message == (
        f"Command not allowed: {command}. Allowed: search, schema, status, ls"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["init"], ["install", "x"], ["connect", "acme"], ["daemon", "stop"], ["serve"],
        ["flows", "run"], ["acme", "start"], ["mcp"], ["disconnect", "acme-1"],
    ],
)  # fmt: skip
def test_commands_that_manage_the_server_machine_are_never_run(argv: list[str]) -> None:
    with pytest.raises(MaxError) as raised:
        FULL.check_argv(argv)
    assert ErrCommandNotAllowed.matches(raised.value)


@pytest.mark.parametrize(
    "argv",
    [
        ["-t", "@", "ls"],
        ["ls", "--target", "other"],
        ["ls", "--target=other"],
        ["-g", "status"],
        ["--global", "search", "x"],
        ["sync", "acme-1", "--plan", "@/etc/passwd"],
        ["sync", "acme-1", "--plan=@plan.txt"],
    ],
)
def test_target_options_and_server_side_files_are_refused(argv: list[str]) -> None:
    with pytest.raises(MaxError) as raised:
        FULL.check_argv(argv)
    assert ErrArgvRefused.matches(raised.value)


def test_a_plan_given_as_text_is_fine() -> None:
    assert FULL.check_argv(["sync", "acme-1", "--plan", "AcmeUser"]) == "sync"


@pytest.mark.parametrize("value", ["a/b", "..", ".", "x" * 201, "tab\there", 3])
def test_installation_segments(value: object) -> None:
    with pytest.raises(MaxError):
        check_segment(value)
    assert check_segment("acme-1") == "acme-1" and check_segment(None) is None


def test_rpc_methods_of_a_read_only_server() -> None:
    for target, method in (("", "describe"), ("engine", "query"), ("", "listInstallations")):
        READ_ONLY.check_method(target, method)
    for target, method in (("", "sync"), ("", "createInstallation"), ("", "stop"), ("x", "y")):
        FULL.check_method(target, method)
        with pytest.raises(MaxError) as raised:
            READ_ONLY.check_method(target, method)
        assert ErrMethodNotAllowed.matches(raised.value)


def test_a_token_is_made_0600_kept_and_checked(tmp_path: Path) -> None:
    path = tmp_path / ".max" / "serve-token"
    token = load_or_create_token(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    value = path.read_text().strip()
    assert len(value) >= 32 and value == token.reveal()
    assert value not in repr(token)
    assert load_or_create_token(path).reveal() == value  # the next start keeps it
    assert token.accepts(f"Bearer {value}") and token.accepts(f"bearer  {value} ")
    for header in (None, "", value, f"Basic {value}", f"Bearer {value}x", "Bearer "):
        assert not token.accepts(header)
    assert list(tmp_path.joinpath(".max").iterdir()) == [path]  # no temporary left


@pytest.mark.parametrize(
    ("text", "reason"), [("tiny-secret", "at least 16"), ("two words here!!", "one word")]
)
def test_unusable_token_files(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "token"
    path.write_text(text)
    with pytest.raises(MaxError) as raised:
        load_or_create_token(path)
    assert ErrTokenFileUnusable.matches(raised.value)
    assert reason in raised.value.message and text not in raised.value.message
