"""``max install`` — make more connectors available (every level, MAXTRIO).

Three kinds of source:

==============================  ==================================================================
``max install ./connector-x``   a connector package folder (``pyproject.toml`` declaring an entry
                                point in ``maxtrio.connectors``): linked as
                                ``$MAX_HOME/collections/local/connector-<name>``
``max install -c SOURCE``       a *collection* — a directory or git repository whose
                                ``connector-*`` folders are connector packages: a directory is
                                linked, a git URL cloned (or pulled) into
                                ``$MAX_HOME/collections/<name>``
``max install PACKAGE``         a Python distribution (PyPI name, wheel file, ``git+https://…``)
                                whose entry points declare connectors: installed with
                                ``python -m pip install --target $MAX_HOME/site-packages``, which
                                ``max`` puts on its import path at start
==============================  ==================================================================

A directory given without ``-c`` that holds ``connector-*`` folders is a collection. Every
install ends by listing the connectors that are now found; a command that fails (pip, git) is
``cli.collection_command_failed`` with the tail of its output.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import asyncclick as click

from ._session import Session, debug_option, session

SITE_PACKAGES = "site-packages"
LOCAL_COLLECTION = "local"


def collection_name(source: str) -> str:
    """The last path segment without a trailing ``.git`` or slashes."""
    trimmed = source.rstrip("/").removesuffix(".git").rstrip("/")
    name = trimmed.replace(":", "/").rsplit("/", 1)[-1]
    return name


def _replace_with_link(link: Path, target: Path) -> None:
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        shutil.rmtree(link)
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, link, target_is_directory=True)


def _connector_folders(directory: Path) -> list[str]:
    return sorted(
        child.name
        for child in directory.iterdir()
        if child.name.startswith("connector-") and child.is_dir() and not child.is_symlink()
    )


async def _run_command(argv: list[str]) -> None:
    import trio

    from ._errors import ErrCollectionCommandFailed

    try:
        result = await trio.run_process(argv, capture_stdout=True, capture_stderr=True, check=False)
    except OSError as exc:
        raise ErrCollectionCommandFailed(command=" ".join(argv), detail=str(exc)) from None
    if result.returncode != 0:
        output = (result.stderr or result.stdout or b"").decode("utf-8", "replace").strip()
        tail = " / ".join(output.splitlines()[-3:]) or f"exit status {result.returncode}"
        raise ErrCollectionCommandFailed(command=" ".join(argv), detail=tail)


def _local(source: str) -> Path:
    return Path(source).expanduser()


async def install_collection(home: Path, source: str) -> tuple[str, str, Path]:
    """Link or clone a collection; returns (verb, name, location)."""
    local = _local(source)
    name = collection_name(str(local) if local.is_dir() else source)
    location = home / "collections" / name
    if local.is_dir():
        _replace_with_link(location, local.resolve())
        return "Linked", name, location
    if (location / ".git").is_dir() and not location.is_symlink():
        await _run_command(["git", "-C", str(location), "pull"])
        return "Updated", name, location
    if location.is_symlink():
        location.unlink()
    location.parent.mkdir(parents=True, exist_ok=True)
    await _run_command(["git", "clone", source, str(location)])
    return "Installed", name, location


def link_connector_folder(home: Path, folder: Path) -> tuple[list[str], Path]:
    """Link one connector package folder; returns its connector names and the link."""
    from maxtrio.connector import read_connector_package

    packages = read_connector_package(folder)
    names = [p.name for p in packages]
    link = home / "collections" / LOCAL_COLLECTION / f"connector-{names[0]}"
    _replace_with_link(link, folder.resolve())
    return names, link


async def pip_install(home: Path, requirement: str) -> Path:
    target = home / SITE_PACKAGES
    target.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--quiet",
        "--upgrade",
        "--target",
        str(target),
        requirement,
    ]
    await _run_command(argv)
    return target


def _found(run: Session, home: Path) -> list[str]:
    from ._targeting import add_site_packages

    add_site_packages(home)
    from maxtrio.connector import ConnectorRegistry

    registry = ConnectorRegistry.discover(max_home=home)
    for warning in registry.warnings:
        run.warn(warning)
    return [entry.name for entry in registry.list()]


@click.command(name="install")
@click.argument("source", required=False)
@click.option(
    "-c",
    "--collection",
    metavar="SOURCE",
    help="Git URL or local path of a connector collection to install.",
)
@debug_option
async def install_command(source: str | None, collection: str | None) -> None:
    """Install connectors: a package folder, a collection, or a Python package.

    \b
    Examples:
      max install ./connector-notes                 # link a connector folder
      max install -c ~/src/my-connectors            # link a collection (connector-* folders)
      max install -c https://github.com/me/max-connectors.git
      max install maxtrio-connector-linear          # a pip package (maxtrio.connectors entry point)
      max install ./dist/maxtrio_connector_x-1.0-py3-none-any.whl
    """
    from maxtrio.federation import MaxHome

    from ._errors import ErrIncompatibleFlags, ErrNotInstallable

    run = session()
    if (source is None) == (collection is None):
        raise ErrIncompatibleFlags(
            flags="SOURCE and --collection" if source else "no SOURCE",
            reason="give a connector folder or package, or --collection SOURCE",
            hint="max install -h shows the kinds of source",
        )
    home = MaxHome.from_env()
    home.ensure()
    root = home.root
    check = run.style.green("✓")
    if collection is not None or (source is not None and _is_collection(_local(source))):
        chosen = collection if collection is not None else source
        assert chosen is not None
        if not chosen.strip():
            raise ErrNotInstallable(source=chosen, reason="the source is empty")
        verb, name, location = await install_collection(root, chosen)
        folders = _connector_folders(location)
        lines = [
            f'{check} {verb} collection "{name}"',
            f"  Location: {location}",
            f"  Connectors found: {len(folders)}",
            *(f"    - {folder}" for folder in folders),
        ]
        run.lines(lines)
        _found(run, root)
        return
    assert source is not None
    folder = _local(source)
    if folder.is_dir():
        if not (folder / "pyproject.toml").is_file():
            raise ErrNotInstallable(
                source=source,
                reason="the directory has no pyproject.toml and no connector-* folders",
            )
        names, link = link_connector_folder(root, folder)
        available = _found(run, root)
        run.lines(
            [
                f"{check} Linked connector{'s' if len(names) > 1 else ''} "
                f"{', '.join(names)} from {folder.resolve()}",
                f"  Location: {link}",
                f"  Available connectors: {', '.join(available)}",
            ]
        )
        return
    if not source.strip() or source.startswith("-"):
        raise ErrNotInstallable(source=source, reason="not a directory or a package name")
    before = set(_found(run, root))
    target = await pip_install(root, source)
    after = _found(run, root)
    new = [n for n in after if n not in before]
    lines = [
        f"{check} Installed {source} into {target}",
        f"  New connectors: {', '.join(new) if new else 'none'}",
        f"  Available connectors: {', '.join(after)}",
    ]
    run.lines(lines)
    if not new:
        run.warn(
            f'{source} declares no new connector (an entry point in the "maxtrio.connectors" group)'
        )


def _is_collection(path: Path) -> bool:
    try:
        return path.is_dir() and bool(_connector_folders(path.expanduser()))
    except OSError:
        return False
