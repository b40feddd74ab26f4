"""Server configuration from the environment and the CLI flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from maxtrio.core import MaxError
from maxtrio.flows import FlowsConfig, ServeOptions


def test_defaults_follow_the_reference(tmp_path: Path) -> None:
    config = FlowsConfig.from_environ(
        {"MAXQ_DATA_DIR": str(tmp_path / "d"), "MAXQ_FLOWS_ROOT": str(tmp_path / "f")}
    )
    assert config.host == "127.0.0.1"
    assert config.port == 5003
    assert config.scheduler_interval_ms == 200
    assert config.scheduler_batch_size == 10
    assert config.max_concurrent_steps == 10
    assert config.max_log_capture == 8192
    assert config.abort_grace_ms == 5000
    assert config.log_level == "info"
    assert config.environment == "development"
    assert config.database_path == tmp_path / "d" / "maxq.db"
    assert config.api_url_for(5003) == "http://localhost:5003/api/v1"


def test_every_variable_is_read(tmp_path: Path) -> None:
    config = FlowsConfig.from_environ(
        {
            "MAXQ_DATA_DIR": "rel/data",
            "MAXQ_FLOWS_ROOT": str(tmp_path),
            "MAXQ_SERVER_HOST": "0.0.0.0",
            "MAXQ_SERVER_PORT": "7000",
            "MAXQ_API_URL": "http://flows.internal/api/v1",
            "MAXQ_SCHEDULER_INTERVAL_MS": "50",
            "MAXQ_SCHEDULER_BATCH_SIZE": "100",
            "MAXQ_MAX_CONCURRENT_STEPS": "0",
            "MAXQ_MAX_LOG_CAPTURE": "16",
            "MAXQ_ABORT_GRACE_MS": "250",
            "LOG_LEVEL": "ERROR",
            "NODE_ENV": "test",
            "MAXQ_API_KEY": "ignored",
        }
    )
    assert config.data_dir.is_absolute()
    assert (config.host, config.port) == ("0.0.0.0", 7000)
    assert config.api_url_for(7000) == "http://flows.internal/api/v1"
    assert config.max_concurrent_steps == 0
    assert (config.scheduler_interval_ms, config.scheduler_batch_size) == (50, 100)
    assert (config.max_log_capture, config.abort_grace_ms) == (16, 250)
    assert (config.log_level, config.environment) == ("error", "test")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MAXQ_DATA_DIR": ""}, "MAXQ_DATA_DIR environment variable is required"),
        ({"MAXQ_DATA_DIR": " "}, "MAXQ_DATA_DIR environment variable is required"),
        ({"MAXQ_FLOWS_ROOT": ""}, "MAXQ_FLOWS_ROOT environment variable is required"),
        ({"MAXQ_SERVER_PORT": "http"}, "MAXQ_SERVER_PORT must be an integer, got 'http'"),
        ({"MAXQ_SERVER_PORT": "70000"}, "MAXQ_SERVER_PORT must be between 0 and 65535"),
        ({"MAXQ_MAX_CONCURRENT_STEPS": "-1"}, "MAXQ_MAX_CONCURRENT_STEPS must be >= 0"),
        ({"MAXQ_SCHEDULER_BATCH_SIZE": "0"}, "MAXQ_SCHEDULER_BATCH_SIZE must be >= 1"),
        ({"MAXQ_ABORT_GRACE_MS": "1.5"}, "MAXQ_ABORT_GRACE_MS must be an integer"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL must be one of"),
    ],
)
def test_bad_values_name_the_variable(environ: dict[str, str], message: str) -> None:
    full = {"MAXQ_DATA_DIR": "d", "MAXQ_FLOWS_ROOT": "f", **environ}
    with pytest.raises(MaxError, match=message):
        FlowsConfig.from_environ(full)


def test_serve_options_export_creates_directories_and_variables(tmp_path: Path) -> None:
    environ = {"MAXQ_SERVER_HOST": "127.0.0.2"}
    ServeOptions(
        port=0,
        data_dir=str(tmp_path / "data"),
        flows_root=str(tmp_path / "flows"),
        max_concurrent_steps=3,
        abort_grace_ms=100,
        log_level="warn",
    ).export(environ)
    assert (tmp_path / "data").is_dir() and (tmp_path / "flows").is_dir()
    assert environ["MAXQ_DATA_DIR"] == str(tmp_path / "data")
    assert environ["MAXQ_SERVER_PORT"] == "0"
    assert environ["MAXQ_MAX_CONCURRENT_STEPS"] == "3"
    assert environ["MAXQ_ABORT_GRACE_MS"] == "100"
    assert environ["LOG_LEVEL"] == "warn"
    assert environ["MAXQ_SERVER_HOST"] == "127.0.0.2"  # not given: the environment stays
    assert "MAXQ_SCHEDULER_BATCH_SIZE" not in environ


def test_serve_options_report_an_uncreatable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(MaxError, match="cannot create MAXQ_DATA_DIR directory"):
        ServeOptions(data_dir=str(blocker / "sub"), flows_root=str(tmp_path)).export({})


def test_public_names_all_resolve_lazily() -> None:
    import maxtrio.flows as flows

    assert sorted(flows.__all__) == sorted(flows._SOURCES)
    for name in flows.__all__:
        assert getattr(flows, name) is not None
