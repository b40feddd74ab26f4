"""``make demo``: the main job on an embedded default.

For now (foundation issue): create a temporary ``data.db``, store a small Acme-shaped data set
through the entity engine, and run three searches in the filter language, printing the
results. Later issues replace this with the real path (Acme fake → connect → sync → search).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import trio

from maxtrio.core import (
    EntityDef,
    EntityQuery,
    EntityResult,
    Field,
    PageRequest,
    Projection,
    Schema,
)
from maxtrio.query import parse_order_by, parse_where
from maxtrio.storage import SqliteEngine

User = EntityDef.create(
    "AcmeUser",
    {
        "displayName": Field.string(),
        "email": Field.string(),
        "role": Field.string(),
        "active": Field.boolean(),
    },
)
Task = EntityDef.create(
    "AcmeTask",
    {
        "title": Field.string(),
        "status": Field.string(),
        "priority": Field.number(),
        "assignee": Field.ref(User),
    },
)
SCHEMA = Schema.create("acme", [User, Task])

USERS = [
    ("u1", "Alice Martin", "alice@acme.test", "admin", True),
    ("u2", "Bob Chen", "bob@acme.test", "member", False),
    ("u3", "Charlie Diaz", "charlie@acme.test", "admin", True),
    ("u4", "Dana Ito", "dana@acme.test", "member", True),
]
TASKS = [
    ("t1", "Write the launch post", "todo", 3, "u1"),
    ("t2", "Fix login redirect (50% of users)", "in_progress", 5, "u3"),
    ("t3", "Renew TLS certificates", "done", 4, "u2"),
    ("t4", "Quarterly report", "todo", 2, "u4"),
    ("t5", "Migrate search to SQLite", "in_progress", 5, "u1"),
    ("t6", "Clean up old branches", "todo", 1, None),
]

SEARCHES = [
    (User, "active = true AND role = admin", None),
    (Task, "status != done", "priority:desc"),
    (Task, 'title ~= "50%" OR assignee = ein:AcmeUser:u1', "title"),
]


def _render(entity: EntityDef, items: list[EntityResult]) -> str:
    names = ["_id", *entity.stored_field_names]
    rows = [[_cell(item.maybe_get(n)) for n in names] for item in items]
    widths = [
        max(len(n), *(len(r[i]) for r in rows)) if rows else len(n) for i, n in enumerate(names)
    ]
    lines = ["  " + "  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip()]
    lines += [
        "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


async def run_demo(directory: Path) -> None:
    path = directory / "data.db"
    async with SqliteEngine.open(path, SCHEMA) as engine:
        await engine.store_many(
            [User.input(i, displayName=n, email=e, role=r, active=a) for i, n, e, r, a in USERS]
        )
        await engine.store_many(
            [
                Task.input(i, title=t, status=s, priority=p, assignee=User.ref(a) if a else None)
                for i, t, s, p, a in TASKS
            ]
        )
        print(f"Stored {len(USERS)} users and {len(TASKS)} tasks in {path}\n")
        for entity, text, order in SEARCHES:
            parsed = parse_where(text, entity)
            query = EntityQuery(
                entity,
                parsed.where,
                parse_order_by(order) if order else None,
                Projection.all(),
            )
            page = await engine.query(query, PageRequest(limit=20))
            items = [i for i in page.items if isinstance(i, EntityResult)]
            flags = f" --order-by {order}" if order else ""
            print(f"$ max search {entity.name} --filter '{text}'{flags}")
            print(f"  {entity.name}: {len(items)} result(s)\n")
            print(_render(entity, items))
            if parsed.warning:
                print(f"  warning: {parsed.warning}")
            print()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="maxtrio-demo-") as tmp:
        trio.run(run_demo, Path(tmp))


if __name__ == "__main__":
    main()
