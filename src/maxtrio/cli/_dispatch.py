"""Command dispatch: the level-gated root group and the process entry.

Every invocation targets one node — the machine (``global``), a workspace or an installation —
and each command exists at some of those levels, sometimes with different arguments per level
(``search <INSTALLATION> <ENTITY>`` in a workspace, ``search <ENTITY>`` in an installation).
:class:`MaxGroup` holds one table, command name → level → asyncclick command, and offers only
the current level's commands:

* a command that exists at other levels →
  ``Error: sync is not available at the global level.`` / ``  Try: max -t <workspace> sync``
  (or ``  Available at: …`` when it exists at several), exit 2;
* a word that is no command → ``Error: Unknown command bogus.`` /
  ``  Available commands: …`` / ``  Run max -h for help.``, exit 2;
* no command word → ``status`` (bare ``max`` is ``max status``), unless ``-h`` asks for help;
* ``-h`` anywhere after a command word → that command's help, **at any level** (MAXTRIO): a
  command that does not run at this level shows the help of the level it runs at, with a
  note saying where that is (:meth:`MaxGroup.help_command`);
* the program help (``max -h``) lists every command with the levels it runs at: first those
  of this level, then the others (MAXTRIO — the reference lists only this level's).

Each leveled command's help ends with ``Runs at: …`` (set when it is registered).

Commands may be registered lazily (:meth:`MaxGroup.add_lazy_leveled`,
:meth:`MaxGroup.add_lazy_command`): their names and levels are known at once, their modules
are imported when a command is looked up — so ``max ls`` imports ``_cmd_ls`` and not the
modules of ``sync``, ``search``, ``acme`` or ``flows``; the program help loads them all.

:func:`run` is the process: it parses and runs the command inside ``trio.run``, renders every
error once (``_errors``), exits 0 quietly when the reader of stdout went away, and 130 on
Ctrl-C.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import asyncclick as click

from ._output import ReaderGone, Style, decide_color, silence_stdout
from ._targeting import LEVELS, GlobalOptions, MissingTargetValue, Targeting, preparse, wants_debug

EXIT_OK = 0
EXIT_ERROR = 1  # a command failed (bad input it could not use, a failed sync …)
EXIT_USAGE = 2  # bad flags, unknown command, command at the wrong level
EXIT_INTERRUPTED = 130  # Ctrl-C

_ONE_LEVEL_HINT = {
    "global": "Try: max -g {command}",
    "workspace": "Try: max -t <workspace> {command}",
    "installation": "Try: max -t <workspace>/<installation> {command}",
}
_LEVEL_FORMS = {
    "global": "global (max -g)",
    "workspace": "workspace (max -t <workspace>)",
    "installation": "installation (max -t <ws>/<inst>)",
}


class CliUsageError(click.UsageError):
    """A usage error with the reference's exact wording and its indented follow-up lines."""

    def __init__(self, message: str, extra: Sequence[str] = (), ctx: Any = None) -> None:
        super().__init__(message, ctx)
        self.extra = list(extra)


def level_error(command: str, level: str, levels: Sequence[str]) -> CliUsageError:
    message = f"{command} is not available at the {level} level."
    return CliUsageError(message, [f"  {_where_hint(command, levels)}"])


def _where_hint(command: str, levels: Sequence[str]) -> str:
    if len(levels) == 1:
        return _ONE_LEVEL_HINT[levels[0]].format(command=command)
    return "Available at: " + ", ".join(_LEVEL_FORMS[lv] for lv in levels)


def levels_text(levels: Sequence[str]) -> str:
    """``every level`` or ``workspace, installation`` (for help pages)."""
    return "every level" if len(levels) == len(LEVELS) else ", ".join(levels)


def _runs_at(command: click.Command, name: str, variants: Mapping[str, click.Command]) -> str:
    """The ``Runs at: …`` line of one variant of a leveled command."""
    own = [lv for lv, c in variants.items() if c is command]
    if len(own) == len(LEVELS):
        return "Runs at: every level."
    others = [lv for lv in variants if lv not in own]
    text = f"Runs at: the {' and '.join(own)} level{'s' if len(own) > 1 else ''}"
    if others:
        text += f" (this usage); {name} also runs at: " + ", ".join(
            _LEVEL_FORMS[lv] for lv in others
        )
    return text + "."


