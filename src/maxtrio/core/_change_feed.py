"""Change feeds: how a connector tells a sync what changed upstream since a cursor.

A connector whose source has a change log (Acme's ``GET /api/changes?since=``) declares a
:class:`ChangeFeed`. The sync engine then keeps the feed's cursor in the installation's sync
state and, after a completed full sync, asks only for what changed:

* ``head(env)`` — the feed's current position. A full sync asks for it **before** it lists
  anything, and stores it when the sync completes; changes made while the full sync ran are
  then read again by the next incremental sync (applying a change twice is harmless).
* ``changes(cursor, env, max_changes)`` — everything that changed after ``cursor`` as a
  :class:`ChangeSet`: the changed entities as complete inputs (every field the connector
  syncs, ``None`` for cleared values), the refs deleted upstream, and the cursor to continue
  from. More than ``max_changes`` changes → ``ChangeSet(overflow=True)``: a full sync is then
  cheaper than replaying the log. A cursor the source no longer knows raises
  :data:`ErrFeedCursorExpired`; the engine then falls back to a full sync.

Cursors are opaque strings to the engine. Calls go through ``env.ops`` like loaders', so the
sync's request counts, limits and retries apply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import attrs

from ._context import LoaderEnv
from ._core_errors import Core
from ._entity import EntityInput
from ._errors import NotFound
from ._ref import Ref

C = TypeVar("C")

#: Upper bound on the changes one incremental sync replays before a full sync is preferred.
DEFAULT_MAX_CHANGES = 20_000

ErrFeedCursorExpired = Core.define(
    "feed_cursor_expired",
    facets=[NotFound],
    message="The change feed no longer knows cursor {cursor}",
)


@attrs.frozen
class ChangeSet:
    """What changed upstream after a cursor.

    ``upserts`` are complete entity inputs (written like a full sync's rows, clearing what is
    ``None``); ``deletes`` are removed locally. An entity in both is deleted. ``cursor`` is
    where the next call continues. ``overflow`` means more changes were pending than the
    caller wanted to replay: nothing of this set should be applied. ``skipped`` counts source
    items the feed could not read and left out (reported like ``Page.skipped``).
    """

    upserts: Sequence[EntityInput] = ()
    deletes: Sequence[Ref] = ()
    cursor: str = ""
    overflow: bool = False
    skipped: int = 0

    @property
    def size(self) -> int:
        return len(self.upserts) + len(self.deletes)


@attrs.frozen(eq=False)
class ChangeFeed(Generic[C]):
    """A connector's change feed: ``head`` and ``changes`` (see the module docstring)."""

    name: str
    head: Callable[[LoaderEnv[C]], Awaitable[str]]
    changes: Callable[[str, LoaderEnv[C], int], Awaitable[ChangeSet]]

    @classmethod
    def create(
        cls,
        name: str,
        *,
        head: Callable[[LoaderEnv[Any]], Awaitable[str]],
        changes: Callable[[str, LoaderEnv[Any], int], Awaitable[ChangeSet]],
    ) -> ChangeFeed[Any]:
        return cls(name, head, changes)

    def __repr__(self) -> str:
        return f"ChangeFeed({self.name})"
