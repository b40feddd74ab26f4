"""Black-box harness: real servers in subprocesses, real flows on disk, the real database.

``server`` is one shared server for the session (tests use unique flow names, so they do not
see each other's runs); ``start_server`` starts a dedicated one with its own environment for
tests that need another limit, a restart, or a pre-made database. Flows are shell scripts that
call the API with ``curl``, exactly as users write them.

Every test that uses ``server`` or ``start_server`` runs twice: on SQLite (``maxq.db`` in the
data dir) and on PostgreSQL (``MAXQ_DATABASE_URL``: the session's real server, a fresh schema
per data dir, the password role over TCP). ``@pytest.mark.sqlite_only`` keeps a test on SQLite
when what it checks is the file itself. ``server.db`` and ``server.rows`` speak SQL with ``?``
placeholders to whichever database the server uses.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import apsw
import httpx
import psycopg
import pytest

from tests.pg.server import PgServer

T = TypeVar("T")

READY_TIMEOUT = 20.0
API_KEY = "test-key"  # every server of this harness requires it (MAXQ_API_KEY) unless told
# What scripts send: their run's token (empty, and then ignored, when the server has no key).
AUTH = '-H "Authorization: Bearer $MAXQ_API_TOKEN"'
_names = itertools.count(1)


def wait_for(probe: Callable[[], T], *, timeout: float = 10.0, what: str = "condition") -> T:
    """Poll ``probe`` until it returns something truthy (the server is another process)."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not value:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last value: {value!r}")
        time.sleep(0.02)
        value = probe()
    return value


def schedule(stage: str, steps: list[dict[str, Any]], *, final: bool = False) -> str:
    """Shell lines that schedule ``stage`` from a flow script (fail the script on HTTP errors)."""
    body = json.dumps({"stage": stage, "final": final, "steps": steps})
    return (
        f'curl -sS -f -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps" {AUTH} '
        "-H 'Content-Type: application/json' --data-binary @- <<'JSON'\n"
        f"{body}\nJSON\n"
    )


def flow_program(
    initial: str,
    *,
    completed: Mapping[str, str] | None = None,
    failed: Mapping[str, str] | None = None,
) -> str:
    """A flow.sh: ``initial`` on the first call, then one branch per stage callback."""
    lines = ["#!/bin/sh", "set -e", 'if [ -n "$MAXQ_COMPLETED_STAGE" ]; then']
    lines.append('  case "$MAXQ_COMPLETED_STAGE" in')
    for stage, code in (completed or {}).items():
        lines.append(f"  {stage})\n{code}\n  ;;")
    lines.append("  esac")
    lines.append('elif [ -n "$MAXQ_FAILED_STAGE" ]; then')
    lines.append('  case "$MAXQ_FAILED_STAGE" in')
    for stage, code in (failed or {}).items():
        lines.append(f"  {stage})\n{code}\n  ;;")
    lines.append("  esac")
    lines.append("else")
    lines.append(initial)
    lines.append("fi")
    return "\n".join(lines) + "\n"


POST_FIELDS = (
    f'curl -sS -f -X POST "$MAXQ_API/runs/$MAXQ_RUN_ID/steps/$MAXQ_STEP_ID/fields" {AUTH} '
    "-H 'Content-Type: application/json' --data-binary @- >/dev/null"
)


