"""The launcher's own remote client (``POST /cli/stream``), with real processes on loopback: a
workspace of 20,000 synced tasks served by ``max serve`` (its ``MAX_HOME``), a client machine
(another ``MAX_HOME``, a directory outside any workspace) running ``max -t max+http://…``.

What it proves: the launcher runs remote commands itself (never importing maxtrio), ``--all``
output is byte-identical to the local command's (and to the full CLI's WebSocket path), a
server killed with ``kill -9`` in the middle of ``--all`` is one line naming the URL and exit
1, and an untrusted TLS certificate is one line at once (no timeout).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from maxtrio.acme import SeedOptions
from tests.cli.conftest import (
    MAX,
    AcmeService,
    connect_args,
    max_sync_run,
    seeded_tenant,
    start_acme_server,
    stop_process,
)
from tests.cli.serving import (
    Client,
    Server,
    new_client,
    one_error_line,
    serving,
    start_server,
)

PROJECTS, TASKS_PER_PROJECT = 4, 5000
TASKS = PROJECTS * TASKS_PER_PROJECT
ALL_NDJSON = ("search", "AcmeTask", "--all", "-o", "ndjson")


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A workspace with 20,000 synced tasks: (its MAX_HOME, its root)."""
    base = tmp_path_factory.mktemp("big")
    seeded_tenant(
        base / "tenants",
        "big",
        SeedOptions(
            users_per_workspace=4,
            projects_per_workspace=PROJECTS,
            tasks_per_project=TASKS_PER_PROJECT,
            files_per_project=0,
        ),
    )
    process, started = start_acme_server(base / "tenants", "big")
    try:
        acme = AcmeService(started["url"], started["apiKey"], process)
        home, root = base / "home", base / "big-ws"
        for args, cwd in (
            (["init", str(root)], base),
            (connect_args(acme, "--no-input"), root),
            (["sync", "acme-1"], root),
        ):
            result = max_sync_run(*args, cwd=cwd, home=home)
            assert result.code == 0, (args, result)
    finally:
        stop_process(process)
    yield home, root


@pytest.fixture(scope="module")
def served(big: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home, root = big
    yield from serving(root, home, tmp_path_factory.mktemp("log") / "serve.log")


@pytest.fixture
def client(tmp_path: Path) -> Client:
    return new_client(tmp_path)


def test_all_ndjson_is_identical_to_local_through_the_launcher_and_the_full_cli(
    served: Server, big: tuple[Path, Path], client: Client
) -> None:
    home, root = big
    local = max_sync_run("-t", "acme-1", *ALL_NDJSON, cwd=root, home=home)
    assert local.code == 0 and len(local.out.splitlines()) == TASKS, local.err
    before = served.log_text().count("POST /cli/stream search started")
    fast = client.run("-t", f"{served.url}/acme-1", *ALL_NDJSON, token=served.token)
    assert fast.code == 0 and fast.err == "", fast.err
    assert fast.out == local.out
    assert served.log_text().count("POST /cli/stream search started") == before + 1
    # --direct: the full CLI (its WebSocket client) gives the same bytes
    direct = client.run("--direct", "-t", f"{served.url}/acme-1", *ALL_NDJSON, token=served.token)
    assert direct.code == 0 and direct.out == local.out
    assert "WS /cli search started" in served.log_text()


def test_the_launcher_runs_a_remote_command_without_importing_maxtrio(
    served: Server, client: Client
) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", MAX, "-t", served.url, "ls", "-o", "json"],
        cwd=client.cwd,
        env=client.env(served.token),
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert b'"acme-1"' in done.stdout
    imported = [line.split("|")[-1].strip() for line in done.stderr.decode().splitlines()]
    assert "max_launcher._exchange" in imported
    assert not [name for name in imported if name.startswith(("maxtrio", "http.client"))]


def test_kill_9_of_the_server_mid_all_is_one_line_naming_the_url(
    big: tuple[Path, Path], client: Client, tmp_path: Path
) -> None:
    home, root = big
    server = start_server(root, home, tmp_path / "serve.log")
    try:
        # stdout is read only after the kill: the client (and the server's sends) wait on it,
        # so the server dies with most of the 20,000 rows still to send
        process = client.spawn("-t", f"{server.url}/acme-1", *ALL_NDJSON, token=server.token)
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith(b'{"_id":"tsk_'), first
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
        out, err = process.communicate(timeout=60)
    finally:
        server.stop()
    assert process.returncode == 1, err
    assert len((first + out).splitlines()) < TASKS
    text = err.decode()
    assert one_error_line(text) == (
        f"Error: Lost the connection to {server.url}/acme-1 while running 'max search' — "
        "the server closed the connection"
    )
    assert f"check with: max -t {server.url}/acme-1 status" in text


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made by the openssl command."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_an_untrusted_certificate_is_one_line_at_once_and_ssl_cert_file_trusts_it(
    big: tuple[Path, Path], client: Client, tmp_path: Path
) -> None:
    home, root = big
    cert, key = self_signed(tmp_path)
    server = start_server(
        root, home, tmp_path / "serve.log", "--certfile", str(cert), "--keyfile", str(key)
    )
    try:
        url = server.url.replace("max+http://", "max://")
        started = time.monotonic()
        refused = client.run("-t", url, "ls", token=server.token)
        assert time.monotonic() - started < 10  # not the 30 s timeout
        assert refused.code == 1 and refused.out == ""
        line = one_error_line(refused.err)
        assert line.startswith(f"Error: The certificate of {url} is not trusted — "), line
        assert "self-signed" in line or "self signed" in line, line
        assert "SSL_CERT_FILE" in refused.err
        started = time.monotonic()  # the full CLI (its WebSocket client) says the same at once
        direct = client.run("--direct", "-t", url, "ls", token=server.token)
        assert time.monotonic() - started < 20 and direct.code == 1
        assert one_error_line(direct.err) == line
        trusted = client.run(
            "-t", url, "ls", "-o", "json", token=server.token, SSL_CERT_FILE=str(cert)
        )
        assert trusted.code == 0, trusted
        assert '"acme-1"' in trusted.out
        assert server.token not in refused.err + trusted.err
    finally:
        assert server.stop() == 0
