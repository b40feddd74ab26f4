"""`max flows …` commands. Heavy imports happen inside the commands, never at module top."""

from __future__ import annotations

import asyncclick as click


@click.group(name="flows")
def flows() -> None:
    """The flows command group."""
