"""``max sync`` — copy a source's data into its ``data.db``.

Workspace level: ``max sync <INSTALLATION> [--resume ID | --plan PLAN] [--full] [--max-age D]
[--workers N]`` or ``max sync --all``; installation level: ``max sync [--resume ID | --plan
PLAN] [--full] [--max-age D] [--workers N]``. ``--full`` skips the change feed; ``--max-age``
skips what is fresh; ``--workers N`` starts N − 1 worker processes (``max worker --join``,
``_cmd_worker.WorkerProcesses``) beside this one once the sync's tasks are stored — the display
counts their progress too, Ctrl-C stops them all (the sync stays resumable).

``--plan`` (or ``--plan @FILE``) runs a partial sync: the text is parsed before the workspace is
opened (``plan-parser.parse_failed``), lowered against the installation's schema and resolvers
(``plan-parser.invalid_plan``) and handed to ``InstallationMax.sync(plan=…)``, which still runs
the connector's seeder first (docs/sync-plans.md).

While it runs, a live display on stderr (only when stderr is a terminal; nothing when piped).
At the end::

    Sync completed in 5321ms (sync-3)
      Entities synced: 1234
      Work units:      13 of 19 completed, 0 failed
      Mode:            full (57 requests)
      Retries:         12 (4.5s back-off)
      Rows removed:    0
      Skipped:         2 (unreadable source items; only when there are some)

(``Sync resumed completed in …`` after ``--resume``), or with ``-o json`` the ``SyncResult``
object with the fields ``max status -o json`` shows for the same sync (``entitiesSynced``,
``entities``, ``workUnits`` … — both read them with ``maxtrio.sql.read_sync_report``).
*Entities synced* are rows, each counted once; *work units* are the sync's internal tasks
(pages, field loads, fan-outs), never rows. Exit codes (MAXTRIO): 0 completed, 1 failed (the
failures are listed on stderr, then ``Resume with: max sync … --resume sync-3``), 130
interrupted. Ctrl-C (or SIGTERM; in daemon mode the launcher's ``cancel``) stops the sync
cleanly: tasks that were running go back to pending, the sync is ``interrupted``, and
``Sync interrupted. Resume with: max sync … --resume sync-3`` is the one line printed.
"""

from __future__ import annotations

import contextlib
import re
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import asyncclick as click
import attrs

from ._dispatch import EXIT_ERROR, EXIT_INTERRUPTED, CliUsageError, ignore_further_ctrl_c
from ._invocation import interrupt_requests
from ._printers import dumps_line, dumps_pretty
from ._session import Session, debug_option, output_option, session

if TYPE_CHECKING:
    from maxtrio.core import SyncPlan
    from maxtrio.query import PlanAst

SHOWN_FAILURES = 5


class SyncInterrupted(Exception):
    """The user stopped the sync (SIGINT/SIGTERM); it is resumable."""

    def __init__(self, installation: str, sync_id: str | None) -> None:
        super().__init__(installation)
        self.installation = installation
        self.sync_id = sync_id


def _summary(result: Any, report: Any, resumed: bool, prefix: str = "") -> list[str]:
    verb = "Sync resumed" if resumed else "Sync"
    units = report.work_units if report is not None else None
    entities = report.entities_synced if report is not None else 0
    work = f"{units.completed} of {units.total} completed, {units.failed} failed" if units else "-"
    lines = [
        f"{prefix}{verb} {result.status.value} in {result.duration_ms}ms ({result.sync_id})",
        f"  Entities synced: {entities}",
        f"  Work units:      {work}",
        f"  Mode:            {result.mode.value} ({result.requests} requests)",
        f"  Retries:         {_retries_text(result)}",
        f"  Rows removed:    {result.removed}",
    ]
    if result.skipped:
        lines.append(f"  Skipped:         {result.skipped} (unreadable source items)")
    return lines


def _retries_text(result: Any) -> str:
    if not result.retries:
        return "0"
    return f"{result.retries} ({result.backoff:.1f}s back-off)"