def targeting_of(ctx: click.Context) -> Targeting:
    """The invocation's :class:`Targeting` (made by the root group's ``parse_args``)."""
    found = ctx.find_object(Targeting)
    if found is None:
        found = Targeting(GlobalOptions())
        ctx.find_root().obj = found
    return found


class MaxGroup(click.Group):
    """The root ``max`` group: level-bound commands plus level-free ones (``acme``, ``help``…)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        #: name → the levels it exists at (every leveled command, loaded or not), in order
        self._levels: dict[str, list[str]] = {}
        self._variants: dict[str, dict[str, click.Command]] = {}
        self._load_variants: dict[str, Callable[[], Mapping[str, click.Command]]] = {}
        #: the level-free commands' names in registration order, and the loaders of those
        #: not imported yet
        self._plain: list[str] = []
        self._load_plain: dict[str, Callable[[], click.Command]] = {}
        super().__init__(*args, **kwargs)

    def add_leveled(self, name: str, variants: Mapping[str, click.Command]) -> None:
        """Register ``name`` with one command per level it exists at (declaration order);
        each variant's help gets a ``Runs at: …`` line."""
        self._levels[name] = [lv for lv in LEVELS if lv in variants]
        self._set_variants(name, variants)

    def add_lazy_leveled(
        self, name: str, levels: Sequence[str], load: Callable[[], Mapping[str, click.Command]]
    ) -> None:
        """:meth:`add_leveled` with the variants imported on first use: ``load()`` returns
        them (one per level of ``levels``)."""
        self._levels[name] = [lv for lv in LEVELS if lv in levels]
        self._load_variants[name] = load

    def add_lazy_command(self, name: str, load: Callable[[], click.Command]) -> None:
        """A level-free command imported on first use (``load()`` returns it)."""
        self._plain.append(name)
        self._load_plain[name] = load

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        super().add_command(cmd, name)
        registered = name or cmd.name
        if registered is not None and registered not in self._plain:
            self._plain.append(registered)

    def _set_variants(self, name: str, variants: Mapping[str, click.Command]) -> None:
        ordered = {lv: variants[lv] for lv in self._levels[name]}
        assert len(ordered) == len(variants), f"{name}: variants of undeclared levels"
        self._variants[name] = ordered
        for command in {id(c): c for c in ordered.values()}.values():
            line = _runs_at(command, name, ordered)
            command.epilog = f"{command.epilog}\n\n{line}" if command.epilog else line

    def variants(self, name: str) -> dict[str, click.Command]:
        """The commands of leveled command ``name``, by level (imported now if need be)."""
        load = self._load_variants.get(name)
        if load is not None:
            self._set_variants(name, load())
            del self._load_variants[name]
        return self._variants[name]

    @property
    def leveled(self) -> dict[str, dict[str, click.Command]]:
        """Every leveled command's variants, in registration order (imports them all)."""
        return {name: self.variants(name) for name in self._levels}

    def plain_command(self, name: str) -> click.Command | None:
        """The level-free command ``name`` (imported now if need be), or None."""
        load = self._load_plain.get(name)
        if load is not None:
            super().add_command(load(), name)
            del self._load_plain[name]
        return self.commands.get(name)

    def _plain_commands(self) -> dict[str, click.Command]:
        found = {name: self.plain_command(name) for name in self._plain}
        return {name: command for name, command in found.items() if command is not None}

    def help_command(self, name: str, level: str) -> click.Command | None:
        """The command whose help ``max NAME -h`` shows at ``level``: its own variant, else
        (it runs elsewhere) the workspace one or the first, with a note saying where it runs.
        None when ``name`` is no command."""
        if name in self._plain:
            return self.plain_command(name)
        if name not in self._levels:
            return None
        variants = self.variants(name)
        if level in variants:
            return variants[level]
        chosen = variants.get("workspace") or next(iter(variants.values()))
        shown = copy.copy(chosen)
        note = (
            f"Not available at the {level} level (the current target). "
            f"{_where_hint(name, list(variants))}"
        )
        shown.epilog = f"{chosen.epilog}\n\n{note}" if chosen.epilog else note
        return shown

    def levels_of(self, name: str) -> list[str]:
        return list(self._levels.get(name, ()))

    # -- lookup ------------------------------------------------------------------------------

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._plain:
            return self.plain_command(cmd_name)
        levels = self._levels.get(cmd_name)
        level = targeting_of(ctx).level
        if levels is None or level not in levels:
            return None
        return self.variants(cmd_name)[level]

    def list_commands(self, ctx: click.Context) -> list[str]:
        level = targeting_of(ctx).level
        here = [name for name, levels in self._levels.items() if level in levels]
        return here + [name for name in self._plain if name not in here]

    async def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0]
        command = self.get_command(ctx, name)
        if command is not None or ctx.resilient_parsing or name.startswith("-"):
            return await super().resolve_command(ctx, args)
        if name in self._levels:
            level = targeting_of(ctx).level
            if targeting_of(ctx).options.help:  # help works at every level
                return name, self.help_command(name, level), args[1:]
            raise level_error(name, level, self.levels_of(name))
        raise CliUsageError(
            f"Unknown command {name}.",
            [
                f"  Available commands: {', '.join(self.list_commands(ctx))}",
                "  Run max -h for help.",
            ],
        )

    # -- parsing -----------------------------------------------------------------------------

    async def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            options, rest = preparse(args)
        except MissingTargetValue as exc:
            if not ctx.resilient_parsing:
                raise CliUsageError(str(exc), ["  Run max -h for help."]) from None
            # completing the value of a trailing -t: keep it for asyncclick's completion
            options, rest = preparse(args[:-1])
            rest.append(args[-1])
        ctx.obj = Targeting(options)
        word = _first_word(rest)
        if word is None:
            if not options.help and not ctx.resilient_parsing and "--version" not in rest:
                rest = [*rest, "status"]
        elif options.help and word in (*self._levels, *self._plain):
            # ``max -h search`` → the help of ``search``, as the reference does
            helps = [t for t in rest[: rest.index(word)] if t in ("-h", "--help")]
            before = [t for t in rest[: rest.index(word)] if t not in ("-h", "--help")]
            rest = [*before, word, *helps, *rest[rest.index(word) + 1 :]]
        return await super().parse_args(ctx, rest)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Every command with the levels it runs at: this level's first, then the others."""
        level = targeting_of(ctx).level
        here: list[tuple[str, str]] = []
        elsewhere: list[tuple[str, str]] = []
        limit = formatter.width - 6 - max(len(n) for n in (*self._levels, *self._plain))
        for name, variants in self.leveled.items():
            command = variants.get(level) or self.help_command(name, level)
            assert command is not None
            levels = f"[{levels_text(list(variants))}]"
            summary = command.get_short_help_str(max(limit - len(levels) - 1, 20))
            (here if level in variants else elsewhere).append((name, f"{summary} {levels}"))
        for name, command in self._plain_commands().items():
            if not command.hidden:
                summary = command.get_short_help_str(max(limit - 14, 20))
                here.append((name, f"{summary} [every level]"))
        with formatter.section(f"Commands (this target is at the {level} level)"):
            formatter.write_dl(here)
        if elsewhere:
            with formatter.section("Commands of other levels (cd into a project, or use -t)"):
                formatter.write_dl(elsewhere)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        try:
            url = str(targeting_of(ctx).url)
        except Exception:
            return
        formatter.write_paragraph()
        formatter.write_text(f"Target: {url}  [{targeting_of(ctx).level}]")


