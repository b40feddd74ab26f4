"""``max daemon status|start|stop|restart|enable|disable|list|logs`` — the workspace daemon.

Each workspace may have a daemon (``maxtrio.daemon``) that answers its commands warm; the
launcher starts it on demand. These commands manage the daemon of the target workspace (the
current directory's, or ``-t <workspace>``); ``list`` shows every daemon of this machine. They
always run directly, never through the daemon they manage. Outputs::

    Daemon:  ● running (pid 4242)          Daemon:  ○ not running
    Socket:  ~/.max/daemons/…/daemon.sock  Warning: stale socket at …/daemon.sock
    Enabled: ✓ yes                         Enabled: x no

``-o json`` prints ``{"root", "hash", "status", "pid", "socket", "enabled"}`` objects
(``status``: ``running``, ``starting``, ``stale`` — files of a dead daemon — or ``stopped``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import asyncclick as click

from ._session import Session, debug_option, output_option, session

START_WAIT_SECONDS = 15.0
LOG_FOLLOW_SECONDS = 0.2


def _dumps(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)  # ``"pid": null`` stays


def _paths(root: Path) -> Any:
    import max_launcher

    return max_launcher.DaemonPaths.for_root(str(root))


async def _workspace_root(run: Session, action: str) -> Path:
    from ._dispatch import CliUsageError
    from ._targeting import open_target

    if run.targeting.level == "global":
        raise CliUsageError(
            f"daemon {action} needs a workspace.",
            [f"  Run it inside a workspace, or: max -t <workspace> daemon {action}"],
        )
    if run.targeting.options.effective_target() is None:
        # the launcher's rule (the directory holding max.json and .max), so a moved, copied or
        # unregistered workspace's daemon is the one managed — registered or not
        from maxtrio.federation import find_project_root

        root = find_project_root(run.targeting.cwd)
        if root is not None:
            return root
    async with open_target(run.targeting) as target:
        return Path(target.require_workspace().root)


def _state_lines(run: Session, state: Any) -> list[str]:
    style = run.style
    if state.status == "running":
        lines = [
            f"Daemon:  {style.green('●')} running (pid {state.pid})",
            f"Socket:  {state.paths.socket}",
        ]
    elif state.status == "starting":
        lines = [f"Daemon:  {style.yellow('●')} starting", f"Socket:  {state.paths.socket}"]
    else:
        lines = [f"Daemon:  {style.dim('○')} not running"]
        if state.paths.socket in state.stale_files:
            lines.append(f"{style.yellow('Warning')}: stale socket at {state.paths.socket}")
    enabled = f"{style.green('✓')} yes" if state.enabled else f"{style.red('x')} no"
    lines.append(f"Enabled: {enabled}")
    return lines


def _state_json(state: Any, root: Path | None = None) -> dict[str, Any]:
    document: dict[str, Any] = state.to_json()
    if document.get("root") is None and root is not None:
        document["root"] = str(root)
    return document


def _show(run: Session, state: Any, root: Path, output: str) -> None:
    if output == "json":
        run.lines([_dumps(_state_json(state, root))])
    else:
        run.lines(_state_lines(run, state))


async def _start(run: Session, root: Path) -> tuple[bool, Any]:
    """Spawn the daemon unless one runs; wait until it has written its PID."""
    import trio

    import max_launcher

    paths = _paths(root)
    state = await trio.to_thread.run_sync(max_launcher.daemon_state, paths)
    if state.running:
        return False, state
    await trio.to_thread.run_sync(max_launcher.spawn, paths, str(root))
    with trio.move_on_after(START_WAIT_SECONDS):
        while True:
            state = await trio.to_thread.run_sync(max_launcher.daemon_state, paths)
            if state.status == "running":
                break
            await trio.sleep(0.05)
    return True, state


def _refuse_disabled(run: Session, root: Path) -> None:
    if Path(_paths(root).disabled).exists():
        run.note("Daemon is disabled. Run 'max daemon enable' first.")
        raise click.exceptions.Exit(1)


@click.group(name="daemon")
def daemon_group() -> None:
    """Manage the workspace's daemon (it keeps the workspace warm between commands).

    max starts the daemon of a workspace on first use and forwards commands to it; these
    commands look after it. MAX_NO_DAEMON=1 or --direct runs a command without it.

    \b
    Examples:
      max daemon status
      max daemon restart
      max daemon disable            # never start it for this workspace
      max daemon list -o json
      max daemon logs -f
    """


@daemon_group.command(name="status")
@output_option(("text", "json"))
@debug_option
async def status_command(output: str) -> None:
    """Show whether the workspace's daemon runs, its socket and whether it is enabled."""
    import trio

    import max_launcher

    run = session()
    root = await _workspace_root(run, "status")
    state = await trio.to_thread.run_sync(max_launcher.daemon_state, _paths(root))
    _show(run, state, root, output)


