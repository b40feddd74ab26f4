"""maxtrio.storage — apsw SQLite: the entity engine, the task store, sync records, sync meta;
and the entity engine on PostgreSQL.

``SqliteEngine`` implements the ``Engine`` protocol over one ``SqliteDatabase``;
``InMemoryEngine`` implements it in plain Python for unit tests of the layers above.
``SqliteTaskStore``, ``SqliteSyncStore`` and ``SqliteSyncMeta`` implement the execution
protocols in the same ``data.db``; ``open_installation_store`` opens all four together.

``PgEngine`` implements ``Engine`` in a schema of a PostgreSQL database (psycopg 3);
``PgTaskStore``, ``PgSyncStore`` and ``PgSyncMeta`` the execution protocols in the same schema
(``open_pg_installation_store`` opens all four). Every name is imported on first use, so
commands that never touch PostgreSQL do not load psycopg, and those that only need a name's
spelling (``quote``, ``table_name``) do not load apsw, the engines or the query types of
``maxtrio.core`` (``Engine``, ``QueryItem`` and ``DEFAULT_PAGE_LIMIT`` are re-exported lazily).
"""

from typing import TYPE_CHECKING

from maxtrio._lazy import lazy_names

if TYPE_CHECKING:
    from maxtrio.core import DEFAULT_PAGE_LIMIT, Engine, QueryItem

    from ._database import SqliteDatabase
    from ._errors import (
        ErrCollectionNotSupported,
        ErrColumnCollision,
        ErrEntityNotFound,
        ErrEntityNotRegistered,
        ErrFieldNotFound,
        ErrInvalidCursor,
        ErrInvalidFieldMapping,
        ErrInvalidFilterValue,
        ErrInvalidLimit,
        ErrInvalidTextQuery,
        ErrInvalidValue,
        ErrNoTextFields,
        ErrOpenFailed,
        ErrStoreUnreachable,
        ErrTableCollision,
        ErrTextSearchUnsupported,
        ErrWriteFailed,
        Storage,
    )
    from ._execution_tables import ensure_execution_tables
    from ._installation_store import InstallationStore, open_installation_store
    from ._memory_engine import InMemoryEngine
    from ._naming import column_name, quote, snake_case, table_name
    from ._page_plan import StoredPage
    from ._pg_database import PgDatabase, dsn_label
    from ._pg_engine import PgEngine
    from ._pg_installation_store import drop_pg_installation_store, open_pg_installation_store
    from ._pg_rows import PgTableRows
    from ._pg_sync_meta import PgSyncMeta
    from ._pg_sync_store import PgSyncStore
    from ._pg_task_store import PgTaskStore
    from ._pg_values import decode_text
    from ._sqlite_engine import AUTO_INDEX_MIN_ROWS, SqliteEngine
    from ._sync_meta import SqliteSyncMeta
    from ._sync_store import SqliteSyncStore
    from ._table import Column, TableSpec
    from ._task_store import SqliteTaskStore
    from ._text_index import TextIndex, is_text_index_table
    from ._values import format_date, number_text, parse_date

_SOURCES = {
    "DEFAULT_PAGE_LIMIT": "maxtrio.core",
    "Engine": "maxtrio.core",
    "QueryItem": "maxtrio.core",
    "SqliteDatabase": "_database",
    "ErrCollectionNotSupported": "_errors",
    "ErrColumnCollision": "_errors",
    "ErrEntityNotFound": "_errors",
    "ErrEntityNotRegistered": "_errors",
    "ErrFieldNotFound": "_errors",
    "ErrInvalidCursor": "_errors",
    "ErrInvalidFieldMapping": "_errors",
    "ErrInvalidFilterValue": "_errors",
    "ErrInvalidLimit": "_errors",
    "ErrInvalidTextQuery": "_errors",
    "ErrInvalidValue": "_errors",
    "ErrNoTextFields": "_errors",
    "ErrOpenFailed": "_errors",
    "ErrStoreUnreachable": "_errors",
    "ErrTableCollision": "_errors",
    "ErrTextSearchUnsupported": "_errors",
    "ErrWriteFailed": "_errors",
    "Storage": "_errors",
    "ensure_execution_tables": "_execution_tables",
    "InstallationStore": "_installation_store",
    "open_installation_store": "_installation_store",
    "InMemoryEngine": "_memory_engine",
    "column_name": "_naming",
    "quote": "_naming",
    "snake_case": "_naming",
    "table_name": "_naming",
    "StoredPage": "_page_plan",
    "PgDatabase": "_pg_database",
    "dsn_label": "_pg_database",
    "PgEngine": "_pg_engine",
    "drop_pg_installation_store": "_pg_installation_store",
    "open_pg_installation_store": "_pg_installation_store",
    "PgTableRows": "_pg_rows",
    "PgSyncMeta": "_pg_sync_meta",
    "PgSyncStore": "_pg_sync_store",
    "PgTaskStore": "_pg_task_store",
    "decode_text": "_pg_values",
    "AUTO_INDEX_MIN_ROWS": "_sqlite_engine",
    "SqliteEngine": "_sqlite_engine",
    "SqliteSyncMeta": "_sync_meta",
    "SqliteSyncStore": "_sync_store",
    "Column": "_table",
    "TableSpec": "_table",
    "SqliteTaskStore": "_task_store",
    "TextIndex": "_text_index",
    "is_text_index_table": "_text_index",
    "format_date": "_values",
    "number_text": "_values",
    "parse_date": "_values",
}

# Every name is imported from its module on first use: a command that needs the naming rules
# or an error definition does not load apsw, the engines and the stores.
__getattr__, __dir__ = lazy_names(__name__, _SOURCES, globals())


__all__ = [
    "AUTO_INDEX_MIN_ROWS",
    "DEFAULT_PAGE_LIMIT",
    "Column",
    "Engine",
    "ErrCollectionNotSupported",
    "ErrColumnCollision",
    "ErrEntityNotFound",
    "ErrEntityNotRegistered",
    "ErrFieldNotFound",
    "ErrInvalidCursor",
    "ErrInvalidFieldMapping",
    "ErrInvalidFilterValue",
    "ErrInvalidLimit",
    "ErrInvalidTextQuery",
    "ErrInvalidValue",
    "ErrNoTextFields",
    "ErrOpenFailed",
    "ErrStoreUnreachable",
    "ErrTableCollision",
    "ErrTextSearchUnsupported",
    "ErrWriteFailed",
    "InMemoryEngine",
    "InstallationStore",
    "PgDatabase",
    "PgEngine",
    "PgSyncMeta",
    "PgSyncStore",
    "PgTableRows",
    "PgTaskStore",
    "QueryItem",
    "SqliteDatabase",
    "SqliteEngine",
    "SqliteSyncMeta",
    "SqliteSyncStore",
    "SqliteTaskStore",
    "Storage",
    "StoredPage",
    "TableSpec",
    "TextIndex",
    "column_name",
    "decode_text",
    "drop_pg_installation_store",
    "dsn_label",
    "ensure_execution_tables",
    "format_date",
    "is_text_index_table",
    "number_text",
    "open_installation_store",
    "open_pg_installation_store",
    "parse_date",
    "quote",
    "snake_case",
    "table_name",
]
