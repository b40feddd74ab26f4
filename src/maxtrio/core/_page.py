"""Pagination values: ``Page`` of items, ``PageRequest`` from a caller, ``MaxPage`` of refs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

import attrs

from ._core_errors import ErrInvalidPageRequest
from ._ref import Ref
from ._scope import INSTALLATION, Scope

if TYPE_CHECKING:
    from ._entity import EntityDef

T = TypeVar("T")
U = TypeVar("U")


@attrs.frozen
class Page(Generic[T]):
    """One page of items; ``cursor`` continues after the last item when ``has_more``.

    ``skipped`` counts source items the loader could not read and left out (an unreadable
    file, a line that is not JSON): the sync goes on and reports the sum (``SyncResult``)."""

    items: Sequence[T]
    has_more: bool = False
    cursor: str | None = None
    total: int | None = None
    skipped: int = 0

    @classmethod
    def empty(cls) -> Page[T]:
        return cls((), False, None)

    @classmethod
    def from_offset(cls, items: Sequence[T], offset: int, limit: int) -> Page[T]:
        """For "fetch one more" offset APIs: ``items`` may hold ``limit + 1`` entries."""
        has_more = len(items) > limit
        return cls(list(items[:limit]), has_more, str(offset + limit) if has_more else None)

    @classmethod
    def from_next(cls, items: Sequence[T], next_token: str | None) -> Page[T]:
        """For token APIs: more pages exist iff the API gave a next token."""
        return cls(list(items), next_token is not None, next_token)

    @staticmethod
    def begin(limit: int | None = None) -> PageRequest:
        return PageRequest(None, limit)

    def map(self, fn: Callable[[T], U]) -> Page[U]:
        items = [fn(i) for i in self.items]
        return Page(items, self.has_more, self.cursor, self.total, self.skipped)

    def __len__(self) -> int:
        return len(self.items)


@attrs.frozen
class PageRequest:
    """What a caller asks for: an optional cursor and an optional limit."""

    cursor: str | None = None
    limit: int | None = None

    @classmethod
    def start(cls, limit: int | None = None) -> PageRequest:
        return cls(None, limit)

    @classmethod
    def resume(cls, cursor: str, limit: int | None = None) -> PageRequest:
        return cls(cursor, limit)

    def default_limit(self, n: int) -> ResolvedPageRequest:
        return ResolvedPageRequest(self.cursor or None, self.limit if self.limit is not None else n)

    def parse_cursor(self, fn: Callable[[str], T], default: T) -> T:
        return default if not self.cursor else fn(self.cursor)

    def parse_as_numeric_offset(self, default: int = 0) -> int:
        if not self.cursor:
            return default
        # ASCII digits only: ``int()`` would also take "1_000", " 7 " and non-ASCII digits.
        if not (self.cursor.isascii() and self.cursor.isdigit()):
            reason = f"cursor {self.cursor!r} is not a non-negative integer offset"
            raise ErrInvalidPageRequest(reason=reason)
        return int(self.cursor)


@attrs.frozen
class ResolvedPageRequest:
    """A page request whose limit is known; ``fetch_size`` is one more, to detect more pages."""

    cursor: str | None
    limit: int

    @property
    def fetch_size(self) -> int:
        return self.limit + 1

    def parse_cursor(self, fn: Callable[[str], T], default: T) -> T:
        return PageRequest(self.cursor, self.limit).parse_cursor(fn, default)

    def parse_as_numeric_offset(self, default: int = 0) -> int:
        return PageRequest(self.cursor, self.limit).parse_as_numeric_offset(default)


@attrs.frozen
class MaxPage:
    """A page of refs whose cursor is itself a ref, so the page can be scope-upgraded."""

    items: Sequence[Ref]
    has_more: bool
    cursor: Ref | None
    scope: Scope

    @classmethod
    def from_refs(cls, items: Sequence[Ref], has_more: bool, cursor: Ref | None = None) -> MaxPage:
        if cursor is not None:
            scope = cursor.scope
        elif items:
            scope = items[0].scope
        else:
            scope = INSTALLATION
        return cls(list(items), has_more, cursor, scope)

    @classmethod
    def empty(cls, scope: Scope = INSTALLATION) -> MaxPage:
        return cls((), False, None, scope)

    def upgrade_scope(self, scope: Scope) -> MaxPage:
        return MaxPage(
            [r.upgrade_scope(scope) for r in self.items],
            self.has_more,
            self.cursor.upgrade_scope(scope) if self.cursor is not None else None,
            scope,
        )

    @classmethod
    def from_page(cls, page: Page[Ref], entity_def: EntityDef, scope: Scope) -> MaxPage:
        """Inverse of :meth:`to_page`: parse the RefKey cursor and put everything in ``scope``."""
        cursor = Ref.from_key(entity_def, page.cursor).upgrade_scope(scope) if page.cursor else None
        return cls([r.upgrade_scope(scope) for r in page.items], page.has_more, cursor, scope)

    def to_page(self) -> Page[Ref]:
        return Page(list(self.items), self.has_more, self.cursor.to_key() if self.cursor else None)
