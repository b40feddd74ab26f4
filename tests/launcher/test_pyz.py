"""``max.pyz`` end to end: built once per session with ``launcher/build_pyz.py`` (shiv), run by
interpreters that have nothing installed, through its own workspace daemon and directly."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon.conftest import PROJECTS, TASKS_PER_PROJECT, Acme, connect_args
from tests.daemon.harness import PYTHON, Machine
from tests.launcher.test_python_version import AS_3_10, older_pythons, refusal

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = "/usr/bin/python3"


def bare_pythons() -> list[str]:
    """Interpreters ≥ 3.11 on this machine without maxtrio: the system one, pyenv's others."""
    found = []
    others = sorted(Path("/root/.pyenv/versions").glob("3.1[2-9]*/bin/python"))
    candidates = [SYSTEM_PYTHON, *others]
    for candidate in map(str, candidates):
        if not os.path.exists(candidate):
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info >= (3, 11)); import maxtrio"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.stdout.strip() == "True" and "ModuleNotFoundError" in probe.stderr:
            found.append(candidate)
    return found


@pytest.fixture(scope="session")
def pyz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    output = tmp_path_factory.mktemp("pyz") / "max.pyz"
    done = subprocess.run(
        [sys.executable, str(ROOT / "launcher" / "build_pyz.py"), "-o", str(output)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with zipfile.ZipFile(output) as archive:  # a sound zip: every entry where it says
        assert archive.testzip() is None
        assert archive.read("__main__.py") == (ROOT / "launcher" / "pyz_main.py").read_bytes()
    yield output


def test_the_pyz_runs_init_connect_sync_search_with_nothing_installed(
    pyz: Path, machine: Machine, acme: Acme
) -> None:
    python = bare_pythons()[0]
    shiv_root = machine.base / "shiv"
    run_pyz = [python, str(pyz)]
    env = {"SHIV_ROOT": str(shiv_root)}
    root = machine.base / "proj"
    init = machine.run("init", str(root), cwd=machine.base, command=run_pyz, **env)
    assert init.code == 0, init
    assert f"Initialized Max project in {root}" in init.out
    extracted = [p.name for p in shiv_root.iterdir() if p.is_dir()]
    assert len(extracted) == 1 and extracted[0].startswith("max.pyz_")
    connect = machine.run(*connect_args(acme), cwd=root, command=run_pyz, **env)
    assert connect.code == 0, connect
    assert connect.out.startswith("Connected acme as installation acme-1")
    sync = machine.run("sync", "acme-1", cwd=root, command=run_pyz, timeout=120, **env)
    assert sync.code == 0 and sync.out.startswith("Sync completed in "), sync
    search = machine.run(
        "search", "acme-1", "AcmeTask", "--limit", "10", cwd=root, command=run_pyz, **env
    )
    assert search.code == 0, search
    installed = machine.direct("search", "acme-1", "AcmeTask", "--limit", "10", cwd=root)
    assert search.out == installed.out  # the same answer as the installed max
    every = machine.run(
        "search", "acme-1", "AcmeTask", "--all", "-o", "ndjson", cwd=root, command=run_pyz, **env
    )
    assert len(every.out.splitlines()) == PROJECTS * TASKS_PER_PROJECT
    # the daemon the pyz started is the pyz itself, not an installed maxtrio
    pid = machine.wait_running(root)
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert cmdline[:3] == [python.encode(), str(pyz).encode(), b"__maxtrio_daemon__"]


def test_every_bare_python_runs_the_pyz_directly_and_through_its_daemon(
    pyz: Path, machine: Machine
) -> None:
    pythons = bare_pythons()
    assert SYSTEM_PYTHON in pythons
    root = machine.workspace("proj")
    expected = machine.direct("ls", cwd=root).out
    for python in pythons:
        env = {"SHIV_ROOT": str(machine.base / f"shiv-{Path(python).parent.parent.name}")}
        version = subprocess.run(
            [python, "-c", "import sys; print(sys.version.split()[0])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        direct = machine.run("--direct", "ls", cwd=root, command=[python, str(pyz)], **env)
        assert (direct.code, direct.out) == (0, expected), (version, direct)
        served = machine.run("ls", cwd=root, command=[python, str(pyz)], **env)
        assert (served.code, served.out, served.err) == (0, expected, ""), (version, served)
        assert machine.run("daemon", "stop", cwd=root).out.startswith("Daemon stopped"), version
        assert re.fullmatch(r"3\.1\d\.\d+", version)


def test_max_pyz_on_an_older_python_names_the_version_it_needs(pyz: Path, machine: Machine) -> None:
    env = machine.env(SHIV_ROOT=str(machine.base / "shiv"))
    run_pyz = f"import runpy; sys.argv = [{str(pyz)!r}, 'ls']; runpy.run_path(sys.argv[0])"
    version, hint = refusal([PYTHON, "-c", AS_3_10 + run_pyz], cwd=machine.base, env=env)
    assert version == "3.10.12"
    assert hint == "Hint: run it with python3.11 or newer: python3.11 max.pyz ...\n"
    for python in older_pythons():
        version, _ = refusal([python, str(pyz), "--version"], cwd=machine.base, env=env)
        assert python.split("/")[-3] == version
    # Refused before shiv's bootstrap: nothing was extracted.
    assert not (machine.base / "shiv").exists()