def _failure_lines(result: Any) -> list[str]:
    lines = []
    for failure in result.failures[:SHOWN_FAILURES]:
        lines.append(f"  {failure.entity_type} {failure.kind}: {failure.error} [{failure.code}]")
    hidden = len(result.failures) - SHOWN_FAILURES
    if hidden > 0:
        lines.append(f"  … {hidden} more (max sync -o json lists them all)")
    if result.error:
        lines.append(f"  {result.error}")
    return lines


@attrs.frozen
class SyncChoice:
    """What kind of sync the user asked for: ``--resume``, ``--full``, ``--max-age``,
    ``--workers``."""

    resume: str | None = None
    full: bool = False
    max_age: timedelta | None = None
    workers: int = 1  # --workers: worker processes in all, this one included


async def _sync_one(
    run: Session,
    installation: Any,
    choice: SyncChoice,
    show_progress: bool,
    plan: SyncPlan | None = None,
) -> tuple[Any, Any]:
    """Run one sync with the progress display and Ctrl-C handling: the ``SyncResult`` and the
    sync's report as ``data.db`` records it (entities synced, work units)."""
    import trio

    from ._progress import live_progress

    started: dict[str, str] = {}

    def remember(event: Any) -> None:
        if getattr(event, "kind", None) == "sync-started":
            started["id"] = event.sync_id

    with contextlib.ExitStack() as stack:
        signals = stack.enter_context(interrupt_requests())
        display = stack.enter_context(live_progress(run.err_style)) if show_progress else None

        def on_event(event: Any) -> None:
            remember(event)
            if display is not None:
                display.state.on_event(event)

        result: Any = None
        # The display's redraw loop, the sync and the signal listener are tasks of one
        # nursery: Ctrl-C cancels it, and SyncInterrupted is raised outside of it, as itself.
        async with trio.open_nursery() as nursery:

            async def stop_on_signal() -> None:
                async for _ in signals:
                    ignore_further_ctrl_c()  # the sync stops cleanly; more Ctrl-C change nothing
                    nursery.cancel_scope.cancel()
                    return

            async def sync() -> None:
                nonlocal result
                async with trio.open_nursery() as helpers:  # --workers: the other processes
                    workers = _worker_processes(run, installation, choice, helpers, on_event)

                    def observe(event: Any) -> None:
                        on_event(event)
                        if _tasks_stored(event):
                            workers.start(event.sync_id)

                    result = await installation.sync(
                        on_event=observe,
                        resume=choice.resume,
                        full=choice.full,
                        max_age=choice.max_age,
                        plan=plan,
                    )
                    await workers.wind_down()
                for line in workers.failures if result.status.value != "completed" else ():
                    run.note(line)
                nursery.cancel_scope.cancel()

            if display is not None:
                nursery.start_soon(display.redraw)
            nursery.start_soon(stop_on_signal)
            nursery.start_soon(sync)
        if result is None:
            raise SyncInterrupted(installation.name, started.get("id") or choice.resume)
        report = await sync_report(installation, result.sync_id)
        if display is not None and report is not None:
            display.state.settle(report.entities)
        return result, report


def _tasks_stored(event: Any) -> bool:
    """A sync with tasks to share began (not an incremental one: it has no tasks)."""
    if getattr(event, "kind", None) != "sync-started":
        return False
    return bool(event.step_count or event.resumed)


def _worker_processes(
    run: Session, installation: Any, choice: SyncChoice, nursery: Any, on_event: Any
) -> Any:
    """The ``--workers`` child processes of this sync (none for ``--workers 1``)."""
    from ._cmd_worker import WorkerProcesses

    return WorkerProcesses(
        nursery,
        count=choice.workers - 1,
        target=str(installation.url),
        cwd=str(run.targeting.cwd),
        on_event=on_event,
    )


