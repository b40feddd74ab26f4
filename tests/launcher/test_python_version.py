"""``requires-python``: ``max`` (``max.pyz``: ``test_pyz.py``) on an interpreter older than 3.11
says so in one line and a hint, exits 1, no traceback — on every older Python this machine has,
and with ``sys.version_info`` made to read 3.10.12 in a real subprocess of this one. Also
``python -m maxtrio`` is ``max``."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.daemon.harness import MAX, PYTHON, Machine

ROOT = Path(__file__).resolve().parents[2]
#: What a subprocess of this interpreter runs first to pass for Python 3.10.12.
AS_3_10 = "import sys; sys.version_info = (3, 10, 12, 'final', 0); "
TOO_OLD = re.compile(r"Error: max needs Python 3\.11 or newer \(this is (\d+\.\d+\.\d+)\)\n")


def older_pythons() -> list[str]:
    """The interpreters 3.7–3.10 this machine has (pyenv's), each as ``bin/python``."""
    found = sorted(Path("/root/.pyenv/versions").glob("3.[7-9].*/bin/python"))
    found += sorted(Path("/root/.pyenv/versions").glob("3.10.*/bin/python"))
    return [str(path) for path in found]


def refusal(command: list[str], *, cwd: Path, env: dict[str, str]) -> tuple[str, str]:
    """Run ``command``; check it refused in two lines with exit 1; the version it named, hint."""
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout) == (1, ""), done
    first, _, second = done.stderr.partition("\n")
    match = TOO_OLD.fullmatch(first + "\n")
    assert match is not None, done.stderr
    assert second.startswith("Hint: ") and second.count("\n") == 1, done.stderr
    assert "python3.11" in second and "Traceback" not in done.stderr
    return match.group(1), second


def test_max_on_an_older_python_names_the_version_it_needs(machine: Machine) -> None:
    env = machine.env(PYTHONPATH=str(ROOT / "src"))
    # The installed console script itself, in a subprocess that passes for 3.10.12.
    run_max = (
        f"import runpy; sys.argv = [{MAX!r}, 'ls']; runpy.run_path({MAX!r}, run_name='__main__')"
    )
    version, hint = refusal([PYTHON, "-c", AS_3_10 + run_max], cwd=machine.base, env=env)
    assert version == "3.10.12"
    assert "-m venv" in hint
    # The same launcher imported by each real older interpreter (nothing else installed there).
    for python in older_pythons():
        run_launcher = "import sys; from max_launcher import main; sys.exit(main(['ls']))"
        version, _ = refusal([python, "-c", run_launcher], cwd=machine.base, env=env)
        assert python.split("/")[-3] == version
    assert not machine.home.exists()  # nothing ran: no MAX_HOME made


def test_python_m_maxtrio_is_max(machine: Machine) -> None:
    for args in (["--version"], ["ls"], ["-g", "ls", "-o", "json"], ["no-such-command"]):
        as_max = machine.direct(*args, cwd=machine.base)
        as_module = machine.run(
            *args, cwd=machine.base, command=(PYTHON, "-m", "maxtrio"), MAX_NO_DAEMON="1"
        )
        assert as_module == as_max
    assert machine.direct("--version", cwd=machine.base).out == "max, version 0.1.0\n"
