"""The resume command the launcher prints when a daemon dies during a sync: the exact words
that continue it from where the user is (workspace, installation directory, or a target)."""

from __future__ import annotations

from pathlib import Path

import pytest

from max_launcher._died import resume_command
from max_launcher._route import route

STARTED = {"installation": "acme-1", "url": "max://@/proj/acme-1", "sync": "sync-3"}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    project = tmp_path / "proj"
    (project / ".max" / "installations" / "acme-1").mkdir(parents=True)
    (project / "max.json").write_text("{}")
    return project.resolve()


@pytest.mark.parametrize(
    ("where", "argv", "environ", "expected"),
    [
        (".", ["sync", "acme-1"], {}, "max sync acme-1 --resume sync-3"),
        (".max/installations/acme-1", ["sync"], {}, "max sync --resume sync-3"),
        (".", ["-t", "acme-1", "sync"], {}, "max -t max://@/proj/acme-1 sync --resume sync-3"),
        (
            ".",
            ["sync", "acme-1"],
            {"MAX_TARGET": "proj"},
            "max -t max://@/proj/acme-1 sync --resume sync-3",
        ),
        (".", ["sync", "--all"], {}, "max sync acme-1 --resume sync-3"),
    ],
)
def test_the_resume_command_fits_where_the_user_is(
    root: Path, where: str, argv: list[str], environ: dict[str, str], expected: str
) -> None:
    cwd = str(root / where)
    plan = route(argv, cwd, {}, str(root.parent / "home"))
    assert plan.root == str(root) and not plan.read_only
    assert resume_command(STARTED, plan, cwd, environ) == expected


def test_odd_installation_names_are_quoted_for_the_shell(root: Path) -> None:
    plan = route(["sync", "my notes"], str(root), {}, str(root.parent / "home"))
    started = {**STARTED, "installation": "my notes"}
    assert resume_command(started, plan, str(root), {}) == "max sync 'my notes' --resume sync-3"
    assert resume_command({"sync": 3}, plan, str(root), {}) is None  # malformed: no hint
