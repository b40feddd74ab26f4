"""``max sync`` with a person at a terminal (a real pseudo-terminal, ``tests/terminal.py``):
Ctrl-C in direct and daemon mode, what ``max status`` then says, a failing sync, retries and
back-off, and numbers that count rows once and agree between ``max sync`` and ``max status``.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import attrs
import httpx
import pytest

from tests.daemon.conftest import PROJECTS, TASKS_PER_PROJECT, Acme, connect_args
from tests.daemon.conftest import _serve as serve
from tests.daemon.harness import Machine, daemon_env
from tests.terminal import Terminal

from .conftest import MAX, AcmeService, max_env, max_sync_run

#: The display's line of one entity type: name, bar, count.
PROGRESS_LINE = r"^  {name}\s+[·░▒▓█]{{5}}\s+(\d+)\s"


@attrs.frozen
class Workspace:
    home: Path
    root: Path
    acme: Acme

    @property
    def data_db(self) -> Path:
        return self.root / ".max" / "installations" / "acme-1" / "data.db"

    def env(self, daemon: bool) -> dict[str, str]:
        return daemon_env(self.home) if daemon else max_env(self.home)

    def run(self, *args: str) -> tuple[int, str, str]:
        result = max_sync_run(*args, cwd=self.root, home=self.home)
        return result.code, result.out, result.err

    def terminal(self, *args: str, daemon: bool = False) -> Terminal:
        return Terminal([MAX, *args], cwd=self.root, env=self.env(daemon))

    def rows(self) -> dict[str, int]:
        """Rows per entity type in data.db."""
        tables = {"AcmeWorkspace": "_acme_workspace", "AcmeUser": "_acme_user",
                  "AcmeProject": "_acme_project", "AcmeTask": "_acme_task",
                  "AcmeFile": "_acme_file"}  # fmt: skip
        with sqlite3.connect(f"file:{self.data_db}?mode=ro", uri=True) as db:
            return {
                e: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for e, t in tables.items()
            }

    def set_faults(self, **faults: float) -> None:
        response = httpx.put(
            f"{self.acme.url}/api/faults",
            json=faults,
            headers={"Authorization": f"Bearer {self.acme.api_key}"},
        )
        assert response.status_code < 300, response.text

    def traffic(self) -> dict[str, int]:
        response = httpx.get(
            f"{self.acme.url}/api/traffic",
            headers={"Authorization": f"Bearer {self.acme.api_key}"},
        )
        return dict(response.json())


@pytest.fixture(scope="module")
def slow_acme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Acme]:
    """Every request takes a second: a sync lists in three waves (workspaces; users and
    projects; tasks and files), so after the projects are in, a second is left for Ctrl-C."""
    yield from serve(tmp_path_factory, "slow", "--latency-ms", "1000")


@pytest.fixture
def faulty_acme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Acme]:
    """A server of this test's own: its faults are changed while it runs."""
    yield from serve(tmp_path_factory, "faulty", "--retry-after", "1", "--fault-seed", "7")


def connected(tmp_path: Path, acme: Acme | AcmeService) -> Workspace:
    home, root = tmp_path / "home", tmp_path / "p"
    assert max_sync_run("init", str(root), cwd=tmp_path, home=home).code == 0
    result = max_sync_run(*connect_args(acme, "--no-input"), cwd=root, home=home)
    assert result.code == 0, result
    return Workspace(home, root, Acme(acme.url, acme.api_key))


def last_frame_counts(screen: str) -> dict[str, int]:
    """The per-type counts of the display's last frame before the summary."""
    drawn = screen.split("Sync ")[0] if "Sync " in screen else screen
    counts: dict[str, int] = {}
    for name in ("AcmeWorkspace", "AcmeUser", "AcmeProject", "AcmeTask", "AcmeFile"):
        found = re.findall(PROGRESS_LINE.format(name=name), drawn, re.MULTILINE)
        if found:
            counts[name] = int(found[-1])
    return counts


# -- Ctrl-C ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("daemon", [False, True], ids=["direct", "daemon"])
def test_ctrl_c_in_a_terminal_interrupts_and_the_printed_command_resumes(
    tmp_path: Path, slow_acme: Acme, daemon: bool
) -> None:
    workspace = connected(tmp_path, slow_acme)
    machine = Machine(tmp_path)
    try:
        with workspace.terminal("sync", "acme-1", daemon=daemon) as terminal:
            # the projects are in: their tasks are being listed, for another second
            terminal.expect(re.compile(PROGRESS_LINE.format(name="AcmeProject"), re.MULTILINE))
            terminal.ctrl_c()
            code = terminal.finish()
            screen = terminal.text()
        assert code == 130, screen
        assert "Error" not in screen and "Traceback" not in screen, screen
        resume = "max sync acme-1 --resume sync-1"
        assert screen.rstrip().splitlines()[-1] == f"Sync interrupted. Resume with: {resume}"

        code, out, err = workspace.run("-t", "acme-1", "status")
        assert code == 0, err
        assert re.search(r"Last sync:  \S+ \(sync-1 interrupted, \d+ entities synced\)", out), out
        assert out.rstrip().endswith("Resume with: max -t acme-1 sync --resume sync-1"), out
        code, out, _ = workspace.run("status")
        assert out.rstrip().endswith(f"Resume with: {resume}"), out

        with workspace.terminal(*resume.split()[1:], daemon=daemon) as terminal:
            assert terminal.finish(timeout=120) == 0, terminal.text()
            screen = terminal.text()
    finally:
        assert not machine.stop_all()
    summary = screen[screen.index("Sync resumed completed in ") :]
    rows = workspace.rows()
    assert rows["AcmeTask"] == PROJECTS * TASKS_PER_PROJECT
    # the sync's rows, each once, over both runs: the resumed run's summary counts them all
    assert f"  Entities synced: {sum(rows.values())}\n" in summary, summary
    assert last_frame_counts(screen) == rows, screen


