"""Script processes: capture with truncation, process groups, terminate."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import trio

from maxtrio.flows import OutputCapture, ProcessTable, Script, run_script


def script(tmp_path: Path, body: str) -> Script:
    path = tmp_path / "step.sh"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return Script(path=str(path), cwd=str(tmp_path))


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purpose.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[-1].split()[0] != "Z"


async def gone(pid: int) -> bool:
    """True once ``pid`` has died; a killed process may take a moment to finish exiting."""
    with trio.move_on_after(2):
        while pid_alive(pid):
            await trio.sleep(0.01)
    return not pid_alive(pid)


def test_capture_keeps_everything_below_the_limit() -> None:
    capture = OutputCapture(10)
    capture.feed(b"hello")
    assert capture.text() == "hello"


def test_capture_truncates_characters_and_says_so() -> None:
    capture = OutputCapture(4)
    capture.feed(b"abcdefgh")
    capture.feed(b"more" * 1000)
    assert capture.text() == "abcd\n... (output truncated at 4 bytes)"


def test_capture_counts_characters_not_bytes_and_replaces_bad_utf8() -> None:
    capture = OutputCapture(3)
    capture.feed("ééé".encode())
    assert capture.text() == "ééé"
    broken = OutputCapture(10)
    broken.feed(b"ok\xff")
    assert broken.text() == "ok\ufffd"


def test_empty_output_is_the_empty_string() -> None:
    assert OutputCapture(5).text() == ""


async def test_run_script_captures_both_streams_and_exit_code(tmp_path: Path) -> None:
    outcome = await run_script(
        script(tmp_path, 'echo out; echo err >&2; echo "$GREETING"; exit 3\n'),
        {"PATH": os.environ["PATH"], "GREETING": "hi"},
        capture_limit=100,
        table=ProcessTable(),
        run_id="r",
        kind="step",
    )
    assert outcome.returncode == 3
    assert outcome.stdout == "out\nhi\n"
    assert outcome.stderr == "err\n"
    assert not outcome.succeeded and not outcome.killed


async def test_stdin_is_closed_and_cwd_is_the_script_directory(tmp_path: Path) -> None:
    outcome = await run_script(
        script(tmp_path, "pwd; cat; echo done\n"),
        {"PATH": os.environ["PATH"]},
        capture_limit=1000,
        table=ProcessTable(),
        run_id="r",
        kind="flow",
    )
    assert outcome.stdout == f"{tmp_path}\ndone\n"


async def test_megabytes_of_output_are_drained_and_truncated(tmp_path: Path) -> None:
    outcome = await run_script(
        script(tmp_path, "head -c 5000000 /dev/zero | tr '\\0' x\necho tail >&2\n"),
        {"PATH": os.environ["PATH"]},
        capture_limit=8192,
        table=ProcessTable(),
        run_id="r",
        kind="step",
    )
    assert outcome.returncode == 0
    assert outcome.stdout == "x" * 8192 + "\n... (output truncated at 8192 bytes)"
    assert outcome.stderr == "tail\n"


async def test_signal_death_is_a_failure(tmp_path: Path) -> None:
    outcome = await run_script(
        script(tmp_path, "kill -9 $$\n"),
        {"PATH": os.environ["PATH"]},
        capture_limit=10,
        table=ProcessTable(),
        run_id="r",
        kind="step",
    )
    assert outcome.returncode == -signal.SIGKILL
    assert not outcome.succeeded


async def test_exec_failure_is_reported_as_a_process_error(tmp_path: Path) -> None:
    path = tmp_path / "step.sh"
    path.write_text("#!/nonexistent/interpreter\n")
    path.chmod(0o755)
    outcome = await run_script(
        Script(path=str(path), cwd=str(tmp_path)),
        {},
        capture_limit=10,
        table=ProcessTable(),
        run_id="r",
        kind="step",
    )
    assert outcome.returncode is None
    assert outcome.stderr.startswith("\nProcess error: ")


async def test_terminate_run_kills_the_whole_process_group(tmp_path: Path) -> None:
    table = ProcessTable()
    pid_file = tmp_path / "child.pid"
    body = f"sleep 30 &\necho $! > {pid_file}\nwait\n"
    outcomes = []

    async def launch() -> None:
        outcomes.append(
            await run_script(
                script(tmp_path, body),
                {"PATH": os.environ["PATH"]},
                capture_limit=100,
                table=table,
                run_id="run-1",
                kind="step",
                step_id="s",
            )
        )

    async with trio.open_nursery() as nursery:
        nursery.start_soon(launch)
        while not pid_file.exists() or not pid_file.read_text().strip() or not table.count("run-1"):
            await trio.sleep(0.01)
        child = int(pid_file.read_text())
        assert table.count("run-1") == 1
        assert await table.terminate_run("run-1", grace_seconds=2) == 1
    assert outcomes[0].killed
    assert table.count("run-1") == 0
    assert await gone(child)


async def test_sigterm_ignoring_group_gets_sigkill_after_the_grace(tmp_path: Path) -> None:
    table = ProcessTable()
    ready = tmp_path / "ready"
    body = f"trap '' TERM\ntouch {ready}\nwhile :; do sleep 0.05; done\n"

    async def launch() -> None:
        await run_script(
            script(tmp_path, body),
            {"PATH": os.environ["PATH"]},
            capture_limit=100,
            table=table,
            run_id="run-2",
            kind="flow",
        )

    async with trio.open_nursery() as nursery:
        nursery.start_soon(launch)
        # open_process spawns from a worker thread: wait until the table has the entry too.
        while not ready.exists() or table.count("run-2") == 0:
            await trio.sleep(0.01)
        started = trio.current_time()
        await table.terminate_run("run-2", grace_seconds=0.3)
        assert trio.current_time() - started >= 0.3
    assert table.count("run-2") == 0


async def test_cancellation_kills_the_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    body = f"sleep 30 &\necho $! > {pid_file}\nwait\n"
    with trio.move_on_after(5) as scope:
        async with trio.open_nursery() as nursery:

            async def launch() -> None:
                await run_script(
                    script(tmp_path, body),
                    {"PATH": os.environ["PATH"]},
                    capture_limit=100,
                    table=ProcessTable(),
                    run_id="r",
                    kind="step",
                )

            nursery.start_soon(launch)
            while not pid_file.exists() or not pid_file.read_text().strip():
                await trio.sleep(0.01)
            nursery.cancel_scope.cancel()
    assert not scope.cancelled_caught
    assert await gone(int(pid_file.read_text()))


async def test_unwanted_process_is_killed_right_after_launch(tmp_path: Path) -> None:
    async def not_wanted() -> bool:
        return False

    outcome = await run_script(
        script(tmp_path, "sleep 30\n"),
        {"PATH": os.environ["PATH"]},
        capture_limit=100,
        table=ProcessTable(),
        run_id="r",
        kind="step",
        still_wanted=not_wanted,
    )
    assert outcome.killed
    assert outcome.returncode == -signal.SIGKILL
