"""``make demo``: the main job on an embedded default, with real ``max`` commands.

In a temporary directory (with its own ``MAX_HOME``), it runs what a new user runs, printing
each command before its output:

1. ``max acme create`` and ``max acme seed`` — a fake Acme tenant (1 workspace, 10 users,
   5 projects × 200 tasks), then ``max acme start --port 0 -o json`` in the background on
   loopback;
2. ``max init demo-project``;
3. ``max connect acme`` without prompts (``--config baseUrl=… --config workspaceId=…
   --credential api_token=@token.txt``);
4. ``max sync acme-1`` — with the live progress display when the terminal is one;
5. two ``max search`` queries;

and finally stops the workspace's daemon (if the launcher started one) and the fake with
SIGTERM (also on error or Ctrl-C). Every command is a real subprocess of the ``max`` console
script.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

SEED = ["--workspaces", "1", "--users-per-workspace", "10"]
SEED += ["--projects-per-workspace", "5", "--tasks-per-project", "200"]
SEARCHES = [
    [
        "search", "acme-1", "AcmeTask",
        "--filter", "status = todo AND priority = high",
        "--fields", "title,status,priority", "--order-by", "title", "--limit", "5",
    ],
    ["search", "acme-1", "AcmeUser", "--fields", "displayName,email,role", "--order-by", "email"],
]  # fmt: skip


def max_command() -> list[str]:
    """The ``max`` console script next to this interpreter, else ``python -m maxtrio.cli``."""
    script = Path(sys.executable).parent / "max"
    return [str(script)] if script.exists() else [sys.executable, "-m", "maxtrio.cli"]


class Demo:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.env = dict(os.environ, MAX_HOME=str(directory / "max-home"))
        self.env.pop("MAX_TARGET", None)

    def show(self, args: list[str], cwd: Path, *, background: bool = False) -> None:
        where = "" if cwd == self.directory else f"{cwd.relative_to(self.directory)}"
        prompt = f"{where}$ " if where else "$ "
        print(f"\n{prompt}max {shlex.join(args)}{' &' if background else ''}", flush=True)

    def run(self, args: list[str], cwd: Path | None = None) -> None:
        """Print ``max ARGS`` and run it with the terminal as its stdout and stderr."""
        directory = cwd or self.directory
        self.show(args, directory)
        done = subprocess.run([*max_command(), *args], cwd=directory, env=self.env, check=False)
        if done.returncode != 0:
            raise SystemExit(f"demo: `max {shlex.join(args)}` exited with {done.returncode}")

    def stop_daemon(self, project: Path) -> None:
        """The launcher may have started the workspace's daemon: stop it with the directory."""
        if project.is_dir():
            subprocess.run(
                [*max_command(), "daemon", "stop"],
                cwd=project,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )

    def start_fake(self) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
        args = ["acme", "start", "--tenant", "demo", "--data-dir", "tenants", "--port", "0"]
        args += ["-o", "json"]
        self.show(args, self.directory, background=True)
        process = subprocess.Popen(
            [*max_command(), *args], cwd=self.directory, env=self.env, stdout=subprocess.PIPE
        )
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        if not line:
            process.wait()
            raise SystemExit("demo: the Acme fake did not start")
        print(line, end="", flush=True)
        return process, json.loads(line)


def first_workspace(url: str, api_key: str) -> str:
    request = urllib.request.Request(
        f"{url}/api/workspaces", headers={"Authorization": f"Bearer {api_key}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.load(response)[0]["id"])


def run_demo(directory: Path) -> None:
    demo = Demo(directory)
    demo.run(["acme", "create", "--tenant", "demo", "--data-dir", "tenants"])
    demo.run(["acme", "seed", "--tenant", "demo", "--data-dir", "tenants", *SEED])
    fake, started = demo.start_fake()
    try:
        token = directory / "token.txt"
        token.write_text(started["apiKey"])
        token.chmod(0o600)
        demo.run(["init", "demo-project"])
        project = directory / "demo-project"
        workspace = first_workspace(started["url"], started["apiKey"])
        demo.run(
            [
                "connect", "acme",
                "--config", f"baseUrl={started['url']}",
                "--config", f"workspaceId={workspace}",
                "--credential", "api_token=@../token.txt",
            ],
            cwd=project,
        )  # fmt: skip
        demo.run(["sync", "acme-1"], cwd=project)
        for search in SEARCHES:
            demo.run(search, cwd=project)
    finally:
        demo.stop_daemon(directory / "demo-project")
        fake.send_signal(signal.SIGTERM)
        fake.wait(timeout=15)
        print("\n(stopped the Acme fake)", flush=True)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="maxtrio-demo-") as tmp:
        try:
            run_demo(Path(tmp))
        except KeyboardInterrupt:
            print("\ndemo interrupted", file=sys.stderr)
            raise SystemExit(130) from None


if __name__ == "__main__":
    main()
