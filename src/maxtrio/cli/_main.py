"""The ``max`` entry point: the root asyncclick group that every command group joins.

Command modules import only asyncclick at their top so that ``max --help`` and light commands
start fast; heavy libraries are imported inside the commands that need them.
"""

from __future__ import annotations

import asyncclick as click

from ._acme_commands import acme
from ._flows_commands import flows


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="maxtrio", prog_name="max")
def cli() -> None:
    """Max: sync SaaS and local data into SQLite, then query it locally."""


cli.add_command(acme)
cli.add_command(flows)


def main() -> None:
    """Run the ``max`` command line (console script entry point)."""
    cli(_anyio_backend="trio")
