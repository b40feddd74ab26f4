"""``max`` against a remote node (``max serve`` on loopback), against the local daemon. JSON lines.

Set-up (not timed): a temp directory with two ``MAX_HOME``s (server and client), an Acme tenant
(1 workspace, 5 users, 5 projects × ``--tasks``/5 tasks) served by ``max acme start``, then on
the server ``max init``, ``max connect acme --name acme …``, ``max sync acme`` and ``max serve
--port 0 -o json`` (a warm server: one untimed search first) — real processes.

Timed (``--runs`` times after ``--warmup`` untimed runs, wall time spawn → exit, stdout to
``/dev/null``, cached bytecode):

* ``remote_search``: ``max -t max+http://…/acme search AcmeTask --limit 100 -o json`` from the
  client (a directory outside any workspace); ``daemon_ms`` is the same search through the
  server's own workspace daemon (``max search acme AcmeTask --limit 100 -o json`` in the
  workspace), the issue's yardstick (target: remote ≤ 2× daemon);
* ``remote_stream``: ``max -t … search AcmeTask --all -o ndjson`` (median of 5 after one
  warm-up), rows per second of the
  whole command (target ≥ 100k rows/s).

    python benchmarks/remote_latency.py [--tasks 50000] [--runs 20] [--warmup 2]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from maxtrio.acme import SeedOptions, create_tenant

MAX = str(Path(sys.executable).parent / "max")
PROJECTS = 5


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, check=False)
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{argv} exited {done.returncode}")
    return elapsed


def median_ms(argv: list[str], cwd: Path, env: dict[str, str], runs: int, warmup: int) -> float:
    for _ in range(warmup):
        timed(argv, cwd, env)
    return statistics.median(timed(argv, cwd, env) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        base = Path(directory)
        server_home, client_home = base / "server-home", base / "client-home"
        client_cwd = base / "elsewhere"
        client_cwd.mkdir()
        env = {**os.environ, "MAX_HOME": str(server_home), "MAX_NO_DAEMON": "1"}
        # Bytecode cached, as on users' machines (a development machine may set
        # PYTHONDONTWRITEBYTECODE: with the cache prefix below, every run compiled the launcher).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(base / "pycache")
        with create_tenant("bench", base / "tenants") as tenant:
            tenant.seed(
                SeedOptions(
                    users_per_workspace=5,
                    projects_per_workspace=PROJECTS,
                    tasks_per_project=args.tasks // PROJECTS,
                    files_per_project=0,
                )
            )
        acme = subprocess.Popen(
            [MAX, "acme", "start", "--tenant", "bench", "--data-dir", str(base / "tenants"),
             "--port", "0", "-o", "json"],
            stdout=subprocess.PIPE, env=env,
        )  # fmt: skip
        assert acme.stdout is not None
        started = json.loads(acme.stdout.readline())
        root = base / "team"
        server: subprocess.Popen[bytes] | None = None
        try:
            for argv, cwd in (
                (["init", str(root)], base),
                (["connect", "acme", "--name", "acme", "--config", f"baseUrl={started['url']}",
                  "--credential", f"api_token={started['apiKey']}", "--no-input"], root),
                (["sync", "acme"], root),
            ):  # fmt: skip
                subprocess.run([MAX, *argv], cwd=cwd, env=env, check=True, capture_output=True)
            server = subprocess.Popen(
                [MAX, "serve", "--port", "0", "-o", "json"],
                cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            assert server.stdout is not None
            served = json.loads(server.stdout.readline())
            client_env = {**env, "MAX_HOME": str(client_home), "MAX_TOKEN": served["token"]}
            target = ["-t", f"{served['url']}/acme"]
            search = ["search", "AcmeTask", "--limit", "100", "-o", "json"]
            remote = median_ms(
                [MAX, *target, *search], client_cwd, client_env, args.runs, args.warmup
            )
            daemon_env = {k: v for k, v in env.items() if k != "MAX_NO_DAEMON"}
            local_search = ["search", "acme", "AcmeTask", "--limit", "100", "-o", "json"]
            daemon = median_ms([MAX, *local_search], root, daemon_env, args.runs, args.warmup)
            subprocess.run([MAX, "daemon", "stop"], cwd=root, env=daemon_env, capture_output=True)
            figures = {"median_ms": round(remote, 1), "daemon_ms": round(daemon, 1)}
            figures["ratio"] = round(remote / daemon, 2)
            print(json.dumps({"name": "remote_search", **figures}))
            stream = [MAX, *target, "search", "AcmeTask", "--all", "-o", "ndjson"]
            # The median of 5 (one warm-up): a single 0.5 s run swings by a third on a shared
            # 2-core machine.
            seconds = median_ms(stream, client_cwd, client_env, 5, 1) / 1000
            print(json.dumps({"name": "remote_stream", "rows": args.tasks,
                              "rows_per_s": round(args.tasks / seconds)}))  # fmt: skip
        finally:
            for process in (server, acme):
                if process is not None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=30)


if __name__ == "__main__":
    main()
