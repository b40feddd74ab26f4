"""``max search`` — query an installation's local data.

Three forms, one per level::

    max -g search <WS/INST> <ENTITY> [options]     # global: a target installation
    max search <INSTALLATION> <ENTITY> [options]   # workspace: an installation by name
    max -t ws/inst search <ENTITY> [options]       # installation

Checks, in the reference's order: the entity type (``cli.unknown_entity_type``), the filter
(``query-parser.parse_failed`` / ``cli.filter_parse``), ``--fields`` (``cli.unknown_field_group``,
and MAXTRIO ``cli.unknown_field`` for a name the entity does not store), ``--all`` with ``-o
json`` (``cli.incompatible_flags``), ``--order-by`` (MAXTRIO: ``cli.invalid_order_by`` for an
unknown field, before the engine would say ``storage.field_not_found``), then the engine
(cursor errors, e.g. a cursor of another entity type). An unknown entity type or field gets a
``did you mean …?`` hint when a valid one is close. A filter that mixes ``AND`` and ``OR``
without parentheses prints a warning on stderr.

``--all`` streams pages of ``--limit`` (default 100) rows and stops quietly when the reader of
stdout goes away (``max search … --all | head``). Output formats: ``_search_output`` (imported
when a search runs, not with the command table).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import asyncclick as click

from ._output import PLAIN
from ._session import Session, debug_option, output_option, session

if TYPE_CHECKING:
    from ._search_output import SearchPage

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

SINGLE_PAGE_LIMIT = 1000
STREAM_PAGE_LIMIT = 100
NDJSON_STREAM_PAGE_LIMIT = 1000


MAX_LIMIT = 1_000_000_000


def _check_limit(_ctx: Any, _param: Any, value: int | None) -> int | None:
    if value is not None and value < 0:
        raise click.BadParameter("limit must be ≥ 0")
    if value is not None and value > MAX_LIMIT:
        raise click.BadParameter(f"limit must be ≤ {MAX_LIMIT} (use --all to stream more)")
    return value


def search_options(command: F) -> F:
    """The options of every form of ``search``."""
    for decorator in reversed(
        [
            click.option(
                "-a",
                "--all",
                "all_pages",
                is_flag=True,
                help="Auto-paginate and stream all results.",
            ),
            click.option(
                "-f",
                "--filter",
                "filter_text",
                metavar="EXPR",
                help='Filter expression (e.g. "name=Acme AND active=true").',
            ),
            click.option(
                "--text",
                metavar="WORDS",
                help="Full-text search of the entity's text fields, FTS5 syntax (words, "
                '"a phrase", OR, NOT, prefix*); best match first unless --order-by is given.',
            ),
            click.option(
                "--limit", type=int, callback=_check_limit, metavar="N", help="Maximum page size."
            ),
            click.option("--after", metavar="CURSOR", help="Cursor for next page."),
            click.option(
                "--order-by", metavar="FIELD[:DIR]", help='Sort field (e.g. "name:desc").'
            ),
            click.option("--fields", metavar="LIST", help="Comma-separated fields to select."),
            output_option(),
            debug_option,
        ]
    ):
        command = decorator(command)
    return command


class PreparedSearch:
    """A checked search: the entity, the query, the selected fields and a filter warning."""

    def __init__(self, entity: Any, query: Any, selected: Any, warning: str | None) -> None:
        self.entity = entity
        self.query = query
        self.selected = selected
        self.warning = warning

    async def page(
        self, installation: Any, cursor: str | None, limit: int, *, stored: bool = False
    ) -> SearchPage:
        """One page from the installation's engine; with ``stored``, its rows as the file
        holds them when the engine can give them (``SearchPage.stored``, for ``-o ndjson``)."""
        from maxtrio.core import PageRequest

        from ._search_output import SearchPage

        request = PageRequest(cursor or None, limit)
        query_stored = getattr(installation.engine, "query_stored", None) if stored else None
        if query_stored is not None:
            rows = await query_stored(self.query, request)
            return SearchPage(
                self.entity.name, (), rows.has_more, rows.cursor, self.selected, stored=rows
            )
        page = await installation.engine.query(self.query, request)
        return SearchPage(self.entity.name, page.items, page.has_more, page.cursor, self.selected)


def prepare_search(
    installation: Any,
    entity_type: str,
    *,
    filter_text: str | None,
    order_by: str | None,
    fields: str | None,
    text: str | None = None,
    before_order: Callable[[str | None], None] | None = None,
) -> PreparedSearch:
    """Check a search in the reference's order (entity type, filter, fields, ordering) and
    build its query — the same for ``max search`` and the MCP ``search`` tool.
    ``before_order`` gets the filter's warning after the fields were checked and before the
    ordering is (``max search`` checks its flags and prints the warning there)."""
    from maxtrio.core import EntityQuery, Projection, did_you_mean
    from maxtrio.query import parse_order_by, parse_where, select_fields

    from ._errors import ErrInvalidOption, ErrUnknownEntityType

    schema = installation.schema
    entity = schema.get_definition(entity_type)
    if entity is None:
        listing = f"max schema lists the entity types of {installation.name}"
        suggestion = did_you_mean(entity_type, schema.entity_types)
        raise ErrUnknownEntityType(
            entityType=entity_type,
            available=list(schema.entity_types),
            hint=f"{suggestion} ({listing})" if suggestion else listing,
        )
    parsed = parse_where(filter_text, entity)
    selected = select_fields(fields, entity)
    if before_order is not None:
        before_order(parsed.warning)
    ordering = parse_order_by(order_by, entity) if order_by else None
    if text is not None and not text.strip():
        raise ErrInvalidOption(option="--text", reason="give the words to search for")
    query = EntityQuery(entity, parsed.where, ordering, Projection.all(), text)
    return PreparedSearch(entity, query, selected, parsed.warning)


async def run_search(
    run: Session,
    installation: Any,
    entity_type: str,
    *,
    filter_text: str | None,
    limit: int | None,
    after: str | None,
    order_by: str | None,
    fields: str | None,
    all_pages: bool,
    output: str,
    text: str | None = None,
) -> None:
    from ._errors import ErrIncompatibleFlags
    from ._search_output import SearchPrinter
    from ._stored_lines import writes_fields

    def before_order(warning: str | None) -> None:
        if all_pages and output == "json":
            raise ErrIncompatibleFlags(
                flags="--all with -o json",
                reason="JSON output always returns a single page. Use -o ndjson for streaming, "
                "or paginate with --after.",
            )
        if warning:
            run.warn(warning)

    search = prepare_search(
        installation,
        entity_type,
        filter_text=filter_text,
        order_by=order_by,
        fields=fields,
        text=text,
        before_order=before_order,
    )
    style = run.style if output in ("text", "table") else PLAIN
    printer = SearchPrinter(output, style, streaming=all_pages)
    default_limit = STREAM_PAGE_LIMIT if all_pages else SINGLE_PAGE_LIMIT
    if all_pages and output == "ndjson":
        # The stream's lines do not show its pages: fetch larger ones (fewer round trips to
        # the reader thread), unless --limit says how large.
        default_limit = NDJSON_STREAM_PAGE_LIMIT
    page_limit = limit if limit is not None else default_limit
    # ndjson lines straight from the stored rows (_stored_lines) when they hold every field
    stored = output == "ndjson" and writes_fields(search.selected)

    async def fetch(cursor: str | None) -> SearchPage:
        return await search.page(installation, cursor, page_limit, stored=stored)

    if not all_pages:
        view = await fetch(after or None)
        run.lines(printer.page(view))
        for hint in printer.hints(view):
            run.note(hint)
        return

    def more(view: SearchPage) -> str | None:
        return view.cursor if view.has_more and view.cursor and page_limit else None

    await each_page(fetch, after or None, more, lambda view: run.lines(printer.page(view)))


async def each_page(
    fetch: Callable[[str | None], Awaitable[T]],
    cursor: str | None,
    next_cursor: Callable[[T], str | None],
    show: Callable[[T], None],
) -> None:
    """Fetch pages from ``cursor`` on and ``show`` each, in order: the next page is fetched
    (in the reader thread) while the current one is shown. Stops after the page without a
    next cursor; an error of a fetch or of ``show`` is raised as it is, once the other side
    stopped."""
    import trio

    send, receive = trio.open_memory_channel[T | Exception](1)

    async def produce() -> None:
        async with send:
            at = cursor
            while True:
                try:
                    page = await fetch(at)
                except Exception as exc:  # handed to the caller's task, raised there
                    await send.send(exc)
                    return
                await send.send(page)
                following = next_cursor(page)
                if following is None:
                    return
                at = following

    failure: Exception | None = None
    async with trio.open_nursery() as nursery:
        nursery.start_soon(produce)
        try:
            async with receive:
                async for item in receive:
                    if isinstance(item, Exception):
                        failure = item
                        break
                    show(item)
        except Exception as exc:  # showing failed (e.g. the reader of stdout went away)
            failure = exc
        nursery.cancel_scope.cancel()
    if failure is not None:
        raise failure


@click.command(name="search")
@click.argument("target", metavar="WS/INST")
@click.argument("entity_type", metavar="ENTITY")
@search_options
async def search_global(target: str, entity_type: str, **options: Any) -> None:
    """Search entities in a target installation.

    WS/INST names the installation (a path from here, or a max:// URL).

    \b
    Examples:
      max -g search my-project/acme-1 AcmeTask --limit 10
      max -g search max://@/my-project/acme-1 AcmeUser -f "role = admin" -o json
    """
    from ._errors import ErrTargetResolutionFailed
    from ._targeting import open_target

    run = session()
    url = run.targeting.relative_url(target)
    async with open_target(run.targeting, url) as resolved:
        if resolved.installation is None:
            raise ErrTargetResolutionFailed(
                target=str(resolved.url),
                reason="Expected an installation target (workspace/installation), got "
                f"{resolved.level}",
            )
        await run_search(run, resolved.installation, entity_type, **options)


@click.command(name="search")
@click.argument("installation")
@click.argument("entity_type", metavar="ENTITY")
@search_options
async def search_workspace(installation: str, entity_type: str, **options: Any) -> None:
    """Search entities.

    INSTALLATION is an installation of this workspace (max ls lists them); ENTITY an entity
    type of its connector (max schema lists them).

    \b
    Examples:
      max search acme-1 AcmeTask --limit 10
      max search acme-1 AcmeTask -f 'status = todo AND priority = high' --order-by title:desc
      max search acme-1 AcmeUser --fields displayName,email -o csv
      max search acme-1 AcmeTask --all -o ndjson | head -5
    """
    from ._targeting import open_target

    run = session()
    async with open_target(run.targeting) as resolved, resolved.reading(installation) as node:
        await run_search(run, node, entity_type, **options)


@click.command(name="search")
@click.argument("entity_type", metavar="ENTITY")
@search_options
async def search_installation(entity_type: str, **options: Any) -> None:
    """Search entities.

    \b
    Examples:
      max -t my-project/acme-1 search AcmeTask --limit 10
      max search AcmeUser -f "active = true" --fields .all -o json
      max search AcmeTask --after ein:AcmeTask:t-100
    """
    from ._targeting import open_target

    run = session()
    async with open_target(run.targeting) as resolved:
        await run_search(run, resolved.require_installation(), entity_type, **options)
