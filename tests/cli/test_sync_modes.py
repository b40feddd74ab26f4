"""``max sync`` modes with real ``max`` processes against an Acme server of the test's own:
the first sync is full, the next one incremental (deletes and cleared fields arrive, a few
requests), ``--full`` lists everything again, and bad ``--max-age``/flag combinations are
one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from maxtrio.acme import SeedOptions

from .conftest import (
    AcmeService,
    Result,
    assert_one_line_error,
    connect_args,
    delete_one_clear_one,
    max_proc,
    seeded_tenant,
    start_acme_server,
    stop_process,
)


async def test_full_then_incremental_then_full(tmp_path: Path) -> None:
    seeded_tenant(tmp_path / "tenants", "modes", SeedOptions(tasks_per_project=20))
    process, started = start_acme_server(tmp_path / "tenants", "modes")
    acme = AcmeService(started["url"], started["apiKey"], process)
    home, project = tmp_path / "home", tmp_path / "modes"
    try:

        async def run(*args: str) -> Result:
            return await max_proc(*args, cwd=project, home=home)

        async def sync(*args: str) -> dict[str, object]:
            done = await run("sync", "acme-1", "-o", "json", *args)
            assert done.code == 0, done
            result: dict[str, object] = json.loads(done.out)
            return result

        async def task(task_id: str) -> list[dict[str, object]]:
            found = await run(
                "search", "acme-1", "AcmeTask", "--filter", f"_id = {task_id}", "-o", "ndjson"
            )
            assert found.code == 0, found
            rows = [json.loads(line) for line in found.out.splitlines()]
            return [row for row in rows if "_meta" not in row]

        assert (await max_proc("init", "modes", cwd=tmp_path, home=home)).code == 0
        assert (await run(*connect_args(acme, "--no-input"))).code == 0
        first = await sync()
        assert (first["mode"], first["status"], first["removed"]) == ("full", "completed", 0)

        tasks, gone, cleared = await delete_one_clear_one(acme)

        second = await sync()
        assert (second["mode"], second["status"], second["removed"]) == (
            "incremental",
            "completed",
            1,
        )
        assert isinstance(second["requests"], int) and second["requests"] <= 5
        assert await task(gone["id"]) == []
        (row,) = await task(cleared["id"])
        assert row.get("description") is None  # null fields are left out of search rows

        # Dates and refs filter like any field.
        parent = cleared["projectId"]
        due = await run(
            "search", "acme-1", "AcmeTask", "--all", "-o", "ndjson", "--fields", "project,dueDate",
            "--filter", f"project = {parent} AND dueDate < 2100-01-01",
        )  # fmt: skip
        assert due.code == 0, due
        rows = [json.loads(line) for line in due.out.splitlines()]
        rows = [row for row in rows if "_meta" not in row]
        expected = [t for t in tasks if t["projectId"] == parent and t["dueDate"]]
        assert len(rows) == len(expected) - (gone in expected) > 0
        assert {row["project"] for row in rows} == {f"ein:AcmeProject:{parent}"}

        text = await run("sync", "acme-1", "--full")
        assert text.code == 0, text
        assert "  Mode:            full (" in text.out and "  Rows removed:    0" in text.out

        bad_age = await run("sync", "acme-1", "--max-age", "soon")
        assert_one_line_error(bad_age, contains="'soon' is not a duration")
        both = await run("sync", "acme-1", "--full", "--resume", "sync-1")
        assert_one_line_error(both, contains="--full with --resume")
    finally:
        stop_process(process)
