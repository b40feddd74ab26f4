"""Encoded list answers kept until the tenant changes: the server's hot path costs no SQL.

A sync asks for every project's task list; the answers are the same bytes until something is
written. :class:`ListCache` keeps encoded bodies keyed by the list query, stamped with the
tenant's :meth:`~._tenant.Tenant.change_token` (which moves on every write, this process's or
another's), and drops everything when the token moves or the byte budget would be exceeded.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Final

import attrs

DEFAULT_BUDGET_BYTES: Final = 64 << 20


@attrs.frozen
class CachedList:
    body: bytes
    next_cursor: str | None


class ListCache:
    """Bodies of list answers, valid for one change token of the tenant."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self._token: Hashable = None
        self._entries: dict[Hashable, CachedList] = {}
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def get(self, token: Hashable, key: Hashable) -> CachedList | None:
        if token != self._token:
            self._reset(token)
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def put(self, token: Hashable, key: Hashable, entry: CachedList) -> CachedList:
        if token != self._token:
            self._reset(token)
        size = len(entry.body)
        if size > self.budget_bytes:
            return entry
        if self._bytes + size > self.budget_bytes:
            self._reset(token)
        self._entries[key] = entry
        self._bytes += size
        return entry

    def _reset(self, token: Hashable) -> None:
        self._token = token
        self._entries.clear()
        self._bytes = 0