def _first_word(args: Sequence[str]) -> str | None:
    for token in args:
        if token == "--":
            return None
        if not token.startswith("-"):
            return token
    return None


# -- the process ----------------------------------------------------------------------------------


def main(cli: click.Group, args: Sequence[str] | None = None) -> None:
    """Run ``cli`` as the ``max`` process and exit with its code."""
    import trio

    argv = list(sys.argv[1:] if args is None else args)
    global _STOPPING_ON_CTRL_C
    _STOPPING_ON_CTRL_C = True
    try:
        code = trio.run(_run_process, cli, argv)
    except KeyboardInterrupt:  # Ctrl-C outside the command (trio's loop starting or ending)
        _stderr_lines(["Interrupted."])
        code = EXIT_INTERRUPTED
    sys.exit(code)


async def _run_process(cli: click.Group, argv: list[str]) -> int:
    """:func:`run` as the process's one command: the cyclic GC held off while the process
    started comes back once the command has run a while (``maxtrio._collector``). The timer
    is a system task — cancelled when the command returns — so what the command raises (a
    ``SystemExit`` from shell completion) reaches :func:`main` as itself, not in a group."""
    import trio

    from maxtrio._collector import release_later

    trio.lowlevel.spawn_system_task(release_later)
    return await run(cli, argv)


