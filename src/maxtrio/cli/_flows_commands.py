"""`max flows …` commands. Heavy imports happen inside the commands, never at module top.

``max flows serve`` runs the MaxQ-compatible server (the reference CLI's flags); the other
commands are a client for people: ``runs``, ``run``, ``logs``, ``abort``, ``pause``,
``resume`` and ``retry``, each with ``-o json`` for scripts.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncclick as click

F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def _one_line_errors() -> Iterator[None]:
    """Flows errors (unreachable server, 4xx answers) become ``Error: <message>``, exit 1."""
    from maxtrio.core import MaxError

    try:
        yield
    except MaxError as err:
        raise click.ClickException(err.message) from None


def _client_options(command: F) -> F:
    command = click.option(
        "-o",
        "--output",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="Output format.",
    )(command)
    command = click.option(
        "--server",
        metavar="URL",
        envvar="MAXQ_API_URL",
        default=None,
        help="API base URL [env MAXQ_API_URL; default http://localhost:5003/api/v1].",
    )(command)
    return command


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _time(ms: Any) -> str:
    if not isinstance(ms, int):
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _duration(run: dict[str, Any]) -> str:
    duration = run.get("durationMs")
    return f"{duration / 1000:.2f}s" if isinstance(duration, int) else "-"


def _table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in [header, *rows]:
        click.echo(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )


def _run_line(run: dict[str, Any]) -> str:
    reason = f" ({run['terminationReason']})" if run.get("terminationReason") else ""
    return f"{run['id']}  {run['flowName']}  {run['status']}{reason}"


def _parse_json_option(value: str | None, name: str) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint=name) from None


def _api_url(server: str | None) -> str:
    from maxtrio.flows import default_api_url

    return server or default_api_url()


@click.group(name="flows")
def flows() -> None:
    """The MaxQ-compatible workflow engine: serve it, or drive its runs.

    \b
    Examples:
      max flows serve -p 5003 -d ./data -f ./flows
      max flows run hello --wait
      max flows runs --status failed -o json
      max flows retry 3f2c… --step fetch
    """


# -- serve --------------------------------------------------------------------------------------


@flows.command()
@click.option("-p", "--port", type=click.IntRange(0, 65535), help="Server port [default 5003].")
@click.option("-d", "--data-dir", help="Directory of maxq.db [default ./data].")
@click.option("-f", "--flows", "flows_root", help="Flows root directory [default ./flows].")
@click.option("--host", help="Bind address [default 127.0.0.1].")
@click.option("--max-concurrent-steps", type=click.IntRange(0), help="Step processes at once [10].")
@click.option(
    "--max-log-capture", type=click.IntRange(0), help="Characters kept per stream [8192]."
)
@click.option("--scheduler-interval", type=click.IntRange(1), help="Safety-net period, ms [200].")
@click.option("--scheduler-batch-size", type=click.IntRange(1), help="Steps claimed per pass [10].")
@click.option("--abort-grace-ms", type=click.IntRange(0), help="SIGTERM→SIGKILL grace, ms [5000].")
@click.option(
    "--log-level",
    type=click.Choice(["trace", "debug", "info", "warn", "error", "fatal"]),
    help="Server log threshold [info].",
)
@click.option(
    "--database-url",
    metavar="URL",
    help="Flows tables in this PostgreSQL database (postgresql://…) instead of maxq.db "
    "[env MAXQ_DATABASE_URL, which keeps the password off the command line].",
)
async def serve(
    port: int | None,
    data_dir: str | None,
    flows_root: str | None,
    host: str | None,
    max_concurrent_steps: int | None,
    max_log_capture: int | None,
    scheduler_interval: int | None,
    scheduler_batch_size: int | None,
    abort_grace_ms: int | None,
    log_level: str | None,
    database_url: str | None,
) -> None:
    """Serve the flows API (flags override the MAXQ_* environment; SIGTERM stops it)."""
    import os

    from maxtrio.flows import FlowsConfig, ServeOptions, configure_logging
    from maxtrio.flows import serve as serve_flows

    options = ServeOptions(
        port=port,
        data_dir=data_dir,
        flows_root=flows_root,
        host=host,
        max_concurrent_steps=max_concurrent_steps,
        max_log_capture=max_log_capture,
        scheduler_interval=scheduler_interval,
        scheduler_batch_size=scheduler_batch_size,
        abort_grace_ms=abort_grace_ms,
        log_level=log_level,
        database_url=database_url,
    )
    with _one_line_errors():
        options.export(os.environ)
        config = FlowsConfig.from_environ(os.environ)
    configure_logging(config.log_level)
    try:
        await serve_flows(config, base_environment=dict(os.environ))
    except OSError as exc:
        raise click.ClickException(f"cannot serve on {config.host}:{config.port}: {exc}") from None


# -- client commands ------------------------------------------------------------------------------


@flows.command()
@click.argument("run_id", required=False)
@click.option("--flow", "flow_name", help="Only runs of this flow.")
@click.option("--status", help="Only runs with this status.")
@click.option("--limit", type=click.IntRange(0), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0, show_default=True)
@_client_options
async def runs(
    run_id: str | None,
    flow_name: str | None,
    status: str | None,
    limit: int,
    offset: int,
    server: str | None,
    output: str,
) -> None:
    """List runs, newest first — or show one run and its steps."""
    from maxtrio.flows import FlowsClient

    with _one_line_errors():
        async with FlowsClient(_api_url(server)) as client:
            if run_id is None:
                page = await client.list_runs(
                    flow_name=flow_name, status=status, limit=limit, offset=offset
                )
                if output == "json":
                    _print_json(page)
                    return
                rows = [
                    [r["id"], r["flowName"], r["status"], _time(r["createdAt"]), _duration(r)]
                    for r in page["data"]
                ]
                _table(rows, ["ID", "FLOW", "STATUS", "CREATED", "DURATION"])
                total = page["pagination"]["total"]
                click.echo(f"{len(rows)} of {total} runs")
                return
            run = await client.get_run(run_id)
            steps = (await client.fields(run_id))["fields"]
    if output == "json":
        _print_json({"run": run, "steps": steps})
        return
    click.echo(_run_line(run))
    for key in ("flowTitle", "name", "createdAt", "startedAt", "completedAt"):
        if key in run:
            value = _time(run[key]) if key.endswith("At") else run[key]
            click.echo(f"  {key}: {value}")
    click.echo(f"  duration: {_duration(run)}")
    if steps:
        click.echo("")
        _table(
            [[s["stageName"] or "-", s["stepId"], s["stepName"], s["status"]] for s in steps],
            ["STAGE", "STEP", "SCRIPT", "STATUS"],
        )


@flows.command()
@click.argument("flow_name")
@click.option("--input", "input_json", metavar="JSON", help="Run input (any JSON value).")
@click.option("--metadata", "metadata_json", metavar="JSON", help="Run metadata (any JSON).")
@click.option("--wait/--no-wait", default=False, help="Wait until the run settles.")
@_client_options
async def run(
    flow_name: str,
    input_json: str | None,
    metadata_json: str | None,
    wait: bool,
    server: str | None,
    output: str,
) -> None:
    """Start a run of FLOW_NAME (exit 1 with --wait if it does not complete)."""
    from maxtrio.flows import FlowsClient

    run_input = _parse_json_option(input_json, "--input")
    metadata = _parse_json_option(metadata_json, "--metadata")
    with _one_line_errors():
        async with FlowsClient(_api_url(server)) as client:
            created = await client.create_run(flow_name, input=run_input, metadata=metadata)
            result = await client.wait_until_settled(created["id"]) if wait else created
    if output == "json":
        _print_json(result)
    else:
        click.echo(_run_line(result))
        if wait and result.get("stderr") and result["status"] != "completed":
            click.echo(result["stderr"].rstrip(), err=True)
    if wait and result["status"] != "completed":
        raise click.exceptions.Exit(1)


@flows.command()
@click.argument("run_id")
@click.option("--level", type=click.Choice(["debug", "info", "warn", "error"]))
@click.option("--limit", type=click.IntRange(0), default=100, show_default=True)
@_client_options
async def logs(run_id: str, level: str | None, limit: int, server: str | None, output: str) -> None:
    """Show a run's log entries, newest first."""
    from maxtrio.flows import FlowsClient

    with _one_line_errors():
        async with FlowsClient(_api_url(server)) as client:
            result = await client.logs(run_id, level=level, limit=limit)
    if output == "json":
        _print_json(result)
        return
    for entry in result["logs"]:
        entity = entry["entityType"] + (f":{entry['entityId']}" if "entityId" in entry else "")
        click.echo(
            f"{_time(entry['createdAt'])}  {entry['level']:<5}  {entity}  {entry['message']}"
        )


