"""``max schema`` — a connector's entity types, fields and relationships.

Global and workspace level: ``max schema <SOURCE>``; installation level: ``max schema
[SOURCE]`` (without it: this installation's).
SOURCE is a connector name (``acme``) or — MAXTRIO — an installation: its name inside a
workspace (``acme-1``), ``ws/inst`` (or a Max URL) anywhere. Connector names are tried first
(:func:`schema_of_source`); an installation's schema is its connector's, read without
starting the installation. Text::

    Name: acme (5 entities, 1 root)

    Entities:
      AcmeUser       (displayName, email, role, active)
      AcmeTask       (title, …, assignee → AcmeUser)

    Roots:
      AcmeRoot

    Relationships:
      AcmeTask.assignee → AcmeUser (one)

JSON: ``{"namespace", "entities": [{"name", "fields": [{"name", "kind", "type"|"target"}]}],
"roots", "relationships"}``; ``-o ndjson`` is that object on one line; ``-o csv``/``table``
list one row per field.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import asyncclick as click

from ._output import Style
from ._session import debug_option, output_option, session


class SchemaReport:
    """A schema as the five output formats show it."""

    def __init__(self, schema: Any) -> None:
        self.schema = schema

    def _field_summary(self, name: str, field: Any) -> str:
        kind = str(field.kind)
        if kind == "ref":
            return f"{name} → {field.target(self.schema.get_definition).name}"
        if kind == "collection":
            return f"{name} → {field.target(self.schema.get_definition).name}[]"
        return name

    def text(self, style: Style) -> str:
        schema = self.schema
        roots = len(schema.roots)
        lines = [
            f"{style.underline('Name:')} {schema.namespace} "
            f"({len(schema.entities)} entities, {roots} root{'' if roots == 1 else 's'})",
            "",
            style.underline("Entities:"),
        ]
        width = max((len(e.name) for e in schema.entities), default=0)
        for entity in schema.entities:
            fields = ", ".join(self._field_summary(n, f) for n, f in entity.fields.items())
            lines.append(f"  {entity.name.ljust(width)}  ({fields})")
        if schema.roots:
            lines += ["", style.underline("Roots:")]
            lines += [f"  {root.name}" for root in schema.roots]
        relationships = schema.relationships
        if relationships:
            lines += ["", style.underline("Relationships:")]
            lines += [f"  {r.from_}.{r.field} → {r.to} ({r.cardinality})" for r in relationships]
        return "\n".join(lines)

    def _field_json(self, name: str, field: Any) -> dict[str, Any]:
        kind = str(field.kind)
        if kind in ("ref", "collection"):
            target = field.target(self.schema.get_definition).name
            return {"name": name, "kind": kind, "target": target}
        return {"name": name, "kind": "scalar", "type": kind}

    def document(self) -> dict[str, Any]:
        schema = self.schema
        return {
            "namespace": schema.namespace,
            "entities": [
                {
                    "name": entity.name,
                    "fields": [self._field_json(n, f) for n, f in entity.fields.items()],
                }
                for entity in schema.entities
            ],
            "roots": [root.name for root in schema.roots],
            "relationships": [r.to_dict() for r in schema.relationships],
        }

    def records(self) -> tuple[Sequence[str], Sequence[Mapping[str, Any]]] | None:
        """One row per field (``entity, field, kind, type``) for ``csv`` and ``table``."""
        rows = []
        for entity in self.schema.entities:
            for name, field in entity.fields.items():
                described = self._field_json(name, field)
                rows.append(
                    {
                        "entity": entity.name,
                        "field": name,
                        "kind": described["kind"],
                        "type": described.get("type") or described.get("target"),
                    }
                )
        return ["entity", "field", "kind", "type"], rows


@contextlib.contextmanager
def suggest_connector(registry: Any) -> Iterator[None]:
    """An unknown connector name gets the hint ``did you mean "acme"?`` when a registered
    name is close, else the list of registered connectors."""
    from maxtrio.connector import ErrConnectorNotFound
    from maxtrio.core import MaxError, did_you_mean

    try:
        yield
    except Exception as exc:
        if ErrConnectorNotFound.matches(exc):
            assert isinstance(exc, MaxError)
            names = [entry.name for entry in registry.list()]
            suggestion = did_you_mean(str(exc.data.get("connector", "")), names)
            listing = f"connectors: {', '.join(names) or 'none'} (max install adds more)"
            exc.data.setdefault("hint", f"{suggestion} ({listing})" if suggestion else listing)
        raise


def _emit(schema: Any, output: str) -> None:
    session().emit(SchemaReport(schema), output)


async def schema_of_source(target: Any, source: str) -> Any:
    """The schema ``max schema SOURCE`` shows at ``target`` (global or workspace level):
    the connector named SOURCE; else the installation SOURCE names (``acme-1`` in a
    workspace, ``ws/inst`` or a Max URL anywhere) — its connector's schema. When neither
    exists the connector error is raised (``connector.connector_not_found``, with a
    did-you-mean hint from :func:`suggest_connector`)."""
    from maxtrio.connector import ErrConnectorNotFound

    workspace = target.workspace
    registry = workspace.connectors() if workspace is not None else target.global_max.connectors()
    try:
        return registry.resolve(source).schema
    except Exception as exc:
        if not ErrConnectorNotFound.matches(exc):
            raise
        installation = await _installation_named(target, source)
        if installation is None:
            with suggest_connector(registry):
                raise
    return registry.resolve(installation.connector).schema


async def _installation_named(target: Any, source: str) -> Any:
    """The ``InstallationInfo`` that ``source`` names from ``target``, or None."""
    from maxtrio.federation import target_url

    workspace = target.workspace
    if workspace is not None and "/" not in source:
        return await workspace.find_installation(source)
    try:
        url = target_url(source, target.url)
    except Exception:
        return None  # not a path at all: the connector error stands
    if url.workspace is None or url.installation is None:
        return None
    if workspace is None or url.workspace != workspace.name:
        info = await target.global_max.find_workspace(url.workspace)
        if info is None:
            return None
        workspace = await target.global_max.workspace(info.id)
    return await workspace.find_installation(url.installation)


@click.command(name="schema")
@click.argument("source", metavar="SOURCE")
@output_option()
@debug_option
async def schema_workspace(source: str, output: str) -> None:
    """Display the entity schema for a source.

    SOURCE is a connector name (e.g. acme) or the name of an installation of this workspace
    (e.g. acme-1): its connector's schema. Connector names are tried first.

    \b
    Examples:
      max schema acme
      max schema acme-1 -o json
      max -t my-project schema acme -o csv
    """
    await _schema_command(source, output)


@click.command(name="schema")
@click.argument("source", metavar="SOURCE")
@output_option()
@debug_option
async def schema_global(source: str, output: str) -> None:
    """Display the entity schema of a connector (no workspace needed).

    SOURCE is a connector name (e.g. acme) or an installation as WS/INST (its connector's
    schema). Connector names are tried first.

    \b
    Examples:
      max schema acme
      max -g schema git -o json
      max schema my-project/acme-1
    """
    await _schema_command(source, output)


async def _schema_command(source: str, output: str) -> None:
    from ._targeting import open_target

    run = session()
    async with open_target(run.targeting) as target:
        schema = await schema_of_source(target, source)
    _emit(schema, output)


@click.command(name="schema")
@click.argument("source", metavar="[SOURCE]", required=False)
@output_option()
@debug_option
async def schema_installation(source: str | None, output: str) -> None:
    """Display the entity schema.

    Without SOURCE: this installation's. SOURCE, as at the workspace level, names a
    connector or an installation of this workspace.

    \b
    Examples:
      max -t my-project/acme-1 schema
      max schema -o json
      max schema acme-2
    """
    from ._targeting import open_target

    run = session()
    async with open_target(run.targeting) as target:
        installation = target.require_installation()
        if source is None or source == installation.name:
            schema = installation.schema
        else:
            schema = await schema_of_source(target, source)
    _emit(schema, output)
