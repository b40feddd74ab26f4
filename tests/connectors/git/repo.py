"""Real git repositories for the tests, made with the git CLI in temp directories."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

T0 = 1_700_000_000


class Repo:
    """A work tree with helpers to commit files as a given author at a given time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.clock = T0
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, author: tuple[str, str] = ("Ann Lee", "ann@example.com")) -> str:
        self.clock += 60
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_COMMITTER_NAME": author[0],
            "GIT_COMMITTER_EMAIL": author[1],
            "GIT_AUTHOR_DATE": f"{self.clock} +0000",
            "GIT_COMMITTER_DATE": f"{self.clock} +0000",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(self.path),
        }
        done = subprocess.run(
            ["git", "-C", str(self.path), *args], env=env, capture_output=True, check=True
        )
        return done.stdout.decode().strip()

    def commit(
        self,
        message: str,
        files: dict[str, str | bytes],
        author: tuple[str, str] = ("Ann Lee", "ann@example.com"),
    ) -> str:
        for name, content in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message, author=author)
        return self.git("rev-parse", "HEAD")
