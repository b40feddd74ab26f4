"""``max connector new NAME [--dir D]`` — scaffold a connector package (every level, direct).

Writes a working package (``maxtrio.connector.scaffold_connector``): entities, one loader, a
seeder, onboarding, a tiny fake and tests, a pyproject with the entry point. ``D`` defaults to
``connector-NAME`` in the caller's directory and must not be a non-empty directory. Then::

    ✓ Created connector notes in /home/ann/connector-notes (14 files)
      Test it:    cd connector-notes && make test
      Install it: max install ./connector-notes
      Try it:     max connect notes --config path=./connector-notes/examples/items.json

``-o json`` prints ``{"name", "module", "directory", "files"}``.
"""

from __future__ import annotations

import asyncclick as click
import trio

from ._invocation import current_cwd, resolve_path
from ._printers import dumps_pretty
from ._session import debug_option, output_option, session


@click.group(name="connector")
@debug_option
def connector_group() -> None:
    """Write your own connector.

    \b
    Examples:
      max connector new notes
      max connector new my-crm --dir ~/src/connector-my-crm
    """


@connector_group.command(name="new")
@click.argument("name")
@click.option(
    "--dir", "directory", metavar="D", help="Where to write it (default: ./connector-NAME)."
)
@output_option(("text", "json"))
@debug_option
async def connector_new(name: str, directory: str | None, output: str) -> None:
    """Scaffold a connector package NAME that syncs the items of a JSON file.

    The package has entities, one loader, a seeder, onboarding, tests against a tiny fake and
    a pyproject.toml declaring the entry point; `make test` runs its tests, `max install D`
    makes it available. docs/connectors.md walks through it.

    \b
    Examples:
      max connector new notes
      max connector new my-crm --dir ~/src/connector-my-crm
    """
    from maxtrio.connector import scaffold_connector

    run = session()
    target = resolve_path(directory if directory is not None else f"connector-{name}")
    names, written = await trio.to_thread.run_sync(scaffold_connector, name, target)
    if output == "json":
        document = {
            "name": names.name,
            "module": names.module,
            "directory": str(target),
            "files": [str(path.relative_to(target)) for path in written],
        }
        run.lines([dumps_pretty(document)])
        return
    try:
        shown = f"./{target.relative_to(current_cwd())}"
    except ValueError:
        shown = str(target)
    run.lines(
        [
            f"{run.style.green('✓')} Created connector {names.name} in {target} "
            f"({len(written)} files)",
            f"  Test it:    cd {shown} && make test",
            f"  Install it: max install {shown}",
            f"  Try it:     max connect {names.name} --config path={shown}/examples/items.json",
        ]
    )
