"""One server per data dir: an exclusive OS lock on ``<data dir>/maxq.lock``.

Two servers on one ``maxq.db`` would each treat the other's runs as orphans of a dead server —
the second one's startup cleanup used to SIGKILL the first one's running steps and fail its
runs. So a server takes ``fcntl.flock(LOCK_EX | LOCK_NB)`` on the lock file before it opens the
database, and holds it until it has closed it. The kernel drops the lock when the holder dies
in any way (``kill -9`` included), so a crashed server never leaves a stale lock behind: the
next server takes it and cleans up the orphaned runs as usual.

The file holds the holder's pid (for the refusal message only; the lock, not the pid, decides).
Its descriptor is close-on-exec, so scripts never inherit the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from ._errors import ErrDataDirInUse, ErrDataDirUnusable
from ._names import quoted

LOCK_FILE_NAME = "maxq.lock"


class DataDirLock:
    """The held lock of one data dir; :meth:`release` (or process death) gives it back."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, data_dir: Path) -> DataDirLock:
        """Lock ``data_dir`` (created if missing); raise ``flows.data_dir_in_use`` if held,
        ``flows.data_dir_unusable`` if the lock file cannot be made (permissions, …)."""
        shown = f"'{quoted(str(data_dir))}'"
        path = data_dir / LOCK_FILE_NAME
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise ErrDataDirUnusable(
                dir=shown,
                reason=exc.strerror or type(exc).__name__,
                hint="the server needs to create and write files in its data dir",
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise ErrDataDirInUse(
                dir=shown,
                holder=f"pid {holder}" if holder else "another server",
                pid=holder,
                hint=(
                    "stop that server first (SIGTERM), or serve another data dir "
                    "(--data-dir / MAXQ_DATA_DIR)"
                ),
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        return cls(path, fd)

    def release(self) -> None:
        """Unlock and close (the file stays: deleting it would race with the next server)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the last descriptor releases the flock


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
