"""The git CLI, run as a subprocess, and its machine-readable output parsed into records.

Why the CLI and not libgit2 (docs/dependencies.md): git is already a prerequisite of maxtrio,
``git log --numstat`` computes every commit's per-file line counts in C (20,000 commits in about
a second, where a per-commit diff from Python costs far more), and the user's own git reads
their repository exactly as they do (extensions, alternates, ``safe.directory``).

Every command runs with ``-C <path>``, ``GIT_OPTIONAL_LOCKS=0`` (a sync never takes the index
lock of a repository someone is working in), no pager, no prompts, and options that make the
output independent of the user's config (``--no-renames``, ``--no-textconv``,
``log.showSignature=false``). Output is NUL/US/RS separated and decoded as UTF-8 with
replacement, so no path or message can break the parse.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

import attrs
import trio

from ._errors import ErrGitFailed, ErrGitMissing, ErrNotARepository

RS, US = "\x1e", "\x1f"

#: One commit of ``git log``: sha, parents, author, author time, committer, commit time, body.
LOG_FORMAT = "%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%at%x1f%cn%x1f%ce%x1f%ct%x1f%B%x1f"
AUTHOR_FORMAT = "%x1e%ae%x1f%an%x1f%at"
REF_FORMAT = "%00".join(
    (
        "%(refname)",
        "%(objectname)",
        "%(objecttype)",
        "%(*objectname)",
        "%(*objecttype)",
        "%(upstream:short)",
        "%(HEAD)",
        "%(symref)",
        "%(taggername)",
        "%(taggeremail)",
        "%(taggerdate:unix)",
        "%(contents:subject)",
    )
)
REF_PREFIXES = ("refs/heads", "refs/remotes", "refs/tags")
_ENV = {
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "LC_ALL": "C",
}


@attrs.frozen
class FileStat:
    path: str
    insertions: int | None  # None for a binary file
    deletions: int | None


@attrs.frozen
class CommitRecord:
    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    authored_at: int
    committer_name: str
    committer_email: str
    committed_at: int
    message: str
    files: tuple[FileStat, ...]


@attrs.frozen
class RefRecord:
    """A branch, remote-tracking branch or tag; ``commit`` is the peeled commit (or None)."""

    refname: str
    commit: str | None
    annotated: bool
    upstream: str
    is_head: bool
    tagger_name: str
    tagger_email: str
    tagged_at: int | None
    subject: str

    @property
    def kind(self) -> str:
        return self.refname.split("/", 2)[1]  # heads, remotes, tags

    @property
    def short_name(self) -> str:
        return self.refname.split("/", 2)[2]


@attrs.frozen
class AuthorStats:
    email: str
    name: str  # the name on the author's latest commit
    commits: int
    first_at: int
    last_at: int


@attrs.frozen
class RepositoryInfo:
    head: str  # the branch HEAD is on, or the commit sha when detached, "" when unborn
    head_commit: str | None
    bare: bool
    origin_url: str


class GitRepo:
    """One repository on disk, read through ``git -C <path>``."""

    def __init__(self, path: Path, git: str = "git") -> None:
        self.path = path
        self._git = git

    def __repr__(self) -> str:
        return f"<GitRepo {self.path}>"

    async def run(
        self, *args: str, stdin: bytes | None = None, ok_codes: Sequence[int] = (0,)
    ) -> bytes:
        """The stdout of ``git <args>``; a non-zero exit is ``connector-git.git_failed``."""
        if not self.path.is_dir():
            raise ErrNotARepository(
                path=str(self.path), reason="no such directory", connector="git"
            )
        command = [self._git, "-C", str(self.path), "-c", "log.showSignature=false", *args]
        try:
            done = await trio.run_process(
                command,
                stdin=stdin if stdin is not None else subprocess.DEVNULL,
                capture_stdout=True,
                capture_stderr=True,
                check=False,
                env={**os.environ, **_ENV},
            )
        except FileNotFoundError as exc:
            raise ErrGitMissing(reason=str(exc), connector="git") from None
        if done.returncode not in ok_codes:
            raise ErrGitFailed(
                command=args[0],
                path=str(self.path),
                reason=first_line(done.stderr) or f"exit status {done.returncode}",
                connector="git",
            )
        return bytes(done.stdout)

    async def check(self) -> None:
        """Raise ``connector-git.not_a_repository`` unless the path is a repository."""
        if not self.path.exists():
            raise ErrNotARepository(path=str(self.path), reason="no such path", connector="git")
        if not self.path.is_dir():
            raise ErrNotARepository(path=str(self.path), reason="not a directory", connector="git")
        try:
            await self.run("rev-parse", "--git-dir")
        except Exception as exc:
            if ErrGitFailed.matches(exc):
                reason = str(getattr(exc, "data", {}).get("reason", "not a repository"))
                raise ErrNotARepository(
                    path=str(self.path), reason=reason, connector="git"
                ) from None
            raise

    async def info(self) -> RepositoryInfo:
        out = await self.run(
            "rev-parse", "--is-bare-repository", "--symbolic-full-name", "HEAD", ok_codes=(0, 128)
        )
        lines = decode(out).splitlines()
        bare = bool(lines) and lines[0] == "true"
        symbolic = lines[1] if len(lines) > 1 else ""
        commit_out = await self.run("rev-parse", "--verify", "-q", "HEAD^{commit}", ok_codes=(0, 1))
        head_commit = decode(commit_out).strip() or None
        if symbolic.startswith("refs/heads/"):
            head = symbolic[len("refs/heads/") :]
        elif symbolic == "HEAD" or not symbolic:
            head = head_commit or await self._unborn_branch()
        else:
            head = symbolic
        origin = await self.run("config", "--get", "remote.origin.url", ok_codes=(0, 1))
        return RepositoryInfo(head, head_commit, bare, decode(origin).strip())

    async def _unborn_branch(self) -> str:
        out = await self.run("symbolic-ref", "-q", "--short", "HEAD", ok_codes=(0, 1, 128))
        return decode(out).strip()

    async def refs(self) -> list[RefRecord]:
        out = await self.run("for-each-ref", f"--format={REF_FORMAT}", *REF_PREFIXES)
        return parse_refs(decode(out))

    async def tips(self) -> dict[str, str]:
        """Every branch, remote-tracking branch and tag that points at a commit, and HEAD:
        ref name → commit sha. The commits a sync mirrors are those reachable from these."""
        tips = {ref.refname: ref.commit for ref in await self.refs() if ref.commit is not None}
        head = await self.run("rev-parse", "--verify", "-q", "HEAD^{commit}", ok_codes=(0, 1))
        sha = decode(head).strip()
        if sha:
            tips["HEAD"] = sha
        return tips

    async def rev_list(self, include: Sequence[str], exclude: Sequence[str] = ()) -> list[str]:
        """Commits reachable from ``include`` and not from ``exclude``, newest first."""
        if not include:
            return []
        lines = [*include, *(f"^{sha}" for sha in exclude)]
        out = await self.run("rev-list", "--stdin", stdin=("\n".join(lines) + "\n").encode())
        return decode(out).split()

    async def commits(self, shas: Sequence[str]) -> list[CommitRecord]:
        """These commits with their per-file line counts (merges list no files)."""
        if not shas:
            return []
        out = await self.run(
            "log",
            "--no-walk=unsorted",
            "--stdin",
            "-z",
            "--no-renames",
            "--no-textconv",
            "--no-ext-diff",
            "--no-color",
            "--numstat",
            f"--format={LOG_FORMAT}",
            stdin=("\n".join(shas) + "\n").encode(),
        )
        return parse_log(decode(out))

    async def authors(self, shas: Sequence[str], *, walk: bool = True) -> list[AuthorStats]:
        """Every author of the commits reachable from ``shas`` (of just those commits when
        ``walk`` is False), with their counts and first/last commit times."""
        if not shas:
            return []
        no_walk = () if walk else ("--no-walk=unsorted",)
        out = await self.run(
            "log",
            *no_walk,
            "--stdin",
            f"--format={AUTHOR_FORMAT}",
            stdin=("\n".join(shas) + "\n").encode(),
        )
        return parse_authors(decode(out))


def decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def first_line(data: bytes) -> str:
    for line in decode(data).splitlines():
        if line.strip():
            return line.strip()[:300]
    return ""


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def parse_log(text: str) -> list[CommitRecord]:
    """``git log -z --numstat --format=LOG_FORMAT`` → records (see the format above)."""
    records: list[CommitRecord] = []
    for chunk in text.split(RS)[1:]:
        parts = chunk.split(US, 9)
        if len(parts) < 10:
            continue
        sha, parents, a_name, a_email, a_at, c_name, c_email, c_at, message, rest = parts
        files: list[FileStat] = []
        for entry in rest.split("\x00"):
            entry = entry.strip("\n")
            if not entry:
                continue
            ins, sep1, tail = entry.partition("\t")
            dels, sep2, path = tail.partition("\t")
            if not sep1 or not sep2:
                continue
            binary = ins == "-"
            files.append(
                FileStat(path, None if binary else _int(ins), None if binary else _int(dels))
            )
        records.append(
            CommitRecord(
                sha,
                tuple(parents.split()),
                a_name,
                a_email,
                _int(a_at),
                c_name,
                c_email,
                _int(c_at),
                message.rstrip("\n"),
                tuple(files),
            )
        )
    return records


def parse_refs(text: str) -> list[RefRecord]:
    refs: list[RefRecord] = []
    for line in text.split("\n"):
        fields = line.split("\x00")
        if len(fields) < 12:
            continue
        name, obj, obj_type, peeled, peeled_type, upstream, head, symref = fields[:8]
        tagger, tagger_email, tagged_at, subject = fields[8:12]
        if symref:  # origin/HEAD and the like: an alias, not a branch
            continue
        annotated = obj_type == "tag"
        commit_type = peeled_type if annotated else obj_type
        commit = (peeled if annotated else obj) if commit_type == "commit" else None
        refs.append(
            RefRecord(
                name,
                commit,
                annotated,
                upstream,
                head.strip() == "*",
                tagger,
                tagger_email.strip().strip("<>"),
                _int(tagged_at) if tagged_at else None,
                subject if annotated else "",
            )
        )
    return refs


def parse_authors(text: str) -> list[AuthorStats]:
    """``git log --format=AUTHOR_FORMAT`` → one :class:`AuthorStats` per author id, by id."""
    stats: dict[str, AuthorStats] = {}
    for chunk in text.split(RS)[1:]:
        parts = chunk.rstrip("\n").split(US)
        if len(parts) < 3:
            continue
        email, name, at = parts[0], parts[1], _int(parts[2])
        key = author_id(email, name)
        seen = stats.get(key)
        if seen is None:
            stats[key] = AuthorStats(email, name, 1, at, at)
            continue
        latest = at > seen.last_at
        stats[key] = AuthorStats(
            email if latest else seen.email,
            name if latest else seen.name,
            seen.commits + 1,
            min(seen.first_at, at),
            at if latest else seen.last_at,
        )
    return [stats[key] for key in sorted(stats)]


def author_id(email: str, name: str) -> str:
    """An author's id: the email lower-cased, or the name when the commit has no email."""
    return email.strip().lower() or name.strip() or "(unknown)"