# -- failing syncs, retries -----------------------------------------------------------------------


def test_a_failing_sync_ends_with_the_command_to_resume_it(
    tmp_path: Path, faulty_acme: Acme
) -> None:
    workspace = connected(tmp_path, faulty_acme)
    workspace.set_faults(errorRatio=1.0)  # every request a 500, retries exhausted
    code, out, err = workspace.run("sync", "acme-1")
    assert code == 1, (out, err)
    assert "Traceback" not in err
    assert err.splitlines()[0] == "Failures:"
    assert err.rstrip().splitlines()[-1] == "Resume with: max sync acme-1 --resume sync-1"
    assert out.startswith("Sync failed in ") and "(sync-1)" in out.splitlines()[0]
    assert re.search(r"^  Retries:         ([1-9]\d*) \(\d+\.\ds back-off\)$", out, re.M), out

    code, out, _ = workspace.run("status")
    assert "(sync-1 failed, " in out and out.rstrip().endswith(
        "Resume with: max sync acme-1 --resume sync-1"
    ), out

    workspace.set_faults(errorRatio=0.0)
    code, out, err = workspace.run("sync", "acme-1", "--resume", "sync-1")
    assert code == 0, (out, err)
    assert out.startswith("Sync resumed completed in ")
    assert "Resume with" not in err + workspace.run("status")[1]


def test_retries_and_back_off_are_shown_live_in_the_summary_and_in_json(
    tmp_path: Path, faulty_acme: Acme
) -> None:
    workspace = connected(tmp_path, faulty_acme)
    workspace.set_faults(rateLimitRatio=0.3, retryAfterSeconds=1, seed=7)
    with workspace.terminal("sync", "acme-1") as terminal:
        live = terminal.expect(re.compile(r"(\d+) retr(?:y|ies), (\d+\.\d)s back-off"))
        assert terminal.finish(timeout=120) == 0, terminal.text()
        screen = terminal.text()
    assert int(live.group(1)) >= 1
    retries = int(re.search(r"^  Retries:         (\d+) \(", screen, re.M).group(1))  # type: ignore[union-attr]
    assert retries >= int(live.group(1))
    assert f"{retries} retr" in screen.split("Sync completed")[0].splitlines()[-1]

    before = workspace.traffic()["rateLimited"]
    code, out, err = workspace.run("sync", "acme-1", "--full", "-o", "json")
    assert code == 0, err
    result = json.loads(out)
    limited = workspace.traffic()["rateLimited"] - before
    # every 429 the sync met was retried after the server's Retry-After (1 s), the feed's
    # position read before the tasks included
    assert result["retries"] == limited >= 1
    assert result["backoffSeconds"] == pytest.approx(result["retries"] * 1.0)
    assert result["durationMs"] >= 1000  # a wait of a second is in the time

    before = workspace.traffic()["rateLimited"]
    code, out, err = workspace.run("sync", "acme-1", "-o", "json")  # incremental: no tasks
    assert code == 0, err
    result = json.loads(out)
    assert result["mode"] == "incremental"
    assert result["retries"] == workspace.traffic()["rateLimited"] - before


# -- numbers --------------------------------------------------------------------------------------


def test_progress_and_summary_count_each_row_once(
    tmp_path: Path, acme_service: AcmeService
) -> None:
    """A plan that lists the users and then loads their fields writes each user twice: the
    display, the summary and ``-o json`` count the rows of data.db."""
    workspace = connected(tmp_path, acme_service)
    assert workspace.run("sync", "acme-1")[0] == 0
    plan = "AcmeWorkspace(*).collection{users}\nAcmeUser(*).fields{*}"
    with workspace.terminal("sync", "acme-1", "--plan", plan) as terminal:
        assert terminal.finish() == 0, terminal.text()
        screen = terminal.text()
    users = workspace.rows()["AcmeUser"]
    drawn = [int(n) for n in re.findall(PROGRESS_LINE.format(name="AcmeUser"), screen, re.M)]
    assert drawn and max(drawn) == users and drawn[-1] == users, screen
    assert f"  Entities synced: {users}\n" in screen

    code, out, _ = workspace.run("sync", "acme-1", "--plan", plan, "-o", "json")
    assert code == 0
    assert json.loads(out)["entities"] == {"AcmeUser": users}


def test_sync_and_status_json_agree_on_the_same_sync(
    tmp_path: Path, acme_service: AcmeService
) -> None:
    workspace = connected(tmp_path, acme_service)
    code, out, err = workspace.run("sync", "acme-1", "-o", "json")
    assert code == 0, err
    synced = json.loads(out)
    code, out, err = workspace.run("-t", "acme-1", "status", "-o", "json")
    assert code == 0, err
    last = json.loads(out)["lastSync"]
    assert set(last) <= set(synced)
    assert {key: synced[key] for key in last} == last
    assert last["entitiesSynced"] == sum(workspace.rows().values())
    assert last["workUnits"]["completed"] == last["workUnits"]["total"] > 0
    assert not {"tasksCompleted", "tasksFailed", "tasksTotal"} & (set(synced) | set(last))
    with sqlite3.connect(workspace.data_db) as db:
        (tasks,) = db.execute("SELECT count(*) FROM _max_tasks").fetchone()
    assert last["workUnits"]["total"] == tasks
