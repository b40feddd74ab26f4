"""The ``max`` entry point: the root asyncclick group that every command group joins."""

from __future__ import annotations

import asyncclick as click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="maxtrio", prog_name="max")
def cli() -> None:
    """Max: sync SaaS and local data into SQLite, then query it locally."""


def main() -> None:
    """Run the ``max`` command line (console script entry point)."""
    cli(_anyio_backend="trio")
