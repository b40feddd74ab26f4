"""The offline connectors (git, files, claude-code) syncing generated sources, as a user runs them.

Each measurement builds its source in a temp directory, makes a workspace with its own
``MAX_HOME`` (``max init``, ``max connect``) and times ``max sync`` as a real process, so the
figure includes the process start (≈ 0.3 s) — what a person or an agent waits for. Prints one
JSON object per line:

* ``{"name": "git_sync", "commits", "seconds"}`` — a repository of ``--commits`` commits
  (default 20,000; ``git fast-import``, 1 file changed per commit), full sync; then
  ``{"name": "git_resync", "commits", "seconds"}`` — 10 new commits, an incremental sync;
* ``{"name": "files_sync", "files", "seconds"}`` — a tree of ``--files`` files (default 50,000,
  in 500 directories, text and binary, a ``.gitignore``), full sync; then
  ``{"name": "files_resync", "files", "seconds"}`` — the same tree unchanged;
* ``{"name": "claude_sync", "messages", "seconds"}`` — ``--messages`` messages (default
  100,000) in 200 session logs over 10 projects (a tool call in one message of four), full
  sync; then ``{"name": "claude_resync", …}`` — nothing appended, an incremental sync.

Usage: ``python benchmarks/connectors.py [--only git|files|claude] [--commits N] [--files N]
[--messages N]``. Targets (issue 14): git ≤ 10 s, files ≤ 15 s and re-sync ≤ 2 s, claude ≤ 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
MAX = str(BIN / "max")


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


class Workspace:
    """A workspace in ``base`` with its own MAX_HOME; ``max`` runs as a real process."""

    def __init__(self, base: Path) -> None:
        self.root = base / "ws"
        self.env = {**os.environ, "MAX_HOME": str(base / "home")}
        self.env.pop("MAX_TARGET", None)
        self.run("init", str(self.root), cwd=base)

    def run(self, *args: str, cwd: Path | None = None) -> str:
        done = subprocess.run(
            [MAX, *args],
            cwd=cwd or self.root,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            raise SystemExit(f"max {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def close(self) -> None:
        """Stop the workspace daemon the ``max`` runs started."""
        subprocess.run(
            [MAX, "daemon", "stop"], cwd=self.root, env=self.env, capture_output=True, check=False
        )

    def timed_sync(self, name: str) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        out = self.run("sync", name, "-o", "json")
        seconds = time.perf_counter() - started
        result: dict[str, Any] = json.loads(out)
        if result["status"] != "completed":
            raise SystemExit(f"sync {name} did not complete: {result}")
        return round(seconds, 3), result


# -- git ---------------------------------------------------------------------------------------


def fast_import_stream(commits: int, start: int = 1, parent: str | None = None) -> Iterator[bytes]:
    when = 1_700_000_000
    for i in range(start, start + commits):
        path = f"src/mod{i % 200}/file{i % 37}.txt"
        data = f"line {i}\n".encode() * (1 + i % 5)
        message = f"Change {i}\n\nBody of commit {i}\n".encode()
        author = f"Dev{i % 13} <dev{i % 13}@example.com> {when + i * 60} +0000"
        yield f"commit refs/heads/main\nmark :{i}\nauthor {author}\ncommitter {author}\n".encode()
        yield f"data {len(message)}\n".encode() + message
        if i > start:
            yield f"from :{i - 1}\n".encode()
        elif parent is not None:
            yield f"from {parent}\n".encode()
        yield f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n"


def make_repository(path: Path, commits: int) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    feed(path, fast_import_stream(commits))


def feed(path: Path, stream: Iterator[bytes]) -> None:
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet"],
        input=b"".join(stream),
        check=True,
    )


def bench_git(base: Path, commits: int) -> None:
    repo = base / "repo"
    make_repository(repo, commits)
    ws = Workspace(base)
    ws.run("connect", "git", "--name", "repo", "--config", f"path={repo}")
    seconds, _ = ws.timed_sync("repo")
    emit(name="git_sync", commits=commits, seconds=seconds)
    tip = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "main"], capture_output=True, text=True, check=True
    ).stdout.strip()
    feed(repo, fast_import_stream(10, start=commits + 1, parent=tip))
    seconds, result = ws.timed_sync("repo")
    emit(name="git_resync", commits=10, seconds=seconds, mode=result["mode"])
    ws.close()


# -- files -------------------------------------------------------------------------------------


def make_tree(root: Path, files: int, directories: int = 500) -> None:
    """``files`` files in ``directories`` directories (two levels), 1 in 10 binary, a
    ``.gitignore`` that leaves out one more directory of 100 files."""
    per = max(1, files // directories)
    made = 0
    for d in range(directories):
        folder = root / f"pkg{d // 25}" / f"mod{d}"
        folder.mkdir(parents=True, exist_ok=True)
        for f in range(per if d < directories - 1 else files - made):
            if f % 10 == 9:
                (folder / f"blob{f}.bin").write_bytes(bytes(range(256)) * (1 + f % 4))
            else:
                (folder / f"file{f}.py").write_text(f"# module {d}/{f}\n" + "x = 1\n" * (f % 30))
            made += 1
    (root / "build").mkdir()
    for f in range(100):
        (root / "build" / f"out{f}.o").write_bytes(b"\x00" * 64)
    (root / ".gitignore").write_text("build/\n*.pyc\n")


def bench_files(base: Path, files: int) -> None:
    tree = base / "tree"
    make_tree(tree, files)
    ws = Workspace(base)
    ws.run("connect", "files", "--name", "tree", "--config", f"root={tree}")
    seconds, _ = ws.timed_sync("tree")
    emit(name="files_sync", files=files, seconds=seconds)
    seconds, result = ws.timed_sync("tree")
    emit(name="files_resync", files=files, seconds=seconds, removed=result["removed"])
    ws.close()


# -- claude-code -------------------------------------------------------------------------------

PROSE = (
    "I looked at the failing test and the stack trace points at the session handling in the "
    "login module. The token is refreshed after the cookie is written, so the second request "
    "reads a stale value. "
)


def claude_record(session: str, n: int, cwd: str) -> dict[str, Any]:
    """Message ``n`` of a session: user prompts, assistant answers with a tool call every
    other time, and the tool results, in Claude Code's record shape."""
    base = {
        "parentUuid": f"{session}-{n - 1}" if n else None,
        "isSidechain": False,
        "userType": "external",
        "cwd": cwd,
        "sessionId": session,
        "version": "1.0.51",
        "gitBranch": "main",
        "uuid": f"{session}-{n}",
        "timestamp": f"2025-06-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}.000Z",
    }
    step = n % 4
    if step == 0:
        return {**base, "type": "user", "message": {"role": "user", "content": PROSE[:80]}}
    if step in (1, 3):
        content: list[dict[str, Any]] = [{"type": "text", "text": PROSE * (1 + n % 3)}]
        if step == 1:
            command = {"command": f"pytest tests/test_{n}.py -q", "description": "run tests"}
            content.append({"type": "tool_use", "id": f"toolu_{session}_{n}", "name": "Bash",
                            "input": command})  # fmt: skip
        usage = {"input_tokens": 12, "output_tokens": 140, "cache_read_input_tokens": 9000,
                 "cache_creation_input_tokens": 300}  # fmt: skip
        message = {"id": f"msg_{session}_{n}", "type": "message", "role": "assistant",
                   "model": "claude-sonnet-4", "content": content, "usage": usage}  # fmt: skip
        return {**base, "type": "assistant", "message": message}
    result = {"type": "tool_result", "tool_use_id": f"toolu_{session}_{n - 1}",
              "content": "3 passed in 0.41s", "is_error": n % 20 == 2}  # fmt: skip
    return {**base, "type": "user", "message": {"role": "user", "content": [result]}}


