"""``max`` start-to-exit latency, against the interpreter's own start. JSON lines.

Set-up (not timed): a temp directory with its own ``MAX_HOME``, an Acme tenant (1 workspace,
10 users, 5 projects × 200 tasks) served by ``max acme start`` on loopback, then
``max init``, ``max connect acme --name acme …`` and ``max sync acme`` — real processes.

Timed: each command ``--runs`` times (after ``--warmup`` untimed runs), run from the workspace
directory with stdout to ``/dev/null``, wall time from spawn to exit, with bytecode caching on
(``PYTHONPYCACHEPREFIX`` in the temp directory — an installed ``max`` has its ``.pyc`` files;
without them every run recompiles maxtrio's sources). Each command has its floor, run
alternately with it (one floor run before each timed run, so load on the shared machine hits
both alike):

* ``max --version`` (answered by the launcher itself): floor ``python -c pass``, target 2×;
* ``max ls``, ``max status``, ``max search acme AcmeTask --limit 10``, ``max --help``,
  ``max completion bash``: floor ``python -c "import trio, asyncclick"`` (the frameworks every
  real command needs), target 1.5× in direct mode.

Three modes: ``direct`` (``MAX_NO_DAEMON=1``: the launcher runs the full CLI in its process,
which imports what the command needs and runs it), ``daemon`` (the launcher forwards the command
to the workspace's daemon, started by the warm-up runs and stopped at the end) and
``pyz-daemon`` (``python max.pyz …`` — ``--pyz PATH``, else built into the temp directory with
``launcher/build_pyz.py`` — through the daemon it starts; shiv extracts into the temp directory
in the warm-up). Through a daemon the command's work is the daemon's, so those modes are
measured against ``python -c pass`` (targets: daemon 2×, pyz-daemon 2.5×). One line per
command and mode: ``{"name": mode, "command", "median_ms", "p90_ms", "floor", "floor_ms",
"x_floor", "target_x"}``. A last line gives the launcher's own import time
(``python -X importtime -c "import max_launcher"``, median of the runs, in µs).

    python benchmarks/cli_latency.py [--runs 20] [--warmup 2] [--mode direct|daemon|pyz-daemon|all]
                                     [--pyz dist/max.pyz]
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
ROOT = Path(__file__).resolve().parent.parent
MODES = ("direct", "daemon", "pyz-daemon")
PASS = "python -c pass"
FRAMEWORKS = 'python -c "import trio, asyncclick"'
FLOORS = {
    PASS: [sys.executable, "-c", "pass"],
    FRAMEWORKS: [sys.executable, "-c", "import trio, asyncclick"],
}
#: Through a daemon: multiples of ``python -c pass``.
DAEMON_TARGETS = {"daemon": 2.0, "pyz-daemon": 2.5}
#: command → (argv, its floor, the direct-mode target in multiples of the floor)
COMMANDS = {
    "max --version": (["--version"], PASS, 2.0),
    "max ls": (["ls"], FRAMEWORKS, 1.5),
    "max status": (["status"], FRAMEWORKS, 1.5),
    "max search acme AcmeTask --limit 10": (
        ["search", "acme", "AcmeTask", "--limit", "10"],
        FRAMEWORKS,
        1.5,
    ),
    "max --help": (["--help"], FRAMEWORKS, 1.5),
    "max completion bash": (["completion", "bash"], FRAMEWORKS, 1.5),
}


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{argv} failed: {done.stderr.decode()}")


def timed_with_floor(
    argv: list[str], floor: list[str], cwd: Path, env: dict[str, str], runs: int, warmup: int
) -> tuple[list[float], list[float]]:
    """Samples of ``argv`` and of the floor, run alternately: a busy machine (the 2 cores are
    shared) slows both alike, so their ratio stays meaningful."""
    for _ in range(warmup):
        run(argv, cwd, env)
    samples: list[float] = []
    floors: list[float] = []
    for _ in range(runs):
        for command, into in ((floor, floors), (argv, samples)):
            started = time.perf_counter()
            run(command, cwd, env)
            into.append((time.perf_counter() - started) * 1000)
    return samples, floors


def p90(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def set_up(directory: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], Path]:
    seed = SeedOptions(users_per_workspace=10, projects_per_workspace=5, tasks_per_project=200)
    with create_tenant("bench", directory / "tenants") as tenant:
        tenant.seed(seed)
    start = ["acme", "start", "--tenant", "bench", "--data-dir", "tenants", "--port", "0"]
    server = subprocess.Popen(
        [MAX, *start, "-o", "json"],
        cwd=directory,
        env=env,
        stdout=subprocess.PIPE,
    )
    assert server.stdout is not None
    started = json.loads(server.stdout.readline())
    project = directory / "bench-project"
    run([MAX, "init", str(project)], directory, env)
    connect = ["connect", "acme", "--name", "acme", "--config", f"baseUrl={started['url']}"]
    run([MAX, *connect, "--credential", f"api_token={started['apiKey']}"], project, env)
    run([MAX, "sync", "acme"], project, env)
    return server, project


def build_pyz(directory: Path) -> Path:
    output = directory / "max.pyz"
    subprocess.run(
        [sys.executable, str(ROOT / "launcher" / "build_pyz.py"), "-o", str(output)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return output


def launcher_import_us(env: dict[str, str], runs: int) -> tuple[int, int]:
    """Median cumulative import time of ``max_launcher`` (µs) and of its own modules."""
    totals, own = [], []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import max_launcher"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        rows = [line.split("|") for line in done.stderr.splitlines()[1:]]
        totals += [int(r[1]) for r in rows if r[2].strip() == "max_launcher"]
        own.append(sum(int(r[0].split(":")[1]) for r in rows if "max_launcher" in r[2]))
    return round(statistics.median(totals)), round(statistics.median(own))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--mode", choices=[*MODES, "both", "all"], default="all")
    parser.add_argument("--pyz", type=Path, default=None, help="a built max.pyz to measure")
    args = parser.parse_args()
    modes = {"all": list(MODES), "both": ["direct", "daemon"]}.get(args.mode, [args.mode])
    with tempfile.TemporaryDirectory(prefix="maxtrio-cli-latency-") as tmp:
        directory = Path(tmp)
        env = dict(os.environ, MAX_HOME=str(directory / "home"))
        env.pop("MAX_TARGET", None)
        env.pop("MAX_NO_DAEMON", None)
        # Measure what an installed max does: with cached bytecode. The cache goes to the temp
        # directory, not into the checkout; the warm-up runs fill it.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(directory / "pycache")
        server, project = set_up(directory, {**env, "MAX_NO_DAEMON": "1"})
        try:
            for mode in modes:
                mode_env = {**env, "MAX_NO_DAEMON": "1"} if mode == "direct" else env
                program = [MAX]
                if mode == "pyz-daemon":
                    pyz = args.pyz.resolve() if args.pyz else build_pyz(directory)
                    program = [sys.executable, str(pyz)]
                    mode_env = {**env, "SHIV_ROOT": str(directory / "shiv")}
                for name, (command, floor_name, target) in COMMANDS.items():
                    if mode != "direct":
                        floor_name, target = PASS, DAEMON_TARGETS[mode]
                    argv = [*program, *command]
                    samples, floors = timed_with_floor(
                        argv, FLOORS[floor_name], project, mode_env, args.runs, args.warmup
                    )
                    median, floor = statistics.median(samples), statistics.median(floors)
                    line: dict[str, object] = {
                        "name": mode,
                        "command": name,
                        "median_ms": round(median, 1),
                        "p90_ms": round(p90(samples), 1),
                        "floor": floor_name,
                        "floor_ms": round(floor, 1),
                        "x_floor": round(median / floor, 2),
                    }
                    line["target_x"] = target
                    print(json.dumps(line), flush=True)
            total_us, own_us = launcher_import_us(env, args.runs)
            imports = {"name": "import max_launcher", "mode": "importtime"}
            print(json.dumps({**imports, "cumulative_us": total_us, "own_modules_us": own_us}))
        finally:
            if "daemon" in modes or "pyz-daemon" in modes:
                subprocess.run(
                    [MAX, "daemon", "stop"],
                    cwd=project,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    check=False,
                )
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=15)


if __name__ == "__main__":
    main()
