"""Helpers for the ``max serve`` tests: a real server process and a second machine as client.

:func:`start_server` runs ``max serve --port 0 -o json`` in a workspace (its ``MAX_HOME``) and
reads the start line; the server's log goes to a file the test can read (a pipe nobody reads
would stall it). :class:`Client` is another machine: its own empty ``MAX_HOME``, a directory
that is no workspace, and ``MAX_TOKEN`` when given.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx

from .conftest import MAX, Result, max_env


@attrs.define
class Server:
    process: subprocess.Popen[bytes]
    url: str
    token: str
    root: Path
    home: Path
    log: Path
    line: str  # the start line, as printed

    @property
    def http(self) -> str:
        """``http://127.0.0.1:PORT`` (the URL's host, without the workspace)."""
        return "http://" + self.url.removeprefix("max+http://").split("/", 1)[0]

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token if token is not None else self.token}"}

    def post(self, path: str, body: Any, token: str | None = None) -> httpx.Response:
        return httpx.post(f"{self.http}{path}", json=body, headers=self.headers(token), timeout=60)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            if self.process.stdout is not None:
                self.process.stdout.close()


def start_server(root: Path, home: Path, log: Path, *extra: str) -> Server:
    """``max serve --port 0 -o json EXTRA`` in ``root``; returns once it listens."""
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [MAX, "serve", "--port", "0", "-o", "json", *extra],
            cwd=root,
            env=max_env(home),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log_file,
        )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=30)
        raise AssertionError(f"max serve did not start: {log.read_text()!r}")
    started = json.loads(line)
    return Server(process, started["url"], started["token"], root, home, log, line.decode())


def serving(root: Path, home: Path, log: Path, *extra: str) -> Iterator[Server]:
    """A fixture's body: a server for the test, then stopped cleanly with no token logged."""
    server = start_server(root, home, log, *extra)
    yield server
    stopped_cleanly(server)


def stopped_cleanly(server: Server) -> None:
    """Stop ``server``: exit 0, and its log never showed the token."""
    assert server.stop() == 0, server.log_text()
    assert server.token not in server.log_text()


def one_error_line(err: str) -> str:
    """The ``Error:`` line of ``err`` — which must be that line and ``Hint:`` lines only."""
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert lines and lines[0].startswith("Error: "), err
    assert all(line.startswith("  Hint: ") for line in lines[1:]), err
    return lines[0]


@attrs.frozen
class Client:
    """Another machine: its own MAX_HOME and a directory outside any workspace."""

    home: Path
    cwd: Path

    def env(self, token: str | None, **extra: str) -> dict[str, str]:
        env = max_env(self.home, **extra)
        env.pop("MAX_TOKEN", None)
        if token is not None:
            env["MAX_TOKEN"] = token
        return env

    def run(
        self, *args: str, token: str | None = None, timeout: float = 120, **extra: str
    ) -> Result:
        done = subprocess.run(
            [MAX, *args],
            cwd=self.cwd,
            env=self.env(token, **extra),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        return Result(done.returncode, done.stdout.decode(), done.stderr.decode())

    def spawn(self, *args: str, token: str | None = None) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [MAX, *args],
            cwd=self.cwd,
            env=self.env(token),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )


def new_client(base: Path) -> Client:
    home, cwd = base / "client-home", base / "client-cwd"
    home.mkdir(parents=True)
    cwd.mkdir(parents=True)
    return Client(home, cwd)
