"""Git records (``_git``) → entity inputs of the git schema. Pure functions, no I/O."""

from __future__ import annotations

import json
from pathlib import Path

from maxtrio.connector import date_from_epoch
from maxtrio.core import EntityInput

from ._entities import ROOT_REF, GitAuthor, GitBranch, GitCommit, GitTag
from ._git import AuthorStats, CommitRecord, RefRecord, RepositoryInfo, author_id


def repository_input(path: Path, info: RepositoryInfo) -> EntityInput:
    head_commit = GitCommit.ref(info.head_commit) if info.head_commit else None
    return EntityInput(
        ROOT_REF,
        {
            "path": str(path),
            "name": path.name,
            "head": info.head,
            "headCommit": head_commit,
            "bare": info.bare,
            "originUrl": info.origin_url or None,
        },
    )


def commit_input(record: CommitRecord) -> EntityInput:
    message = record.message
    files = record.files
    insertions = sum(f.insertions or 0 for f in files)
    deletions = sum(f.deletions or 0 for f in files)
    listed = [{"path": f.path, "insertions": f.insertions, "deletions": f.deletions} for f in files]
    return EntityInput(
        GitCommit.ref(record.sha),
        {
            "sha": record.sha,
            "shortSha": record.sha[:12],
            "summary": message.split("\n", 1)[0],
            "message": message,
            "author": GitAuthor.ref(author_id(record.author_email, record.author_name)),
            "authorName": record.author_name,
            "authorEmail": record.author_email,
            "authoredAt": date_from_epoch(record.authored_at),
            "committerName": record.committer_name,
            "committerEmail": record.committer_email,
            "committedAt": date_from_epoch(record.committed_at),
            "parents": " ".join(record.parents),
            "isMerge": len(record.parents) > 1,
            "filesChanged": len(files),
            "insertions": insertions,
            "deletions": deletions,
            "files": json.dumps(listed, ensure_ascii=False, separators=(",", ":")),
            "repository": ROOT_REF,
        },
    )


def author_input(stats: AuthorStats) -> EntityInput:
    return EntityInput(
        GitAuthor.ref(author_id(stats.email, stats.name)),
        {
            "name": stats.name,
            "email": stats.email,
            "commitCount": stats.commits,
            "firstCommitAt": date_from_epoch(stats.first_at),
            "lastCommitAt": date_from_epoch(stats.last_at),
            "repository": ROOT_REF,
        },
    )


def branch_input(ref: RefRecord) -> EntityInput:
    return EntityInput(
        GitBranch.ref(ref.short_name),
        {
            "name": ref.short_name,
            "remote": ref.kind == "remotes",
            "commit": GitCommit.ref(ref.commit) if ref.commit else None,
            "upstream": ref.upstream or None,
            "isHead": ref.is_head,
            "repository": ROOT_REF,
        },
    )


def tag_input(ref: RefRecord) -> EntityInput:
    tagged_at = date_from_epoch(ref.tagged_at) if ref.tagged_at is not None else None
    return EntityInput(
        GitTag.ref(ref.short_name),
        {
            "name": ref.short_name,
            "commit": GitCommit.ref(ref.commit) if ref.commit else None,
            "annotated": ref.annotated,
            "message": ref.subject or None,
            "taggerName": ref.tagger_name or None,
            "taggerEmail": ref.tagger_email or None,
            "taggedAt": tagged_at,
            "repository": ROOT_REF,
        },
    )


def ref_inputs(refs: list[RefRecord]) -> tuple[list[EntityInput], list[EntityInput]]:
    """(branches, tags) of a ``for-each-ref`` listing."""
    branches = [branch_input(r) for r in refs if r.kind in ("heads", "remotes")]
    tags = [tag_input(r) for r in refs if r.kind == "tags"]
    return branches, tags
