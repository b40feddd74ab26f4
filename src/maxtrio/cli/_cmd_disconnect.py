"""``max disconnect <INSTALLATION> [--keep-data] [-y]`` — remove an installation (workspace level).

Removes the installation's ``max.json`` entry, its ``credentials.json`` and — unless
``--keep-data`` — its data directory ``.max/installations/<name>/``
(``maxtrio.federation.disconnect_installation``). A person at a terminal is asked first
(``[y/N]``, anything but ``y``/``yes`` keeps everything) unless ``--yes``; without a terminal
nothing is asked. A sync of the installation that is running — in any process — makes it fail
at once (``Cannot disconnect acme-1 now — sync-3 is running``), and no sync can start while it
runs. ``-o json``: ``{"name", "id", "connector", "url", "dataDir", "credentialsRemoved",
"dataRemoved"}``.
"""

from __future__ import annotations

import asyncclick as click

from ._printers import dumps_pretty
from ._session import debug_option, output_option, session


@click.command(name="disconnect")
@click.argument("installation")
@click.option(
    "--keep-data",
    is_flag=True,
    help="Keep the synced data (data.db); the entry and the credentials are still removed.",
)
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation on a terminal.")
@output_option(("text", "json"))
@debug_option
async def disconnect_command(installation: str, keep_data: bool, yes: bool, output: str) -> None:
    """Disconnect an installation: remove it, its credentials and its data.

    INSTALLATION is the name of one installation of this workspace (max ls lists them). Its
    entry leaves max.json, its credentials.json is deleted and, unless --keep-data, its data
    directory .max/installations/INSTALLATION too. On a terminal you are asked first (unless
    --yes). It fails while a sync of the installation is running.

    \b
    Examples:
      max disconnect acme-1
      max disconnect acme-1 --yes
      max disconnect acme-1 --keep-data -o json
    """
    from maxtrio.federation import disconnect_installation

    from ._cmd_connect import stdin_is_terminal
    from ._errors import ErrNotConfirmed
    from ._prompter import TerminalPrompter
    from ._targeting import open_target

    run = session()
    async with open_target(run.targeting) as target:
        workspace = target.require_workspace()
        info = await workspace.find_installation(installation)
        if info is not None and not yes and stdin_is_terminal():
            kept = "data.db" if info.deployment.store is None else "its PostgreSQL schema"
            what = f"its credentials (keeping {kept})" if keep_data else "its credentials and data"
            question = (
                f"Disconnect {info.name} ({info.connector}) and delete {what} "
                f"({info.data_dir})? [y/N] "
            )
            answer = await TerminalPrompter().ask(question)
            if answer.strip().lower() not in ("y", "yes"):
                raise ErrNotConfirmed(
                    action=f"disconnect {info.name}",
                    hint="nothing was changed; --yes skips the question",
                )
        done = await disconnect_installation(workspace, installation, keep_data=keep_data)
    url = workspace.url.child(done.installation.name)
    if output == "json":
        run.lines([dumps_pretty({**done.to_json(), "url": str(url)})])
        return
    name = done.installation.name
    if done.data_removed:
        files = f"credentials and data deleted ({done.data_dir})"
    else:
        store = done.installation.deployment.store
        where = str(done.data_dir) if store is None else f"its schema on {store}"
        files = (
            f"credentials deleted; data kept in {where} "
            f"(max connect {done.installation.connector} -n {name} uses it again)"
        )
    run.lines([f"Disconnected {name} ({done.installation.connector}): {files}"])
