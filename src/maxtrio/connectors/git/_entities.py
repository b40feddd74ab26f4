"""The git schema: a repository (the root), its commits, authors, branches and tags.

Ids: a commit's full sha; an author's email, lower-cased (the name when there is no email); a
branch's short name (``main``, ``origin/main``); a tag's name. Every child names the repository
(``repository``), so each collection is listed completely and what a sync no longer sees (a
commit lost to a force-push, a deleted branch) is removed.
"""

from __future__ import annotations

from maxtrio.core import EntityDef, Field, Schema

ROOT_ID = "repository"

GitAuthor = EntityDef.create(
    "GitAuthor",
    {
        "name": Field.string(),
        "email": Field.string(),
        "commitCount": Field.number(),
        "firstCommitAt": Field.date(),
        "lastCommitAt": Field.date(),
        "repository": Field.ref("GitRepository"),
    },
)

GitCommit = EntityDef.create(
    "GitCommit",
    {
        "sha": Field.string(),
        "shortSha": Field.string(),
        "summary": Field.string(),
        "message": Field.string(),
        "author": Field.ref(GitAuthor),
        "authorName": Field.string(),
        "authorEmail": Field.string(),
        "authoredAt": Field.date(),
        "committerName": Field.string(),
        "committerEmail": Field.string(),
        "committedAt": Field.date(),
        "parents": Field.string(),
        "isMerge": Field.boolean(),
        "filesChanged": Field.number(),
        "insertions": Field.number(),
        "deletions": Field.number(),
        "files": Field.string(),
        "repository": Field.ref("GitRepository"),
    },
)

GitBranch = EntityDef.create(
    "GitBranch",
    {
        "name": Field.string(),
        "remote": Field.boolean(),
        "commit": Field.ref(GitCommit),
        "upstream": Field.string(),
        "isHead": Field.boolean(),
        "repository": Field.ref("GitRepository"),
    },
)

GitTag = EntityDef.create(
    "GitTag",
    {
        "name": Field.string(),
        "commit": Field.ref(GitCommit),
        "annotated": Field.boolean(),
        "message": Field.string(),
        "taggerName": Field.string(),
        "taggerEmail": Field.string(),
        "taggedAt": Field.date(),
        "repository": Field.ref("GitRepository"),
    },
)

GitRepository = EntityDef.create(
    "GitRepository",
    {
        "path": Field.string(),
        "name": Field.string(),
        "head": Field.string(),
        "headCommit": Field.ref(GitCommit),
        "bare": Field.boolean(),
        "originUrl": Field.string(),
        "commits": Field.collection(GitCommit, via="repository"),
        "authors": Field.collection(GitAuthor, via="repository"),
        "branches": Field.collection(GitBranch, via="repository"),
        "tags": Field.collection(GitTag, via="repository"),
    },
)

GitSchema = Schema.create(
    "git",
    [GitRepository, GitCommit, GitAuthor, GitBranch, GitTag],
    roots=[GitRepository],
)

ROOT_REF = GitRepository.ref(ROOT_ID)
