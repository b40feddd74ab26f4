"""Tenants on disk: create, open, list, ports, safe names; data survives reopening."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maxtrio.acme import (
    create_tenant,
    http_status_of,
    list_tenants,
    open_or_create_tenant,
    open_tenant,
    tenant_db_path,
)
from maxtrio.core import MaxError


def test_create_open_list_and_ports(tmp_path: Path) -> None:
    assert list_tenants(tmp_path / "missing") == []
    with create_tenant("alpha", tmp_path) as alpha:
        key = alpha.api_key()
        alpha.seed()
        assert alpha.port == 4567
        assert alpha.path == tmp_path / "alpha" / "acme.db"
    with create_tenant("beta", tmp_path) as beta:
        assert beta.port == 4568
    assert list_tenants(tmp_path) == ["alpha", "beta"]
    with open_tenant("alpha", tmp_path) as reopened:
        assert reopened.api_key() == key
        assert reopened.stats()["tasks"] == 30
        assert reopened.meta("seed_batch") == "1"
        assert json.loads(reopened.list_wire("workspaces").json)[0]["id"].startswith("ws_")


def test_open_missing_and_create_existing_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(MaxError) as caught:
        open_tenant("ghost", tmp_path)
    assert caught.value.message == f'Tenant "ghost" not found at {tmp_path}/ghost/acme.db'
    assert http_status_of(caught.value) == 404
    create_tenant("dup", tmp_path).close()
    with pytest.raises(MaxError, match='Tenant "dup" already exists'):
        create_tenant("dup", tmp_path)


def test_open_or_create(tmp_path: Path) -> None:
    first, created = open_or_create_tenant("t", tmp_path)
    first.close()
    second, created_again = open_or_create_tenant("t", tmp_path)
    second.close()
    assert (created, created_again) == (True, False)


@pytest.mark.parametrize("name", ["../escape", ".hidden", "a/b", "", "x" * 65, "sp ace"])
def test_unsafe_names_are_rejected(tmp_path: Path, name: str) -> None:
    with pytest.raises(MaxError, match="Invalid tenant name"):
        tenant_db_path(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_wal_file_database(tmp_path: Path) -> None:
    with create_tenant("wal", tmp_path) as tenant, tenant.transaction() as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
