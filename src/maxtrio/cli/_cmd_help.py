"""``max help [COMMAND]`` — the help of the program or of one command. Same as
``max -h`` / ``max COMMAND -h``; exit 0 on stdout.

Help works at every level (MAXTRIO): the program help lists every command with the levels it
runs at, and a command that does not run at the target's level shows the help of the level it
runs at, ending with a note that says so."""

from __future__ import annotations

import asyncclick as click

from ._session import debug_option, session


@click.command(name="help")
@click.argument("command", required=False)
@debug_option
async def help_command(command: str | None) -> None:
    """Show help for max or for one command.

    Every command is listed with the levels it runs at; a command's help says where it
    runs, whatever the current level.

    \b
    Examples:
      max help
      max help search
      max -g help ls
    """
    from ._dispatch import MaxGroup, targeting_of

    ctx = click.get_current_context()
    root_ctx = ctx.find_root()
    group = root_ctx.command
    assert isinstance(group, MaxGroup)
    if command is None:
        session().lines([group.get_help(root_ctx)])
        return
    found = group.help_command(command, targeting_of(ctx).level)
    if found is None:
        await group.resolve_command(root_ctx, [command])  # the unknown-command error
        raise AssertionError("an unknown command resolved")
    sub_ctx = click.Context(found, info_name=command, parent=root_ctx)
    session().lines([found.get_help(sub_ctx)])
