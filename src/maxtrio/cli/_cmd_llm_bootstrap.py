"""``max llm-bootstrap`` — the usage guide for coding agents.

Prints ``llm_bootstrap.md`` (package data, so it works from an installed wheel or a zipapp)
followed by a command reference generated from the live command table — every command at
every level with its usage line and options — so the guide cannot drift from the CLI. Works
at every level (MAXTRIO).
"""

from __future__ import annotations

import asyncclick as click

from ._session import debug_option, session

GUIDE = "llm_bootstrap.md"


def guide_text() -> str:
    from importlib import resources  # only for this command

    return resources.files("maxtrio.cli").joinpath(GUIDE).read_text(encoding="utf-8")


def command_reference(ctx: click.Context) -> str:
    """``## Command reference``: usage and options of each command at each level."""
    from ._dispatch import MaxGroup

    root_ctx = ctx.find_root()
    group = root_ctx.command
    assert isinstance(group, MaxGroup)
    lines = ["## Command reference (generated from this max)", ""]
    for name, variants in group.leveled.items():
        for level, command in variants.items():
            sub_ctx = click.Context(command, info_name=name, parent=root_ctx)
            usage = " ".join(command.collect_usage_pieces(sub_ctx))
            summary = command.get_short_help_str(limit=100)
            lines.append(f"* `max {name} {usage}` — {level} level: {summary}")
            for param in command.params:
                if isinstance(param, click.Option) and param.help and param.name != "debug":
                    flags = ", ".join(param.opts)
                    lines.append(f"  * `{flags}`: {param.help}")
    return "\n".join(lines)


@click.command(name="llm-bootstrap")
@debug_option
async def llm_bootstrap_command() -> None:
    """Print LLM agent usage guide for Max.

    \b
    Examples:
      max llm-bootstrap
      max llm-bootstrap > MAX_AGENT_GUIDE.md
    """
    run = session()
    run.lines([guide_text().rstrip("\n"), "", command_reference(click.get_current_context())])
