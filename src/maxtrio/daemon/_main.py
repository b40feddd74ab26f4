"""``python -m maxtrio.daemon --root <workspace>``: run one workspace's daemon.

Started detached by the launcher (``max …`` when no daemon answers) or by ``max daemon
start``; the process claims its directory (lock + socket) before importing anything heavy,
so the command that started it can connect at once. Exits 0 quietly when another daemon
already serves the workspace. Logs to stderr — ``daemon.log`` when the launcher started it.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from max_launcher import Claim, DaemonPaths, claim, launcher_version, max_home


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m maxtrio.daemon", description=__doc__)
    parser.add_argument("--root", required=True, help="the workspace root (holds max.json)")
    parser.add_argument(
        "--idle",
        type=float,
        default=None,
        help="idle timeout in seconds (default: $MAX_DAEMON_IDLE or 900; 0 = never)",
    )
    # Answer requests as if built from another version (tests of the stale path).
    parser.add_argument("--advertise-version", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(list(argv))


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.__stderr__ or sys.stderr)
    handler.setFormatter(
        logging.Formatter(
            f"%(asctime)s [{os.getpid()}] %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S"
        )
    )
    logger = logging.getLogger("maxtrio.daemon")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(sys.argv[1:] if argv is None else argv)
    root = Path(os.path.realpath(args.root))
    paths = DaemonPaths.for_root(str(root), max_home())
    _configure_logging()
    log = logging.getLogger("maxtrio.daemon")
    try:
        claimed = claim(paths)
    except OSError as exc:
        log.error("cannot claim %s: %s", paths.directory, exc)
        return 1
    if claimed is None:
        log.info("another daemon already serves %s; exiting", root)
        return 0
    return serve(root, claimed, args.advertise_version or launcher_version(), args.idle)


def serve(root: Path, claimed: Claim, version: str, idle: float | None) -> int:
    """Run the daemon on an already claimed directory until it stops."""
    import trio

    from maxtrio.core import MaxError

    from ._click_context import use_task_local_contexts
    from ._server import WorkspaceDaemon, idle_seconds_from_env
    from ._stdio import routed_stdio

    log = logging.getLogger("maxtrio.daemon")
    idle_seconds = idle_seconds_from_env() if idle is None else (idle if idle > 0 else None)
    log.info("starting for %s (version %s, idle %s)", root, version, idle_seconds)
    use_task_local_contexts()
    daemon = WorkspaceDaemon(root, claimed, version=version, idle_seconds=idle_seconds)
    try:
        with routed_stdio():
            trio.run(daemon.serve)
    except MaxError as error:
        log.error("%s", error.message)
        return 1
    except BaseException:
        log.exception("the daemon failed")
        return 1
    return 0
