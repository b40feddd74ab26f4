"""`max acme …` commands. Heavy imports happen inside the commands, never at module top.

``max acme create|seed|start|list`` with the reference's flags and output lines, plus
the seed-size flags of ``seed``, fault injection flags and ``-o json`` for ``start``.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncclick as click

_DATA_DIR_HELP = "Directory holding one sub-directory per tenant."


def _tenant_name(tenant: str | None) -> str:
    """The --tenant value; the reference's exact error (exit 1) when it is missing."""
    if not tenant:
        click.echo("Error: --tenant is required", err=True)
        raise click.exceptions.Exit(1)
    return tenant


@contextlib.contextmanager
def _one_line_errors() -> Iterator[None]:
    """Acme errors (bad names, missing tenants…) become ``Error: <message>``, exit 1."""
    from maxtrio.core import MaxError

    try:
        yield
    except MaxError as err:
        raise click.ClickException(err.message) from None


_tenant_option = click.option("--tenant", metavar="NAME", help="Tenant name (required).")
_data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("tenants"),
    show_default=True,
    help=_DATA_DIR_HELP,
)


@click.group(name="acme")
def acme() -> None:
    """The Acme fake SaaS: create, seed, list and serve tenants.

    \b
    Examples:
      max acme create --tenant demo
      max acme seed --tenant demo --projects-per-workspace 50 --tasks-per-project 1000
      max acme start --tenant demo --port 0 -o json
    """


@acme.command()
@_tenant_option
@_data_dir_option
async def create(tenant: str | None, data_dir: Path) -> None:
    """Create a tenant (database, API key and port) without serving it."""
    from maxtrio.acme import create_tenant

    name = _tenant_name(tenant)
    with _one_line_errors(), create_tenant(name, data_dir) as created:
        click.echo(f'Tenant "{name}" created')
        click.echo(f"API Key: {created.api_key()}")


@acme.command()
@_tenant_option
@_data_dir_option
@click.option("--workspaces", type=click.IntRange(0), default=1, show_default=True)
@click.option("--users-per-workspace", type=click.IntRange(0), default=5, show_default=True)
@click.option("--projects-per-workspace", type=click.IntRange(0), default=3, show_default=True)
@click.option("--tasks-per-project", type=click.IntRange(0), default=10, show_default=True)
@click.option("--files-per-project", type=click.IntRange(0), default=5, show_default=True)
@click.option("--global-seed", type=int, default=42, show_default=True)
@click.option("--workspace-id", help="Add projects to this workspace instead of new ones.")
@click.option("--existing-only", is_flag=True, help="Add tasks and files to existing projects.")
@click.option("--no-ghost-users", is_flag=True, help="Do not create the system user.")
async def seed(
    tenant: str | None,
    data_dir: Path,
    workspaces: int,
    users_per_workspace: int,
    projects_per_workspace: int,
    tasks_per_project: int,
    files_per_project: int,
    global_seed: int,
    workspace_id: str | None,
    existing_only: bool,
    no_ghost_users: bool,
) -> None:
    """Seed an existing tenant with sample data (defaults: 1 workspace, 6 users, 3 projects…)."""
    from maxtrio.acme import SeedOptions, open_tenant

    name = _tenant_name(tenant)
    with _one_line_errors():
        try:
            options = SeedOptions(
                workspaces=workspaces,
                users_per_workspace=users_per_workspace,
                projects_per_workspace=projects_per_workspace,
                tasks_per_project=tasks_per_project,
                files_per_project=files_per_project,
                global_seed=global_seed,
                workspace_id=workspace_id,
                existing_only=existing_only,
                ghost_users=not no_ghost_users,
            )
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
        with open_tenant(name, data_dir) as opened:
            result = opened.seed(options)
    click.echo(
        f"Seeded: {result.workspaces} workspaces, {result.users} users, "
        f"{result.projects} projects, {result.tasks} tasks, {result.files} files"
    )


@acme.command(name="list")
@_data_dir_option
async def list_(data_dir: Path) -> None:
    """List the tenants of the data directory."""
    from maxtrio.acme import list_tenants

    names = list_tenants(data_dir)
    for name in names:
        click.echo(name)
    if not names:
        click.echo("No tenants found")


@acme.command()
@_tenant_option
@_data_dir_option
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: the tenant's own).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "-o",
    "--output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: print one line {url, apiKey, tenant} and nothing else.",
)
@click.option("--latency-ms", type=click.FloatRange(0, 60_000), default=0.0, show_default=True)
@click.option(
    "--rate-limit-ratio",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Fraction of API requests answered 429 with Retry-After.",
)
@click.option(
    "--error-ratio",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Fraction of API requests answered 500.",
)
@click.option("--retry-after", type=click.IntRange(0, 3600), default=1, show_default=True)
@click.option("--fault-seed", type=int, default=0, show_default=True)
async def start(
    tenant: str | None,
    data_dir: Path,
    port: int | None,
    host: str,
    output: str,
    latency_ms: float,
    rate_limit_ratio: float,
    error_ratio: float,
    retry_after: int,
    fault_seed: int,
) -> None:
    """Serve a tenant over HTTP (created when missing) until Ctrl-C or SIGTERM."""
    import signal
    from functools import partial

    import trio

    from maxtrio.acme import AcmeServer, FaultInjection, open_or_create_tenant, serve_acme

    name = _tenant_name(tenant)
    try:
        faults = FaultInjection(
            latency_ms=latency_ms,
            rate_limit_ratio=rate_limit_ratio,
            error_ratio=error_ratio,
            retry_after_seconds=retry_after,
            seed=fault_seed,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    with _one_line_errors():
        opened, created = open_or_create_tenant(name, data_dir)
    listen_port = opened.port if port is None else port
    listen_error: OSError | None = None
    with opened, trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            serve = partial(serve_acme, opened, host=host, port=listen_port, faults=faults)
            try:
                server: AcmeServer = await nursery.start(serve)
            except OSError as exc:
                listen_error = exc
            else:
                _print_started(server, name, opened.api_key(), created, output)
                async for _signal in signals:
                    break
            nursery.cancel_scope.cancel()
    if listen_error is not None:
        errno = listen_error.errno or 0  # resolver errors have negative numbers
        reason = os.strerror(errno) if errno > 0 else (listen_error.strerror or str(listen_error))
        raise click.ClickException(f"cannot listen on {host}:{listen_port}: {reason}")


def _print_started(server: Any, tenant: str, api_key: str, created: bool, output: str) -> None:
    if output == "json":
        click.echo(json.dumps({"url": server.url, "apiKey": api_key, "tenant": tenant}))
        return
    click.echo(f'{"Created new" if created else "Opened existing"} tenant "{tenant}"')
    click.echo("")
    click.echo(f"Acme server running at {server.url}")
    click.echo(f"API Key: {api_key}")
    click.echo(f"Dashboard: {server.url}/")
