"""The PostgreSQL spelling of compiled queries, with SQLite's meaning (docs/scale-out.md).

* Placeholders are ``%s`` (psycopg); every operand is first converted as SQLite's affinity
  would convert it (``_pg_values.operand``), so comparisons are between values of the column's
  type. Text columns are ``COLLATE "C"``: byte order, which is SQLite's ``BINARY``.
* A REAL column compared with an integer no double equals (beyond 2^53): SQLite compares the
  two exactly, PostgreSQL would round the integer to a double first. The comparison is
  rewritten on the neighbouring doubles (``x < n`` is ``x <= below(n)``; ``x = n`` is false).
* A boolean column compared with a number compares its ``0``/``1``.
* ``~=``: ``strpos(translate(col, 'A…Z', 'a…z'), needle) > 0`` — ``translate`` folds ASCII
  letters only, as SQLite's ``lower()``. A number column is searched in SQLite's text of the
  number (``_max_real_text``: ``12.0``, ``1.0e+20``, ``Inf``), a boolean in ``0``/``1``.
* ``not`` is ``(c) IS NOT TRUE``; NULLs sort first ascending and last descending, spelled out.
"""

from __future__ import annotations

from typing import Any

from maxtrio.core import EntityQuery, FieldKind

from ._pg_text import document_sql, text_query_sql
from ._pg_values import exact_float, float_neighbours, operand
from ._sql import CompiledQuery, Dialect, where_sql
from ._table import Column, TableSpec
from ._values import has_ascii_letter

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = _UPPER.lower()

#: SQLite's text of a REAL (``CAST(x AS TEXT)``): the shortest digits that give the number
#: back — which are SQLite's when there are 15 or fewer (SQLite prints 17 of its own
#: otherwise; see docs/scale-out.md) — in fixed notation with at least one decimal (``12.0``)
#: for decimal exponents from -4 to 16, else ``d.ddde±XX``; infinities are ``Inf``/``-Inf``.
REAL_TEXT_FUNCTION = r"""
CREATE OR REPLACE FUNCTION _max_real_text(v double precision) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE SET extra_float_digits = 1 AS $fn$
DECLARE
  t text; m text; ip text; fp text; digits text; x int; e int; body text;
BEGIN
  IF v = 'Infinity'::float8 THEN RETURN 'Inf'; END IF;
  IF v = '-Infinity'::float8 THEN RETURN '-Inf'; END IF;
  IF v = 0 THEN RETURN '0.0'; END IF;
  -- the shortest digits that give v back; when they are 15 or fewer, they are SQLite's
  t := abs(v)::text;
  m := split_part(t, 'e', 1);
  x := coalesce(nullif(split_part(t, 'e', 2), '')::int, 0);
  ip := ltrim(split_part(m, '.', 1), '0');
  fp := split_part(m, '.', 2);
  IF ip <> '' THEN
    e := length(ip) - 1 + x;
    digits := ip || fp;
  ELSE
    e := x - (length(fp) - length(ltrim(fp, '0')) + 1);
    digits := ltrim(fp, '0');
  END IF;
  digits := coalesce(nullif(rtrim(digits, '0'), ''), '0');
  IF e < -4 OR e >= 17 THEN
    body := substr(digits, 1, 1) || '.' || coalesce(nullif(substr(digits, 2), ''), '0')
      || 'e' || (CASE WHEN e < 0 THEN '-' ELSE '+' END)
      || (CASE WHEN abs(e) < 10 THEN '0' ELSE '' END) || abs(e)::text;
  ELSIF e >= 0 THEN
    digits := rpad(digits, greatest(length(digits), e + 1), '0');
    body := substr(digits, 1, e + 1) || '.'
      || coalesce(nullif(substr(digits, e + 2), ''), '0');
  ELSE
    body := '0.' || repeat('0', -e - 1) || digits;
  END IF;
  RETURN (CASE WHEN v < 0 THEN '-' ELSE '' END) || body;
END
$fn$
"""


class PgDialect(Dialect):
    """PostgreSQL's spelling."""

    false = "FALSE"

    def compare(
        self, col: Column | None, quoted: str, op: str, value: Any, params: list[Any]
    ) -> str:
        kind = None if col is None else col.kind
        bound = operand(kind, value)
        if kind is FieldKind.BOOLEAN and bound is not None:
            params.append(bound)
            return f"({quoted})::int {op} %s"
        if kind is FieldKind.NUMBER and type(bound) is int and not exact_float(bound):
            below, above = float_neighbours(bound)
            if op == "=":
                return "FALSE"
            if op == "!=":
                return f"{quoted} IS NOT NULL"
            params.append(below if op in ("<", "<=") else above)
            return f"{quoted} {'<=' if op in ('<', '<=') else '>='} %s"
        if kind is FieldKind.NUMBER and type(bound) is int:
            bound = float(bound)
        params.append(bound)
        return f"{quoted} {op} %s"

    def contains(self, col: Column | None, quoted: str, needle: str, params: list[Any]) -> str:
        kind = None if col is None else col.kind
        if kind is FieldKind.NUMBER:
            text = f"_max_real_text({quoted})"
        elif kind is FieldKind.BOOLEAN:
            text = f"({quoted})::int::text"
        else:
            text = quoted
        params.append(operand(None, needle))
        if has_ascii_letter(needle):
            text = f"translate({text}, '{_UPPER}', '{_LOWER}')"
        return f"strpos({text}, %s) > 0"

    def is_in(
        self, col: Column | None, quoted: str, values: tuple[Any, ...], params: list[Any]
    ) -> str:
        parts = [self.compare(col, quoted, "=", value, params) for value in values]
        parts = [p for p in parts if p != "FALSE"]
        if not parts:
            return self.false
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def negate(self, inner: str) -> str:
        return f"(({inner}) IS NOT TRUE)"

    def order(self, lead: str, descending: bool) -> str:
        return f"{lead} DESC NULLS LAST" if descending else f"{lead} ASC NULLS FIRST"

    def text_match(self, table: TableSpec, text: str, params: list[Any]) -> str:
        """The rows whose indexed text matches the FTS5 query ``text`` (``_pg_text``)."""
        return f"{document_sql(table)} @@ {text_query_sql(text, params)}"

    def ranked(
        self,
        table: TableSpec,
        query: EntityQuery,
        columns: tuple[Column, ...],
        fetch_size: int,
        offset: int,
    ) -> CompiledQuery:
        """A text search best match first (``ts_rank``, higher is better), ties by ``_id``."""
        assert query.text is not None
        words: list[Any] = []  # the query's, bound twice: to match and to rank
        tsquery, document = text_query_sql(query.text, words), document_sql(table)
        params = list(words)
        conditions = [f"{document} @@ {tsquery}"]
        filter_sql = where_sql(table, query.where, params, self)
        if filter_sql:
            conditions.append(filter_sql)
        params += words
        rank = f"ts_rank({document}, {tsquery})"
        select = ", ".join(["_id", *(c.quoted for c in columns)])
        sql = (
            f"SELECT {select} FROM {table.quoted} WHERE {' AND '.join(conditions)} "
            f"ORDER BY {rank} DESC, _id ASC LIMIT {int(fetch_size)} OFFSET {int(offset)}"
        )
        return CompiledQuery(sql, tuple(params), columns, None)


POSTGRESQL = PgDialect()
