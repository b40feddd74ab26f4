"""`max acme …` commands. Heavy imports happen inside the commands, never at module top."""

from __future__ import annotations

import asyncclick as click


@click.group(name="acme")
def acme() -> None:
    """The acme command group."""