#: Set by :func:`main` (this process is the command): once a Ctrl-C stopped the command, more
#: Ctrl-C are ignored while it reports and exits (no traceback from a second key press). The
#: daemon runs :func:`run` for many commands and keeps its own signal handling.
_STOPPING_ON_CTRL_C = False


def ignore_further_ctrl_c() -> None:
    """The command is stopping on a Ctrl-C: in direct mode, ignore the next ones."""
    if _STOPPING_ON_CTRL_C:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)


async def run(cli: click.Group, argv: list[str]) -> int:
    """Parse and run one invocation; returns the exit code (errors already on stderr)."""
    debug = wants_debug(argv)
    style = _stderr_style(argv)
    try:
        from ._remote import forward, remote_call

        remote = remote_call(argv)  # a max://<host>/… target runs there (``_remote``)
        if remote is not None:
            return await forward(remote)
        result = await cli.main(args=argv, prog_name="max", standalone_mode=False)
    except BaseException as exc:  # the one place every failure is rendered
        return _failure(leaf_exception(exc), style, debug)
    return result if isinstance(result, int) else EXIT_OK


def leaf_exception(exc: BaseException) -> BaseException:
    """The one meaningful exception inside nested exception groups (trio nurseries wrap what
    their tasks raise); an error with a code (``MaxError``) is preferred among several."""
    while isinstance(exc, BaseExceptionGroup):
        inner = exc.exceptions
        coded = [e for e in inner if hasattr(leaf_exception(e), "facet_names")]
        exc = coded[0] if coded else inner[0]
    return exc


def _failure(exc: BaseException, style: Style, debug: bool) -> int:
    if isinstance(exc, ReaderGone | BrokenPipeError):
        silence_stdout()
        return EXIT_OK
    if isinstance(exc, click.exceptions.Exit):
        return exc.exit_code
    if isinstance(exc, click.exceptions.Abort | KeyboardInterrupt):
        ignore_further_ctrl_c()
        _stderr_lines(["Interrupted."])
        return EXIT_INTERRUPTED
    if isinstance(exc, CliUsageError):
        _stderr_lines(_usage_lines(style, exc.format_message(), exc.extra))
        return EXIT_USAGE
    if isinstance(exc, click.UsageError):
        _stderr_lines(_usage_lines(style, exc.format_message(), [_help_hint(exc.ctx)]))
        return EXIT_USAGE
    if isinstance(exc, click.ClickException):
        _stderr_lines(_usage_lines(style, exc.format_message(), []))
        return exc.exit_code
    if not isinstance(exc, Exception):
        raise exc  # SystemExit and the like
    if isinstance(exc, OSError) and exc.strerror:
        # the machine said no (a file in the way, no permission, disk full …): not a bug
        where = f": {exc.filename}" if exc.filename else ""
        lines = _usage_lines(style, f"{exc.strerror}{where}", [])
        if debug:
            import traceback

            lines.append("".join(traceback.format_exception(exc)).rstrip())
        _stderr_lines(lines)
        return EXIT_ERROR
    from ._errors import error_lines

    _stderr_lines(error_lines(exc, style, debug=debug))
    return EXIT_ERROR


def _help_hint(ctx: click.Context | None) -> str:
    path = ctx.command_path if ctx is not None else "max"
    return f"  Run {path} -h for help."


def _stderr_style(argv: Sequence[str]) -> Style:
    flag = None
    try:
        options, _ = preparse(argv)
        flag = options.color
    except MissingTargetValue:
        pass
    return Style(decide_color(sys.stderr, flag))


def _usage_lines(style: Style, message: str, extra: Sequence[str]) -> list[str]:
    return [f"{style.red('Error')}: {message}", *extra]


def _stderr_lines(lines: Sequence[str]) -> None:
    try:
        sys.stderr.write("".join(f"{line}\n" for line in lines))
        sys.stderr.flush()
    except (BrokenPipeError, OSError):
        pass
