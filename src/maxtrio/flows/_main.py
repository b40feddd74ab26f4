"""Entry points: the environment-driven server and the ``maxq``-compatible command line.

* ``python -m maxtrio.flows`` (:func:`server_main`) reads only the ``MAXQ_*`` environment and
  exits with status 1 and a one-line message when ``MAXQ_DATA_DIR``/``MAXQ_FLOWS_ROOT`` are
  missing or a value is invalid — like the reference's server entry point.
* ``maxtrio-flows`` (:func:`main`) takes the reference CLI's flags, exports them into the
  environment, then runs the same server.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def server_main() -> None:
    """Serve according to the process environment; exit 1 on a configuration error."""
    import functools

    import trio

    from maxtrio.core import MaxError

    from ._config import FlowsConfig
    from ._logging import configure_logging
    from ._server import serve

    try:
        config = FlowsConfig.from_environ(os.environ)
    except MaxError as exc:
        print(f"maxtrio-flows: {exc.message}", file=sys.stderr)
        raise SystemExit(1) from None
    configure_logging(config.log_level)
    try:
        trio.run(functools.partial(serve, config, base_environment=dict(os.environ)))
    except MaxError as exc:  # e.g. the data dir is held by another server
        print(f"maxtrio-flows: {exc.message}", file=sys.stderr)
        hint = exc.data.get("hint")
        if hint:
            print(f"  Hint: {hint}", file=sys.stderr)
        raise SystemExit(1) from None
    except OSError as exc:
        print(f"maxtrio-flows: cannot serve on {config.host}:{config.port}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="maxtrio-flows",
        description="MaxQ-compatible workflow server (maxtrio.flows).",
    )
    add = parser.add_argument
    add("-p", "--port", type=_port, help="server port (default 5003)")
    add("-d", "--data-dir", help="directory of maxq.db (default ./data)")
    add("-f", "--flows", dest="flows_root", help="flows root directory (default ./flows)")
    add("--host", help="bind address (default 127.0.0.1)")
    add("--max-concurrent-steps", type=_non_negative, help="step processes at once (default 10)")
    add("--max-log-capture", type=_non_negative, help="characters kept per stream (default 8192)")
    add("--scheduler-interval", type=_positive, help="scheduler safety-net period, ms (200)")
    add("--scheduler-batch-size", type=_positive, help="steps claimed per pass (default 10)")
    add("--abort-grace-ms", type=_non_negative, help="SIGTERM→SIGKILL grace, ms (default 5000)")
    add(
        "--log-level",
        choices=("trace", "debug", "info", "warn", "error", "fatal"),
        help="server log threshold (default info)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """``maxtrio-flows [options]``: the reference CLI's flags, then serve."""
    from maxtrio.core import MaxError

    from ._config import ServeOptions

    args = build_parser().parse_args(argv)
    options = ServeOptions(
        port=args.port,
        data_dir=args.data_dir,
        flows_root=args.flows_root,
        host=args.host,
        max_concurrent_steps=args.max_concurrent_steps,
        max_log_capture=args.max_log_capture,
        scheduler_interval=args.scheduler_interval,
        scheduler_batch_size=args.scheduler_batch_size,
        abort_grace_ms=args.abort_grace_ms,
        log_level=args.log_level,
    )
    try:
        options.export(os.environ)
    except MaxError as exc:
        print(f"maxtrio-flows: {exc.message}", file=sys.stderr)
        raise SystemExit(1) from None
    server_main()


def _integer(text: str, minimum: int, maximum: int | None = None) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        raise argparse.ArgumentTypeError(f"{value} is out of range")
    return value


def _port(text: str) -> int:
    return _integer(text, 0, 65535)


def _non_negative(text: str) -> int:
    return _integer(text, 0)


def _positive(text: str) -> int:
    return _integer(text, 1)
