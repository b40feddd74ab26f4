"""The cyclic GC held while a ``max`` process starts (``maxtrio._collector``): held by the
process entries, given back (start-up frozen) once a command has run a while, never given
back by a short command, left alone when it was off already."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncclick as click
import pytest
import trio
import trio.testing

from maxtrio import _collector
from maxtrio._collector import RELEASE_AFTER, hold, release, release_later
from maxtrio.cli._dispatch import _run_process


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    """Each test ends with the collector as it found it, nothing held or frozen."""
    enabled = gc.isenabled()
    yield
    _collector._held = False
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


def test_hold_turns_the_collector_off_until_release() -> None:
    gc.enable()
    hold()
    assert _collector._held and not gc.isenabled()
    release()
    assert not _collector._held and gc.isenabled()
    assert gc.get_freeze_count() > 0  # what existed at the release is never walked again
    release()  # a second release changes nothing
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    hold()
    assert not _collector._held
    release()
    assert not gc.isenabled()


def test_release_later_gives_it_back_after_the_delay(
    autojump_clock: trio.testing.MockClock,
) -> None:
    gc.enable()
    hold()

    async def main() -> float:
        await release_later()
        return trio.current_time()

    ended = trio.run(main, clock=autojump_clock)
    assert ended == pytest.approx(RELEASE_AFTER)
    assert gc.isenabled()


def _one_command(seconds: float, seen: list[bool]) -> click.Group:
    @click.group()
    def cli() -> None:
        pass

    @cli.command()
    async def work() -> None:
        seen.append(gc.isenabled())
        await trio.sleep(seconds)
        seen.append(gc.isenabled())

    return cli


@pytest.mark.parametrize(("seconds", "after"), [(0.0, False), (RELEASE_AFTER * 4, True)])
def test_the_process_command_gets_it_back_only_when_it_runs_long_enough(
    autojump_clock: trio.testing.MockClock, seconds: float, after: bool
) -> None:
    gc.enable()
    hold()
    seen: list[bool] = []
    code = trio.run(_run_process, _one_command(seconds, seen), ["work"], clock=autojump_clock)
    assert code == 0
    assert seen == [False, after]
    assert gc.isenabled() is after  # a short command ends with it off: the process exits


@pytest.mark.parametrize("module", ["maxtrio.cli", "maxtrio.daemon"])
def test_the_process_entries_hold_it_from_their_first_import(module: str, tmp_path: Path) -> None:
    """A real ``python -m`` start: the collector is off once the entry module ran (the
    command then fails fast on its bad arguments, before any timer could give it back)."""
    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('enabled', gc.isenabled(), file=sys.stderr))\n"
        f"sys.argv = ['{module}', '--no-such-option']\n"
        "import runpy\n"
        f"runpy.run_module('{module}', run_name='__main__', alter_sys=True)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MAX_TARGET"}
    env["MAX_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode != 0
    assert "enabled False" in done.stderr
