"""The execution stores' :class:`~maxtrio.storage._store_dialect.StoreDialect` for PostgreSQL
(psycopg): ``%s`` parameters, ``bigint`` casts, ``LEAST``, ``= ANY(…)`` lists, ``_max_sync``'s
``number`` and ``_max_tasks``'s ``seq`` columns, and ids stored in their escaped form
(``_pg_values.encode_text``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ._pg_values import decode_text, encode_text
from ._store_dialect import Row, StoreDialect


class PgStoreDialect(StoreDialect):
    integer = "bigint"
    sync_number = "number"
    task_order = "seq"
    least = "LEAST"

    def sql(self, text: str) -> str:
        return text.replace("%", "%%").replace("?", "%s")

    def rows(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [tuple(row) for row in conn.execute(self.sql(sql), params).fetchall()]

    def run(self, conn: Any, sql: str, params: Sequence[Any] = ()) -> int:
        return int(conn.execute(self.sql(sql), params).rowcount)

    def run_many(self, conn: Any, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with conn.cursor() as cursor:
            cursor.executemany(self.sql(sql), list(rows))

    def key(self, text: str) -> str:
        return encode_text(text)

    def unkey(self, stored: str) -> str:
        return decode_text(stored)

    def in_list(self, values: Sequence[str]) -> tuple[str, Any]:
        return "= ANY(?)", [self.key(v) for v in values]


POSTGRESQL_STORES = PgStoreDialect()
