"""``python -m maxtrio.remote --root <workspace> [options]``: the process of ``max serve``.

``max serve`` checks its options and the target at the CLI, then becomes this process (the
same PID, terminal and signals), so the server runs in a fresh interpreter with the daemon's
per-command standard streams installed. Exit codes: 0 after SIGINT/SIGTERM, 1 when it cannot
start (one ``Error:`` line and, when there is one, a ``Hint:`` on stderr; never a traceback).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m maxtrio.remote", description=__doc__)
    parser.add_argument("--root", required=True, help="the workspace root (holds max.json)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--read-only", action="store_true")
    parser.add_argument("--token-file", type=Path, default=None)
    parser.add_argument("--output", choices=("text", "json"), default="text")
    parser.add_argument("--certfile", type=Path, default=None)
    parser.add_argument("--keyfile", type=Path, default=None)
    return parser.parse_args(list(argv))


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.__stderr__ or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s max serve: %(message)s", "%H:%M:%S"))
    logger = logging.getLogger("maxtrio.remote")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(sys.argv[1:] if argv is None else argv)
    import trio

    from maxtrio.cli import leaf_exception
    from maxtrio.core import MaxError
    from maxtrio.daemon import routed_stdio, use_task_local_contexts

    from ._server import ServeOptions, serve

    _configure_logging()
    options = ServeOptions(
        root=Path(args.root).resolve(),
        host=args.host,
        port=args.port,
        read_only=args.read_only,
        token_file=args.token_file,
        output=args.output,
        certfile=args.certfile,
        keyfile=args.keyfile,
    )
    use_task_local_contexts()
    try:
        with routed_stdio():
            trio.run(partial(serve, options))
    except BaseException as raised:
        error = leaf_exception(raised)
        if isinstance(error, KeyboardInterrupt):
            return 0
        if not isinstance(error, MaxError):
            logging.getLogger("maxtrio.remote").exception("the server failed")
            return 1
        lines = [f"Error: {error.message}"]
        hint = error.data.get("hint")
        if isinstance(hint, str) and hint:
            lines.append(f"  Hint: {hint}")
        sys.stderr.write("".join(f"{line}\n" for line in lines))
        return 1
    return 0