async def sync_report(installation: Any, sync_id: str | None) -> Any:
    """``installation``'s sync ``sync_id`` (None: the latest) as its ``data.db`` (or
    PostgreSQL store) records it (a ``maxtrio.sql.SyncReport``), or None."""
    return await installation.sync_report(sync_id)


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (ValueError, OSError):
        return False


def _parse_plan_option(plan: str | None, resume: str | None, sync_all: bool) -> PlanAst | None:
    """The parsed ``--plan`` (``@FILE`` read first), or None; syntax errors are raised here."""
    if plan is None:
        return None
    from maxtrio.query import parse_plan

    from ._cmd_connect import read_option_file
    from ._errors import ErrIncompatibleFlags

    if resume is not None:
        raise ErrIncompatibleFlags(
            flags="--plan with --resume", reason="a resumed sync keeps the plan it started with"
        )
    if sync_all:
        raise ErrIncompatibleFlags(
            flags="--plan with --all",
            reason="a plan names one connector's entity types; sync one installation",
        )
    text = read_option_file(plan[1:], "--plan") if plan.startswith("@") else plan
    return parse_plan(text)


def _lower_plan(parsed: PlanAst | None, installation: Any) -> SyncPlan | None:
    """The parsed plan as a ``SyncPlan`` for ``installation``'s connector (None: no plan)."""
    if parsed is None:
        return None
    from maxtrio.query import lower_plan

    definition = installation.connector.definition
    return lower_plan(parsed, definition.schema, definition.resolvers)


async def run_sync_command(
    installation_name: str | None,
    resume: str | None,
    sync_all: bool,
    output: str,
    plan: str | None = None,
    *,
    full: bool = False,
    max_age: str | None = None,
    workers: int = 1,
) -> None:
    from ._errors import ErrIncompatibleFlags, ErrInvalidOption
    from ._targeting import open_target

    run = session()
    if resume is not None and full:
        raise ErrIncompatibleFlags(flags="--full with --resume", reason="a resume continues a sync")
    age = parse_duration("--max-age", max_age) if max_age is not None else None
    choice = SyncChoice(resume, full, age, workers)
    if sync_all and installation_name is not None:
        raise ErrIncompatibleFlags(
            flags="--all with an installation name", reason="use one or the other"
        )
    if sync_all and resume is not None:
        raise ErrIncompatibleFlags(flags="--all with --resume", reason="resume one sync at a time")
    if resume is not None and not resume.strip():
        raise ErrInvalidOption(option="--resume", reason="the sync id must not be empty")
    parsed_plan = _parse_plan_option(plan, resume, sync_all)
    show_progress = _stderr_is_terminal()
    results: list[SyncDone] = []
    failed = False
    async with open_target(run.targeting) as target:
        if target.installation is not None:
            installations = [target.installation]
        else:
            workspace = target.require_workspace()
            if sync_all:
                infos = await workspace.list_installations()
                installations = [await workspace.installation(i.id) for i in infos]
                if not installations:
                    run.note("No installations to sync (max connect <connector> adds one).")
            elif installation_name is None:
                raise CliUsageError(
                    "Missing argument 'INSTALLATION' (or pass --all).",
                    ["  max ls lists the installations of this workspace."],
                )
            else:
                installations = [await workspace.installation(installation_name)]
        for installation in installations:
            sync_plan = _lower_plan(parsed_plan, installation)
            level = target.installation
            try:
                result, report = await _sync_one(
                    run, installation, choice, show_progress, sync_plan
                )
            except SyncInterrupted as stopped:
                run.note(_interrupted_text(run, stopped, installation_level=level))
                raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
            done = SyncDone(installation.name, result, report)
            results.append(done)
            failed = failed or result.status.value != "completed"
            _print_result(run, done, resume, output, many=sync_all)
            if result.status.value == "failed":
                command = resume_command(run, installation.name, result.sync_id, level)
                run.note(f"Resume with: {command}")
    if output == "json" and sync_all:
        run.lines([dumps_pretty([_result_json(done, named=True) for done in results])])
    if failed:
        raise click.exceptions.Exit(EXIT_ERROR)