def _control_command(action: str, summary: str) -> None:
    @flows.command(name=action, help=summary)
    @click.argument("run_id")
    @_client_options
    async def command(run_id: str, server: str | None, output: str) -> None:
        from maxtrio.flows import FlowsClient

        with _one_line_errors():
            async with FlowsClient(_api_url(server)) as client:
                result = await client.control(run_id, action)
        if output == "json":
            _print_json(result)
        else:
            click.echo(result["message"])


_control_command("abort", "Abort a run: kill its scripts and fail it (reason: aborted).")
_control_command("pause", "Pause a run: kill its scripts; resume re-runs its flow.")
_control_command("resume", "Resume a paused run (its flow runs again from the start).")


@flows.command()
@click.argument("run_id")
@click.option("--step", "step_id", help="Retry only this failed step (and its dependants).")
@click.option(
    "--cascade/--no-cascade", default=True, show_default=True, help="With --step: reset dependants."
)
@_client_options
async def retry(
    run_id: str, step_id: str | None, cascade: bool, server: str | None, output: str
) -> None:
    """Retry a failed, aborted or paused run — or one failed step of it."""
    from maxtrio.flows import FlowsClient

    with _one_line_errors():
        async with FlowsClient(_api_url(server)) as client:
            if step_id is None:
                result = await client.control(run_id, "retry")
            else:
                result = await client.retry_step(run_id, step_id, cascade=cascade)
    if output == "json":
        _print_json(result)
    else:
        click.echo(result["message"])
