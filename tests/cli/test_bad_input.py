"""No bad input prints a traceback: every invocation below fails with ``Error: …`` as the first
line on stderr, an optional indented hint, nothing on stdout, and exit 1 (a command that
could not use its input) or 2 (a usage error). Also the exact error texts of docs/cli.md not covered
elsewhere, and corrupt or hand-edited files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Synced, assert_one_line_error, invoke

WS = ["-t", "max://@/shared-ws"]
SEARCH = [*WS, "search", "acme-1", "AcmeTask"]

BAD_INVOCATIONS: list[tuple[list[str], str, int]] = [
    # dispatch and targeting
    (["bogus"], "Unknown command bogus.", 2),
    (["--bogus"], "No such option '--bogus'.", 2),
    (["-t"], "Option '-t' requires an argument.", 2),
    (["-t", "", "status"], 'Invalid Max URL ""', 1),
    (["-t", "max://", "status"], "Host segment required", 1),
    (["-t", "max+http://127.0.0.1:1/ws", "status"], "Cannot reach max+http://127.0.0.1:1/ws", 1),
    (["-t", "no-such-ws", "status"], 'Workspace "no-such-ws" not found', 1),
    (["help", "bogus"], "Unknown command bogus.", 2),
    (["completion"], "Missing argument 'SHELL'.", 2),
    (["completion", "pwsh"], "Unknown shell: pwsh. Supported: bash, zsh, fish", 2),
    (["llm-bootstrap", "extra"], "Got unexpected extra argument (extra)", 2),
    (["status", "--output", "yaml"], "Invalid value for '-o' / '--output'", 2),
    # search
    ([*WS, "search"], "Missing argument 'INSTALLATION'.", 2),
    ([*WS, "search", "acme-1"], "Missing argument 'ENTITY'.", 2),
    ([*WS, "search", "nope", "AcmeTask"], "Installation not found: nope", 1),
    ([*WS, "search", "acme-1", "Nope"], 'Unknown entity type "Nope". Available: AcmeUser, ', 1),
    (["-g", "search", "shared-ws", "AcmeTask"], 'Cannot resolve target "max://@/shared-ws" — '
     "Expected an installation target (workspace/installation), got workspace", 1),
    (["-g", "search", "a/b/c", "AcmeTask"], "Cannot add child below installation", 1),
    ([*SEARCH, "-f", "nope = 1"], 'Invalid filter "nope = 1" — Unknown field "nope". Valid '
     "fields: _id, title, description, status, priority, assignee", 1),
    ([*SEARCH, "-f", "title ="], 'Invalid filter "title ="', 1),
    ([*SEARCH, "-f", "title == x"], 'Invalid filter "title == x"', 1),
    ([*SEARCH, "-f", "(title = x"], 'Invalid filter "(title = x"', 1),
    ([*SEARCH, "-f", 'title = "open'], "Invalid filter", 1),
    ([*SEARCH, "-f", "title ~= *x*"], "Invalid filter", 1),
    ([*SEARCH, "-f", "title = x AND"], "Invalid filter", 1),
    ([*SEARCH, "-f", "!!!"], "Invalid filter", 1),
    ([*SEARCH, "--fields", ".bogus"], 'Unknown field group ".bogus". Available: .props, .meta, '
     ".all", 1),
    ([*SEARCH, "--all", "-o", "json"], "--all with -o json — JSON output always returns a single "
     "page. Use -o ndjson for streaming, or paginate with --after.", 1),
    ([*SEARCH, "--order-by", "nope"], 'Invalid --order-by "nope" — AcmeTask has no field', 1),
    ([*SEARCH, "--order-by", ":desc"], "Invalid --order-by", 1),
    ([*SEARCH, "--order-by", "_ref"], "_ref", 1),
    ([*SEARCH, "--limit", "-1"], "Invalid value for '--limit': limit must be ≥ 0", 2),
    ([*SEARCH, "--limit", "ten"], "'ten' is not a valid integer", 2),
    ([*SEARCH, "--limit", "1" + "0" * 27], "limit must be ≤ 1000000000", 2),
    ([*SEARCH, "--after", "garbage"], 'Invalid cursor "garbage": expected a RefKey such as '
     "ein:AcmeTask:<id>", 1),
    ([*SEARCH, "--after", "ein:AcmeUser:u1"], "it is a cursor of AcmeUser, not of AcmeTask", 1),
    ([*SEARCH, "-f", "title IN ()"], "Empty IN list", 1),
    ([*SEARCH, "-f", "title NOT IN (a)"], "(write NOT title IN (…) or title IS NOT NULL)", 1),
    ([*SEARCH, "-f", "title IS"], "Expected NULL or NOT NULL after IS", 1),
    ([*SEARCH, "-f", "status = x AND NOT"], "Expected a condition after NOT", 1),
    ([*SEARCH, "-f", "NOT nope IS NULL"], 'Unknown field "nope". Valid fields: _id, title', 1),
    ([*SEARCH, "--fields", "title,nosuch"], 'Unknown field "nosuch" in --fields. Fields '
     "AcmeTask stores: _id, _ref, title,", 1),
    ([*SEARCH, "--fields", "project,tasks"], 'Unknown field "tasks" in --fields', 1),
    ([*SEARCH, "-o", "xml"], "Invalid value for '-o' / '--output'", 2),
    # sync
    ([*WS, "sync"], "Missing argument 'INSTALLATION' (or pass --all).", 2),
    ([*WS, "sync", "nope"], "Installation not found: nope", 1),
    ([*WS, "sync", "acme-1", "--all"], "--all with an installation name — ", 1),
    ([*WS, "sync", "--all", "--resume", "sync-1"], "--all with --resume — ", 1),
    ([*WS, "sync", "acme-1", "--resume", ""], "--resume — the sync id must not be empty", 1),
    ([*WS, "sync", "acme-1", "--resume", "sync-404"], "sync-404", 1),
    ([*WS, "sync", "acme-1", "-o", "csv"], "Invalid value for '-o' / '--output'", 2),
    # schema, connect, init, ls
    ([*WS, "schema"], "Missing argument 'SOURCE'.", 2),
    ([*WS, "schema", "nope"], 'Connector "nope" not found in registry', 1),
    ([*WS, "connect"], "Missing argument 'SOURCE'.", 2),
    ([*WS, "connect", "nope"], 'Connector "nope" not found in registry', 1),
    ([*WS, "connect", "acme", "--name", ""], 'Invalid installation name ""', 1),
    ([*WS, "connect", "acme", "--name", "a/b"], 'Invalid installation name "a/b"', 1),
    ([*WS, "connect", "acme", "--name", "acme-1"], 'Installation "acme:acme-1" already exists', 1),
    ([*WS, "connect", "acme", "--config", "x"], "expected KEY=VALUE", 2),
    ([*WS, "init", ""], "DIRECTORY — must not be empty", 1),
    (["-t", "max://@/shared-ws/acme-1", "ls"], "ls is not available at the installation level.", 2),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message", "code"), BAD_INVOCATIONS, ids=[" ".join(a) for a, _, _ in BAD_INVOCATIONS]
)
async def test_bad_input_fails_with_one_line(
    shared_home: Synced, args: list[str], message: str, code: int
) -> None:
    result = await invoke(*args, cwd=shared_home.root.parent)
    assert_one_line_error(result, contains=message, code=code)
    assert result.out == ""
    hint_lines = result.err.splitlines()[1:]
    assert all(line.startswith("  ") for line in hint_lines), result.err


async def test_init_errors(tmp_path: Path) -> None:
    assert (await invoke("init", "proj", cwd=tmp_path)).code == 0
    nested = await invoke("init", "inner", cwd=tmp_path / "proj")
    assert_one_line_error(
        nested,
        contains="Cannot initialise Max project — you are already in a max project! Use "
        "`force=true` to create one here anyway.",
    )
    assert nested.err.splitlines()[1] == (
        f"  Hint: inside {tmp_path / 'proj'}; pass --force to create one anyway"
    )
    assert (await invoke("init", "--force", "inner", cwd=tmp_path / "proj")).code == 0
    same_name = await invoke("init", str(tmp_path / "other" / "proj"), cwd=tmp_path)
    assert same_name.code == 0, same_name  # identity is the path: registered as proj-2
    control = await invoke("init", "bad\nname", cwd=tmp_path)
    assert_one_line_error(control, contains="DIRECTORY 'bad\\nname' — the name has a control")
    assert not (tmp_path / "bad\nname").exists()
    at = await invoke("init", "@", cwd=tmp_path)
    assert_one_line_error(at, contains="@ is the name of this machine")
    a_file = tmp_path / "file"
    a_file.write_text("x")
    on_file = await invoke("init", str(a_file), cwd=tmp_path)
    assert_one_line_error(on_file, contains="File exists")


async def test_corrupt_files_name_the_file(tmp_path: Path) -> None:
    project = tmp_path / "c"
    assert (await invoke("init", str(project), cwd=tmp_path)).code == 0
    (project / "max.json").write_text("{bad")
    for args in (["status"], ["ls"], ["search", "a", "B"], ["sync", "a"], ["connect", "acme"]):
        result = await invoke(*args, cwd=project)
        assert_one_line_error(result, contains=f"Invalid file {project / 'max.json'} — ")
    (project / "max.json").write_text(json.dumps({"installations": {"x": {"id": "1"}}}))
    malformed = await invoke("ls", cwd=project)
    assert_one_line_error(malformed, contains="max.json")
    home = Path(__import__("os").environ["MAX_HOME"])
    (home / "workspaces.json").write_text('{"workspaces": 3}')
    registry = await invoke("-g", "ls", cwd=tmp_path)
    assert_one_line_error(
        registry, contains=f'Invalid file {home / "workspaces.json"} — "workspaces" must be'
    )


async def test_corrupt_credentials_and_database(synced: Synced, tmp_path: Path) -> None:
    """A copy of the synced workspace with a broken credentials.json, then a broken data.db."""
    import shutil

    from .conftest import max_proc

    home = tmp_path / "home"
    copy = tmp_path / "copy"
    shutil.copytree(synced.root, copy, symlinks=True)
    assert (await max_proc("init", "--force", str(copy), cwd=tmp_path, home=home)).code == 0
    installation = copy / ".max" / "installations" / "acme-1"
    (installation / "credentials.json").write_text("[]")
    status = await max_proc("status", cwd=copy, home=home)
    assert "Traceback" not in status.err and "acme-1" in status.out + status.err
    shutil.copy(
        synced.root / ".max" / "installations" / "acme-1" / "credentials.json", installation
    )
    for suffix in ("-wal", "-shm"):
        (installation / f"data.db{suffix}").unlink(missing_ok=True)
    (installation / "data.db").write_bytes(b"this is not a database" * 100)
    search = await max_proc("search", "acme-1", "AcmeUser", cwd=copy, home=home)
    assert search.code == 1 and search.err.startswith("Error: ")
    assert "Traceback" not in search.err