@attrs.frozen
class SyncDone:
    """One installation's finished sync: its result and its report from ``data.db``."""

    installation: str
    result: Any  # SyncResult
    report: Any  # maxtrio.sql.SyncReport | None


def sync_json(result: Any, report: Any) -> dict[str, Any]:
    """``max sync -o json``: the run's result with the report's fields (those of
    ``max status -o json``); no task counts that could be read as rows."""
    out: dict[str, Any] = result.to_json()
    out.pop("tasksCompleted", None)
    out.pop("tasksFailed", None)
    if report is not None:
        shared = report.to_json()
        for key in ("entitiesSynced", "entities", "workUnits", "startedAt", "completedAt"):
            out[key] = shared[key]
    return out


def _result_json(done: SyncDone, *, named: bool) -> dict[str, Any]:
    out = sync_json(done.result, done.report)
    return {"installation": done.installation, **out} if named else out


def _print_result(
    run: Session, done: SyncDone, resume: str | None, output: str, *, many: bool
) -> None:
    result = done.result
    if result.status.value != "completed":
        lines = _failure_lines(result)
        if lines:
            heading = f"{done.installation}: {len(result.failures)} task(s) failed:"
            run.note(heading if many else "Failures:")
            for line in lines:
                run.note(line)
    if output == "json":
        if not many:
            run.lines([dumps_pretty(_result_json(done, named=False))])
        return
    if output == "ndjson":
        run.lines([dumps_line(_result_json(done, named=True))])
        return
    prefix = f"{done.installation}: " if many else ""
    run.lines(_summary(result, done.report, resume is not None, prefix))


def resume_command(run: Session, installation: str, sync_id: str, installation_level: Any) -> str:
    """The exact ``max … sync … --resume ID`` that continues ``sync_id`` from here."""
    target = run.targeting.options.target
    words = ["max"]
    if target is not None:
        words += ["-t", target]
    words.append("sync")
    if installation_level is None:
        words.append(installation)
    words += ["--resume", sync_id]
    return " ".join(words)


def _interrupted_text(run: Session, stopped: SyncInterrupted, installation_level: Any) -> str:
    if stopped.sync_id is None:
        return "Sync interrupted before it started; nothing to resume."
    command = resume_command(run, stopped.installation, stopped.sync_id, installation_level)
    return f"Sync interrupted. Resume with: {command}"


_RESUME_HELP = "Resume a previous sync by ID (e.g. sync-3)."
_WORKERS_HELP = (
    "Drain the sync with N worker processes in all: this one and N-1 more (max worker "
    "--join), for slow or rate-limited sources."
)


def _workers_option(command: Any) -> Any:
    from ._cmd_worker import MAX_WORKERS

    return click.option(
        "--workers",
        metavar="N",
        type=click.IntRange(1, MAX_WORKERS),
        default=1,
        show_default=True,
        help=_WORKERS_HELP,
    )(command)


_FULL_HELP = "List everything again instead of reading the source's change feed."
_MAX_AGE_HELP = (
    "Skip what a sync wrote less than DURATION ago (e.g. 30m, 12h, 7d): fields still fresh, "
    "collections listed completely since. For sources without a change feed."
)
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(option: str, text: str) -> timedelta:
    """``90s``, ``15m``, ``1h30m``, ``7d`` → a timedelta; a bad value is a one-line error."""
    from ._errors import ErrInvalidOption

    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or match is None or not any(match.groups()):
        raise ErrInvalidOption(
            option=option, reason=f"{text!r} is not a duration (use e.g. 30s, 15m, 12h, 7d)"
        )
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    try:
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        raise ErrInvalidOption(option=option, reason=f"{text!r} is too long") from None


