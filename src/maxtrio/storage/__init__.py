"""maxtrio.storage — apsw SQLite: the entity engine, the task store, sync records, sync meta.

``SqliteEngine`` implements the ``Engine`` protocol over one ``SqliteDatabase``;
``InMemoryEngine`` implements it in plain Python for unit tests of the layers above.
``SqliteTaskStore``, ``SqliteSyncStore`` and ``SqliteSyncMeta`` implement the execution
protocols in the same ``data.db``; ``open_installation_store`` opens all four together.
"""

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
    ErrTableCollision,
    ErrTextSearchUnsupported,
    ErrWriteFailed,
    Storage,
)
from ._execution_tables import ensure_execution_tables
from ._installation_store import InstallationStore, open_installation_store
from ._memory_engine import InMemoryEngine
from ._naming import column_name, quote, snake_case, table_name
from ._sqlite_engine import AUTO_INDEX_MIN_ROWS, SqliteEngine
from ._sync_meta import SqliteSyncMeta
from ._sync_store import SqliteSyncStore
from ._table import Column, TableSpec
from ._task_store import SqliteTaskStore
from ._text_index import TextIndex, is_text_index_table
from ._values import format_date, number_text, parse_date

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
    "ErrTableCollision",
    "ErrTextSearchUnsupported",
    "ErrWriteFailed",
    "InMemoryEngine",
    "InstallationStore",
    "QueryItem",
    "SqliteDatabase",
    "SqliteEngine",
    "SqliteSyncMeta",
    "SqliteSyncStore",
    "SqliteTaskStore",
    "Storage",
    "TableSpec",
    "TextIndex",
    "column_name",
    "ensure_execution_tables",
    "format_date",
    "is_text_index_table",
    "number_text",
    "open_installation_store",
    "parse_date",
    "quote",
    "snake_case",
    "table_name",
]
