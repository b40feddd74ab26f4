"""``depends_on``: computing each dependency at most once per sync and handing results over.

A loader or source may declare :class:`~maxtrio.core.Dependency` entries — single sources whose
results it needs (a config fetch, API limits…). Before the runner calls it, the
:class:`DependencyMemo` of the sync produces every declared result, keyed by ``(source name,
ref)``: the first requester computes it (after the source's own dependencies), concurrent
requesters wait for that one computation on a ``trio.Event``, later ones get the stored value.
The results reach the loader as ``env.deps`` (a :class:`~maxtrio.core.LoaderResults`).

Failures are not remembered: the requesters waiting at that moment fail with the same error
(each wrapped as ``execution.dependency_failed`` naming the requester, the original as cause),
and a later request computes again. If the computing task is cancelled, a waiter takes over.
Results live in memory only, so a resumed sync computes them again.
"""

from __future__ import annotations

from typing import Any

import attrs
import trio

from maxtrio.core import LoaderEnv, LoaderResults, MaxError, Ref, SingleSource

from ._errors import ErrDependencyFailed
from ._registry import DependencyOwner


class _Entry:
    def __init__(self) -> None:
        self.done = trio.Event()
        self.has_value = False
        self.value: Any = None
        self.error: MaxError | None = None


class DependencyMemo:
    """Per-sync results of dependency sources, computed at most once per ``(source, ref)``."""

    def __init__(self, env: LoaderEnv[Any]) -> None:
        self.env = env
        self._entries: dict[tuple[str, str], _Entry] = {}
        self.computed = 0  # how many source fetches the memo made (statistics, tests)

    async def env_for(self, owner: DependencyOwner, ref: Ref | None) -> LoaderEnv[Any]:
        """The env to call ``owner`` with for ``ref``: the base env plus its ``deps``."""
        if not owner.depends_on:
            return self.env
        results: dict[str, Any] = {}
        for dep in owner.depends_on:
            bound = dep.ref if dep.ref is not None else ref
            if bound is None:  # the registry refuses such declarations; defend anyway
                raise ErrDependencyFailed(source=dep.source.name, loader=owner.name, refKey="-")
            try:
                results[dep.source.name] = await self.result(dep.source, bound)
            except Exception as error:
                raise ErrDependencyFailed(
                    source=dep.source.name, loader=owner.name, refKey=bound.to_key(), cause=error
                ) from error
        return attrs.evolve(self.env, deps=LoaderResults(results))

    async def result(self, source: SingleSource[Any], ref: Ref) -> Any:
        """The source's data for ``ref``, computing it if nobody has (or is doing so)."""
        key = (source.name, ref.to_key())
        while True:
            entry = self._entries.get(key)
            if entry is None:
                return await self._compute(key, source, ref)
            await entry.done.wait()
            if entry.has_value:
                return entry.value
            if entry.error is not None:
                raise entry.error
            # The computing task was cancelled before it finished: try again ourselves.

    async def _compute(self, key: tuple[str, str], source: SingleSource[Any], ref: Ref) -> Any:
        entry = _Entry()
        self._entries[key] = entry
        try:
            env = await self.env_for(source, ref)
            self.computed += 1
            value = await source.fetch(ref, env)
        except Exception as exc:
            entry.error = MaxError.wrap(exc)
            del self._entries[key]
            raise
        except BaseException:  # cancelled: forget the attempt, let a waiter take over
            del self._entries[key]
            raise
        else:
            entry.value = value
            entry.has_value = True
            return value
        finally:
            entry.done.set()
