"""``max sync --plan``: partial syncs with real ``max`` processes against the Acme server on
loopback, in a fresh workspace with its own ``MAX_HOME`` — only the planned entities arrive;
bad plans are one-line errors (exit 1) that start no sync."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import (
    PROJECTS,
    TASKS_PER_PROJECT,
    USERS,
    AcmeService,
    Result,
    assert_one_line_error,
    connect_args,
    max_proc,
)


async def test_a_partial_sync_stores_only_what_the_plan_names(
    tmp_path: Path, acme_service: AcmeService
) -> None:
    home = tmp_path / "home"
    project = tmp_path / "plans"

    async def run(*args: str) -> Result:
        return await max_proc(*args, cwd=project, home=home)

    async def stored(entity: str) -> list[str]:
        found = await run("search", "acme-1", entity, "--all", "-o", "ndjson", "--fields", "_id")
        assert found.code == 0, found
        return [json.loads(line)["_id"] for line in found.out.splitlines()]

    assert (await max_proc("init", "plans", cwd=tmp_path, home=home)).code == 0
    assert (await run(*connect_args(acme_service, "--no-input"))).code == 0

    # Bad plans: one line on stderr, exit 1, and no sync is started.
    bad = await run("sync", "acme-1", "--plan", "AcmeUser(*)")
    assert_one_line_error(
        bad,
        contains=(
            "Error: Invalid sync plan — Expected an operation after AcmeUser(…) — .fields{…} "
            "or .collection{…} — but found the end of the plan (at position 11)"
        ),
    )
    unknown = await run("sync", "acme-1", "--plan", "AcmeRoot(#root).collection{teams}")
    assert_one_line_error(
        unknown,
        contains=(
            'Invalid sync plan — AcmeRoot has no collection "teams"; collections: workspaces '
            "(at position 27)"
        ),
    )
    bad_filter = await run("sync", "acme-1", "--plan", "AcmeProject(status ==).fields{*}")
    assert_one_line_error(bad_filter, contains="Invalid sync plan — in the filter: ")
    both = await run("sync", "acme-1", "--plan", "AcmeUser(*).fields{*}", "--resume", "sync-1")
    assert_one_line_error(both, contains="--plan with --resume")
    missing = await run("sync", "acme-1", "--plan", "@nowhere.plan")
    assert missing.code == 2 and "nowhere.plan: no such file" in missing.err, missing

    # Workspaces and their users only: no projects, no tasks.
    users_plan = "AcmeRoot(#root).collection{workspaces}\nAcmeWorkspace(*).collection{users}"
    first = await run("sync", "acme-1", "--plan", users_plan, "-o", "json")
    assert first.code == 0, first
    result = json.loads(first.out)
    assert (result["syncId"], result["status"], result["workUnits"]["failed"]) == (
        "sync-1",
        "completed",
        0,
    )
    assert len(await stored("AcmeWorkspace")) == 1
    assert len(await stored("AcmeUser")) == USERS + 1  # + the ghost (system) user
    assert await stored("AcmeProject") == []
    assert await stored("AcmeTask") == []

    # From a file: the projects, with their fields (chained operations on separate lines).
    plan_file = project / "projects.plan"
    plan_file.write_text(
        "AcmeWorkspace(*)\r\n  .collection{projects}\r\nAcmeProject(*).fields{*}\n"
    )
    second = await run("sync", "acme-1", "--plan", "@projects.plan")
    assert second.code == 0, second
    assert second.out.startswith("Sync completed in ")
    projects = await stored("AcmeProject")
    assert len(projects) == PROJECTS
    assert await stored("AcmeTask") == []

    # The tasks of one project by id, then of another by a filter (a forWhere step).
    one, other = projects[0], projects[1]
    third = await run("sync", "acme-1", "--plan", f"AcmeProject(#{one}).collection{{tasks}}")
    assert third.code == 0, third
    assert len(await stored("AcmeTask")) == TASKS_PER_PROJECT
    fourth = await run(
        "sync", "acme-1", "--plan", f'AcmeProject(_id = "{other}").collection{{tasks}}'
    )
    assert fourth.code == 0, fourth
    assert len(await stored("AcmeTask")) == 2 * TASKS_PER_PROJECT

    # The installation-level command takes --plan too.
    fifth = await run("-t", "acme-1", "sync", "--plan", "AcmeUser(active = true).fields{*}")
    assert fifth.code == 0, fifth
    history = await run("-t", "acme-1", "status", "-o", "json")
    assert history.code == 0, history
    assert json.loads(history.out)["lastSync"]["syncId"] == "sync-5"
