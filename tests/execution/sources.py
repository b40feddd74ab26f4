"""A source-and-derivation test connector (the reference's source-derivation-executor case).

Schema: ``GRoot → repos → GRepo{name, owner, issues, issueAuthors}``,
``GIssue{title, state, creator → GUser}``, ``GUser{login, name}``.

* ``repos`` — a collection loader on the root;
* ``repo-details`` — a *single* source per repo with two derivations: the repo's own fields
  (``name``, ``owner``) and its owner as a ``GUser`` (co-derived in the same pass);
* ``repo-issues`` — a *paginated* source per repo with two derivations: the issues and their
  de-duplicated authors; there is no plan step for authors;
* ``api-config`` — a single source bound to the root that ``repo-issues`` depends on
  (``depends_on``, computed once per sync); its page size comes from there.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import attrs
import trio

from maxtrio.core import (
    Dependency,
    EntityDef,
    EntityInput,
    Field,
    Loader,
    LoaderEnv,
    Page,
    PageRequest,
    Ref,
    Resolver,
    Schema,
    SingleSource,
    SourcePage,
    Step,
    SyncPlan,
)

GRoot = EntityDef.create("GRoot", {"repos": Field.collection("GRepo")})
Repo = EntityDef.create(
    "GRepo",
    {
        "name": Field.string(),
        "owner": Field.ref("GUser"),
        "issues": Field.collection("GIssue"),
        "issueAuthors": Field.collection("GUser"),
    },
)
Issue = EntityDef.create(
    "GIssue", {"title": Field.string(), "state": Field.string(), "creator": Field.ref("GUser")}
)
Person = EntityDef.create("GUser", {"login": Field.string(), "name": Field.string()})
GSCHEMA = Schema.create("gh", [GRoot, Repo, Issue, Person], roots=[GRoot])
GROOT = GRoot.ref("root")

PEOPLE = {
    "u-1": {"login": "ada", "name": "Ada"},
    "u-2": {"login": "bob", "name": "Bob"},
    "u-3": {"login": "cyd", "name": "Cyd"},
}
ISSUES = [
    {"id": "i-1", "title": "First", "state": "open", "creator": "u-1"},
    {"id": "i-2", "title": "Second", "state": "closed", "creator": "u-2"},
    {"id": "i-3", "title": "Third", "state": "open", "creator": "u-1"},
    {"id": "i-4", "title": "Fourth", "state": "open", "creator": "u-3"},
]


@attrs.define
class GitApi:
    issues_per_page: int | None = None  # None: one page
    fetches: Counter[str] = attrs.field(factory=Counter)
    config_latency: float = 0.0

    async def config(self) -> dict[str, Any]:
        self.fetches["config"] += 1
        await trio.sleep(self.config_latency)
        return {"issuesPerPage": self.issues_per_page}

    async def repo(self, repo_id: str) -> dict[str, Any]:
        self.fetches[f"repo:{repo_id}"] += 1
        await trio.lowlevel.checkpoint()
        owner = "u-2" if repo_id == "r-1" else "u-3"
        return {"name": f"repo {repo_id}", "owner": {"id": owner, **PEOPLE[owner]}}

    async def issues(self, repo_id: str, cursor: str | None, per_page: int | None) -> Any:
        self.fetches[f"issues:{repo_id}"] += 1
        await trio.lowlevel.checkpoint()
        start = int(cursor) if cursor else 0
        end = len(ISSUES) if per_page is None else min(start + per_page, len(ISSUES))
        chunk = [
            {**issue, "author": {"id": issue["creator"], **PEOPLE[issue["creator"]]}}
            for issue in ISSUES[start:end]
        ]
        return chunk, (str(end) if end < len(ISSUES) else None)


@attrs.frozen
class GCtx:
    api: GitApi


async def _repos(parent: Ref, page: PageRequest, env: LoaderEnv[GCtx]) -> Page[EntityInput]:
    await trio.lowlevel.checkpoint()
    return Page([Repo.input("r-1"), Repo.input("r-2")])


async def _config(ref: Ref, env: LoaderEnv[GCtx]) -> Any:
    return await env.ctx.api.config()


async def _repo_details(ref: Ref, env: LoaderEnv[GCtx]) -> Any:
    return {"id": ref.id, **await env.ctx.api.repo(ref.id)}


async def _repo_issues(ref: Ref, page: PageRequest, env: LoaderEnv[GCtx]) -> SourcePage:
    per_page = env.deps.get_or_raise("api-config")["issuesPerPage"]
    chunk, cursor = await env.ctx.api.issues(ref.id, page.cursor, per_page)
    return SourcePage(chunk, cursor is not None, cursor)


def _repo_fields(data: Any) -> list[EntityInput]:
    return [Repo.input(data["id"], name=data["name"], owner=Person.ref(data["owner"]["id"]))]


def _repo_owner(data: Any) -> list[EntityInput]:
    owner = data["owner"]
    return [Person.input(owner["id"], login=owner["login"], name=owner["name"])]


def _issues(data: Any) -> list[EntityInput]:
    return [
        Issue.input(i["id"], title=i["title"], state=i["state"], creator=Person.ref(i["creator"]))
        for i in data
    ]


def _authors(data: Any) -> list[EntityInput]:
    seen: dict[str, EntityInput] = {}
    for issue in data:
        author = issue["author"]
        seen.setdefault(
            author["id"], Person.input(author["id"], login=author["login"], name=author["name"])
        )
    return list(seen.values())


API_CONFIG = Loader.single_source("api-config", GRoot, _config)
REPO_DETAILS = Loader.single_source("repo-details", Repo, _repo_details)
REPO_ISSUES = Loader.paginated_source(
    "repo-issues", Repo, _repo_issues, depends_on=[Dependency(API_CONFIG, GROOT)]
)
REPOS = Loader.collection("gh:repos", GRoot, Repo, _repos)
REPO_FIELDS = Loader.derive_entities(REPO_DETAILS, "gh:repo-fields", Repo, _repo_fields)
REPO_OWNER = Loader.derive_entities(REPO_DETAILS, "gh:repo-owner", Person, _repo_owner)
ISSUES_OF = Loader.derive_entities(REPO_ISSUES, "gh:issues", Issue, _issues)
AUTHORS_OF = Loader.derive_entities(REPO_ISSUES, "gh:issue-authors", Person, _authors)

G_RESOLVERS = (
    Resolver.for_(GRoot, {"repos": REPOS}),
    Resolver.for_(
        Repo,
        {
            "name": REPO_FIELDS,
            "owner": REPO_FIELDS,
            "issues": ISSUES_OF,
            "issueAuthors": AUTHORS_OF,
        },
    ),
    # REPO_OWNER is registered through the person resolver, so it co-derives with REPO_FIELDS.
    Resolver.for_(Person, {"login": REPO_OWNER}),
)

G_PLAN = SyncPlan.create(
    Step.for_root(GROOT).load_collection("repos"),
    Step.for_all(Repo).load_fields("name", "owner"),
    Step.for_all(Repo).load_collection("issues"),
)


def issue_resolvers(config: SingleSource[Any]) -> tuple[Resolver, ...]:
    """Resolvers whose issues source depends on ``config`` instead of :data:`API_CONFIG`."""
    issues = Loader.paginated_source(
        "repo-issues", Repo, _repo_issues, depends_on=[Dependency(config, GROOT)]
    )
    return (
        Resolver.for_(
            Repo,
            {
                "issues": Loader.derive_entities(issues, "gh:issues", Issue, _issues),
                "issueAuthors": Loader.derive_entities(issues, "gh:authors", Person, _authors),
            },
        ),
    )