class Flows:
    """Writes flows into a flows root; every flow gets a unique name."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def add(
        self,
        base: str,
        flow_sh: str,
        steps: Mapping[str, str] | None = None,
        *,
        yaml: str | None = None,
        name: str | None = None,
    ) -> str:
        name = name or f"{base}-{next(_names)}"
        directory = self.root / name
        directory.mkdir(parents=True)
        _write_executable(directory / "flow.sh", flow_sh)
        for step, body in (steps or {}).items():
            step_dir = directory / "steps" / step
            step_dir.mkdir(parents=True)
            _write_executable(step_dir / "step.sh", body)
        if yaml is not None:
            (directory / "flow.yaml").write_text(yaml)
        return name


def _write_executable(path: Path, text: str) -> None:
    if not text.startswith("#!"):
        text = "#!/bin/sh\n" + text
    path.write_text(text)
    path.chmod(0o755)


STORE_KINDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: runs on the SQLite store only")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_kind" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("sqlite_only") is not None
        kinds = ["sqlite"] if only else list(STORE_KINDS)
        metafunc.parametrize("store_kind", kinds, indirect=True, scope="session")


@pytest.fixture(scope="session")
def store_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


class Database:
    """SQL with ``?`` placeholders on the server's database (autocommit)."""

    def __init__(self, data_dir: Path, url: str | None) -> None:
        self.url = url
        self._sqlite: apsw.Connection | None = None
        self._pg: psycopg.Connection[Any] | None = None
        if url is None:
            self._sqlite = apsw.Connection(str(data_dir / "maxq.db"))
            self._sqlite.setbusytimeout(5000)
        else:
            self._pg = psycopg.connect(url, autocommit=True)

    def execute(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        """Run one statement; return its rows as dicts (none for a write)."""
        if self._pg is not None:
            # PostgreSQL text cannot hold NUL; the server stores U+FFFD instead (so do we).
            values = tuple(v.replace("\0", "\ufffd") if isinstance(v, str) else v for v in params)
            cursor = self._pg.execute(sql.replace("?", "%s"), values)  # type: ignore[arg-type]
            if cursor.description is None:
                return []
            names = [d.name for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        assert self._sqlite is not None
        found = self._sqlite.execute(sql, tuple(params))
        try:
            names = [d[0] for d in found.getdescription()]
        except apsw.ExecutionCompleteError:
            return []
        return [dict(zip(names, row, strict=True)) for row in found]

    def close(self) -> None:
        for connection in (self._sqlite, self._pg):
            if connection is not None:
                connection.close()


def schema_url(pg_server: PgServer, schema: str) -> str:
    """A URL (with the password role's password) whose search path is a fresh ``schema``."""
    pg_server.sql(f"CREATE SCHEMA {schema} AUTHORIZATION maxtrio_pw")
    return f"{pg_server.url()}?options=-csearch_path%3D{schema}"


class FlowsServer:
    """A ``python -m maxtrio.flows`` subprocess and the means to talk to it."""

    def __init__(self, data_dir: Path, flows_root: Path, env: Mapping[str, str]) -> None:
        self.data_dir = data_dir
        self.flows_root = flows_root
        self.flows = Flows(flows_root)
        self.env = dict(env)
        self.process: subprocess.Popen[str] | None = None
        self.port = 0
        self.stdout_lines: list[str] = []
        self._client: httpx.Client | None = None
        self._db: Database | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, *, port: int = 0) -> FlowsServer:
        env = {
            **os.environ,
            "MAXQ_DATA_DIR": str(self.data_dir),
            "MAXQ_FLOWS_ROOT": str(self.flows_root),
            "MAXQ_SERVER_PORT": str(port),
            "MAXQ_SCHEDULER_INTERVAL_MS": "50",
            "MAXQ_SCHEDULER_BATCH_SIZE": "100",
            "MAXQ_ABORT_GRACE_MS": "500",
            "NODE_ENV": "test",
            "MAXQ_API_KEY": API_KEY,
            "LOG_LEVEL": "error",
            **self.env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "maxtrio.flows"],
            env=env,
            cwd="/",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        self.stdout_lines.append(line)
        assert line.startswith("Server running on 127.0.0.1:"), f"unexpected first line {line!r}"
        self.port = int(line.strip().rsplit(":", 1)[1])
        # Like the reference harness, always send a bearer token: the key when there is one.
        key = env["MAXQ_API_KEY"] or "test-token"
        self._client = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=15,
        )
        return self

    def stop(self, signum: int = signal.SIGTERM) -> float:
        """Signal the server and wait for it; return how long it took to exit."""
        assert self.process is not None
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        elapsed = time.monotonic() - started
        assert self.process.stdout is not None
        self.stdout_lines.extend(self.process.stdout.readlines())
        self.process.stdout.close()
        if self._client is not None:
            self._client.close()
        return elapsed

    def close(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.stop(signal.SIGKILL)
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- HTTP --------------------------------------------------------------------------------

    @property
    def http(self) -> httpx.Client:
        assert self._client is not None
        return self._client

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        if body is not None:
            kwargs["json"] = body
        return self.http.post("/api/v1" + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get("/api/v1" + path, **kwargs)

    def create_run(self, flow: str, **body: Any) -> dict[str, Any]:
        response = self.post("/runs", {"flowName": flow, **body})
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def run(self, run_id: str) -> dict[str, Any]:
        response = self.get(f"/runs/{run_id}")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def wait_run(self, run_id: str, *statuses: str, timeout: float = 15.0) -> dict[str, Any]:
        wanted = statuses or ("completed", "failed")
        return wait_for(
            lambda: (run := self.run(run_id))["status"] in wanted and run,
            timeout=timeout,
            what=f"run {run_id} to become {'/'.join(wanted)}",
        )

    def run_flow(self, flow: str, *statuses: str, **body: Any) -> dict[str, Any]:
        """Create a run of ``flow`` and wait until it ends (or reaches ``statuses``)."""
        return self.wait_run(self.create_run(flow, **body)["id"], *statuses)

    # -- database ----------------------------------------------------------------------------

    @property
    def database_url(self) -> str | None:
        return self.env.get("MAXQ_DATABASE_URL") or None

    def connect_db(self) -> Database:
        """A connection of the caller's own (e.g. for another thread)."""
        return Database(self.data_dir, self.database_url)

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = self.connect_db()
        return self._db

    def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        return self.db.execute(sql, params)

    def steps(self, run_id: str) -> dict[str, dict[str, Any]]:
        return {
            row["id"]: row
            for row in self.rows("SELECT * FROM step WHERE run_id = ? ORDER BY rowid", run_id)
        }

    def stages(self, run_id: str) -> dict[str, dict[str, Any]]:
        return {
            row["name"]: row
            for row in self.rows("SELECT * FROM stage WHERE run_id = ? ORDER BY rowid", run_id)
        }


def store_env(request: pytest.FixtureRequest, store_kind: str, schema: str) -> dict[str, str]:
    """The environment that puts a server on ``store_kind`` (a fresh schema on PostgreSQL)."""
    if store_kind == "sqlite":
        return {}
    pg_server: PgServer = request.getfixturevalue("pg_server")
    return {"MAXQ_DATABASE_URL": schema_url(pg_server, pg_server.new_schema_name(schema))}


@pytest.fixture(scope="session")
def server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest, store_kind: str
) -> Iterator[FlowsServer]:
    base = tmp_path_factory.mktemp("shared-server")
    shared = FlowsServer(base / "data", base / "flows", store_env(request, store_kind, "shared"))
    shared.start()
    shared.flows_root.mkdir(exist_ok=True)
    yield shared
    shared.stop()
    shared.close()


@pytest.fixture
def start_server(
    tmp_path: Path, request: pytest.FixtureRequest, store_kind: str
) -> Iterator[Callable[..., FlowsServer]]:
    """Start dedicated servers (``start_server(MAXQ_X="1")``); all are stopped afterwards.

    On PostgreSQL each data dir gets its own schema, kept across restarts on that data dir.
    """
    started: list[FlowsServer] = []
    databases: dict[Path, dict[str, str]] = {}

    def start(
        data_dir: Path | None = None, flows_root: Path | None = None, **env: str
    ) -> FlowsServer:
        root = flows_root or tmp_path / "flows"
        root.mkdir(parents=True, exist_ok=True)
        data = data_dir or tmp_path / "data"
        if data not in databases:
            databases[data] = store_env(request, store_kind, "dedicated")
        instance = FlowsServer(data, root, {**databases[data], **env}).start()
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.close()