def make_claude_logs(root: Path, messages: int, sessions: int = 200, projects: int = 10) -> None:
    per = messages // sessions
    for s in range(sessions):
        project = root / f"-home-dev-src-project{s % projects}"
        project.mkdir(parents=True, exist_ok=True)
        session = f"{s:08d}-0000-4000-8000-000000000000"
        cwd = f"/home/dev/src/project{s % projects}"
        count = per if s < sessions - 1 else messages - per * (sessions - 1)
        lines = [json.dumps(claude_record(session, n, cwd)) for n in range(count)]
        (project / f"{session}.jsonl").write_text("\n".join(lines) + "\n")


def bench_claude(base: Path, messages: int) -> None:
    logs = base / "projects"
    make_claude_logs(logs, messages)
    ws = Workspace(base)
    ws.run("connect", "claude-code", "--name", "claude", "--config", f"root={logs}")
    seconds, _ = ws.timed_sync("claude")
    emit(name="claude_sync", messages=messages, seconds=seconds)
    seconds, result = ws.timed_sync("claude")
    emit(name="claude_resync", messages=0, seconds=seconds, mode=result["mode"])
    ws.close()


BENCHES: dict[str, Callable[[Path, argparse.Namespace], None]] = {
    "git": lambda base, args: bench_git(base, args.commits),
    "files": lambda base, args: bench_files(base, args.files),
    "claude": lambda base, args: bench_claude(base, args.messages),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=sorted(BENCHES))
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--messages", type=int, default=100_000)
    args = parser.parse_args()
    for name, bench in BENCHES.items():
        if args.only is not None and name != args.only:
            continue
        with tempfile.TemporaryDirectory(prefix=f"maxtrio-bench-{name}-") as tmp:
            bench(Path(tmp), args)


if __name__ == "__main__":
    main()
