"""``max completion bash|zsh|fish`` — the shell's completion script.

The script calls ``max`` back with ``_MAX_COMPLETE=<shell>_complete`` and the words typed so
far; asyncclick's completion machinery answers with command names of the target's level,
option names and the values below:

* ``-t``: ``@`` and ``max://`` for an empty word, ``max://@/<ws>/`` for every workspace,
  ``max://@/<ws>/<inst>`` and relative ``<ws>``, ``<ws>/<inst>`` or (inside a workspace)
  ``<inst>``;
* installation arguments: the workspace's installation names (``<connector>:<name>``);
* entity arguments of ``search``: the entity types of the installation named so far;
* connector arguments: the registry's connector names.

Install: ``eval "$(max completion bash)"`` in ``~/.bashrc`` (zsh: ``~/.zshrc``), or
``max completion fish > ~/.config/fish/completions/max.fish``.
"""

from __future__ import annotations

from typing import Any

import asyncclick as click

from ._session import debug_option

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_MAX_COMPLETE"


@click.command(name="completion")
@click.argument("shell", metavar="SHELL")
@debug_option
async def completion_command(shell: str) -> None:
    """Print the shell completion script (bash, zsh or fish).

    \b
    Examples:
      eval "$(max completion bash)"        # in ~/.bashrc
      eval "$(max completion zsh)"         # in ~/.zshrc
      max completion fish > ~/.config/fish/completions/max.fish
    """
    from asyncclick.shell_completion import get_completion_class

    from ._dispatch import CliUsageError
    from ._session import session

    if shell not in SHELLS:
        raise CliUsageError(f"Unknown shell: {shell}. Supported: {', '.join(SHELLS)}")
    root = click.get_current_context().find_root()
    completer = get_completion_class(shell)
    assert completer is not None
    script = completer(root.command, {}, "max", COMPLETE_VAR).source()
    session().lines([script.rstrip("\n")])


# -- value sources (called synchronously by the completion machinery) ---------------------------


def _workspace_names() -> list[str]:
    from maxtrio.federation import FileWorkspaceRegistry, MaxHome

    try:
        return [w.name for w in FileWorkspaceRegistry(MaxHome.from_env()).list()]
    except Exception:
        return []


def _installations(workspace: str | None, cwd_root: Any = None) -> list[Any]:
    from maxtrio.federation import FileInstallationRegistry, FileWorkspaceRegistry, MaxHome

    try:
        root = cwd_root
        if workspace is not None:
            info = FileWorkspaceRegistry(MaxHome.from_env()).find(workspace)
            if info is None:
                return []
            root = info.root
        if root is None:
            return []
        return list(FileInstallationRegistry(root).list())
    except Exception:
        return []


def target_suggestions(incomplete: str, cwd_level: str, cwd_workspace: str | None) -> list[str]:
    """``-t`` values for what was typed so far."""
    if incomplete.startswith("max://"):
        if not incomplete.startswith("max://@/"):
            return ["max://@/"]
        rest = incomplete[len("max://@/") :]
        if "/" not in rest:
            return [f"max://@/{w}/" for w in _workspace_names() if w.startswith(rest)]
        workspace, partial = rest.split("/", 1)
        return [
            f"max://@/{workspace}/{i.name}"
            for i in _installations(workspace)
            if i.name.startswith(partial)
        ]
    out = ["@"] if incomplete == "" else []
    if "max://".startswith(incomplete):
        out.append("max://")
    return out + _relative(incomplete, cwd_level, cwd_workspace)


def _relative(incomplete: str, cwd_level: str, cwd_workspace: str | None) -> list[str]:
    if cwd_level == "installation":
        return []
    if cwd_level == "workspace":
        return [i.name for i in _installations(cwd_workspace) if i.name.startswith(incomplete)]
    if "/" in incomplete:
        workspace, partial = incomplete.split("/", 1)
        return [
            f"{workspace}/{i.name}" for i in _installations(workspace) if i.name.startswith(partial)
        ]
    out = []
    for name in _workspace_names():
        if name.startswith(incomplete):
            out += [name, f"{name}/"]
    return out


def complete_target(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from ._dispatch import targeting_of

    targeting = targeting_of(ctx)
    try:
        cwd_url = targeting.cwd_url
        level, workspace = str(cwd_url.level), cwd_url.workspace
    except Exception:
        level, workspace = "global", None
    return list(target_suggestions(incomplete, level, workspace))


def complete_installation(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from asyncclick.shell_completion import CompletionItem

    from ._dispatch import targeting_of

    try:
        url = targeting_of(ctx).url
    except Exception:
        return []
    return [
        CompletionItem(i.name, help=f"{i.connector}:{i.name}")
        for i in _installations(url.workspace)
        if i.name.startswith(incomplete)
    ]


def complete_connector(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    try:
        from maxtrio.connector import ConnectorRegistry

        names = [e.name for e in ConnectorRegistry.discover().list()]
    except Exception:
        return []
    return [n for n in names if n.startswith(incomplete)]


def complete_entity(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Entity types of the installation the command line names so far."""
    from asyncclick.shell_completion import CompletionItem

    from ._dispatch import targeting_of

    try:
        targeting = targeting_of(ctx)
        named = ctx.params.get("target")
        url = targeting.relative_url(named) if named else targeting.url
        workspace = url.workspace
        installation = ctx.params.get("installation") or url.installation
        found = [i for i in _installations(workspace) if i.name == installation]
        if not found:
            return []
        from maxtrio.connector import ConnectorRegistry

        connector = found[0].connector
        schema = ConnectorRegistry.discover().resolve(connector).schema
    except Exception:
        return []
    return [
        CompletionItem(name, help=connector)
        for name in schema.entity_types
        if name.startswith(incomplete)
    ]
