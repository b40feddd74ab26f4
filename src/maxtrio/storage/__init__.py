"""maxtrio.storage — apsw SQLite: the entity engine (and, later, the task store and sync meta).

``SqliteEngine`` implements the ``Engine`` protocol over one ``SqliteDatabase``;
``InMemoryEngine`` implements it in plain Python for unit tests of the layers above.
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
    ErrInvalidValue,
    ErrOpenFailed,
    ErrTableCollision,
    ErrWriteFailed,
    Storage,
)
from ._memory_engine import InMemoryEngine
from ._naming import column_name, quote, snake_case, table_name
from ._sqlite_engine import AUTO_INDEX_MIN_ROWS, SqliteEngine
from ._table import Column, TableSpec
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
    "ErrInvalidValue",
    "ErrOpenFailed",
    "ErrTableCollision",
    "ErrWriteFailed",
    "InMemoryEngine",
    "QueryItem",
    "SqliteDatabase",
    "SqliteEngine",
    "Storage",
    "TableSpec",
    "column_name",
    "format_date",
    "number_text",
    "parse_date",
    "quote",
    "snake_case",
    "table_name",
]
