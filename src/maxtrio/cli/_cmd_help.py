"""``max help [COMMAND]`` — the help of the program or of one command, at the target's level
(spec §7.10). Same as ``max -h`` / ``max COMMAND -h``; exit 0 on stdout."""

from __future__ import annotations

import asyncclick as click

from ._session import debug_option, session


@click.command(name="help")
@click.argument("command", required=False)
@debug_option
async def help_command(command: str | None) -> None:
    """Show help for max or for one command.

    The commands listed are those available at the target's level (run max help inside a
    workspace, or with -g / -t, to see the others).

    \b
    Examples:
      max help
      max help search
      max -g help ls
    """
    from ._dispatch import MaxGroup

    ctx = click.get_current_context()
    root_ctx = ctx.find_root()
    group = root_ctx.command
    assert isinstance(group, MaxGroup)
    if command is None:
        session().lines([group.get_help(root_ctx)])
        return
    name, found, _ = await group.resolve_command(root_ctx, [command])
    assert found is not None and name is not None
    sub_ctx = click.Context(found, info_name=name, parent=root_ctx)
    session().lines([found.get_help(sub_ctx)])