_PLAN_HELP = (
    "Sync only what PLAN says (sync-plan text, or @FILE to read it from a file); "
    "not with --resume or --all."
)
_PLAN_TEXT = """
--plan runs a partial sync. A plan has one step per line: EntityType(selector) and one or
more operations. Selectors: * (every entity of the type already in data.db), #id (one
entity), or a filter as in max search --filter (the entities in data.db that match).
Operations: .fields{*} (or named fields) and .collection{*} (or named collections);
chained operations run in order. "Concurrently { … }" runs the steps inside in parallel. The
connector's seeder still stores the roots first; max schema lists the types, fields and
collections.

\b
A plan for acme:
  AcmeRoot(#root).collection{workspaces}
  AcmeWorkspace(*).collection{users}
  AcmeProject(status = active).fields{*}.collection{tasks}
"""
_WORKSPACE_HELP = (
    """Sync data from a connected source.

Copies the source's data into its local data.db; later syncs bring it up to date. The first
sync lists everything. After that, a source with a change feed (acme) is synced
incrementally: only what changed since the last sync is fetched, deletions included; --full
lists everything again. A full sync removes the rows its complete listings no longer
contain; a failed or interrupted sync removes nothing. Progress is shown on stderr when it
is a terminal. Exit code 1 when the sync failed, 130 when interrupted (Ctrl-C) — the
printed --resume command continues it.
"""
    + _PLAN_TEXT
    + """
\b
Examples:
  max sync acme-1
  max sync acme-1 -o json
  max sync acme-1 --full
  max sync acme-1 --resume sync-3
  max sync acme-1 --workers 4
  max sync acme-1 --plan 'AcmeProject(#prj_0a1b2c).collection{tasks}'
  max sync acme-1 --plan 'AcmeWorkspace(*).collection{users}'
  max sync acme-1 --plan @partial.plan
  max sync --all
"""
)
_INSTALLATION_HELP = (
    "Sync data from this installation (incremental when the source has a change feed).\n"
    + _PLAN_TEXT
    + """
\b
Examples:
  max -t my-project/acme-1 sync
  max -t my-project/acme-1 sync --full
  max sync --resume sync-3 -o json
  max sync --plan 'AcmeWorkspace(*).collection{users}'
"""
)


@click.command(name="sync", help=_WORKSPACE_HELP)
@click.argument("installation", required=False)
@click.option("--resume", metavar="SYNC_ID", help=_RESUME_HELP)
@click.option("--plan", metavar="PLAN", help=_PLAN_HELP)
@click.option("--all", "sync_all", is_flag=True, help="Sync every installation of this workspace.")
@click.option("--full", is_flag=True, help=_FULL_HELP)
@click.option("--max-age", metavar="DURATION", help=_MAX_AGE_HELP)
@_workers_option
@output_option(("text", "json", "ndjson"))
@debug_option
async def sync_workspace(
    installation: str | None,
    resume: str | None,
    plan: str | None,
    sync_all: bool,
    full: bool,
    max_age: str | None,
    workers: int,
    output: str,
) -> None:
    """``max sync`` at workspace level (help: ``_WORKSPACE_HELP``)."""
    await run_sync_command(
        installation,
        resume,
        sync_all,
        output,
        plan,
        full=full,
        max_age=max_age,
        workers=workers,
    )


@click.command(name="sync", help=_INSTALLATION_HELP)
@click.option("--resume", metavar="SYNC_ID", help=_RESUME_HELP)
@click.option("--plan", metavar="PLAN", help=_PLAN_HELP)
@click.option("--full", is_flag=True, help=_FULL_HELP)
@click.option("--max-age", metavar="DURATION", help=_MAX_AGE_HELP)
@_workers_option
@output_option(("text", "json", "ndjson"))
@debug_option
async def sync_installation(
    resume: str | None,
    plan: str | None,
    full: bool,
    max_age: str | None,
    workers: int,
    output: str,
) -> None:
    """``max sync`` at installation level (help: ``_INSTALLATION_HELP``)."""
    await run_sync_command(
        None, resume, False, output, plan, full=full, max_age=max_age, workers=workers
    )
