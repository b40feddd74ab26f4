"""A workspace in a temp directory for the local connectors' CLI tests.

``LocalWorkspace`` runs ``max`` in-process (``invoke``: the real command table, error rendering
and exit codes) or as a real process (``proc``), with its own ``MAX_HOME``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from tests.cli.conftest import Result, invoke, max_proc


@attrs.frozen
class LocalWorkspace:
    root: Path
    home: Path

    async def invoke(self, *args: str) -> Result:
        return await invoke(*args, cwd=self.root)

    async def proc(self, *args: str, cwd: Path | None = None) -> Result:
        return await max_proc(*args, cwd=cwd or self.root, home=self.home)

    async def ok(self, *args: str) -> Result:
        result = await self.invoke(*args)
        assert result.code == 0, result
        assert "Traceback" not in result.err, result.err
        return result

    async def sync(self, name: str, *extra: str) -> dict[str, Any]:
        """``max sync NAME -o json`` in-process; asserts it completed; the SyncResult JSON."""
        result = await self.ok("sync", name, "-o", "json", *extra)
        data: dict[str, Any] = json.loads(result.out)
        assert data["status"] == "completed", data
        return data

    async def rows(self, name: str, entity: str, *extra: str) -> list[dict[str, Any]]:
        """Every row of ``entity`` (``max search … --all -o ndjson``)."""
        result = await self.ok("search", name, entity, "--all", "-o", "ndjson", *extra)
        return [json.loads(line) for line in result.out.splitlines() if line.strip()]


@pytest.fixture
async def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalWorkspace:
    home = tmp_path / "home"
    root = tmp_path / "ws"
    monkeypatch.setenv("MAX_HOME", str(home))
    monkeypatch.delenv("MAX_TARGET", raising=False)
    result = await invoke("init", str(root), cwd=tmp_path)
    assert result.code == 0, result
    return LocalWorkspace(root, home)
