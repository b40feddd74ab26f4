"""The file rules (docs/federation.md): atomic JSON writes, an advisory lock, one-line errors.

* :func:`write_json` writes the reference's format (2-space indent, keys in insertion order,
  non-ASCII kept, a trailing newline) to a temp file in the same directory, fsyncs it and
  ``os.replace``\\ s it over the target, so a crash mid-write leaves the old file whole. A new
  file gets mode 0644 and an existing one keeps its mode; ``private=True`` files are always
  0600 in 0700 directories.
* :func:`locked` holds an exclusive ``fcntl.flock`` on a lock file for a read-modify-write, so
  two processes adding entries at once both land (no long-lived in-memory copy anywhere).
* :func:`make_private_dirs` creates the 0700 directories of ``~/.max`` and ``.max/``.
* :func:`read_json_object` reads a JSON object; a file that cannot be read or parsed (nested
  too deeply included), or is not an object, raises ``app.file_invalid`` naming the file and
  the problem in one line, with a hint.

Everything here blocks: callers run it in a worker thread (``trio.to_thread.run_sync``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from maxtrio.core import MaxError

from ._errors import ErrFileInvalid, ErrFileWriteFailed

PUBLIC_FILE_MODE = 0o644
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents with mode 0700 (whatever the umask);
    directories that already exist are left as they are."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            continue
        path.chmod(PRIVATE_DIR_MODE)


def dumps(value: Any, *, trailing_newline: bool = True) -> str:
    """JSON as the reference writes it: ``JSON.stringify(value, null, 2)`` (+ ``\\n``)."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text + "\n" if trailing_newline else text


def write_text_atomic(path: Path, text: str, *, private: bool = False) -> None:
    """Replace ``path`` with ``text`` atomically (temp file + fsync + rename + dir fsync).

    An OS error (permissions, a full disk…) is ``app.file_write_failed`` naming the file.
    """
    try:
        _write_text_atomic(path, text, private=private)
    except OSError as exc:
        raise ErrFileWriteFailed(path=str(path), reason=_os_reason(exc)) from exc


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _write_text_atomic(path: Path, text: str, *, private: bool) -> None:
    directory = path.parent
    if private:
        make_private_dirs(directory)
    else:
        directory.mkdir(parents=True, exist_ok=True)
    if private:
        mode = PRIVATE_FILE_MODE  # always, even over a file a reference checkout left 0644
    else:
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = PUBLIC_FILE_MODE
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_json(path: Path, value: Any, *, private: bool = False) -> None:
    """:func:`write_text_atomic` of :func:`dumps` ``(value)``."""
    write_text_atomic(path, dumps(value), private=private)


def read_json_object(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``; None when the file does not exist."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise invalid_file(path, "it is a directory") from None
    except OSError as exc:
        raise invalid_file(path, _os_reason(exc)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid_file(path, "it is not UTF-8 text") from None
    if not text.strip():
        raise invalid_file(path, "it is empty (expected a JSON object)")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        problem = f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise invalid_file(path, problem) from None
    except RecursionError:  # hostile or broken input: arrays/objects nested thousands deep
        raise invalid_file(path, "JSON nested too deeply to read") from None
    if not isinstance(value, dict):
        problem = f"expected a JSON object, found {_json_kind(value)}"
        raise invalid_file(path, problem)
    return value


def invalid_file(path: Path, problem: str) -> MaxError:
    """``app.file_invalid`` for ``path`` with the hint to mend or restore it."""
    return ErrFileInvalid(
        path=str(path),
        problem=problem,
        hint=f"fix {path.name} by hand, or restore it from version control or a backup",
    )


@contextlib.contextmanager
def locked(lock_path: Path, *, private: bool = True) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``lock_path`` (created if missing) for the block."""
    try:
        if private:
            make_private_dirs(lock_path.parent)
        else:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    except OSError as exc:
        raise ErrFileWriteFailed(path=str(lock_path), reason=_os_reason(exc)) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null"
