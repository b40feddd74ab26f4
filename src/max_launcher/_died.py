"""What the launcher says when the daemon died while it ran a command that changes things.

Such a command is never run again by the launcher (it may have been partly done — a sync half
way, a connection half written). It exits 1 with one ``Error:`` line and one ``Hint:`` line;
for a sync the hint is the exact command that resumes it, built from the ``sync-started``
messages the daemon sent as each sync began::

    Error: the workspace daemon died while running 'max sync' (the daemon closed the
    connection unexpectedly; it was killed or crashed); the command was not run again.
      Hint: resume the sync with: max sync acme-1 --resume sync-3

The sync itself is left ``running`` in ``data.db`` by the dead process; ``max status`` and
``max sync --resume`` see that its owner is gone and treat it as interrupted (see
``maxtrio.federation``'s sync owner lock). Loaded only on this path.
"""

from __future__ import annotations

import os
import sys

from ._route import TARGET_ENV, scan

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from ._conversation import ConnectionLost
    from ._route import Route

INSTALLATIONS = os.path.join(".max", "installations")


def report_died(lost: ConnectionLost, plan: Route, cwd: str, environ: Mapping[str, str]) -> None:
    """Write the two lines for a daemon that died during ``plan``'s command."""
    _, word = scan(plan.argv)
    command = f"max {word}" if word else "max"
    lines = [
        f"Error: the workspace daemon died while running '{command}' ({lost}; it was killed "
        "or crashed); the command was not run again."
    ]
    commands = (resume_command(s, plan, cwd, environ) for s in lost.syncs)
    resumes = [c for c in commands if c is not None]
    if resumes:
        lines.append(f"  Hint: resume the sync with: {' ; '.join(resumes)}")
    else:
        lines.append(
            "  Hint: it may have been partly done: check with 'max status', then run it again "
            "('max daemon logs' shows why the daemon stopped)."
        )
    if sys.stderr is not None:
        sys.stderr.write("".join(f"{line}\n" for line in lines))
        sys.stderr.flush()


def resume_command(
    started: Mapping[str, object], plan: Route, cwd: str, environ: Mapping[str, str]
) -> str | None:
    """``max sync <inst> --resume <id>`` as the user can type it where they are."""
    sync_id, name, url = started.get("sync"), started.get("installation"), started.get("url")
    if not isinstance(sync_id, str) or not isinstance(name, str):
        return None
    target, _ = scan(plan.argv)
    if target is None and plan.root is not None and not environ.get(TARGET_ENV):
        inside = os.path.join(plan.root, INSTALLATIONS)
        here = os.path.realpath(cwd)
        if here.startswith(inside + os.sep):
            return f"max sync --resume {sync_id}"
        return f"max sync {_quoted(name)} --resume {sync_id}"
    if isinstance(url, str):
        return f"max -t {_quoted(url)} sync --resume {sync_id}"
    return f"max sync {_quoted(name)} --resume {sync_id}"


def _quoted(word: str) -> str:
    if word and all(c.isalnum() or c in "-_.:/@" for c in word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"
