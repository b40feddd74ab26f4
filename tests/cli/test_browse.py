"""``max browse``: the synced workspace served by a real Datasette process, checked over HTTP
(index, a view's JSON, facets, full-text search, hidden bookkeeping, refused writes), its
lifetime under real signals (Ctrl-C at a terminal, SIGTERM, SIGKILL of ``max browse``), its
errors (port in use, no data, no workspace, Datasette missing) and — when Debian's
``chromium`` is installed, and always in ``.ci/run`` — a screenshot of a table page taken by
headless Chromium."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trio

from tests.terminal import Terminal

from .conftest import MAX, SHARED_TASKS, Synced, assert_one_line_error, max_env, max_proc

#: ``.ci/run`` sets it: the screenshot test must run there, so a missing chromium fails it.
BROWSER_REQUIRED = os.environ.get("MAX_BROWSER_TESTS") == "1"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def data_file(synced: Synced) -> Path:
    return synced.root / ".max" / "installations" / "acme-1" / "data.db"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from ``/proc``)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_gone(pid: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while alive(pid):
        assert time.monotonic() < deadline, f"process {pid} still runs"
        time.sleep(0.05)


class Browse:
    """``max browse -o json --port 0`` running as a real process, and its URL."""

    def __init__(self, synced: Synced, *args: str) -> None:
        argv = [MAX, "browse", "-o", "json", "--port", "0", *args]
        self.process = subprocess.Popen(
            argv,
            cwd=synced.root,
            env=max_env(synced.home),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # printed once Datasette answers
        if not line:
            self.process.wait(30)
            pytest.fail(f"max browse printed nothing: {self.process.stderr.read()!r}")  # type: ignore[union-attr]
        self.url: str = json.loads(line)["url"]
        (self.server,) = children_of(self.process.pid)

    def get(self, path: str, **params: str) -> httpx.Response:
        return httpx.get(self.url.rstrip("/") + path, params=params, timeout=30)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        code = self.process.wait(30)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return code


@contextlib.contextmanager
def browsing(synced: Synced, *args: str) -> Iterator[Browse]:
    browse = Browse(synced, *args)
    try:
        yield browse
    finally:
        if browse.process.poll() is None:
            browse.stop()
        if alive(browse.server):
            os.kill(browse.server, signal.SIGKILL)


def test_serves_the_workspace_read_only(synced: Synced) -> None:
    before = digest(data_file(synced))
    with browsing(synced) as browse:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", browse.url)
        assert browse.get("/").status_code == 200
        index = browse.get("/.json").json()
        assert list(index) == ["acme-1"]
        database = browse.get("/acme-1.json").json()
        views = [v["name"] for v in database["views"]]
        assert {"AcmeUser", "AcmeProject", "AcmeTask"} <= set(views)
        tables = {t["name"]: t["hidden"] for t in database["tables"]}
        # bookkeeping, the raw entity tables and the full-text index are all hidden
        assert tables["_max_sync"] and tables["_acme_task"] and tables["_acme_task_fts"]
        assert all(tables.values()), tables

        page = browse.get("/acme-1/AcmeTask.json", _shape="objects", _size="max").json()
        assert page["filtered_table_rows_count"] == SHARED_TASKS
        row = page["rows"][0]
        assert {"_id", "title", "status", "assignee", "project", "rowid"} <= set(row)
        assert not {"_synced_at", "_synced_mask", "_seen"} & set(row)
        # facets on enum-like fields come from the metadata, no ?_facet= needed
        facets = page["facet_results"]
        assert "status" in facets and "title" not in facets
        counts = {f["value"]: f["count"] for f in facets["status"]["results"]}
        assert sum(counts.values()) == SHARED_TASKS and len(counts) > 1

        # full-text search goes through the FTS5 index
        word = next(w for w in re.findall(r"[A-Za-z]{4,}", row["title"]))
        found = browse.get("/acme-1/AcmeTask.json", _search=word, _shape="objects").json()
        assert found["rows"], word
        assert row["_id"] in {r["_id"] for r in found["rows"]} or found["next"]
        for hit in found["rows"]:
            text = " ".join(str(value) for value in hit.values() if isinstance(value, str))
            assert word.lower() in text.lower(), hit
        nothing = browse.get("/acme-1/AcmeTask.json", _search="zzqqxxnotaword").json()
        assert nothing["rows"] == []

        # a ref links to its target, labelled with the target's label
        html = browse.get("/acme-1/AcmeTask").text
        assert re.search(r'<a href="/acme-1/AcmeUser\?_id=[^"]+">[^<]+ · [^<]+</a>', html)
        meta = browse.get("/-/metadata.json").json()
        task = meta["databases"]["acme-1"]["tables"]["AcmeTask"]
        assert task["fts_table"] == "_acme_task_fts" and "status" in task["facets"]
        assert task["columns"]["assignee"] == "→ AcmeUser" and "title" not in task["columns"]

        # writes: Datasette refuses non-SELECT SQL, and SQLite refuses what looks like one
        insert = browse.get("/acme-1.json", sql="insert into _max_sync (id) values ('x')")
        assert insert.status_code == 400
        sneaky = browse.get("/acme-1.json", sql="with x as (select 1) delete from _acme_task")
        assert sneaky.status_code == 400
        assert "readonly" in sneaky.text or "read-only" in sneaky.text, sneaky.text
        count = browse.get("/acme-1.json", sql="select count(*) as n from AcmeTask").json()
        assert count["rows"] == [[SHARED_TASKS]]
        assert browse.stop() == 0
        wait_gone(browse.server)
    assert digest(data_file(synced)) == before


def test_sigkill_of_max_browse_stops_datasette(synced: Synced) -> None:
    """Datasette never outlives ``max browse``: killed without a chance to clean up, its end
    of the pipe closes and Datasette stops; the port is free again."""
    with browsing(synced) as browse:
        port = int(browse.url.rsplit(":", 1)[1].strip("/"))
        assert browse.stop(signal.SIGKILL) == -signal.SIGKILL
        wait_gone(browse.server)
    with socket.create_server(("127.0.0.1", port)):
        pass


def test_ctrl_c_at_the_terminal_stops_it(synced: Synced) -> None:
    argv = [MAX, "browse", "--port", "0"]
    with Terminal(argv, cwd=synced.root, env=max_env(synced.home)) as terminal:
        match = terminal.expect(re.compile(r"at (http://127\.0\.0\.1:\d+/)"))
        (server,) = children_of(terminal.pid)
        assert httpx.get(match.group(1) + "-/versions.json", timeout=30).status_code == 200
        terminal.expect("Read-only. Ctrl-C stops it.")  # on stderr, after the URL
        terminal.ctrl_c()
        assert terminal.finish(timeout=30) == 0, terminal.text()
        wait_gone(server)
        assert "Traceback" not in terminal.text()


async def test_port_in_use(synced: Synced) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = await max_proc("browse", "--port", str(port), cwd=synced.root, home=synced.home)
    assert_one_line_error(result, contains=f"Port {port} on 127.0.0.1 is already in use")
    assert "Hint: choose another with --port, or --port 0" in result.err


async def test_datasette_missing(synced: Synced, tmp_path: Path) -> None:
    """An interpreter where ``import datasette`` fails (a finder refusing it, installed by a
    ``sitecustomize`` on PYTHONPATH): the error says how to get it."""
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\n"
        "class NoDatasette:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] == 'datasette':\n"
        "            raise ModuleNotFoundError(\"No module named 'datasette'\", name=name)\n"
        "sys.meta_path.insert(0, NoDatasette())\n"
    )
    env = max_env(synced.home, PYTHONPATH=str(tmp_path))
    result = await max_proc("browse", cwd=synced.root, home=synced.home, env=env)
    assert_one_line_error(result, contains="max browse needs Datasette")
    assert result.err.splitlines()[1].strip() == "Hint: pip install 'maxtrio[browse]'"


async def test_no_workspace_and_no_data(synced: Synced, tmp_path: Path) -> None:
    outside = await max_proc("browse", cwd=tmp_path, home=synced.home)
    assert outside.code == 2, outside
    assert outside.err.startswith("Error: browse is not available at the global level.")
    assert "Available at: workspace (max -t <workspace>)" in outside.err

    home = tmp_path / "home"
    made = await max_proc("init", str(tmp_path / "empty"), cwd=tmp_path, home=home)
    assert made.code == 0, made
    empty = await max_proc("browse", cwd=tmp_path / "empty", home=home)
    assert_one_line_error(empty, contains="No data to browse yet in")
    assert "Hint: max sync <installation> fills it" in empty.err


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


if CHROMIUM or BROWSER_REQUIRED:

    @pytest.mark.browser
    async def test_chromium_screenshot_of_a_table_page(synced: Synced, tmp_path: Path) -> None:
        """Headless Chromium renders the AcmeTask page (`.ci/run` installs Debian's
        chromium and requires this test; elsewhere it runs where chromium is installed)."""
        assert CHROMIUM, "chromium is missing: .ci/run installs it (apt-get install chromium)"
        shot = tmp_path / "tasks.png"
        with browsing(synced) as browse:
            argv = [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={tmp_path / 'profile'}",
                f"--screenshot={shot}",
                "--window-size=1280,900",
                browse.url + "acme-1/AcmeTask",
            ]
            with trio.fail_after(120):
                done = await trio.run_process(argv, capture_stdout=True, capture_stderr=True)
            assert done.returncode == 0, done.stderr.decode()[-2000:]
        assert png_size(shot) == (1280, 900)
        assert shot.stat().st_size > 30_000  # a rendered page, not a blank one
