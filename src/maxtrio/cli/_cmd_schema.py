"""``max schema`` — a connector's entity types, fields and relationships (spec §7.4).

Workspace level: ``max schema <CONNECTOR>`` (a connector name, not an installation);
installation level: ``max schema``. Text::

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


@click.command(name="schema")
@click.argument("connector", metavar="CONNECTOR")
@output_option()
@debug_option
async def schema_workspace(connector: str, output: str) -> None:
    """Display the entity schema for a source.

    CONNECTOR is a connector name (e.g. acme), not an installation name.

    \b
    Examples:
      max schema acme
      max schema acme -o json
      max -t my-project schema acme -o csv
    """
    from ._targeting import open_target

    run = session()
    async with open_target(run.targeting) as target:
        workspace = target.require_workspace()
        with suggest_connector(workspace.connectors()):
            schema = workspace.connector_schema(connector)
    _emit(schema, output)


@click.command(name="schema")
@output_option()
@debug_option
async def schema_installation(output: str) -> None:
    """Display the entity schema.

    \b
    Examples:
      max -t my-project/acme-1 schema
      max schema -o json
    """
    from ._targeting import open_target

    run = session()
    async with open_target(run.targeting) as target:
        schema = target.require_installation().schema
    _emit(schema, output)
