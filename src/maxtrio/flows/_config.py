"""Server configuration: the ``MAXQ_*`` environment and the CLI flags (docs/flows.md).

:meth:`FlowsConfig.from_environ` is the one place environment values are parsed and checked; a
bad value raises ``flows.invalid_config`` with a one-line message naming the variable.
:class:`ServeOptions` is what both command lines (``maxtrio-flows`` and ``max flows serve``)
collect; :meth:`ServeOptions.export` turns the flags into that same environment, exactly as the
reference CLI does, so there is only one parser.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path

import attrs

from ._errors import ErrInvalidConfig

LOG_LEVELS = ("trace", "debug", "info", "warn", "error", "fatal")


@attrs.frozen
class FlowsConfig:
    """Everything the server reads at startup."""

    data_dir: Path
    flows_root: Path
    host: str = "127.0.0.1"
    port: int = 5003
    api_url: str | None = None
    scheduler_interval_ms: int = 200
    scheduler_batch_size: int = 10
    max_concurrent_steps: int = 10
    max_log_capture: int = 8192
    abort_grace_ms: int = 5000
    log_level: str = "info"
    environment: str = "development"
    api_key: str | None = attrs.field(default=None, repr=False)  # never shown or logged

    @property
    def database_path(self) -> Path:
        return self.data_dir / "maxq.db"

    def api_url_for(self, bound_port: int) -> str:
        """``MAXQ_API`` for scripts: the explicit URL, else ``localhost`` and the bound port."""
        return self.api_url or f"http://localhost:{bound_port}/api/v1"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> FlowsConfig:
        """Parse and validate the server environment; raise ``flows.invalid_config``."""
        data_dir = _required_dir(environ, "MAXQ_DATA_DIR")
        flows_root = _required_dir(environ, "MAXQ_FLOWS_ROOT")
        log_level = (environ.get("LOG_LEVEL") or "info").strip().lower()
        if log_level not in LOG_LEVELS:
            raise ErrInvalidConfig(
                reason=f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}"
            )
        return cls(
            data_dir=data_dir,
            flows_root=flows_root,
            host=environ.get("MAXQ_SERVER_HOST") or "127.0.0.1",
            port=_int(environ, "MAXQ_SERVER_PORT", 5003, minimum=0, maximum=65535),
            api_url=environ.get("MAXQ_API_URL") or None,
            scheduler_interval_ms=_int(environ, "MAXQ_SCHEDULER_INTERVAL_MS", 200, minimum=1),
            scheduler_batch_size=_int(environ, "MAXQ_SCHEDULER_BATCH_SIZE", 10, minimum=1),
            max_concurrent_steps=_int(environ, "MAXQ_MAX_CONCURRENT_STEPS", 10, minimum=0),
            max_log_capture=_int(environ, "MAXQ_MAX_LOG_CAPTURE", 8192, minimum=0),
            abort_grace_ms=_int(environ, "MAXQ_ABORT_GRACE_MS", 5000, minimum=0),
            log_level=log_level,
            environment=environ.get("NODE_ENV") or "development",
            api_key=environ.get("MAXQ_API_KEY") or None,
        )


def _required_dir(environ: Mapping[str, str], name: str) -> Path:
    value = environ.get(name, "")
    if not value.strip():
        raise ErrInvalidConfig(reason=f"{name} environment variable is required")
    return Path(os.path.abspath(value))


def _int(
    environ: Mapping[str, str],
    name: str,
    default: int,
    *,
    minimum: int,
    maximum: int | None = None,
) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        raise ErrInvalidConfig(reason=f"{name} must be an integer, got {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ErrInvalidConfig(reason=f"{name} must be {bound}, got {value}")
    return value


@attrs.frozen
class ServeOptions:
    """The reference CLI's flags; ``None`` means "not given on the command line".

    A flag that is not given falls back to the variable already in the environment, then to the
    reference default (the reference CLI always overwrites; falling back is a strict superset).
    """

    port: int | None = None
    data_dir: str | None = None
    flows_root: str | None = None
    host: str | None = None
    max_concurrent_steps: int | None = None
    max_log_capture: int | None = None
    scheduler_interval: int | None = None
    scheduler_batch_size: int | None = None
    abort_grace_ms: int | None = None
    log_level: str | None = None

    def export(self, environ: MutableMapping[str, str]) -> None:
        """Resolve and create both directories, then write the ``MAXQ_*`` variables."""
        data_dir = self.data_dir or environ.get("MAXQ_DATA_DIR") or "./data"
        flows_root = self.flows_root or environ.get("MAXQ_FLOWS_ROOT") or "./flows"
        for name, value in (("MAXQ_DATA_DIR", data_dir), ("MAXQ_FLOWS_ROOT", flows_root)):
            path = Path(os.path.abspath(value))
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ErrInvalidConfig(
                    reason=f"cannot create {name} directory {str(path)!r}: {exc.strerror}"
                ) from None
            environ[name] = str(path)
        numbers = {
            "MAXQ_SERVER_PORT": self.port,
            "MAXQ_MAX_CONCURRENT_STEPS": self.max_concurrent_steps,
            "MAXQ_MAX_LOG_CAPTURE": self.max_log_capture,
            "MAXQ_SCHEDULER_INTERVAL_MS": self.scheduler_interval,
            "MAXQ_SCHEDULER_BATCH_SIZE": self.scheduler_batch_size,
            "MAXQ_ABORT_GRACE_MS": self.abort_grace_ms,
        }
        for name, number in numbers.items():
            if number is not None:
                environ[name] = str(number)
        if self.host is not None:
            environ["MAXQ_SERVER_HOST"] = self.host
        if self.log_level is not None:
            environ["LOG_LEVEL"] = self.log_level
