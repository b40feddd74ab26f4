"""``max`` on a PostgreSQL store, with real ``max`` processes, a real Acme server and the
session's real PostgreSQL server: ``max connect … --store`` (and ``$MAX_STORE_URL``), then
sync, search, incremental sync, status, schema — the same commands as on a ``data.db``, with the
same data — and the one-line errors of a wrong URL, a server that is down and ``max sql``.
The store URL holds a password: it never shows in any output."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from maxtrio.acme import SeedOptions

from ..cli.conftest import (
    AcmeService,
    Result,
    assert_one_line_error,
    connect_args,
    delete_one_clear_one,
    max_env,
    max_proc,
    seeded_tenant,
    start_acme_server,
    stop_process,
)
from .server import PASSWORD, PgServer, free_port


@attrs.frozen
class Project:
    """A workspace ``root`` in its own MAX_HOME, against one Acme server."""

    tmp: Path
    home: Path
    root: Path
    acme: AcmeService

    async def max(self, *args: str, **env: str) -> Result:
        result = await max_proc(*args, cwd=self.root, home=self.home, env=max_env(self.home, **env))
        assert PASSWORD not in result.out + result.err, result
        return result

    async def ok(self, *args: str, **env: str) -> Result:
        result = await self.max(*args, **env)
        assert result.code == 0, result
        return result

    async def rows(self, installation: str, entity: str) -> list[dict[str, object]]:
        found = await self.ok("search", installation, entity, "--all", "-o", "ndjson")
        rows = [json.loads(line) for line in found.out.splitlines()]
        return sorted((r for r in rows if "_meta" not in r), key=lambda r: str(r["_id"]))


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    seeded_tenant(tmp_path / "tenants", "pg", SeedOptions(tasks_per_project=25))
    process, started = start_acme_server(tmp_path / "tenants", "pg")
    try:
        acme = AcmeService(started["url"], started["apiKey"], process)
        yield Project(tmp_path, tmp_path / "home", tmp_path / "pg", acme)
    finally:
        stop_process(process)


async def _init(project: Project) -> None:
    done = await max_proc("init", "pg", cwd=project.tmp, home=project.home)
    assert done.code == 0, done


def _drop_schemas(server: PgServer, prefix: str) -> None:
    server.sql(
        "DO $$ DECLARE s text; BEGIN FOR s IN SELECT nspname FROM pg_namespace "
        f"WHERE nspname LIKE '{prefix}%' LOOP EXECUTE format('DROP SCHEMA %I CASCADE', s); "
        "END LOOP; END $$"
    )


async def test_sync_search_status_and_incremental_on_postgresql(
    project: Project, pg_server: PgServer
) -> None:
    url = pg_server.url()
    label = f"postgresql://127.0.0.1:{pg_server.port}/maxtrio"
    await _init(project)
    try:
        connected = await project.ok(
            *connect_args(project.acme, "--no-input", "--name", "on-pg", "--store", url),
            "-o",
            "json",
        )
        assert json.loads(connected.out)["store"] == label
        await project.ok(*connect_args(project.acme, "--no-input", "--name", "on-file"))
        store_file = project.root / ".max" / "installations" / "on-pg" / "store-url"
        assert stat.S_IMODE(store_file.stat().st_mode) == 0o600
        assert store_file.read_text() == url
        assert PASSWORD not in (project.root / "max.json").read_text()
        assert not (project.root / ".max" / "installations" / "on-pg" / "data.db").exists()

        first = json.loads((await project.ok("sync", "on-pg", "-o", "json")).out)
        on_file = json.loads((await project.ok("sync", "on-file", "-o", "json")).out)
        assert (first["status"], first["mode"]) == ("completed", "full")
        assert first["entities"] == on_file["entities"]
        assert first["entitiesSynced"] == on_file["entitiesSynced"] > 75
        for entity in ("AcmeTask", "AcmeUser", "AcmeProject"):
            assert await project.rows("on-pg", entity) == await project.rows("on-file", entity)
        assert not (project.root / ".max" / "installations" / "on-pg" / "data.db").exists()

        status = await project.ok("-t", "on-pg", "status")
        assert f"Store:      {label}" in status.out
        assert "maxtrio_pw" not in status.out
        document = json.loads((await project.ok("-t", "on-pg", "status", "-o", "json")).out)
        assert document["store"] == label
        assert document["lastSync"]["syncId"] == first["syncId"]
        assert document["lastSync"]["entitiesSynced"] == first["entitiesSynced"]
        schema = await project.ok("schema", "on-pg")
        assert "AcmeTask" in schema.out

        _, _, cleared = await delete_one_clear_one(project.acme)
        second = json.loads((await project.ok("sync", "on-pg", "-o", "json")).out)
        third = json.loads((await project.ok("sync", "on-file", "-o", "json")).out)
        assert (second["mode"], second["removed"]) == ("incremental", 1)
        assert (third["mode"], third["removed"]) == ("incremental", 1)
        assert await project.rows("on-pg", "AcmeTask") == await project.rows("on-file", "AcmeTask")
        full = json.loads((await project.ok("sync", "on-pg", "--full", "-o", "json")).out)
        assert (full["mode"], full["removed"]) == ("full", 0)
        filtered = await project.ok(
            "search", "on-pg", "AcmeTask", "--filter", f"_id = {cleared['id']}", "-o", "ndjson"
        )
        assert cleared["id"] in filtered.out and "description" not in filtered.out

        found = {}
        for name in ("on-pg", "on-file"):  # the same matches (ranks may order ties apart)
            words = ("search", name, "AcmeTask", "--text", 'the OR "to" NOT zzz', "--all")
            text = await project.ok(*words, "--fields", "_id", "-o", "ndjson")
            found[name] = sorted(text.out.splitlines())
        assert found["on-pg"] == found["on-file"] and found["on-pg"]
        broken = await project.max("search", "on-pg", "AcmeTask", "--text", 'alpha "open')
        assert_one_line_error(broken, contains="unterminated string")
        query = "SELECT status, count(*) AS n FROM AcmeTask GROUP BY status ORDER BY status"
        on_pg_sql = await project.ok("-t", "on-pg", "sql", query, "-o", "json")
        on_file_sql = await project.ok("-t", "on-file", "sql", query, "-o", "json")
        assert json.loads(on_pg_sql.out) == json.loads(on_file_sql.out)
        assert json.loads(on_pg_sql.out)["rows"]
        names = await project.ok(
            "-t",
            "on-pg",
            "sql",
            'SELECT "displayName" FROM AcmeUser ORDER BY 1 LIMIT 2',
            "-o",
            "json",
        )
        assert json.loads(names.out)["columns"] == ["displayName"]
        for statement in ("DELETE FROM AcmeTask", "DROP TABLE _acme_task"):
            refused = await project.max("-t", "on-pg", "sql", statement)
            assert_one_line_error(refused, contains="SQL is read-only here")
        broken = await project.max("-t", "on-pg", "sql", "SELECT nope FROM AcmeTask")
        assert_one_line_error(broken, contains="SQL error:")
        slow = await project.max("-t", "on-pg", "sql", "SELECT pg_sleep(5)", "--timeout", "0.2")
        assert_one_line_error(slow, contains="interrupted after 0.2 s")
        truncated = await project.ok(
            "-t", "on-pg", "sql", "SELECT * FROM AcmeTask", "--limit", "3", "-o", "json"
        )
        assert (
            len(json.loads(truncated.out)["rows"]) == 3 and json.loads(truncated.out)["truncated"]
        )
        assert len(await project.rows("on-pg", "AcmeTask")) == first["entities"]["AcmeTask"] - 1

        # the workspace level: the PostgreSQL installation beside the file one, joined
        joined = (
            'SELECT t.status, u."displayName" AS who, count(*) AS n FROM "{}".AcmeTask t '
            'JOIN "{}".AcmeUser u ON u._id = t.assignee GROUP BY 1, 2 ORDER BY 1, 2'
        )
        answers = []
        for tasks, users in (("on-pg", "on-file"), ("on-file", "on-pg"), ("on-pg", "on-pg")):
            done = await project.ok("sql", joined.format(tasks, users), "-o", "json")
            answers.append(json.loads(done.out))
        assert answers[0] == answers[1] == answers[2] and answers[0]["rows"]
        refused = await project.max("sql", 'DELETE FROM "on-pg".AcmeTask')
        assert_one_line_error(refused, contains="SQL is read-only here")
        browse = await project.max("-t", "on-pg", "browse")
        assert_one_line_error(browse, contains="on-pg keeps its data on postgresql://")
    finally:
        _drop_schemas(pg_server, "on-pg_")


async def test_max_store_url_is_the_default_for_new_installations(
    project: Project, pg_server: PgServer
) -> None:
    await _init(project)
    try:
        await project.ok(
            *connect_args(project.acme, "--no-input", "--name", "by-env"),
            MAX_STORE_URL=pg_server.url(),
        )
        done = json.loads((await project.ok("sync", "by-env", "-o", "json")).out)
        assert done["status"] == "completed" and done["entitiesSynced"] > 75
        status = await project.ok("-t", "by-env", "status")
        assert f"postgresql://127.0.0.1:{pg_server.port}/maxtrio" in status.out
    finally:
        _drop_schemas(pg_server, "by-env_")


def _schemas(server: PgServer, prefix: str) -> list[str]:
    import psycopg

    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s ORDER BY 1", (prefix + "%",)
        ).fetchall()
    return [str(row[0]) for row in rows]


async def test_disconnect_drops_the_schema_unless_keep_data(
    project: Project, pg_server: PgServer
) -> None:
    await _init(project)
    try:
        for name in ("gone", "kept"):
            await project.ok(
                *connect_args(
                    project.acme, "--no-input", "--name", name, "--store", pg_server.url()
                )
            )
            await project.ok("sync", name)
        assert len(_schemas(pg_server, "gone_")) == len(_schemas(pg_server, "kept_")) == 1
        await project.ok("disconnect", "gone", "--yes")
        assert _schemas(pg_server, "gone_") == []
        kept = await project.ok("disconnect", "kept", "--yes", "--keep-data")
        label = f"postgresql://127.0.0.1:{pg_server.port}/maxtrio"
        assert f"data kept in its schema on {label}" in kept.out
        assert len(_schemas(pg_server, "kept_")) == 1

        # a server that cannot be reached: nothing changes, and the hint names --keep-data
        await project.ok(
            *connect_args(
                project.acme, "--no-input", "--name", "stranded", "--store", pg_server.url()
            )
        )
        url_file = project.root / ".max" / "installations" / "stranded" / "store-url"
        url_file.write_text(f"postgresql://someone:{PASSWORD}@127.0.0.1:{free_port()}/maxtrio")
        refused = await project.max("disconnect", "stranded", "--yes")
        assert_one_line_error(refused, contains="cannot reach the store")
        assert "max disconnect stranded --keep-data" in refused.err
        assert "stranded" in (await project.ok("ls")).out
        await project.ok("disconnect", "stranded", "--yes", "--keep-data")
        assert "stranded" not in (await project.ok("ls")).out
    finally:
        _drop_schemas(pg_server, "stranded_")
        _drop_schemas(pg_server, "gone_")
        _drop_schemas(pg_server, "kept_")


async def test_a_wrong_store_url_is_one_line_and_writes_nothing(
    project: Project, pg_server: PgServer
) -> None:
    await _init(project)
    wrong_password = pg_server.url().replace(PASSWORD, PASSWORD + "-not")
    down = f"postgresql://someone:{PASSWORD}@127.0.0.1:{free_port()}/maxtrio"
    cases = [
        (
            wrong_password,
            f"cannot reach the store postgresql://maxtrio_pw@127.0.0.1:{pg_server.port}",
        ),
        (down, "cannot reach the store postgresql://someone@127.0.0.1:"),
        (f"mysql://root:{PASSWORD}@db/x", "Invalid store URL"),
    ]
    for url, message in cases:
        done = await project.max(*connect_args(project.acme, "--no-input", "--store", url))
        assert_one_line_error(done, contains=message)
        assert "Hint: " in done.err
        assert PASSWORD + "-not" not in done.err
    listed = await project.ok("ls", "-o", "json")
    assert "acme-" not in listed.out
    assert not (project.root / ".max" / "installations").exists() or not any(
        (project.root / ".max" / "installations").iterdir()
    )
