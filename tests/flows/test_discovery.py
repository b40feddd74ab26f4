"""Flows on disk: layout, titles and the launch-time safety checks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from maxtrio.core import MaxError
from maxtrio.flows import ErrLaunchCheck, flow_script, read_flow_title, step_script


def write_script(path: Path, body: str = "#!/bin/sh\nexit 0\n", mode: int = 0o755) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    path.chmod(mode)
    return path


def launch_error(call: object) -> str:
    with pytest.raises(MaxError) as caught:
        call()  # type: ignore[operator]
    assert ErrLaunchCheck.matches(caught.value)
    return caught.value.message


def test_flow_and_step_scripts_resolve_with_their_working_directories(tmp_path: Path) -> None:
    flow = write_script(tmp_path / "demo" / "flow.sh")
    step = write_script(tmp_path / "demo" / "steps" / "fetch" / "step.sh")
    assert flow_script(tmp_path, "demo").path == str(flow)
    assert flow_script(tmp_path, "demo").cwd == str(tmp_path / "demo")
    assert step_script(tmp_path, "demo", "fetch").path == str(step)
    assert step_script(tmp_path, "demo", "fetch").cwd == str(step.parent)


@pytest.mark.parametrize(
    "name", ["..", "../etc", "a/b", "a b", "a.b", "a\\b", "/abs", "name;rm", "ünï"]
)
def test_hostile_flow_names_are_refused(tmp_path: Path, name: str) -> None:
    message = launch_error(lambda: flow_script(tmp_path, name))
    assert message == (
        f'Invalid flow name: "{name}". Only alphanumeric, underscore, and hyphen allowed.'
    )


def test_empty_names_are_refused(tmp_path: Path) -> None:
    assert launch_error(lambda: flow_script(tmp_path, "")) == (
        "flow name must be a non-empty string"
    )
    write_script(tmp_path / "demo" / "flow.sh")
    assert launch_error(lambda: step_script(tmp_path, "demo", "")) == (
        "step name must be a non-empty string"
    )


def test_hostile_step_names_are_refused(tmp_path: Path) -> None:
    message = launch_error(lambda: step_script(tmp_path, "demo", "../../x"))
    assert message.startswith('Invalid step name: "../../x"')


def test_missing_and_non_executable_scripts(tmp_path: Path) -> None:
    missing = tmp_path / "ghost" / "flow.sh"
    assert launch_error(lambda: flow_script(tmp_path, "ghost")) == (
        f"Script does not exist: {missing}"
    )
    plain = write_script(tmp_path / "plain" / "flow.sh", mode=0o644)
    assert launch_error(lambda: flow_script(tmp_path, "plain")) == (
        f"Script exists but is not executable: {plain}. Run: chmod +x {plain}"
    )


def test_a_directory_named_like_the_script_does_not_exist(tmp_path: Path) -> None:
    (tmp_path / "odd" / "flow.sh").mkdir(parents=True)
    assert launch_error(lambda: flow_script(tmp_path, "odd")).startswith("Script does not exist")


def test_symlink_leading_out_of_the_root_is_a_traversal(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = write_script(tmp_path / "elsewhere" / "steps" / "evil" / "step.sh")
    write_script(tmp_path / "elsewhere" / "flow.sh")
    write_script(root / "demo" / "flow.sh")
    (root / "demo" / "steps").mkdir()
    os.symlink(outside.parent, root / "demo" / "steps" / "evil")
    os.symlink(tmp_path / "elsewhere", root / "linked")
    assert launch_error(lambda: step_script(root, "demo", "evil")) == (
        "Path traversal attempt detected"
    )
    assert launch_error(lambda: flow_script(root, "linked")) == "Path traversal attempt detected"


def test_symlink_inside_the_root_is_fine(tmp_path: Path) -> None:
    write_script(tmp_path / "real" / "flow.sh")
    os.symlink(tmp_path / "real", tmp_path / "alias")
    assert flow_script(tmp_path, "alias").path == str(tmp_path / "alias" / "flow.sh")


def test_title_comes_from_flow_yaml(tmp_path: Path) -> None:
    write_script(tmp_path / "demo" / "flow.sh")
    (tmp_path / "demo" / "flow.yaml").write_text("title: Nightly build\nother: 1\n")
    assert read_flow_title(tmp_path, "demo") == "Nightly build"


@pytest.mark.parametrize(
    "content", ["{{ not yaml", "- a list\n", "other: 1\n", "", "title:\n  nested: 1\n"]
)
def test_unusable_flow_yaml_gives_no_title(tmp_path: Path, content: str) -> None:
    write_script(tmp_path / "demo" / "flow.sh")
    (tmp_path / "demo" / "flow.yaml").write_text(content)
    assert read_flow_title(tmp_path, "demo") is None


def test_title_needs_an_executable_flow(tmp_path: Path) -> None:
    write_script(tmp_path / "demo" / "flow.sh", mode=0o644)
    (tmp_path / "demo" / "flow.yaml").write_text("title: Hidden\n")
    assert read_flow_title(tmp_path, "demo") is None
    assert read_flow_title(tmp_path, "../demo") is None
    assert read_flow_title(tmp_path, "missing") is None
