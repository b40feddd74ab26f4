"""Walking a directory tree and reading files: plain blocking functions (run in a thread).

:func:`walk` lists the tree under a root with ``os.scandir`` (one ``stat`` per file):
directories in depth-first order, ``.git`` and ``.max`` never entered, ``.gitignore`` files
honoured the way git does (patterns relative to their directory, deeper files win, an ignored
directory is not entered), then the config's ``exclude`` and ``include`` patterns. Symlinks are
followed to files, never into directories (no loops); a symlink that leads nowhere (broken, a
loop) and a directory that cannot be read are counted in ``skipped``. Sockets, FIFOs and devices
are left alone (opening a FIFO would block).

:func:`read_content` hashes a file and, for text (no NUL byte in the first 8 KiB, valid UTF-8
there), counts its lines and keeps a preview. An unreadable file raises ``OSError``.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import stat
from collections.abc import Sequence
from pathlib import Path

import attrs
import pathspec

NEVER_ENTERED = frozenset({".git", ".max"})
SNIFF_BYTES = 8192
CHUNK_BYTES = 1 << 20
PREVIEW_CHARS = 2000
PREVIEW_LINES = 20


@attrs.frozen
class DirRecord:
    path: str  # relative, "/"-separated; "." for the root
    depth: int


@attrs.frozen
class FileRecord:
    path: str
    directory: str
    size: int
    mtime_ms: int


@attrs.frozen
class Walk:
    directories: list[DirRecord]
    files: list[FileRecord]
    skipped: int


@attrs.frozen
class Content:
    sha256: str
    is_text: bool
    line_count: int | None
    preview: str | None


@attrs.frozen
class _Rules:
    """The ignore rules in force in one directory: (base, spec) pairs, outermost first."""

    gitignores: tuple[tuple[str, pathspec.GitIgnoreSpec], ...]

    def ignored(self, rel: str, is_dir: bool) -> bool:
        verdict = False
        for base, spec in self.gitignores:
            inner = rel[len(base) + 1 :] if base else rel
            result = spec.check_file(inner + "/" if is_dir else inner)
            if result.include is not None:
                verdict = result.include
        return verdict


def _spec(patterns: Sequence[str]) -> pathspec.GitIgnoreSpec | None:
    return pathspec.GitIgnoreSpec.from_lines(patterns) if patterns else None


def walk(
    root: Path,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    gitignore: bool = True,
) -> Walk:
    """Every directory and regular file under ``root`` that the rules keep (module docstring)."""
    include_spec, exclude_spec = _spec(include), _spec(exclude)
    directories: list[DirRecord] = []
    files: list[FileRecord] = []
    skipped = 0
    stack: list[tuple[str, int, _Rules]] = [("", 0, _Rules(()))]
    while stack:
        rel_dir, depth, rules = stack.pop()
        absolute = os.path.join(root, rel_dir) if rel_dir else str(root)
        try:
            with os.scandir(absolute) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            if rel_dir:  # the root itself failing is the caller's error
                skipped += 1
                continue
            raise
        directories.append(DirRecord(rel_dir or ".", depth))
        if gitignore and any(e.name == ".gitignore" for e in entries):
            rules = _with_gitignore(rules, rel_dir, os.path.join(absolute, ".gitignore"))
        children: list[tuple[str, int, _Rules]] = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name in NEVER_ENTERED or rules.ignored(rel, True):
                        continue
                    if exclude_spec is not None and exclude_spec.match_file(rel + "/"):
                        continue
                    children.append((rel, depth + 1, rules))
                    continue
                info = entry.stat(follow_symlinks=True)
            except OSError:  # a broken symlink, a loop, a file gone meanwhile
                skipped += 1
                continue
            if not stat.S_ISREG(info.st_mode):
                continue  # a symlink to a directory (never followed), a FIFO, a socket…
            if rules.ignored(rel, False):
                continue
            if exclude_spec is not None and exclude_spec.match_file(rel):
                continue
            if include_spec is not None and not include_spec.match_file(rel):
                continue
            files.append(
                FileRecord(rel, rel_dir or ".", info.st_size, info.st_mtime_ns // 1_000_000)
            )
        stack.extend(reversed(children))
    return Walk(directories, files, skipped)


def _with_gitignore(rules: _Rules, rel_dir: str, path: str) -> _Rules:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
        spec = pathspec.GitIgnoreSpec.from_lines(lines)
    except (OSError, ValueError, TypeError):
        return rules  # an unreadable or malformed .gitignore ignores nothing
    return _Rules((*rules.gitignores, (rel_dir, spec)))


def read_content(path: str) -> Content:
    """sha256 of the whole file; for text, the line count and a preview (``OSError`` when
    the file cannot be read)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        head = handle.read(CHUNK_BYTES)
        digest.update(head)
        sniff = head[:SNIFF_BYTES]
        is_text = b"\x00" not in sniff and _utf8_prefix(sniff)
        lines = head.count(b"\n")
        last = head[-1:]
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if not is_text:
        return Content(digest.hexdigest(), False, None, None)
    if last and last != b"\n":
        lines += 1  # a last line without a newline still counts
    return Content(digest.hexdigest(), True, lines, _preview(head))


def _utf8_prefix(data: bytes) -> bool:
    """True when ``data`` is UTF-8, allowing a character cut off at the end."""
    for cut in range(4):
        try:
            (data[: len(data) - cut] if cut else data).decode("utf-8")
        except UnicodeDecodeError:
            continue
        return True
    return False


def _preview(head: bytes) -> str:
    text = head[: PREVIEW_CHARS * 4].decode("utf-8", errors="replace")
    kept = text.split("\n", PREVIEW_LINES)[:PREVIEW_LINES]
    return "\n".join(kept)[:PREVIEW_CHARS]


def mime_type(name: str, is_text: bool | None) -> str:
    """The type the name suggests; else text/plain for text, application/octet-stream."""
    guessed, _ = mimetypes.guess_type(name, strict=False)
    if guessed is not None:
        return guessed
    return "text/plain" if is_text else "application/octet-stream"
