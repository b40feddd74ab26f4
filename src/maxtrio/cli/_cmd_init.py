"""``max init [DIRECTORY] [-f|--force]`` — make a directory a Max workspace.

Provisions ``DIRECTORY`` (``.max/`` 0700, ``max.json``, a ``.max`` line in ``.gitignore``) and
registers it in ``$MAX_HOME/workspaces.json`` under its basename. Levels: global, workspace.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncclick as click

from ._printers import dumps_pretty
from ._session import debug_option, output_option, session

#: Where the connectors that ship with maxtrio live (their entry points name these modules).
BUILTIN_PREFIX = "maxtrio.connectors."


@click.command(name="init")
@click.argument("directory", default=".", required=False, metavar="[DIRECTORY]")
@click.option("-f", "--force", is_flag=True, help="Force creation of project.")
@output_option(("text", "json"))
@debug_option
async def init_command(directory: str, force: bool, output: str) -> None:
    """Initialize a new Max project.

    DIRECTORY (default: the current directory) is created when missing, gets a .max/
    directory for runtime state (gitignored) and a max.json listing its installations, and is
    registered under its directory name (name-2, name-3... when another directory has it).

    \b
    Examples:
      max init my-project
      max init .
      max init --force nested/project     # inside another project, or register a copy
    """
    from maxtrio.core import MaxError

    from ._errors import ErrInvalidOption
    from ._targeting import open_global

    run = session()
    if not str(directory).strip():
        raise ErrInvalidOption(option="DIRECTORY", reason="must not be empty")
    target = _directory(directory, run.targeting.cwd)
    _check_name(target.name)
    async with open_global() as global_max:
        try:
            info = await global_max.create_workspace(target, force=force)
        except MaxError as err:
            if err.code == "bun-platform.cannot_initialise_project":
                root = err.data.get("maxProjectRoot", "an existing project")
                err.data.setdefault("hint", f"inside {root}; pass --force to create one anyway")
            raise
        entries = global_max.connectors().list()
        connectors = [entry.name for entry in entries]
        only_builtin = all(e.location.startswith(BUILTIN_PREFIX) for e in entries)
    if output == "json":
        document: dict[str, Any] = {
            "url": str(info.url),
            "id": info.id,
            "name": info.name,
            "root": str(info.root),
            "dataDir": str(info.data_dir),
        }
        run.lines([dumps_pretty(document)])
        return
    style = run.style
    check = style.green("✓")
    lines = [
        f"{check} Initialized Max project in {info.root}",
        f"{check} .gitignore updated to ignore .max",
    ]
    if only_builtin:
        lines += [
            "",
            f"{style.yellow('!')} Only the built-in connectors are installed "
            f"({', '.join(connectors) or 'none'}); you may want to install more",
            "  HINT: max install <connector package or directory>",
        ]
    go = "" if info.root == _directory(".", run.targeting.cwd) else f"cd {info.root} && "
    example = "acme" if "acme" in connectors else "<connector>"
    lines += ["", f"Next: {go}max connect {example}"]
    run.lines(lines)


def _directory(directory: str, cwd: Path) -> Path:
    path = Path(directory).expanduser()
    return (path if path.is_absolute() else cwd / path).resolve()


def _check_name(name: str) -> None:
    """The directory's name becomes the workspace's name and a Max URL segment."""
    from ._errors import ErrInvalidOption

    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in name):
        raise ErrInvalidOption(
            option=f"DIRECTORY {name!r}",
            reason="the name has a control character; it names the workspace",
        )
    if name == "@":
        raise ErrInvalidOption(option="DIRECTORY '@'", reason="@ is the name of this machine")
