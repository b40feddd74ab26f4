"""Tenants on disk: ``<data_dir>/<name>/acme.db``, one directory per tenant.

Creating a tenant assigns it a port, ``4567 + (number of tenant directories − 1)``, stored in
its ``tenant_meta`` (the reference's rule). Names are checked before they touch the filesystem
(letters, digits, ``-``, ``_`` and ``.``, not starting with ``.``), so ``../x`` never escapes the
data directory.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Final

import apsw

from ._errors import ErrInvalidTenantName, ErrTenantExists, ErrTenantNotFound
from ._tenant import DEFAULT_PORT, Clock, IdFactory, Tenant, random_id

DEFAULT_DATA_DIR: Final = Path("tenants")
DB_FILE_NAME: Final = "acme.db"
_TENANT_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}")


def check_tenant_name(name: str) -> str:
    """``name`` when it is a safe tenant directory name, else a BadInput error."""
    if not _TENANT_NAME.fullmatch(name):
        raise ErrInvalidTenantName(name=name)
    return name


def tenant_db_path(name: str, data_dir: Path = DEFAULT_DATA_DIR) -> Path:
    return Path(data_dir) / check_tenant_name(name) / DB_FILE_NAME


def list_tenants(data_dir: Path = DEFAULT_DATA_DIR) -> list[str]:
    """Names of the tenant directories under ``data_dir``, sorted (empty when it is missing)."""
    root = Path(data_dir)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir())


def create_tenant(
    name: str,
    data_dir: Path = DEFAULT_DATA_DIR,
    *,
    clock: Clock = time.time,
    ids: IdFactory = random_id,
) -> Tenant:
    """Create a tenant directory and database, with one API key and a port."""
    path = tenant_db_path(name, data_dir)
    if path.exists():
        raise ErrTenantExists(name=name, path=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tenant = Tenant(name, apsw.Connection(str(path)), path=path, clock=clock, ids=ids)
    tenant.set_meta("port", str(DEFAULT_PORT + len(list_tenants(data_dir)) - 1))
    return tenant


def open_tenant(
    name: str,
    data_dir: Path = DEFAULT_DATA_DIR,
    *,
    clock: Clock = time.time,
    ids: IdFactory = random_id,
) -> Tenant:
    """Open an existing tenant; ``Tenant "<name>" not found at <path>`` when there is none."""
    path = tenant_db_path(name, data_dir)
    if not path.is_file():
        raise ErrTenantNotFound(name=name, path=str(path))
    flags = apsw.SQLITE_OPEN_READWRITE
    return Tenant(name, apsw.Connection(str(path), flags=flags), path=path, clock=clock, ids=ids)


def open_or_create_tenant(name: str, data_dir: Path = DEFAULT_DATA_DIR) -> tuple[Tenant, bool]:
    """Open the tenant, creating it when missing; the flag says whether it was created."""
    if tenant_db_path(name, data_dir).is_file():
        return open_tenant(name, data_dir), False
    return create_tenant(name, data_dir), True
