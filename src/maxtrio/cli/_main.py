"""The ``max`` entry point: the root group and its command table.

Level-bound commands are registered with one asyncclick command per level they exist
at; the rest (``acme``, ``flows``, ``help``, ``completion``) work anywhere. Command modules
import only asyncclick and the standard library at their top so that ``max --help`` and light
commands start fast; heavy libraries are imported inside the commands that need them.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncclick as click

from ._acme_commands import acme
from ._cmd_browse import browse_command
from ._cmd_completion import (
    complete_connector,
    complete_entity,
    complete_installation,
    complete_target,
    completion_command,
)
from ._cmd_connect import connect_command
from ._cmd_connector import connector_group
from ._cmd_daemon import daemon_group
from ._cmd_disconnect import disconnect_command
from ._cmd_help import help_command
from ._cmd_init import init_command
from ._cmd_install import install_command
from ._cmd_llm_bootstrap import llm_bootstrap_command
from ._cmd_ls import ls_global, ls_workspace
from ._cmd_mcp import mcp_command
from ._cmd_schema import schema_global, schema_installation, schema_workspace
from ._cmd_search import search_global, search_installation, search_workspace
from ._cmd_serve import serve_command
from ._cmd_sql import sql_installation, sql_workspace
from ._cmd_status import status_global, status_installation, status_workspace
from ._cmd_sync import sync_installation, sync_workspace
from ._cmd_worker import worker_installation, worker_workspace
from ._dispatch import MaxGroup
from ._dispatch import main as run_main
from ._dispatch import run as run_invocation
from ._flows_commands import flows

EVERY_LEVEL = ("global", "workspace", "installation")


@click.group(
    cls=MaxGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="maxtrio", prog_name="max")
@click.option(
    "-t",
    "--target",
    metavar="TARGET",
    expose_value=False,
    shell_complete=complete_target,
    help="Target node: max://@/<ws>[/<inst>], @ (this machine) or a path like ws/inst.",
)
@click.option("-g", "--global", "global_", is_flag=True, expose_value=False, help="Same as -t @.")
@click.option("--debug", is_flag=True, expose_value=False, help="Tracebacks and error details.")
@click.option(
    "--color/--no-color",
    default=None,
    expose_value=False,
    help="Force coloured output on or off (NO_COLOR always turns it off).",
)
def cli() -> None:
    """Max: sync SaaS and local data into SQLite, then query it locally.

    Commands run against a target: the machine (global), a workspace (a directory made by
    max init) or an installation (a connected source). The current directory decides, -t
    and -g override it. Bare max is max status.

    \b
    Examples:
      max init my-project && cd my-project
      max connect acme
      max sync acme-1
      max search acme-1 AcmeTask --limit 10
    """


assert isinstance(cli, MaxGroup)
cli.add_leveled("init", {"global": init_command, "workspace": init_command})
cli.add_leveled("install", dict.fromkeys(EVERY_LEVEL, install_command))
cli.add_leveled("connect", {"workspace": connect_command})
cli.add_leveled("disconnect", {"workspace": disconnect_command})
cli.add_leveled("connector", dict.fromkeys(EVERY_LEVEL, connector_group))
cli.add_leveled(
    "schema",
    {"global": schema_global, "workspace": schema_workspace, "installation": schema_installation},
)
cli.add_leveled("sync", {"workspace": sync_workspace, "installation": sync_installation})
cli.add_leveled("worker", {"workspace": worker_workspace, "installation": worker_installation})
cli.add_leveled(
    "search",
    {"global": search_global, "workspace": search_workspace, "installation": search_installation},
)
cli.add_leveled("ls", {"global": ls_global, "workspace": ls_workspace})
cli.add_leveled(
    "status",
    {"global": status_global, "workspace": status_workspace, "installation": status_installation},
)
cli.add_leveled("llm-bootstrap", dict.fromkeys(EVERY_LEVEL, llm_bootstrap_command))
cli.add_leveled("sql", {"workspace": sql_workspace, "installation": sql_installation})
cli.add_leveled("mcp", {"workspace": mcp_command, "installation": mcp_command})
cli.add_leveled("serve", {"workspace": serve_command})
cli.add_leveled("browse", {"workspace": browse_command, "installation": browse_command})
cli.add_command(help_command)
cli.add_command(completion_command)
cli.add_command(acme)
cli.add_command(flows)
cli.add_command(daemon_group)

for _command in (search_workspace, sync_workspace, worker_workspace, disconnect_command):
    for _param in _command.params:
        if _param.name == "installation":
            _param._custom_shell_complete = complete_installation
for _command in (search_global, search_workspace, search_installation):
    for _param in _command.params:
        if _param.name == "entity_type":
            _param._custom_shell_complete = complete_entity
for _command in (schema_global, schema_workspace, connect_command):
    for _param in _command.params:
        if _param.name in ("connector", "source"):
            _param._custom_shell_complete = complete_connector


def main(args: Sequence[str] | None = None) -> None:
    """Run the ``max`` command line (``python -m maxtrio.cli``; direct mode)."""
    run_main(cli, args)


async def run_args(args: Sequence[str]) -> int:
    """One ``max`` invocation in the running trio loop: the exit code (errors already on
    stderr). The workspace daemon runs every command through here."""
    return await run_invocation(cli, list(args))


def root_group() -> click.Group:
    """The root ``max`` group (its command table), e.g. for shell completion."""
    return cli