@daemon_group.command(name="start")
@output_option(("text", "json"))
@debug_option
async def start_command(output: str) -> None:
    """Start the workspace's daemon (no-op when it runs; refused when disabled)."""
    run = session()
    root = await _workspace_root(run, "start")
    _refuse_disabled(run, root)
    started, state = await _start(run, root)
    if output == "json":
        _show(run, state, root, output)
    elif started:
        run.lines(["Daemon starting..."])
    else:
        run.lines([f"Daemon already running (pid {state.pid})"])


async def _stop(root: Path) -> bool:
    import trio

    import max_launcher

    return bool(await trio.to_thread.run_sync(max_launcher.stop_daemon, _paths(root)))


@daemon_group.command(name="stop")
@output_option(("text", "json"))
@debug_option
async def stop_command(output: str) -> None:
    """Stop the workspace's daemon (the next command starts it again unless disabled)."""
    import max_launcher

    run = session()
    root = await _workspace_root(run, "stop")
    stopped = await _stop(root)
    if output == "json":
        _show(run, max_launcher.daemon_state(_paths(root)), root, output)
    elif stopped:
        run.lines(["Daemon stopped. Use 'disable' to prevent restart."])
    else:
        run.lines(["Daemon is not running"])


@daemon_group.command(name="restart")
@output_option(("text", "json"))
@debug_option
async def restart_command(output: str) -> None:
    """Stop the workspace's daemon and start a fresh one."""
    run = session()
    root = await _workspace_root(run, "restart")
    _refuse_disabled(run, root)
    await _stop(root)
    _, state = await _start(run, root)
    _show(run, state, root, output)


@daemon_group.command(name="enable")
@output_option(("text", "json"))
@debug_option
async def enable_command(output: str) -> None:
    """Let max start the workspace's daemon again."""
    import trio

    import max_launcher

    run = session()
    root = await _workspace_root(run, "enable")
    paths = _paths(root)
    await trio.Path(paths.disabled).unlink(missing_ok=True)
    if output == "json":
        _show(run, max_launcher.daemon_state(paths), root, output)
    else:
        run.lines(["Daemon enabled"])


@daemon_group.command(name="disable")
@output_option(("text", "json"))
@debug_option
async def disable_command(output: str) -> None:
    """Stop the workspace's daemon and never start it again (commands run directly)."""
    import trio

    import max_launcher

    run = session()
    root = await _workspace_root(run, "disable")
    paths = _paths(root)
    paths.ensure_directory()
    await trio.Path(paths.disabled).touch(mode=0o600)
    await _stop(root)
    if output == "json":
        _show(run, max_launcher.daemon_state(paths), root, output)
    else:
        run.lines(["Daemon disabled"])


@daemon_group.command(name="list")
@output_option(("text", "json"))
@debug_option
async def list_command(output: str) -> None:
    """Every workspace daemon of this machine, running or not."""
    import trio

    import max_launcher

    run = session()
    states = await trio.to_thread.run_sync(max_launcher.list_daemons, max_launcher.max_home())
    if output == "json":
        run.lines([_dumps([s.to_json() for s in states])])
        return
    if not states:
        run.lines(["No daemons found."])
        return
    style = run.style
    lines: list[str] = []
    for state in states:
        if state.status == "running":
            status = f"{style.green('●')} running (pid {state.pid})"
        elif state.status == "starting":
            status = f"{style.yellow('●')} starting"
        elif state.status == "stale":
            status = f"{style.yellow('●')} stale"
        else:
            status = f"{style.dim('○')} stopped"
        lines += [state.root or "?", f"  Hash:   {state.paths.key}", f"  Status: {status}"]
    run.lines(lines)


@daemon_group.command(name="logs")
@click.option("-f", "--follow", is_flag=True, help="Keep printing what the daemon logs.")
@click.option("-n", "--lines", "count", type=int, default=None, help="Only the last N lines.")
@debug_option
async def logs_command(follow: bool, count: int | None) -> None:
    """Print the workspace daemon's log (daemon.log)."""
    import trio

    run = session()
    root = await _workspace_root(run, "logs")
    log = trio.Path(_paths(root).log)
    if not await log.exists() and not follow:
        run.note(f"No daemon log yet at {log}")
        return
    data = await log.read_bytes() if await log.exists() else b""
    shown = data.splitlines(keepends=True)
    if count is not None:
        shown = shown[-count:] if count > 0 else []
    run.out.write(b"".join(shown).decode("utf-8", errors="replace"))
    if not follow:
        return
    position = len(data)
    while True:  # a file has no change event in the standard library: look every 0.2 s
        await trio.sleep(LOG_FOLLOW_SECONDS)
        try:
            size = (await log.stat()).st_size
        except FileNotFoundError:
            continue
        if size < position:  # rotated or truncated: start from its beginning
            position = 0
        if size > position:
            chunk = await trio.to_thread.run_sync(_read_from, str(log), position)
            position += len(chunk)
            run.out.write(chunk.decode("utf-8", errors="replace"))


def _read_from(path: str, position: int) -> bytes:
    with open(path, "rb") as file:
        file.seek(position)
        return file.read()
