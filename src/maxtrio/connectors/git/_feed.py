"""The git change feed: the cursor is where every ref pointed; changes are commits since.

Cursor: ``{"v": 1, "head": <branch or sha>, "tips": {refname: commit sha}}`` (branches,
remote-tracking branches, tags and ``HEAD``). ``changes(cursor)``:

* commits reachable from the new tips and not from the old ones are read and upserted — a
  re-sync reads only commits it has not synced (``git rev-list new --not old``);
* commits reachable from the old tips and from none of the new ones are deleted: a
  force-pushed branch or a deleted branch loses its unreachable commits, as a full sync
  would remove them;
* authors are recounted when commits came or went (one ``git log`` without diffs); an author
  left with no commit is deleted;
* every branch and tag is upserted, those gone since the cursor are deleted;
* the repository's own fields (HEAD, origin) are upserted.

A cursor that is not ours, or whose commits git no longer has (``git gc`` after a
force-push), raises ``core.feed_cursor_expired``: the engine runs a full sync.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from maxtrio.core import (
    ChangeFeed,
    ChangeSet,
    EntityInput,
    ErrFeedCursorExpired,
    LoaderEnv,
    MaxError,
    Ref,
)

from ._context import GitContext
from ._entities import GitAuthor, GitBranch, GitCommit, GitTag
from ._errors import ErrGitFailed
from ._git import author_id
from ._operations import (
    ListCommitIds,
    ListRefs,
    NoInput,
    ReadAuthors,
    ReadCommits,
    ReadInfo,
    ReadTips,
    RevRange,
    Shas,
)
from ._records import author_input, commit_input, ref_inputs, repository_input

Env = LoaderEnv[GitContext]
CURSOR_VERSION = 1


@attrs.frozen
class GitCursor:
    head: str
    tips: dict[str, str]

    def encode(self) -> str:
        return json.dumps(
            {"v": CURSOR_VERSION, "head": self.head, "tips": dict(sorted(self.tips.items()))},
            separators=(",", ":"),
        )

    @property
    def commits(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.tips.values())))

    @classmethod
    def decode(cls, text: str) -> GitCursor:
        """The cursor ``text`` holds; anything else is ``core.feed_cursor_expired``."""
        try:
            data: Any = json.loads(text)
        except ValueError:
            data = None
        tips = data.get("tips") if isinstance(data, dict) else None
        head = data.get("head") if isinstance(data, dict) else None
        valid = (
            isinstance(data, dict)
            and data.get("v") == CURSOR_VERSION
            and isinstance(head, str)
            and isinstance(tips, dict)
            and all(isinstance(k, str) and _is_sha(v) for k, v in tips.items())
        )
        if not valid:
            raise ErrFeedCursorExpired(cursor=_short(text))
        assert isinstance(head, str) and isinstance(tips, dict)
        return cls(head, dict(tips))


def _is_sha(value: object) -> bool:
    return (
        isinstance(value, str)
        and len(value) in (40, 64)
        and all(c in "0123456789abcdef" for c in value)
    )


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


async def _current(env: Env) -> tuple[GitCursor, Any]:
    info = await env.ops.execute(ReadInfo, NoInput())
    tips = await env.ops.execute(ReadTips, NoInput())
    return GitCursor(info.head, tips), info


async def _head(env: Env) -> str:
    return (await _current(env))[0].encode()


async def _changes(cursor: str, env: Env, max_changes: int) -> ChangeSet:
    old = GitCursor.decode(cursor)
    new, info = await _current(env)
    if new == old:
        return ChangeSet(cursor=new.encode())
    try:
        added = await env.ops.execute(ListCommitIds, RevRange(new.commits, old.commits))
        removed = await env.ops.execute(ListCommitIds, RevRange(old.commits, new.commits))
    except MaxError as err:
        if ErrGitFailed.matches(err):  # the old commits are gone (gc): list everything again
            raise ErrFeedCursorExpired(cursor=_short(cursor)) from None
        raise
    if len(added) + len(removed) > max_changes:
        return ChangeSet(cursor=new.encode(), overflow=True)
    upserts: list[EntityInput] = [repository_input(env.ctx.repo.path, info)]
    deletes: list[Ref] = [GitCommit.ref(sha) for sha in removed]
    records = await env.ops.execute(ReadCommits, Shas(tuple(added)))
    upserts.extend(commit_input(r) for r in records)
    if added or removed:
        stats = await env.ops.execute(ReadAuthors, Shas(new.commits, walk=True))
        upserts.extend(author_input(s) for s in stats)
        if removed:
            current = {author_id(s.email, s.name) for s in stats}
            gone = await env.ops.execute(ReadAuthors, Shas(tuple(removed)))
            deletes.extend(
                GitAuthor.ref(key) for key in {author_id(s.email, s.name) for s in gone} - current
            )
    refs = await env.ops.execute(ListRefs, NoInput())
    branches, tags = ref_inputs(refs)
    upserts.extend(branches)
    upserts.extend(tags)
    existing = {r.refname for r in refs}
    for refname in set(old.tips) - existing:
        kind, _, name = refname.removeprefix("refs/").partition("/")
        if kind in ("heads", "remotes"):
            deletes.append(GitBranch.ref(name))
        elif kind == "tags":
            deletes.append(GitTag.ref(name))
    return ChangeSet(upserts=upserts, deletes=deletes, cursor=new.encode())


GitChangeFeed = ChangeFeed.create("git:refs", head=_head, changes=_changes)
