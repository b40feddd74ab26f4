"""The ``max`` entry point: the root group and its command table.

Level-bound commands are registered with one asyncclick command per level they exist
at; the rest (``acme``, ``flows``, ``help``, ``completion``, ``daemon``) work anywhere. The
table names each command's module and levels and imports the module when the command is looked
up (``MaxGroup.add_lazy_leveled``): ``max ls`` imports ``_cmd_ls``, not the modules of every
other command; the program help imports them all. Command modules import only asyncclick and
the standard library at their top so that ``max --help`` and light commands start fast; heavy
libraries are imported inside the commands that need them.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

import asyncclick as click

from ._cmd_completion import (
    complete_connector,
    complete_entity,
    complete_installation,
    complete_target,
    completion_command,
)
from ._cmd_help import help_command
from ._dispatch import MaxGroup
from ._dispatch import main as run_main
from ._dispatch import run as run_invocation

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

#: Shell completion of the arguments of some commands, by the command's name in its module.
_COMPLETERS: dict[str, dict[str, Any]] = {
    "search_global": {"entity_type": complete_entity},
    "search_workspace": {"installation": complete_installation, "entity_type": complete_entity},
    "search_installation": {"entity_type": complete_entity},
    "sync_workspace": {"installation": complete_installation},
    "worker_workspace": {"installation": complete_installation},
    "disconnect_command": {"installation": complete_installation},
    "schema_global": {"connector": complete_connector, "source": complete_connector},
    "schema_workspace": {"connector": complete_connector, "source": complete_connector},
    "connect_command": {"connector": complete_connector, "source": complete_connector},
}


def _imported(module: str, name: str) -> click.Command:
    """Command ``name`` of ``module`` (relative to this package), its completers set."""
    command: click.Command = getattr(importlib.import_module(module, __package__), name)
    completers = _COMPLETERS.get(name, {})
    for param in command.params:
        completer = completers.get(param.name or "")
        if completer is not None:
            param._custom_shell_complete = completer
    return command


def _leveled(name: str, module: str, variants: Mapping[str, str]) -> None:
    """Register leveled command ``name``: ``variants`` maps each level it exists at to the
    name of its command in ``module``, imported on first use."""

    def load() -> dict[str, click.Command]:
        return {level: _imported(module, command) for level, command in variants.items()}

    cli.add_lazy_leveled(name, list(variants), load)


def _anywhere(name: str, module: str, command: str) -> None:
    """Register level-free command ``name`` (``command`` of ``module``), imported on first use."""
    cli.add_lazy_command(name, lambda: _imported(module, command))


def _every_level(command: str) -> dict[str, str]:
    return dict.fromkeys(EVERY_LEVEL, command)


_leveled("init", "._cmd_init", {"global": "init_command", "workspace": "init_command"})
_leveled("install", "._cmd_install", _every_level("install_command"))
_leveled("connect", "._cmd_connect", {"workspace": "connect_command"})
_leveled("disconnect", "._cmd_disconnect", {"workspace": "disconnect_command"})
_leveled("connector", "._cmd_connector", _every_level("connector_group"))
_leveled(
    "schema",
    "._cmd_schema",
    {
        "global": "schema_global",
        "workspace": "schema_workspace",
        "installation": "schema_installation",
    },
)
_leveled("sync", "._cmd_sync", {"workspace": "sync_workspace", "installation": "sync_installation"})
_leveled(
    "worker",
    "._cmd_worker",
    {"workspace": "worker_workspace", "installation": "worker_installation"},
)
_leveled(
    "search",
    "._cmd_search",
    {
        "global": "search_global",
        "workspace": "search_workspace",
        "installation": "search_installation",
    },
)
_leveled("ls", "._cmd_ls", {"global": "ls_global", "workspace": "ls_workspace"})
_leveled(
    "status",
    "._cmd_status",
    {
        "global": "status_global",
        "workspace": "status_workspace",
        "installation": "status_installation",
    },
)
_leveled("llm-bootstrap", "._cmd_llm_bootstrap", _every_level("llm_bootstrap_command"))
_leveled("sql", "._cmd_sql", {"workspace": "sql_workspace", "installation": "sql_installation"})
_leveled("mcp", "._cmd_mcp", {"workspace": "mcp_command", "installation": "mcp_command"})
_leveled("serve", "._cmd_serve", {"workspace": "serve_command"})
_leveled(
    "browse", "._cmd_browse", {"workspace": "browse_command", "installation": "browse_command"}
)
cli.add_command(help_command)
cli.add_command(completion_command)
_anywhere("acme", "._acme_commands", "acme")
_anywhere("flows", "._flows_commands", "flows")
_anywhere("daemon", "._cmd_daemon", "daemon_group")


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
